from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.frustration import FRUSTRATION, FrustrationDetector

PROJECT_DIR = Path(__file__).resolve().parents[3]
CONFIG = PROJECT_DIR / "config.yml"
TEST_STORIES = PROJECT_DIR / "tests" / "test_stories.yml"


def detector(**config: Any) -> FrustrationDetector:
    return FrustrationDetector({**FrustrationDetector.get_default_config(), **config})


@pytest.fixture(scope="module")
def default_detector() -> FrustrationDetector:
    return detector()


@pytest.mark.parametrize(
    "text",
    [
        "hello there",
        "I can't remember the password for my account",
        "no",
        "no thanks",
        "the installer fails on my windows laptop",
        "I got charged twice this month",
        "where do I download the PDF invoice with our VAT number?",
        "my 2FA codes are not accepted",
        "is lumen down right now?",
        "ok great, thanks!!",
        "Really?? That's awesome!!",
        "MY NOTES DON'T SYNC",
        "I'm really disappointed, nothing works",
        "",
    ],
)
def test_calm_messages_stay_below_the_threshold(
    default_detector: FrustrationDetector, text: str
) -> None:
    result = default_detector.assess(text)

    assert 0.0 <= result.score < 0.6
    assert result.frustrated is False


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("this is useless", "phrase:useless"),
        ("This is ridiculous.", "phrase:ridiculous"),
        ("what a waste of   time", "phrase:waste of time"),
        ("this is a joke", "phrase:this is a joke"),
        ("Speak to a human already", "phrase:speak to a human already"),
        ("I\u2019m sick and tired of this app", "phrase:sick and tired"),
        ("what the fuck is going on", "swearing:fuck"),
        ("WHY DOES NOTHING EVER WORK???", "shouting"),
        ("I hate this app, it's terrible!!!", "negative_sentiment"),
    ],
)
def test_angry_messages_reach_the_threshold(
    default_detector: FrustrationDetector, text: str, signal: str
) -> None:
    result = default_detector.assess(text)

    assert 0.6 <= result.score <= 1.0
    assert result.frustrated is True
    assert signal in result.signals


def test_signals_add_up(default_detector: FrustrationDetector) -> None:
    calm = default_detector.assess("my notes won't sync")
    caps = default_detector.assess("MY NOTES WON'T SYNC")
    caps_and_marks = default_detector.assess("MY NOTES WON'T SYNC???")
    everything = default_detector.assess("MY NOTES WON'T SYNC, THIS IS USELESS!!!")

    assert calm.score < caps.score < caps_and_marks.score < everything.score <= 1.0
    assert next(iter(everything.signals)) == "phrase:useless"


@pytest.mark.parametrize("word", ["PDF", "VAT", "OK", "2FA", "I"])
def test_acronyms_are_not_shouting(
    default_detector: FrustrationDetector, word: str
) -> None:
    assert "shouting" not in default_detector.assess(f"{word} please").signals


def test_phrases_match_whole_words_only(default_detector: FrustrationDetector) -> None:
    assert default_detector.assess("use less storage").signals == {}
    assert "swearing:crap" not in default_detector.assess("scrap that").signals


def test_process_writes_the_result_into_the_parse_data(
    default_detector: FrustrationDetector,
) -> None:
    angry = Message(data={TEXT: "this is ridiculous!!!"})
    calm = Message(data={TEXT: "how do I reset my password?"})

    assert default_detector.process([angry, calm]) == [angry, calm]

    result = angry.as_dict(only_output_properties=True)[FRUSTRATION]
    assert result["frustrated"] is True
    assert 0.6 <= result["score"] <= 1.0
    assert {signal["name"] for signal in result["signals"]} == {
        "phrase:ridiculous",
        "repeated_punctuation",
        "negative_sentiment",
    }
    assert calm.as_dict(only_output_properties=True)[FRUSTRATION] == {
        "score": 0.0,
        "frustrated": False,
        "signals": [],
    }


def test_process_copes_with_a_message_without_text(
    default_detector: FrustrationDetector,
) -> None:
    [message] = default_detector.process([Message(data={})])

    assert message.get(FRUSTRATION)["score"] == 0.0


@pytest.mark.parametrize(
    ("threshold", "frustrated"), [(0.9, False), (0.6, True), (0.3, True)]
)
def test_threshold_comes_from_the_config(threshold: float, frustrated: bool) -> None:
    result = detector(threshold=threshold).assess("this is useless")

    assert result.frustrated is frustrated


def test_weights_phrases_and_swear_words_come_from_the_config() -> None:
    custom = detector(
        weights={"phrase": 0.9}, phrases=["not again"], swear_words=["blast"]
    )

    assert custom.assess("not again")
    assert custom.assess("not again").score == 0.9
    assert custom.assess("this is useless").signals.keys() == {"negative_sentiment"}
    assert "swearing:blast" in custom.assess("blast it").signals


@pytest.mark.parametrize(
    "config",
    [{"threshold": 1.5}, {"threshold": -0.1}, {"weights": {"shouting": 2.0}}],
)
def test_out_of_range_config_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        detector(**config)


def test_the_pipeline_runs_the_detector_with_its_threshold() -> None:
    pipeline = yaml.safe_load(CONFIG.read_text())["pipeline"]

    [entry] = [c for c in pipeline if c["name"].endswith("FrustrationDetector")]
    assert entry["name"] == "bot.nlu.frustration.FrustrationDetector"
    # Just before KnowledgeFirst, the last component, which reads its verdict
    # (a frustrated how-to question an article answers gets the article).
    assert pipeline[-1]["name"] == "bot.nlu.knowledge.KnowledgeFirst"
    assert entry is pipeline[-2]
    assert entry.get("threshold", 0.6) == 0.6


def _test_story_messages() -> list[tuple[str, bool]]:
    """Each user message of the test stories, and whether the story says the
    frustrated slot is set right after it."""
    messages = []
    for story in yaml.safe_load(TEST_STORIES.read_text())["stories"]:
        steps = story["steps"]
        for step, following in zip(steps, [*steps[1:], {}], strict=True):
            text = step.get("user", "").strip()
            if text and not text.startswith("/"):
                flagged = {"frustrated": True} in following.get("slot_was_set", [])
                messages.append((text, flagged))
    return messages


@pytest.mark.parametrize(("text", "flagged"), _test_story_messages())
def test_test_stories_mark_exactly_the_frustrated_messages(
    default_detector: FrustrationDetector, text: str, flagged: bool
) -> None:
    # rasa test core does not run slot mappings: the stories say where
    # action_check_frustration sets the slot, and this keeps them truthful.
    assert default_detector.assess(text).frustrated is flagged

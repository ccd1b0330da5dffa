"""Answer first: the knowledge search decides the intent when it is confident."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.config import Settings
from bot.knowledge import KnowledgeRepository, load_seed
from bot.knowledge.search import Hit, SearchResult
from bot.nlu import knowledge as knowledge_module
from bot.nlu.decision import (
    PARSE_KEY,
    DecisionSettings,
    Override,
    acknowledged,
    answer_intent,
    apply_override,
    decide,
    decided_article,
    decided_other_product,
    knowledge_parse_data,
    other_product,
    safety_line,
    soften,
)
from bot.nlu.knowledge import FollowedIndex, KnowledgeFirst
from tests.conftest import empty_knowledge_base

CONFIG = Path(__file__).resolve().parents[3] / "config.yml"
DEFAULTS = KnowledgeFirst.get_default_config()
SETTINGS = DecisionSettings(
    handoff_intents=frozenset(DEFAULTS["handoff_intents"]),
    smalltalk_intents=frozenset(DEFAULTS["smalltalk_intents"]),
    kept_intents=frozenset(DEFAULTS["kept_intents"]),
    handoff_max_confidence=0.95,
    handoff_min_kb_confidence=0.9,
    ask_intents=frozenset({"request_human"}),
    ask_min_kb_confidence=0.95,
    people_hits=2,
    soften_intents=frozenset({"complaint"}),
    soften_min_kb_confidence=0.9,
    how_to_phrases=("how do i", "comment"),
    frustrated_min_kb_confidence=0.0,
    own_products=("Lumen",),
)
KNOWN = ["password_reset", "request_human", "greet", "deny", "out_of_scope"]


def parse(intent: str, confidence: float, *ranking: tuple[str, float]) -> dict:
    """Parse data as the pipeline leaves it before KnowledgeFirst."""
    entries = [{"name": intent, "confidence": confidence}]
    entries += [{"name": n, "confidence": c} for n, c in ranking]
    known = {e["name"] for e in entries}
    entries += [{"name": n, "confidence": 0.0} for n in KNOWN if n not in known]
    return {"intent": dict(entries[0]), "intent_ranking": entries}


def found(confidence: float, slug: str | None = "password-reset") -> SearchResult:
    hit = Hit(slug="password-reset", score=0.9, title="Reset a forgotten password")
    answer = hit if slug is not None else None
    return SearchResult(hits=[hit], answer=answer, confidence=confidence)


@pytest.mark.parametrize(
    ("parsed", "result", "expected"),
    [
        # The fallback fired, the search is sure: the article answers.
        (
            parse("nlu_fallback", 0.5, ("password_reset", 0.4)),
            found(0.8),
            "password_reset",
        ),
        # Whatever the model's unsure guess under the fallback was.
        (parse("nlu_fallback", 0.5, ("deny", 0.3)), found(0.8), "password_reset"),
        # Small talk the search is sure is a question.
        (parse("greet", 0.98), found(0.7), "password_reset"),
        # A how-to question taken for a request for a person.
        (parse("request_human", 0.73), found(0.95), "password_reset"),
        # A request for a person the model is sure of stays one ...
        (parse("request_human", 0.99), found(0.93), None),
        # ... unless the search is very sure: then the fallback asks.
        (parse("request_human", 0.99), found(0.96), "nlu_fallback"),
        # Sensitive matters are never asked about (a complaint an article
        # plainly answers is answered: test_a_complaint_an_article_...).
        (parse("account_compromised", 0.99), found(0.995), None),
        (parse("payment_dispute", 0.99), found(0.995), None),
        # Someone in danger: never an article, however unsure the model is.
        (parse("person_in_danger", 0.4), found(1.0), None),
        # ... and one the search is not very sure about.
        (parse("request_human", 0.7), found(0.85), None),
        (parse("nlu_fallback", 0.5, ("request_human", 0.45)), found(0.85), None),
        # A yes/no answers the bot's question: never changed.
        (parse("deny", 0.6), found(1.0), None),
        # The model understood a question: its rule asks the knowledge base.
        (parse("password_reset", 0.99), found(1.0), None),
        # No confident article: nothing changes.
        (parse("nlu_fallback", 0.5, ("greet", 0.3)), found(0.3, slug=None), None),
    ],
)
def test_decides_when_a_confident_article_overrides_the_intent(
    parsed: dict, result: SearchResult, expected: str | None
) -> None:
    override = decide(parsed, result, ["password_reset"], SETTINGS)
    assert (override.intent if override else None) == expected
    if override is not None and override.intent != "nlu_fallback":
        assert override.confidence == result.confidence


def test_an_article_without_a_known_intent_answers_as_out_of_scope() -> None:
    assert answer_intent([], KNOWN) == "out_of_scope"
    assert answer_intent(["made_up_intent"], KNOWN) == "out_of_scope"
    assert answer_intent(["made_up", "password_reset"], KNOWN) == "password_reset"


def test_a_request_for_a_person_is_not_asked_about_an_article_about_people() -> None:
    # "agent please" matches contact-support-hours, which lists "complaint".
    override = decide(parse("request_human", 0.99), found(1.0), ["complaint"], SETTINGS)
    assert override is None


def test_an_unsure_request_for_a_person_is_not_answered_with_contacting_support() -> (
    None
):
    # "bot is useless for this, human pls": the model says request_human at
    # 0.9 and the search is sure of contact-support-hours, which lists
    # "complaint": both say the customer wants people, so a person it is.
    for intent in ("request_human", "complaint", "legal_request"):
        override = decide(parse(intent, 0.9), found(0.99), ["complaint"], SETTINGS)
        assert override is None
    # A how-to question the model took for a request is still answered.
    override = decide(parse("request_human", 0.9), found(0.99), [], SETTINGS)
    assert override == Override("out_of_scope", 0.99)


#: Answer-first settings with the agreement of config.yml.
AGREEING = replace(
    SETTINGS, agree_min_intent_confidence=0.9, agree_min_kb_confidence=0.4
)


def unsure_search(confidence: float) -> SearchResult:
    """A search below its own threshold: hits, but no answer."""
    return found(confidence, slug=None)


@pytest.mark.parametrize(
    ("parsed", "confidence", "intents", "expected"),
    [
        # "wie kann ich mein passwort zurücksetzen": the model is sure, the
        # English search less so, and its best article is the intent's.
        (parse("password_reset", 0.95), 0.45, ["password_reset"], "password_reset"),
        # The same under the fallback (the model's own guess is sure enough).
        (
            parse("nlu_fallback", 0.5, ("password_reset", 0.92)),
            0.6,
            ["password_reset"],
            "password_reset",
        ),
        # The search too unsure: no agreement.
        (parse("password_reset", 0.99), 0.3, ["password_reset"], None),
        # The model too unsure.
        (parse("nlu_fallback", 0.5, ("password_reset", 0.6)), 0.6, [], None),
        (parse("password_reset", 0.85), 0.6, ["password_reset"], None),
        # The best article is not about the model's intent.
        (parse("password_reset", 0.99), 0.6, ["billing_question"], None),
        # A handoff or small-talk intent never agrees with an article.
        (parse("complaint", 0.99), 0.9, ["complaint"], None),
        (parse("greet", 0.99), 0.9, ["greet"], None),
        # Answers to the bot's questions are left alone.
        (parse("deny", 0.99), 0.9, ["deny"], None),
    ],
)
def test_an_unsure_search_answers_when_the_intent_model_agrees(
    parsed: dict, confidence: float, intents: list[str], expected: str | None
) -> None:
    override = decide(parsed, unsure_search(confidence), intents, AGREEING)
    if expected is None:
        assert override is None
        return
    assert override == Override(
        expected, override.confidence if override else 0.0, "password-reset"
    )
    data = knowledge_parse_data(unsure_search(confidence), override)
    assert data["article"] == "password-reset"
    assert data["decided"] is True
    assert decided_article({PARSE_KEY: data}) == "password-reset"


#: Answer-first settings with config.yml's handoff tie (the fallback's threshold).
TIED = replace(SETTINGS, handoff_tie_min_confidence=0.3)


@pytest.mark.parametrize(
    ("parsed", "result", "expected"),
    [
        # "I'd like to escalate this to your supervisor": a tie between two
        # ways to a person, no article: the best guess stands.
        (
            parse("nlu_fallback", 0.3, ("complaint", 0.39), ("request_human", 0.38)),
            unsure_search(0.22),
            "complaint",
        ),
        # "you took money from my account twice and nobody is helping me":
        # the search has an article, but not sure enough to override a
        # handoff intent.
        (
            parse(
                "nlu_fallback",
                0.3,
                ("payment_dispute", 0.35),
                ("account_compromised", 0.33),
            ),
            found(0.89),
            "payment_dispute",
        ),
        # The search is sure enough to override a handoff intent: the article.
        (
            parse("nlu_fallback", 0.3, ("legal_request", 0.39), ("complaint", 0.36)),
            found(0.99),
            "password_reset",
        ),
        # The best guess too unsure on its own: the fallback asks.
        (
            parse("nlu_fallback", 0.3, ("complaint", 0.19), ("request_human", 0.18)),
            unsure_search(0.2),
            None,
        ),
        # A tie with an intent that is not a way to a person: the fallback asks.
        (
            parse("nlu_fallback", 0.3, ("complaint", 0.39), ("password_reset", 0.38)),
            unsure_search(0.2),
            None,
        ),
    ],
)
def test_a_tie_between_two_ways_to_a_person_is_not_asked_about(
    parsed: dict, result: SearchResult, expected: str | None
) -> None:
    override = decide(parsed, result, ["password_reset"], TIED)
    assert (override.intent if override else None) == expected
    # Off by default: the fallback's question, as before.
    if expected not in (None, "password_reset"):
        assert decide(parsed, result, ["password_reset"], SETTINGS) is None


#: Answer-first settings with config.yml's rule for a how-to question taken
#: for someone in danger.
DANGER = replace(
    SETTINGS,
    danger_intents=frozenset({"person_in_danger"}),
    danger_max_confidence=0.5,
    danger_min_kb_confidence=0.95,
    danger_min_similarity=0.75,
)


def near(similarity: float, confidence: float = 0.998) -> SearchResult:
    """A search whose answer is ``similarity`` close to an article's question."""
    hit = Hit(slug="restore-deleted-note", score=similarity, title="Restore a note")
    return SearchResult(hits=[hit], answer=hit, confidence=confidence)


@pytest.mark.parametrize(
    ("parsed", "result", "intents", "expected"),
    [
        # "i deleted a note by accident yesterday is it gone forever":
        # person_in_danger 0.40, nearly the restore article's own question.
        (parse("person_in_danger", 0.40), near(0.85), ["out_of_scope"], "out_of_scope"),
        # The same under the fallback.
        (
            parse("nlu_fallback", 0.3, ("person_in_danger", 0.25)),
            near(0.85),
            ["out_of_scope"],
            "out_of_scope",
        ),
        # The model more sure of the danger: a person, whatever the search says.
        (parse("person_in_danger", 0.51), near(0.99, 1.0), ["out_of_scope"], None),
        # Not close enough to any article's question ("I won't be around much
        # longer, so delete my account after": similarity 0.59).
        (parse("person_in_danger", 0.40), near(0.59, 1.0), ["out_of_scope"], None),
        # The search not sure enough.
        (parse("person_in_danger", 0.40), near(0.85, 0.9), ["out_of_scope"], None),
        # Under the fallback, no other way to an article than this one.
        (parse("nlu_fallback", 0.3, ("person_in_danger", 0.25)), near(0.6), [], None),
        # An article about reaching people: a person it is.
        (parse("person_in_danger", 0.40), near(0.85), ["complaint"], None),
    ],
)
def test_a_how_to_question_taken_for_danger_gets_its_article_and_the_numbers(
    parsed: dict, result: SearchResult, intents: list[str], expected: str | None
) -> None:
    override = decide(parsed, result, intents, DANGER)
    assert (override.intent if override else None) == expected
    if override is not None:
        assert override.safety
        data = knowledge_parse_data(result, override)
        assert data["article"] == "restore-deleted-note"
        assert safety_line({PARSE_KEY: data})
    if parsed["intent"]["name"] == "person_in_danger":
        # Off by default: someone in danger is never answered with an article.
        assert decide(parsed, result, intents, SETTINGS) is None


def test_an_ordinary_answer_carries_no_safety_line() -> None:
    override = decide(parse("greet", 0.98), found(0.7), ["password_reset"], DANGER)
    assert override is not None and not override.safety
    data = knowledge_parse_data(found(0.7), override)
    assert not safety_line({PARSE_KEY: data}) and not safety_line({})


def test_no_agreement_when_a_runner_up_of_the_intent_is_as_plausible() -> None:
    # "help with 2-step thing": both two-factor articles list the intent and
    # score alike; the customer is offered both rather than answered.
    setup = Hit(slug="two-factor-setup", score=0.45, title="Set up two-factor")
    reset = Hit(slug="two-factor-reset", score=0.44, title="Lost two-factor codes")
    result = SearchResult(hits=[setup, reset], answer=None, confidence=0.5)
    parsed = parse("two_factor_problem", 0.97)
    intents = ["two_factor_problem"]
    assert decide(parsed, result, intents, AGREEING, [intents]) is None
    # A runner-up of the intent well behind (German sync question: 0.69).
    far = Hit(slug="two-factor-reset", score=0.3, title="Lost two-factor codes")
    result = SearchResult(hits=[setup, far], answer=None, confidence=0.5)
    override = decide(parsed, result, intents, AGREEING, [intents])
    assert override == Override("two_factor_problem", 0.97, "two-factor-setup")
    # A runner-up as close that lists another intent does not matter.
    override = decide(
        parsed, SearchResult([setup, reset], None, 0.5), intents, AGREEING, [[]]
    )
    assert override is not None


def test_without_agreement_an_unsure_search_names_no_article() -> None:
    data = knowledge_parse_data(unsure_search(0.3), None)
    assert data["article"] is None
    assert data["decided"] is False
    assert data["ranking"][0]["article"] == "password-reset"
    # DecisionSettings alone never agrees: its thresholds default to 1.
    parsed = parse("password_reset", 0.99)
    assert decide(parsed, unsure_search(0.99), ["password_reset"], SETTINGS) is None


def test_a_request_naming_a_topic_is_not_asked_about_when_people_are_close() -> None:
    # "I need a person about exporting my notes": export-notes first, the
    # article about contacting support (listing "complaint") second.
    parsed = parse("request_human", 1.0)
    override = decide(parsed, found(0.97), [], SETTINGS, [["complaint"], []])
    assert override is None
    # Only the top people_hits count: people third is not close.
    override = decide(parsed, found(0.97), [], SETTINGS, [[], ["complaint"]])
    assert override == Override("nlu_fallback", 1.0)


def test_an_article_listing_a_handoff_intent_still_answers() -> None:
    # contact-support-hours lists "complaint": answering the question about
    # support hours must not turn it into a complaint (handed to a person).
    parsed = parse("nlu_fallback", 0.5, ("complaint", 0.4), ("bot_challenge", 0.3))
    override = decide(parsed, found(0.97), ["complaint"], SETTINGS)
    assert override == Override("out_of_scope", 0.97)


def test_a_complaint_an_article_answers_gets_it_acknowledged() -> None:
    # "absolutely ridiculous that I can't figure out how to export my notes":
    # the model is sure it is a complaint, the search sure of the article.
    angry = {**parse("complaint", 0.99), "text": "ridiculous, how do I export"}
    override = decide(angry, found(0.95), [], SETTINGS)
    assert override == Override("out_of_scope", 0.95, acknowledge=True)
    # Under the fallback too, with the article's own intent, in French.
    unsure = {
        **parse("nlu_fallback", 0.5, ("complaint", 0.45)),
        "text": "c'est ridicule, comment je change mon mot de passe",
    }
    override = decide(unsure, found(0.93), ["password_reset"], SETTINGS)
    assert override == Override("password_reset", 0.93, acknowledge=True)


def test_a_complaint_that_asks_nothing_goes_to_a_person() -> None:
    # "you took money from my account twice and nobody is helping me": the
    # refund article matches as well as a how-to question's article would.
    upset = {**parse("complaint", 0.99), "text": "nobody is helping me"}
    assert decide(upset, found(0.95), [], SETTINGS) is None


@pytest.mark.parametrize(
    ("intent", "confidence", "article_intents", "runner_up_intents"),
    [
        # Not sure enough of the article: a person, as before.
        ("complaint", 0.85, [], []),
        # The article, or the runner-up, is about reaching people.
        ("complaint", 0.99, ["complaint"], []),
        ("complaint", 0.99, [], [["complaint"]]),
        # Asking for a person, or a sensitive matter, is never softened.
        ("request_human", 0.99, [], [["password_reset"]]),
        ("account_compromised", 0.99, [], []),
        ("legal_request", 0.99, [], []),
    ],
)
def test_a_complaint_is_not_softened_unless_an_article_plainly_answers(
    intent: str,
    confidence: float,
    article_intents: list[str],
    runner_up_intents: list[list[str]],
) -> None:
    override = decide(
        {**parse(intent, 0.99), "text": "how do I do this, it's ridiculous"},
        found(confidence),
        article_intents,
        SETTINGS,
        runner_up_intents,
    )
    assert override is None or override.intent == "nlu_fallback"
    assert override is None or not override.acknowledge


@pytest.mark.parametrize(
    ("intent", "override", "confidence", "hit_intents", "softened"),
    [
        # "wtf how do I turn off these notifications": a confident article.
        ("out_of_scope", None, 0.95, [[]], True),
        ("nlu_fallback", Override("password_reset", 0.95), 0.95, [[]], True),
        # One the intent model agreed on (another language).
        ("nlu_fallback", Override("sync_problem", 0.9, "s"), 0.2, [[]], True),
        # No answer from the search.
        ("sync_problem", None, None, [[]], False),
        # Not answered from the articles: a person, small talk, a "no".
        ("request_human", None, 0.99, [[]], False),
        ("complaint", None, 0.99, [[]], False),
        ("greet", None, 0.99, [[]], False),
        ("deny", None, 0.99, [[]], False),
        ("nlu_fallback", None, 0.99, [[]], False),
        # An article about reaching people is close.
        ("out_of_scope", None, 0.99, [[], ["complaint"]], False),
    ],
)
def test_a_frustrated_how_to_question_is_softened_when_answered(
    intent: str,
    override: Override | None,
    confidence: float | None,
    hit_intents: list[list[str]],
    softened: bool,
) -> None:
    result = found(0.5, slug=None) if confidence is None else found(confidence)
    assert soften(parse(intent, 0.9), result, override, hit_intents, SETTINGS) is (
        softened
    )


def product_parse(text: str, *products: str) -> dict:
    entities = [
        {"entity": "product", "value": p, "start": text.lower().find(p.lower())}
        for p in products
    ]
    return {"text": text, "entities": entities}


@pytest.mark.parametrize(
    ("parsed", "article_text", "expected"),
    [
        (product_parse("dropbox not syncing", "dropbox"), "Notes sync", "dropbox"),
        # The article names it: importing from Evernote is about Lumen.
        (
            product_parse("bring my notes over from Evernote", "Evernote"),
            "Import notes from Evernote, Notion and others",
            None,
        ),
        # The message names Lumen too.
        (product_parse("does lumen work with slack", "slack"), "", None),
        # The first product the article does not mention.
        (
            product_parse("move from notion to trello", "notion", "trello"),
            "Import from Notion",
            "trello",
        ),
        # Whole words only: "Notional" is not "Notion".
        (product_parse("why is my invoice late", "notion"), "Notional", "notion"),
        ({"text": "my notes don't sync"}, "", None),
        # Other entities are not products.
        (
            {"text": "x", "entities": [{"entity": "article", "value": "sync"}]},
            "",
            None,
        ),
    ],
)
def test_another_product_is_named_and_not_in_the_article(
    parsed: dict, article_text: str, expected: str | None
) -> None:
    assert other_product(parsed, article_text, SETTINGS) == expected


def test_the_parse_data_carries_the_acknowledgement_and_the_product() -> None:
    softened = knowledge_parse_data(found(0.95), None, acknowledge=True)
    assert softened["article"] == "password-reset"
    assert acknowledged({PARSE_KEY: softened})
    assert decided_other_product({PARSE_KEY: softened}) is None
    product = Override("out_of_scope", 0.95, other_product="Dropbox")
    elsewhere = knowledge_parse_data(found(0.95), product, acknowledge=True)
    # No article for another company's product, so nothing to acknowledge.
    assert elsewhere["article"] is None
    assert not acknowledged({PARSE_KEY: elsewhere})
    assert decided_other_product({PARSE_KEY: elsewhere}) == "Dropbox"
    assert not acknowledged({}) and decided_other_product({}) is None


def test_the_override_tops_the_ranking_and_drops_the_fallback() -> None:
    parsed = parse("nlu_fallback", 0.5, ("password_reset", 0.4), ("greet", 0.1))
    apply_override(parsed, Override("password_reset", 0.87))
    assert parsed["intent"] == {"name": "password_reset", "confidence": 0.87}
    names = [e["name"] for e in parsed["intent_ranking"]]
    assert names[0] == "password_reset"
    assert "nlu_fallback" not in names
    assert names.count("password_reset") == 1
    assert "greet" in names


@pytest.mark.parametrize(
    ("parsed", "article"),
    [
        ({PARSE_KEY: {"article": "refund-request"}}, "refund-request"),
        ({PARSE_KEY: {"article": None}}, None),
        ({PARSE_KEY: "garbage"}, None),
        ({}, None),
    ],
)
def test_the_action_reads_the_decided_article(
    parsed: dict, article: str | None
) -> None:
    assert decided_article(parsed) == article


def test_the_pipeline_runs_it_after_the_fallback_and_the_embedder() -> None:
    names = [c["name"] for c in yaml.safe_load(CONFIG.read_text())["pipeline"]]
    position = names.index("bot.nlu.knowledge.KnowledgeFirst")
    assert names.index("FallbackClassifier") < position
    assert names.index("bot.nlu.meaning.MessageEmbedder") < position
    # Keyboard mashing falls back first; a sure search can still answer it.
    assert names.index("bot.nlu.known_words.NoKnownWordFallback") < position


@pytest.fixture
async def followed(
    engine: Any, database_url: str, tmp_path: Path
) -> AsyncIterator[FollowedIndex]:
    """A followed index of the seed articles on a real database."""
    await empty_knowledge_base(engine)
    await KnowledgeRepository(engine).seed_if_new(load_seed())
    index = FollowedIndex(
        lambda: Settings(data_dir=tmp_path, database_url=database_url),
        recheck_s=0.05,
    )
    assert await asyncio.to_thread(index.start, 120.0)
    yield index
    index.stop()


def message(text: str, intent: str, confidence: float, *ranking: Any) -> Message:
    return Message(data={TEXT: text, **parse(intent, confidence, *ranking)})


async def test_an_unsure_how_to_question_is_answered_not_confirmed(
    followed: FollowedIndex,
) -> None:
    component = KnowledgeFirst(SETTINGS, followed)
    unsure = message(
        "I forgot my password and cannot sign in any more",
        "nlu_fallback",
        0.5,
        ("password_reset", 0.45),
    )
    [parsed] = component.process([unsure])
    output = parsed.as_dict(only_output_properties=True)
    assert output[PARSE_KEY]["article"] == "password-reset"
    assert output[PARSE_KEY]["decided"] is True
    assert parsed.get("intent")["name"] == "password_reset"


async def test_a_confident_request_for_a_person_is_left_alone(
    followed: FollowedIndex,
) -> None:
    component = KnowledgeFirst(SETTINGS, followed)
    [parsed] = component.process(
        [message("I want to talk to a real person", "request_human", 0.99)]
    )
    assert parsed.get("intent")["name"] == "request_human"
    assert parsed.get(PARSE_KEY)["decided"] is False


async def test_button_payloads_are_not_searched(followed: FollowedIndex) -> None:
    component = KnowledgeFirst(SETTINGS, followed)
    [parsed] = component.process([message("/password_reset", "password_reset", 1.0)])
    assert parsed.get(PARSE_KEY) is None


async def test_an_edited_article_is_followed_without_a_restart(
    followed: FollowedIndex, engine: Any
) -> None:
    await KnowledgeRepository(engine).update(
        "password-reset", {"status": "draft"}, author=None
    )
    # The rebuild runs beside other work: up to two minutes on a busy machine.
    for _ in range(2400):
        current = followed.current
        if current is not None and current.article("password-reset") is None:
            break
        await asyncio.sleep(0.05)
    component = KnowledgeFirst(SETTINGS, followed)
    [parsed] = component.process(
        [message("I forgot my password", "nlu_fallback", 0.5, ("password_reset", 0.4))]
    )
    assert parsed.get(PARSE_KEY)["article"] != "password-reset"


def test_an_unreadable_knowledge_base_leaves_messages_unchanged(
    tmp_path: Path,
) -> None:
    # A database without the knowledge base's tables.
    missing = f"sqlite:///{tmp_path / 'empty.db'}"
    index = FollowedIndex(
        lambda: Settings(data_dir=tmp_path, database_url=missing), recheck_s=0.05
    )
    assert index.start(wait_s=0.5) is False
    try:
        component = KnowledgeFirst(SETTINGS, index)
        before = parse("nlu_fallback", 0.5, ("password_reset", 0.4))
        [parsed] = component.process([Message(data={TEXT: "hello", **before})])
        assert parsed.get("intent")["name"] == "nlu_fallback"
        assert parsed.get(PARSE_KEY) is None
    finally:
        index.stop()


def test_every_model_in_a_process_shares_one_followed_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rasa loads a deployed model beside the running one and drops the old
    # one without telling its components: an index per model left one more
    # thread behind on every deploy.
    monkeypatch.setattr(knowledge_module, "_FOLLOWED", {})
    missing = f"sqlite:///{tmp_path / 'empty.db'}"
    settings = Settings(data_dir=tmp_path, database_url=missing)
    monkeypatch.setattr(knowledge_module, "WARM_TIMEOUT_S", 0.2)
    monkeypatch.setattr(Settings, "from_env", staticmethod(lambda: settings))

    def threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "knowledge-index"}

    before = threads()
    first = KnowledgeFirst.create(
        KnowledgeFirst.get_default_config(),
        None,
        None,
        None,  # type: ignore[arg-type]
    )
    second = KnowledgeFirst.create(
        KnowledgeFirst.get_default_config(),
        None,
        None,
        None,  # type: ignore[arg-type]
    )
    try:
        assert second.index is first.index
        # Other tests' indexes may still be winding down: count new threads.
        assert threads() - before == {first.index._thread}
    finally:
        first.index.stop()


def with_products(text: str, intent: str, confidence: float, *products: str) -> Message:
    """A message as RegexEntityExtractor leaves it: its products as entities."""
    found_message = message(text, intent, confidence)
    entities = []
    for product in products:
        start = text.lower().index(product.lower())
        entities.append(
            {
                "entity": "product",
                "value": text[start : start + len(product)],
                "start": start,
                "end": start + len(product),
                "extractor": "RegexEntityExtractor",
            }
        )
    found_message.set("entities", entities)
    return found_message


async def test_a_question_about_another_product_gets_no_article(
    followed: FollowedIndex,
) -> None:
    component = KnowledgeFirst(SETTINGS, followed)
    [parsed] = component.process(
        [
            with_products(
                "Dropbox stopped syncing my files", "sync_problem", 0.97, "Dropbox"
            )
        ]
    )
    assert parsed.get("intent")["name"] == "out_of_scope"
    assert parsed.get(PARSE_KEY)["other_product"] == "Dropbox"
    assert parsed.get(PARSE_KEY)["article"] is None


@pytest.mark.parametrize(
    ("text", "product", "slug"),
    [
        # The import article names Evernote.
        (
            "how do I import my notes from Evernote",
            "Evernote",
            "import-from-other-apps",
        ),
        # The message names Lumen.
        ("can Lumen back my notes up to Dropbox", "Dropbox", None),
    ],
)
async def test_another_product_the_article_or_message_names_keeps_the_answer(
    followed: FollowedIndex, text: str, product: str, slug: str | None
) -> None:
    component = KnowledgeFirst(SETTINGS, followed)
    [parsed] = component.process([with_products(text, "out_of_scope", 0.9, product)])
    assert parsed.get(PARSE_KEY)["other_product"] is None
    if slug is not None:
        assert parsed.get(PARSE_KEY)["article"] == slug


@pytest.mark.parametrize(("frustrated", "acknowledge"), [(True, True), (False, False)])
async def test_a_frustrated_how_to_question_is_answered_with_a_sorry(
    followed: FollowedIndex, frustrated: bool, acknowledge: bool
) -> None:
    # Any confident answer is enough for this test: the threshold is config's.
    settings = replace(SETTINGS, soften_min_kb_confidence=0.0)
    component = KnowledgeFirst(settings, followed)
    angry = message(
        "I forgot my password and cannot sign in any more", "password_reset", 0.99
    )
    angry.set("frustration", {"score": 0.8, "frustrated": frustrated})
    [parsed] = component.process([angry])
    assert parsed.get(PARSE_KEY)["article"] == "password-reset"
    assert parsed.get(PARSE_KEY)["acknowledge"] is acknowledge
    assert parsed.get("intent")["name"] == "password_reset"


def test_a_danger_sentence_in_a_question_an_article_answers_weighs_the_whole() -> None:
    # "my notes won't sync. I'm scared I'll lose everything.": the second
    # sentence alone is person_in_danger 0.84, the whole message 0.10.
    parsed = parse("person_in_danger", 0.84)
    parsed["sentence_intent"] = {
        "text": "I'm scared I'll lose everything.",
        "name": "person_in_danger",
        "confidence": 0.84,
        "message_confidence": 0.10,
    }
    override = decide(parsed, near(0.85), ["out_of_scope"], DANGER)
    assert override is not None and override.safety
    # The whole message as sure of the danger as its sentence: a person.
    parsed["sentence_intent"]["message_confidence"] = 0.6
    assert decide(parsed, near(0.85), ["out_of_scope"], DANGER) is None
    # No article near enough: a person, with the numbers.
    parsed["sentence_intent"]["message_confidence"] = 0.10
    assert decide(parsed, near(0.59, 1.0), ["out_of_scope"], DANGER) is None

"""Keyboard mashing falls back (bot.nlu.known_words), on small data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.known_words import (
    PARSE_KEY,
    WORDS_FILE,
    KnownWordsError,
    NoKnownWordFallback,
    encoder_words,
    has_no_known_word,
    words,
)

VOCABULARY = [
    "[PAD]",
    "[CLS]",
    "the",
    "card",
    "##ing",
    "pin",
    "hello",
    "how",
    "do",
    "i",
]


def _component(
    tmp_path: Path, vocabulary: list[str] | None = VOCABULARY
) -> tuple[NoKnownWordFallback, LocalModelStorage, Resource, ExecutionContext]:
    encoder = tmp_path / "encoder"
    encoder.mkdir(exist_ok=True)
    if vocabulary is not None:
        (encoder / "vocab.txt").write_text("\n".join(vocabulary) + "\n")
    (tmp_path / "storage").mkdir(exist_ok=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("known_words")
    context = ExecutionContext(GraphSchema({}), node_name="known_words")
    config = {**NoKnownWordFallback.get_default_config(), "model": str(encoder)}
    return (
        NoKnownWordFallback.create(config, storage, resource, context),
        storage,
        resource,
        context,
    )


def _training_data() -> TrainingData:
    return TrainingData(
        training_examples=[
            Message(data={TEXT: "Réinitialiser mon mot de passe", INTENT: "reset"}),
            Message(data={TEXT: "pasword reset pls", INTENT: "reset"}),
        ],
        lookup_tables=[{"name": "product", "elements": ["Dropbox", "OneNote"]}],
    )


def _parsed(text: str, intent: str = "greet") -> Message:
    ranking = [
        {"name": intent, "confidence": 0.34},
        {"name": "thank", "confidence": 0.2},
    ]
    return Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": 0.34},
            "intent_ranking": ranking,
        }
    )


def test_words_are_letter_runs_folded_without_accents() -> None:
    assert words("Réinitialiser mon MOT2passe, s'il-vous") == [
        "reinitialiser", "mon", "mot", "passe", "s", "il", "vous",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zzzz", True),
        ("asdf jkl", True),
        ("?", True),
        ("...  !!", True),
        ("hello zzzz", False),  # one known word is enough
        ("HELLO", False),
        ("héllo", False),  # accents folded
        ("12345", False),  # a number can mean something
        ("👍", False),  # so can an emoji
        ("我忘记了密码", False),  # not Latin script: not judged
        ("zzzz 密码", False),
        ("", False),
        ("   ", False),
    ],
)
def test_which_texts_have_no_known_word(text: str, expected: bool) -> None:
    assert has_no_known_word(text, {"hello"}) is expected


def test_the_encoders_whole_words_count_not_its_pieces() -> None:
    assert encoder_words(VOCABULARY) == {
        "the",
        "card",
        "pin",
        "hello",
        "how",
        "do",
        "i",
    }


def test_training_keeps_examples_lookups_and_encoder_words_and_persists_them(
    tmp_path: Path,
) -> None:
    component, storage, resource, context = _component(tmp_path)
    component.train(_training_data())
    with storage.read_from(resource) as path:
        stored = set(json.loads((path / WORDS_FILE).read_text())["words"])
    assert {"reinitialiser", "pasword", "pls", "dropbox", "onenote", "card"} <= stored
    assert "ing" not in stored and "cls" not in stored
    loaded = NoKnownWordFallback.load(
        component.component_config, storage, resource, context
    )
    assert loaded.known == component.known == frozenset(stored)


def test_a_message_without_known_words_falls_back_with_no_suggestion(
    tmp_path: Path,
) -> None:
    component, *_ = _component(tmp_path)
    component.train(_training_data())
    [mash, known, payload, emoji] = component.process(
        [_parsed("zzzz"), _parsed("hello there"), _parsed("/greet"), _parsed("👍")]
    )
    assert mash.get(INTENT) == {"name": "nlu_fallback", "confidence": 1.0}
    assert mash.get("intent_ranking") == [{"name": "nlu_fallback", "confidence": 1.0}]
    assert mash.get(PARSE_KEY) is True
    for untouched in (known, payload, emoji):
        assert untouched.get(INTENT)["name"] == "greet"
        assert untouched.get(PARSE_KEY) is None


def test_a_message_already_falling_back_loses_its_suggestions(tmp_path: Path) -> None:
    component, *_ = _component(tmp_path)
    component.train(_training_data())
    [message] = component.process([_parsed("qwe qwe", intent="nlu_fallback")])
    assert message.get("intent_ranking") == [
        {"name": "nlu_fallback", "confidence": 1.0}
    ]


def test_a_missing_encoder_vocabulary_is_a_clear_error(tmp_path: Path) -> None:
    component, *_ = _component(tmp_path, vocabulary=None)
    with pytest.raises(KnownWordsError, match=r"vocab\.txt is missing"):
        component.train(_training_data())

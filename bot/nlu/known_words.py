"""Keyboard mashing falls back: a message with no word anyone knows.

An intent model built on sentence embeddings always finds the nearest intent:
"zzzz" or "asdf jkl" comes out as a greeting or a thank-you at some
confidence (the linear model of issue #15 took "zzzz" for ``greet`` at 0.34),
so the assistant answers "Hi!" to a customer who slipped on the keyboard,
where it should say it did not understand and, the second time, hand over.
Sparse models did this by themselves: no word, no feature.

:class:`NoKnownWordFallback` keeps the vocabulary the assistant can know —
every word of the training examples and lookup tables, and the whole words
of the sentence encoder's own vocabulary (``vocab.txt``, about 22,000
English words) — and gives ``nlu_fallback`` to a message whose words are all
outside it, as it does to punctuation alone ("?": the linear model took it
for "yes" at 0.63). One known word is enough to leave a message alone, as
is any word it cannot judge: words in scripts other than Latin (Chinese has
no spaces to split words by, and the encoder's vocabulary is English); and
a number or an emoji without words ("12345", "👍") is left to the intent
model. Accents are folded first ("réinitialiser" is judged as
"reinitialiser"), as the encoder's uncased vocabulary does.

Measured before adopting it (2026-12-04, session 29): it caught 18 of 18
typed mashes ("zzzz", "asdf", "qwerty", "hjkl", ...) and changed 4 of 2,052
messages of the tuning-side question files (bench/e2e/validation*.yml,
questions.yml, the retired blind sets, bench/kb/questions.yml): "qwe qwe
qwe ??" (gibberish), "SAML?" (a feature with no article), "bonjour" (now a
greeting example in data/nlu/chitchat.yml) and "welke browsers worden
ondersteund" (Dutch, answered by the knowledge base after the fallback when
its search is sure: :class:`bot.nlu.knowledge.KnowledgeFirst` runs later
and overrides an ``nlu_fallback``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sentence_features import encoder_directory

#: The file of known words in the model's storage.
WORDS_FILE = "known_words.json"


class KnownWordsError(RasaException):
    """The encoder's vocabulary is missing."""


#: The parse data's key: set (True) on a message that fell back here.
PARSE_KEY = "no_known_word"

_WORD = re.compile(r"[^\W\d_]+")


def fold(word: str) -> str:
    """Lower case without accents: "Réinitialiser" -> "reinitialiser"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """The text's words: runs of letters, folded (digits and marks split)."""
    return [fold(word) for word in _WORD.findall(text)]


def has_no_known_word(text: str, known: set[str] | frozenset[str]) -> bool:
    """True for punctuation alone, or Latin-script words none of them known.

    Punctuation alone: "?", "...". A text with no letters but digits or
    symbols ("12345", "👍") is not judged: a number or an emoji can mean
    something.
    """
    found = words(text)
    if not found:
        return bool(text.strip()) and not any(
            char.isalnum() or unicodedata.category(char).startswith("S")
            for char in text
        )
    return all(word.isascii() and word not in known for word in found)


def encoder_words(lines: Iterable[str]) -> set[str]:
    """The whole words of a WordPiece vocabulary (not ``##`` pieces, ``[CLS]``)."""
    vocabulary = set()
    for line in lines:
        piece = line.strip()
        if piece and not piece.startswith(("##", "[")):
            vocabulary.update(words(piece))
    return vocabulary


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class NoKnownWordFallback(GraphComponent, IntentClassifier):
    """Predicts ``nlu_fallback`` for a message with no known word."""

    @classmethod
    def required_components(cls) -> list[type]:
        """None: it reads the text. It belongs after the intent classifier."""
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the defaults.

        ``model``: the encoder's directory, for its ``vocab.txt`` (empty:
        ``BATON_EMBEDDING_MODEL`` or ``models/all-MiniLM-L6-v2``).
        """
        return {"model": ""}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        known: frozenset[str] = frozenset(),
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self.known = known

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NoKnownWordFallback:
        """An untrained component: it knows no word (see ``train``)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NoKnownWordFallback:
        """The words stored at training.

        Raises:
            ValueError: The model's storage lacks them.
        """
        with model_storage.read_from(resource) as path:
            stored = json.loads((path / WORDS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, frozenset(stored["words"]))

    def train(self, training_data: TrainingData) -> Resource:
        """Store the training examples' words and the encoder's.

        Raises:
            KnownWordsError: The encoder's ``vocab.txt`` is not installed.
        """
        path = encoder_directory(self.component_config) / "vocab.txt"
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError as missing:
            raise KnownWordsError(
                f"NoKnownWordFallback: the sentence encoder's vocabulary {path} "
                "is missing: install the encoder (`make install`, "
                "scripts/fetch-embedding-model.sh) or set the component's `model`"
            ) from missing
        vocabulary = encoder_words(lines)
        for example in training_data.training_examples:
            vocabulary.update(words(example.get(TEXT) or ""))
        for table in training_data.lookup_tables:
            elements = table.get("elements")
            if isinstance(elements, list):
                for element in elements:
                    vocabulary.update(words(str(element)))
        for synonym, value in training_data.entity_synonyms.items():
            vocabulary.update(words(f"{synonym} {value}"))
        self.known = frozenset(vocabulary)
        with self._model_storage.write_to(self._resource) as path:
            (path / WORDS_FILE).write_text(
                json.dumps({"words": sorted(self.known)}), encoding="utf-8"
            )
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        """Give ``nlu_fallback`` to each message with no known word.

        Its intent ranking is the fallback alone, so the two-stage fallback
        offers no intent ("Did you mean ...?") for it.
        """
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or not has_no_known_word(text, self.known):
                continue
            message.set(PARSE_KEY, True, add_to_output=True)
            fallback = {
                INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                PREDICTED_CONFIDENCE_KEY: 1.0,
            }
            message.data[INTENT] = fallback
            # The model's guesses for "zzzz" mean nothing: no "Did you mean to
            # say hello?" (actions/fallback.py offers the ranking's best).
            message.data[INTENT_RANKING_KEY] = [dict(fallback)]
        return messages

"""Sentence embeddings as dense features for the intent classifier.

The sparse featurizers give DIET the words and character n-grams of a
message; two messages that mean the same with different words ("my card
never came" / "still waiting on the card you sent") share few of them.
:class:`SentenceFeaturizer` adds the message's sentence embedding
(all-MiniLM-L6-v2 joined with the multilingual Universal Sentence
Encoder, :mod:`bot.knowledge.embedding`) as a sentence-level dense
feature, which DIET reads alongside the sparse ones.

The features depend on the encoder's weights, so training records which
model it used (name, size and a hash of the weights file's header) in the
model's storage; loading a model with other weights fails with a clear error
instead of feeding the classifier vectors it was not trained on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.config import Settings
from bot.knowledge.embedding import (
    MODEL_NAME,
    SentenceEncoder,
    model_directory,
    shared_encoder,
)

logger = logging.getLogger(__name__)

#: The file in the model's storage naming the encoder the model was trained with.
FINGERPRINT_FILE = "encoder.json"

#: Where a parsed message keeps its sentences' features (``split_sentences``):
#: a list of ``(sentence, row)`` pairs, the rows scaled as the message's own.
SENTENCES_KEY = "sentence_features"

#: A sentence ends at ., !, ?, ; or … followed by a space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?;\u2026])\s+|\s*\n\s*")

#: Joiners and presentation selectors inside emoji sequences: no meaning of their own.
_EMOJI_GLUE = {"\u200d", "\ufe0e", "\ufe0f"}


def spelled_out(text: str) -> str:
    """``text`` with each pictograph replaced by its Unicode name.

    Both encoders read every emoji as the same unknown piece, so "👍", "👎"
    and "👋" got one vector (greet 0.49). Their names ("thumbs up sign",
    "waving hand sign") carry what the customer meant. Symbols below
    U+2000 (°, ©) and text without pictographs are left exactly as they are,
    so their vectors do not change.
    """
    if all(ord(char) < 0x2000 for char in text):
        return text
    parts = []
    for char in text:
        if char in _EMOJI_GLUE or unicodedata.name(char, "").startswith(
            "EMOJI MODIFIER"
        ):
            continue
        if ord(char) >= 0x2000 and unicodedata.category(char) == "So":
            parts.append(f" {unicodedata.name(char, '').lower()} ")
        else:
            parts.append(char)
    return " ".join("".join(parts).split())


def sentences(text: str) -> list[str]:
    """The sentences of a message that has more than one, else ``[]``.

    A part counts when it has a letter (a lone "?" or "..." is not a
    sentence).
    """
    parts = [part.strip() for part in _SENTENCE_END.split(text)]
    kept = [part for part in parts if any(char.isalpha() for char in part)]
    return kept if len(kept) > 1 else []


class EncoderMismatch(RasaException):
    """The installed encoder is not the one the model was trained with."""


def fingerprint(directory: Path) -> dict[str, Any]:
    """Which encoder a directory holds: name, weights size and header digest.

    The safetensors header lists every tensor's name, shape and byte range,
    and the size pins the data; hashing 64 KB is quick at every load.
    """
    weights = directory / "model.safetensors"
    with weights.open("rb") as handle:
        head = handle.read(65536)
    return {
        "model": MODEL_NAME,
        "size": weights.stat().st_size,
        "head_sha256": hashlib.sha256(head).hexdigest(),
    }


def encoder_directory(config: dict[str, Any]) -> Path:
    """The encoder's directory a component's ``model`` setting names.

    Empty: ``BATON_EMBEDDING_MODEL`` or ``models/all-MiniLM-L6-v2``.
    """
    configured = str(config.get("model") or "").strip()
    if configured:
        return Path(configured)
    # Rasa creates the components itself: no settings object reaches them.
    return model_directory(Settings.from_env())


def check_encoder(trained: dict[str, Any], directory: Path) -> None:
    """Refuse a model whose vectors came from other encoder weights.

    Args:
        trained: The :func:`fingerprint` the model recorded at training.
        directory: The installed encoder's directory.

    Raises:
        EncoderMismatch: The installed weights differ from the training's.
    """
    installed = fingerprint(directory)
    if trained != installed:
        raise EncoderMismatch(
            f"the model was trained with the sentence encoder {trained}, but "
            f"{directory} holds {installed}: install the same model files or "
            "retrain"
        )


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True
)
class SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds each message's sentence embedding as a dense sentence feature."""

    @classmethod
    def required_components(cls) -> list[type]:
        """A tokenizer must run first (Rasa's featurizers expect tokens)."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the defaults.

        ``model`` is the encoder's directory (empty: ``BATON_EMBEDDING_MODEL``
        or ``models/all-MiniLM-L6-v2``); ``scale`` multiplies the unit-length
        vector (DIET's sparse inputs are counts, so a larger scale gives the
        embedding more weight early in training). With ``split_sentences``,
        a parsed message of several sentences also keeps each sentence's
        features (:data:`SENTENCES_KEY`), for the intent classifier's
        ``sentence_intents``; training examples are featurized whole only.
        """
        return {
            **DenseFeaturizer.get_default_config(),
            "model": "",
            "scale": 1.0,
            "split_sentences": False,
        }

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        encoder: SentenceEncoder,
        directory: Path,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(name, config)
        self.encoder = encoder
        self.directory = directory
        self._model_storage = model_storage
        self._resource = resource
        self._split = bool(config.get("split_sentences", False))

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """``scale`` must be a positive number."""
        scale = config.get("scale", 1.0)
        if not isinstance(scale, (int, float)) or scale <= 0:
            raise ValueError(f"SentenceFeaturizer: scale must be > 0, not {scale!r}")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceFeaturizer:
        """Load the encoder (see ``GraphComponent.create``).

        Raises:
            EmbeddingModelMissing: The encoder's files are not installed.
        """
        directory = encoder_directory(config)
        return cls(
            config,
            execution_context.node_name,
            shared_encoder(directory),
            directory,
            model_storage,
            resource,
        )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceFeaturizer:
        """Load the encoder and check it is the one the model was trained with.

        Raises:
            EncoderMismatch: The installed weights differ from the training's.
            EmbeddingModelMissing: The encoder's files are not installed.
        """
        featurizer = cls.create(config, model_storage, resource, execution_context)
        try:
            with model_storage.read_from(resource) as path:
                trained = json.loads((path / FINGERPRINT_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning(
                "the model does not record its sentence encoder; using %s",
                featurizer.directory,
            )
            return featurizer
        check_encoder(trained, featurizer.directory)
        return featurizer

    def train(self, training_data: TrainingData) -> Resource:
        """Record which encoder the features come from (nothing is learnt)."""
        with self._model_storage.write_to(self._resource) as path:
            (path / FINGERPRINT_FILE).write_text(
                json.dumps(fingerprint(self.directory)), encoding="utf-8"
            )
        return self._resource

    def _add_features(self, messages: list[Message], *, remember: bool) -> None:
        with_text = [message for message in messages if message.get(TEXT)]
        if not with_text:
            return
        texts = [message.get(TEXT) for message in with_text]
        split = [sentences(t) if remember and self._split else [] for t in texts]
        parts = [part for found in split for part in found]
        # One-off texts: kept out of the encoder's cache and store file.
        vectors = self.encoder.encode([spelled_out(t) for t in texts], cache=False)
        if remember:
            # The message embedder and the knowledge base reuse the vector.
            for text, vector in zip(texts, vectors, strict=True):
                self.encoder.remember(text, vector)
        scale = np.float32(self._config["scale"])
        scaled = vectors * scale
        # The sentences apart from the messages: a message's own vector stays
        # exactly what it was without them.
        part_rows: np.ndarray | None = None
        if parts:
            encoded = self.encoder.encode([spelled_out(p) for p in parts], cache=False)
            part_rows = encoded * scale
        taken = 0
        for message, vector, found in zip(with_text, scaled, split, strict=True):
            self.add_features_to_message(None, vector[None, :], TEXT, message)
            if found and part_rows is not None:
                rows = part_rows[taken : taken + len(found)]
                taken += len(found)
                message.set(
                    SENTENCES_KEY,
                    [
                        (part, row[None, :])
                        for part, row in zip(found, rows, strict=True)
                    ],
                )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Add the features to every training example with a text."""
        self._add_features(training_data.training_examples, remember=False)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the features to parsed messages (their vectors are remembered)."""
        self._add_features(messages, remember=True)
        return messages

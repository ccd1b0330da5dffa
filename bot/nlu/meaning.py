"""Embed every message once, while Rasa parses it, for the knowledge base.

The knowledge base compares a message with its articles by meaning (sentence
embeddings, :mod:`bot.knowledge.embedding`). Computing the embedding is the
costly part of that (~8 ms of CPU for both models in onnxruntime, ~34 ms
with the numpy code before: ``bench/results/nlu-encoder-*.json``); doing it
here, in the NLU pipeline with the other featurizers, keeps the action's
knowledge-base lookup to a few milliseconds. The vector travels in the parse
data (``embedding``: model name, size and base64 float32, ~5 KB), so the
action server reads it from the tracker's latest message; a message without
one (an older model, a button payload the action re-searches) is embedded
by the action itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.config import Settings
from bot.knowledge.embedding import (
    PARSE_KEY,
    SentenceEncoder,
    model_directory,
    shared_encoder,
    vector_to_parse_data,
)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class MessageEmbedder(GraphComponent):
    """Adds the message's sentence embedding to its parse data; no training.

    Registered like :class:`bot.nlu.frustration.FrustrationDetector`: it runs
    only when messages are parsed and leaves the intent alone.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the defaults.

        ``model`` is the model directory (empty: ``BATON_EMBEDDING_MODEL`` or
        ``models/all-MiniLM-L6-v2``).
        """
        return {"model": ""}

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MessageEmbedder:
        """Load the encoder (see ``GraphComponent.create``).

        Raises:
            EmbeddingModelMissing: The model files are not installed.
        """
        configured = str(config.get("model") or "").strip()
        if configured:
            return cls(shared_encoder(Path(configured)))
        # Rasa creates this component itself, so no settings object reaches
        # it: it reads them from the environment, once, here.
        return cls(shared_encoder(model_directory(Settings.from_env())))

    def process(self, messages: list[Message]) -> list[Message]:
        """Add ``embedding`` to each message's parse data.

        Args:
            messages: Parsed messages; only their text is read.

        Returns:
            The same messages, each with its embedding (``add_to_output``).
        """
        texts = [message.get(TEXT) or "" for message in messages]
        # Customers' messages are one-offs: not worth a place in the cache.
        vectors = self.encoder.encode(texts, cache=False)
        for message, vector in zip(messages, vectors, strict=True):
            message.set(PARSE_KEY, vector_to_parse_data(vector), add_to_output=True)
        return messages

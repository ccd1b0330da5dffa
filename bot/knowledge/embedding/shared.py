"""One encoder per model directory and process, for code that cannot be given one.

The weights take ~90 MB and ~5 s to load. Rasa creates the NLU pipeline's
components itself (:class:`bot.nlu.meaning.MessageEmbedder` and the NLU's
knowledge-base lookup in the same process), so they have no place where a
resource could be created once and handed to both; :func:`shared_encoder`
gives them the same encoder. Code that creates its resources itself passes
an encoder in instead (``encoder=`` of
:class:`~bot.knowledge.service.KnowledgeBase` and
:meth:`~bot.knowledge.search.KnowledgeIndex.build`); it falls back to this
one when it is not given any.
"""

from __future__ import annotations

import threading
from pathlib import Path

from bot.config import Settings
from bot.knowledge.embedding.encoder import SentenceEncoder
from bot.knowledge.embedding.model import model_directory
from bot.knowledge.embedding.store import STORE_NAME


class EncoderPool:
    """Encoders loaded on first use, one per model directory."""

    def __init__(self) -> None:
        self._encoders: dict[Path, SentenceEncoder] = {}
        self._lock = threading.Lock()

    def get(self, directory: Path | None = None) -> SentenceEncoder:
        """The encoder for a model directory, loaded on first use.

        Args:
            directory: The model directory; :func:`model_directory` of the
                environment's settings when omitted.

        Returns:
            The encoder, with its store of vectors in the model directory.

        Raises:
            EmbeddingModelMissing: The model files are not there.
        """
        if directory is None:
            # Only code given neither an encoder nor a directory gets here
            # (components Rasa creates, a knowledge base built without an
            # encoder): no settings object reaches it, so read them here.
            directory = model_directory(Settings.from_env())
        path = directory.resolve()
        with self._lock:
            encoder = self._encoders.get(path)
            if encoder is None:
                encoder = SentenceEncoder(path, store=path / STORE_NAME)
                self._encoders[path] = encoder
            return encoder


_process_pool = EncoderPool()


def shared_encoder(directory: Path | None = None) -> SentenceEncoder:
    """The process's encoder for a model directory, loaded on first use.

    Args:
        directory: The model directory; :func:`model_directory` of the
            environment's settings when omitted.

    Returns:
        The encoder (one per directory per process), with its store of
        vectors in the model directory.

    Raises:
        EmbeddingModelMissing: The model files are not there.
    """
    return _process_pool.get(directory)

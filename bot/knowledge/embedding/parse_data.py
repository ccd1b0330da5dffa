"""A message's embedding in Rasa's parse data: how it travels to the actions.

The NLU pipeline (:class:`bot.nlu.meaning.MessageEmbedder`) embeds each
message once; the vector rides in the parse data as JSON (model name, size
and base64 little-endian float32, ~5 KB), and the knowledge actions read it
back from the tracker's latest message instead of embedding the text again.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from bot.knowledge.embedding.model import DIMENSION, MODEL_NAME

#: The key of a message's embedding in Rasa's parse data (set by
#: :class:`bot.nlu.meaning.MessageEmbedder`, read by the knowledge actions).
PARSE_KEY = "embedding"


def vector_to_parse_data(vector: np.ndarray) -> dict[str, Any]:
    """A vector as JSON for the parse data: little-endian float32, base64.

    About 5 KB per message (896 numbers as decimal text would take ~18 KB).
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

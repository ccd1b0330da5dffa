"""Read the model's weights from its ``.safetensors`` file (``safetensors``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import safetensors

#: The tensor types the encoder reads (safetensors' names).
SUPPORTED_TYPES = frozenset({"F32", "F16", "F64", "I64", "I32"})
#: What safetensors raises for a damaged file (its stubs do not declare it).
_DAMAGED: type[Exception] = safetensors.SafetensorError  # type: ignore[attr-defined]


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read every tensor of a ``.safetensors`` file as a numpy array.

    Args:
        path: The file.

    Returns:
        Tensors by name.

    Raises:
        ValueError: The file is not a safetensors file, or holds a tensor
            type numpy cannot hold (``BF16``).
    """
    try:
        # The stubs of safetensors 0.4.5 lack most of safe_open's methods.
        handle: Any = safetensors.safe_open(str(path), framework="np")
        names = list(handle.keys())
        for name in names:
            kind = handle.get_slice(name).get_dtype()
            if kind not in SUPPORTED_TYPES:
                raise ValueError(f"{path}: tensor {name} has unsupported dtype {kind}")
        return {name: handle.get_tensor(name) for name in names}
    except _DAMAGED as error:
        raise ValueError(
            f"{path}: not a readable safetensors file ({error})"
        ) from error

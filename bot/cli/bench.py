"""``baton bench nlu``: present only in a checkout of the project."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType


def bench_nlu() -> ModuleType | None:
    """``bench.nlu.run`` of the project checkout (``bench/`` beside ``bot/``).

    The benchmarks are not part of the installed package: ``baton bench``
    exists only in a checkout of the project.
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / "bench" / "nlu" / "run.py").is_file():
        return None
    if str(root) not in sys.path:
        sys.path.append(str(root))
    return importlib.import_module("bench.nlu.run")


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> ModuleType | None:
    """Add ``bench nlu`` when the checkout has it; return ``bench.nlu.run``."""
    module = bench_nlu()
    if module is None:
        return None
    bench = commands.add_parser("bench", help="measure the assistant")
    bench_commands = bench.add_subparsers(dest="bench_command", required=True)
    module.add_arguments(
        bench_commands.add_parser(
            "nlu",
            help="train a Rasa NLU config on CSV data (text,label); report "
            "accuracy, out-of-scope recall at the config's fallback "
            "threshold, training time, parse speed and memory",
        )
    )
    return module

"""Where the training benchmarks write: ``bench/results/training-<date>.json``."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import string
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"


def machine() -> str:
    """The machine the figures come from."""
    return f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (what ``uptime`` prints)."""
    return [round(value, 2) for value in os.getloadavg()]


def _processes() -> dict[int, tuple[int, float, float, list[str]]]:
    """Every process: pid → (parent, own CPU s, its waited-for children's CPU s,
    command line)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile
            continue
        # The command name is in parentheses and may hold spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (
            int(fields[1]),
            (int(fields[11]) + int(fields[12])) / tick,
            (int(fields[13]) + int(fields[14])) / tick,
            [part.decode(errors="replace") for part in argv if part],
        )
    return found


def descendant(pid: int, word: str) -> int | None:
    """A descendant of ``pid`` with ``word`` in its command line, if one runs."""
    table = _processes()
    stack = [pid]
    while stack:
        current = stack.pop()
        for child, (parent, _, _, argv) in table.items():
            if parent == current:
                if word in argv:
                    return child
                stack.append(child)
    return None


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its descendants so far:
    the running ones and those it waited for."""
    table = _processes()
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        if current in table:
            _, own, waited, _ = table[current]
            total += own + waited
            stack.extend(child for child, row in table.items() if row[0] == current)
    return round(total, 1)


def percentiles(samples: list[float]) -> dict[str, float | int]:
    """p50, p95, max (seconds, as given) and the count of ``samples``."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    at95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 4),
        "p95": round(at95, 4),
        "max": round(ordered[-1], 4),
    }


def record(part: str, figures: dict[str, Any], *, results: Path = RESULTS) -> Path:
    """Write ``figures`` as ``part`` of today's results file (others kept).

    A run never replaces another's figures: when today's file already holds
    ``part``, they go to the first of ``training-<date>b.json``,
    ``…c.json``, … that does not.
    """
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    for suffix in ["", *string.ascii_lowercase[1:]]:
        path = results / f"training-{today}{suffix}.json"
        document = json.loads(path.read_text()) if path.is_file() else {}
        if part not in document:
            break
    else:
        raise RuntimeError(f"no free results file for {part!r} on {today}")
    document.update({"date": today, "machine": machine(), part: figures})
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path

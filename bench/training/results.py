"""Where the training benchmarks write: ``bench/results/training-<date>.json``."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "results"


def machine() -> str:
    """The machine the figures come from."""
    return f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (what ``uptime`` prints)."""
    return [round(value, 2) for value in os.getloadavg()]


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


def record(part: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` as ``part`` of today's results file (others kept)."""
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    path = RESULTS / f"training-{today}.json"
    document = json.loads(path.read_text()) if path.is_file() else {}
    document.update({"date": today, "machine": machine(), part: figures})
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path

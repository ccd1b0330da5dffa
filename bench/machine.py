"""The machine a benchmark ran on, as its report records it."""

from __future__ import annotations

import os
import platform


def machine() -> dict[str, object]:
    """The system, the number of CPUs and the Python version."""
    return {
        "system": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }

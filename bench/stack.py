"""Start the whole Baton stack for a benchmark, as ``make run`` does.

``running_stack()`` starts ``python -m bot run`` (Rasa, the action server and
the hub) on free loopback ports with its own data directory, waits until
``/health`` answers 200, and stops it with Ctrl-C's signal afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class BenchStack:
    """A running deployment: its hub's HTTP and WebSocket base URLs."""

    url: str
    ws_url: str
    log: Path


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited early:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/health", timeout=3) as response:
                if response.status == 200:
                    return
        time.sleep(1)
    raise RuntimeError(f"the stack was not healthy in time:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def running_stack(extra_env: Mapping[str, str] | None = None) -> Iterator[BenchStack]:
    """Run the stack with the trained model in ``models/`` until the block ends.

    Args:
        extra_env: ``BATON_`` settings to add (e.g. higher rate limits).

    Yields:
        The running stack.
    """
    with tempfile.TemporaryDirectory(prefix="baton-bench-") as data_dir:
        port = free_port()
        env = {
            **os.environ,
            "BATON_PORT": str(port),
            "BATON_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "BATON_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
            "BATON_DATA_DIR": data_dir,
            "BATON_MODEL_DIR": str(PROJECT_DIR / "models"),
            **(extra_env or {}),
        }
        log = Path(data_dir) / "stack.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=PROJECT_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, process, log)
            yield BenchStack(url, f"ws://127.0.0.1:{port}", log)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

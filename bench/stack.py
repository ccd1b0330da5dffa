"""Start the whole Baton stack as ``make run`` does, for benchmarks and tests.

:func:`running_stack` starts ``python -m bot run`` (Rasa, the action server
and the hub) on free loopback ports with its own data directory, waits until
``/health`` answers 200, and stops it with Ctrl-C's signal afterwards. The
benchmarks (``bench/e2e``, ``bench/coldstart``) and the stack tests
(``tests/e2e``) all start it this way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ports import free_port

PROJECT_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 600.0
#: Settings of the caller's environment a stack never inherits: each stack
#: says which database and bus it uses.
_OWN_SETTINGS = ("BATON_DATABASE_URL", "BATON_REDIS_URL")


class StackError(RuntimeError):
    """The stack did not start, or did not stop cleanly."""


@dataclass(frozen=True)
class RunningStack:
    """A running deployment.

    Attributes:
        url: The hub's HTTP base URL.
        ws_url: The hub's WebSocket base URL.
        data_dir: Its data directory (SQLite files, run-time state).
        log: Where the processes' output goes.
        database_url: The hub's database.
        pid: The ``python -m bot run`` supervisor.
    """

    url: str
    ws_url: str
    data_dir: Path
    log: Path
    database_url: str
    pid: int


def health(url: str) -> tuple[int, dict[str, Any]]:
    """The hub's ``/health`` status and body (0 when it does not answer)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (OSError, ValueError):
        return 0, {}


def wait_healthy(
    url: str,
    process: subprocess.Popen[bytes],
    log: Path,
    on_status: Callable[[int, dict[str, Any]], None] | None = None,
) -> None:
    """Poll ``/health`` once a second until 200.

    Args:
        url: The hub's base URL.
        process: The supervisor; its exit ends the wait.
        log: The stack's output, quoted in the error.
        on_status: Called with every answer on the way (for the cold-start
            benchmark).

    Raises:
        StackError: The stack exited, or was not healthy in time.
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"the stack exited early:\n{log.read_text()[-4000:]}")
        status, body = health(url)
        if on_status is not None:
            on_status(status, body)
        if status == 200:
            return
        time.sleep(1)
    raise StackError(f"the stack was not healthy in time:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def running_stack(
    extra_env: Mapping[str, str] | None = None,
    *,
    data_dir: Path | None = None,
    on_status: Callable[[int, dict[str, Any]], None] | None = None,
) -> Iterator[RunningStack]:
    """Run the stack with the trained model in ``models/`` until the block ends.

    Args:
        extra_env: ``BATON_`` settings to add (a PostgreSQL database, Redis,
            higher rate limits, another model directory).
        data_dir: Its data directory; a temporary one (removed after) when
            omitted.
        on_status: Called with each ``/health`` answer while it starts.

    Yields:
        The running stack.

    Raises:
        StackError: It did not become healthy, or did not exit cleanly.
    """
    with contextlib.ExitStack() as cleanup:
        if data_dir is None:
            data_dir = Path(
                cleanup.enter_context(tempfile.TemporaryDirectory(prefix="baton-"))
            )
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in _OWN_SETTINGS}
        env.update(
            {
                "BATON_PORT": str(port),
                "BATON_RASA_URL": f"http://127.0.0.1:{free_port()}",
                "BATON_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
                "BATON_DATA_DIR": str(data_dir),
                "BATON_MODEL_DIR": str(PROJECT_DIR / "models"),
                "BATON_PROJECT_DIR": str(PROJECT_DIR),
                **(extra_env or {}),
            }
        )
        database_url = env.get(
            "BATON_DATABASE_URL", f"sqlite:///{data_dir / 'baton.db'}"
        )
        log = data_dir / "stack.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=PROJECT_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        clean_exit = False
        try:
            wait_healthy(url, process, log, on_status)
            yield RunningStack(
                url, f"ws://127.0.0.1:{port}", data_dir, log, database_url, process.pid
            )
            clean_exit = True
        finally:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
        if clean_exit and code != 0:
            raise StackError(
                f"the stack exited with {code}:\n{log.read_text()[-4000:]}"
            )


def stack_settings(stack: Any) -> dict[str, str]:
    """The settings that point a command at the stack's database and data."""
    return {
        "BATON_DATABASE_URL": stack.database_url,
        "BATON_DATA_DIR": str(stack.data_dir),
        "BATON_PROJECT_DIR": str(PROJECT_DIR),
    }


def create_agent(
    env: Mapping[str, str], email: str, name: str, role: str = "agent"
) -> None:
    """An account made with ``python -m bot create-agent``, as an admin would.

    ``env`` adds its settings (the database, ``BATON_NEW_AGENT_PASSWORD``) to
    this process's environment.
    """
    subprocess.run(
        [
            *(sys.executable, "-m", "bot", "create-agent"),
            *("--email", email, "--name", name, "--role", role),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )

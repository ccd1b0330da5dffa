"""The real stack — trained model, Rasa, action server, hub — started once per
configuration through ``python -m bot run`` (what ``make run`` runs)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_DIR, free_port, unavailable

STARTUP_TIMEOUT_S = 300


@dataclass
class Stack:
    """A running Baton deployment."""

    url: str
    ws_url: str
    data_dir: Path
    mode: str
    log: Path
    database_url: str
    #: The ``python -m bot run`` supervisor; tests may kill its hub child.
    pid: int = 0


def ensure_model() -> Path:
    model = PROJECT_DIR / "models" / "baton.tar.gz"
    if not model.exists():
        subprocess.run(
            [sys.executable, "-m", "bot", "train"], cwd=PROJECT_DIR, check=True
        )
    return model


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the stack exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=3) as response:
                if response.status == 200:
                    return
        except Exception:
            pass
        time.sleep(1)
    pytest.fail(f"the stack was not healthy in time:\n{log.read_text()[-4000:]}")


@pytest.fixture(
    scope="module",
    params=[
        "embedded",
        pytest.param("production", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ],
)
def stack(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Stack]:
    """Start the whole system; stop it (and check it stopped cleanly) after."""
    ensure_model()
    data_dir = tmp_path_factory.mktemp(f"stack-{request.param}")
    port = free_port()
    env = {
        **os.environ,
        "BATON_PORT": str(port),
        "BATON_RASA_URL": f"http://127.0.0.1:{free_port()}",
        "BATON_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "BATON_DATA_DIR": str(data_dir),
        "BATON_MODEL_DIR": str(PROJECT_DIR / "models"),
        "BATON_PROJECT_DIR": str(PROJECT_DIR),
    }
    database_url = f"sqlite:///{data_dir / 'baton.db'}"
    if request.param == "production":
        database_url = request.getfixturevalue("postgres_url")
        env["BATON_DATABASE_URL"] = database_url
        env["BATON_REDIS_URL"] = request.getfixturevalue("redis_url")
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
    try:
        wait_healthy(url, process, log)
        yield Stack(
            url,
            f"ws://127.0.0.1:{port}",
            data_dir,
            request.param,
            log,
            database_url,
            pid=process.pid,
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        assert code == 0, log.read_text()[-4000:]


ARTIFACTS = PROJECT_DIR / "test-artifacts"
#: How Debian's chromium must start here: headless as root, with no network
#: beyond loopback (background services would only fail to connect).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def artifact(name: str) -> str:
    """Path of a screenshot kept after the run, in ``test-artifacts/``."""
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / name)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Headless Debian chromium driven by Playwright, one per test module."""
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        unavailable("chromium", FileNotFoundError("apt-get install chromium"))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS
        )
        yield browser
        await browser.close()

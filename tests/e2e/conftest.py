"""The real stack — trained model, Rasa, action server, hub — started once per
configuration through ``python -m bot run`` (what ``make run`` runs)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.stack import StackError, running_stack
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from tests.conftest import PROJECT_DIR, empty_knowledge_base, unavailable
from tests.e2e.helpers import DEMO_AGENT, DEMO_PASSWORD, Console, seed_demo, sign_in

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
    env = {}
    if request.param == "production":
        env["BATON_DATABASE_URL"] = request.getfixturevalue("postgres_url")
        env["BATON_REDIS_URL"] = request.getfixturevalue("redis_url")
        # The PostgreSQL database is shared by the whole run, and earlier
        # tests edit, unpublish and label articles: the stack starts from the
        # seed knowledge base, as the embedded one (a new database) does.
        asyncio.run(fresh_knowledge_base(env["BATON_DATABASE_URL"]))
    data_dir = tmp_path_factory.mktemp(f"stack-{request.param}")
    yield from started(env, data_dir, request.param)


async def fresh_knowledge_base(database_url: str) -> None:
    """Empty the knowledge base, so that the next hub seeds it afresh."""
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)
        await empty_knowledge_base(engine)
    finally:
        await engine.dispose()


def started(env: dict[str, str], data_dir: Path, mode: str) -> Iterator[Stack]:
    """A stack started by :func:`bench.stack.running_stack`, for a fixture.

    Every test of a module is a customer from the same address: the
    per-address limits on new conversations, messages and logins are raised
    so that they do not decide what the later tests see (the limits have their
    own tests). With Redis the counts are shared by every hub using it, so by
    every stack of the run (and any other run on the same Redis).
    """
    env = {
        "BATON_CONVERSATIONS_PER_IP_PER_HOUR": "100000",
        "BATON_MESSAGES_PER_IP_PER_MINUTE": "100000",
        "BATON_LOGINS_PER_IP_PER_MINUTE": "100000",
        # The hub's background knowledge-index build (~10 s of CPU) would run
        # in every stack of the run; tests that search build it when they do.
        "BATON_KNOWLEDGE_WARM_UP": "0",
        **env,
    }
    try:
        with running_stack(env, data_dir=data_dir) as running:
            yield Stack(
                running.url,
                running.ws_url,
                running.data_dir,
                mode,
                running.log,
                running.database_url,
                pid=running.pid,
            )
    except StackError as error:
        pytest.fail(str(error), pytrace=False)


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


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> None:
    """The demo accounts on the module's stack (``python -m bot seed-demo``)."""
    seed_demo(stack)


@pytest.fixture
async def console(stack: Stack, seeded: None) -> Console:
    """The demo agent, signed in over HTTP and online."""
    return await sign_in(stack, DEMO_AGENT, DEMO_PASSWORD)

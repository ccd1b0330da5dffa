"""The action server's entry point: warm-up and readiness, served for real.

The shared secret in front of the webhook: ``tests/security/test_shared_secret.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from bot.actions_server import (
    Readiness,
    create_app,
    keep_warming,
    listen_address,
)
from bot.config import Settings
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.knowledge import KnowledgeRepository, SharedKnowledgeBase, load_seed
from tests.conftest import served


@contextlib.asynccontextmanager
async def action_server(
    knowledge: SharedKnowledgeBase, token: str = ""
) -> AsyncIterator[str]:
    app = create_app("actions", knowledge, token=token)
    async with served(app) as port:
        yield f"http://127.0.0.1:{port}"


async def ready(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{url}/ready") as response:
            return response.status, await response.json()


async def test_not_ready_until_the_index_is_built_then_ready(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'baton.db'}"
    knowledge = SharedKnowledgeBase(
        lambda: Settings(data_dir=tmp_path, database_url=database_url)
    )
    async with action_server(knowledge) as url:
        # The hub has not created the tables yet (a first start).
        status, body = await ready(url)
        assert status == 503
        assert body["status"] == "warming"
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{url}/actions") as response:
                names = {a["name"] for a in await response.json()}
        assert {"action_answer_from_kb", "action_handoff"} <= names
        engine = create_engine(database_url)
        await upgrade_database(engine)
        # Tables but no articles yet (the hub seeds them next): an index now
        # would be empty, so the server keeps warming and says why.
        while "not seeded" not in body.get("reason", ""):
            await asyncio.sleep(0.2)
            status, body = await ready(url)
            assert status == 503
        seed = load_seed()
        await KnowledgeRepository(engine).seed_if_new(seed)
        await engine.dispose()
        while status != 200:
            await asyncio.sleep(0.5)
            status, body = await ready(url)
        # What the warm-up built is what the actions answer from.
        base = await knowledge.get()
        assert base._index is not None
    assert body["status"] == "ready"
    assert body["articles"] == len([a for a in seed if a.status == "published"])


async def test_a_failed_warm_up_says_why_and_is_tried_again() -> None:
    readiness = Readiness()
    attempts = []

    async def warm() -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError("database not reachable\nmore detail")
        return 5

    async def watch() -> list[str]:
        reasons = []
        while not readiness.ready:
            if readiness.reason not in reasons:
                reasons.append(readiness.reason)
            await asyncio.sleep(0.01)
        return reasons

    watcher = asyncio.get_running_loop().create_task(watch())
    await keep_warming(readiness, warm, retry_max_s=0.05)
    reasons = await watcher
    assert len(attempts) == 3
    assert any(
        "ConnectionRefusedError: database not reachable" in r and "more" not in r
        for r in reasons
    )
    assert readiness.body()["status"] == "ready"
    assert readiness.body()["articles"] == 5


def test_it_listens_where_the_hub_looks_for_it() -> None:
    settings = Settings(action_server_url="http://127.0.0.1:6055")
    assert listen_address(settings, None) == ("127.0.0.1", 6055)
    assert listen_address(settings, 7000) == ("127.0.0.1", 7000)

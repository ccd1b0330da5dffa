"""The hub builds its knowledge index in the background when it starts.

The trainers' inbox's first read no longer builds it (~10 s of CPU). The
hub's start does not wait for the build, the build waits for the assistant
to be ready, and a failed build is logged and left to the first search.
The index's build itself is replaced by a cheap stand-in that counts.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.knowledge import KnowledgeBase, KnowledgeRepository
from bot.knowledge.search import KnowledgeIndex
from bot.training import warm_up
from bot.training.warm_up import warm_up_knowledge
from tests.conftest import PROJECT_DIR
from tests.hub import running_hub


class Built:
    """What the stand-in build returns: an index of no articles."""

    def __len__(self) -> int:
        return 0


class Builds:
    """``KnowledgeIndex.build``'s stand-in: counts, may fail or wait."""

    def __init__(self, *, failures: int = 0, hold: bool = False) -> None:
        self.calls = 0
        self.failures = failures
        self.release = threading.Event()
        self.started = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, *args: Any, **kwargs: Any) -> Built:
        self.calls += 1
        self.started.set()
        assert self.release.wait(30), "the build was never released"
        if self.calls <= self.failures:
            raise RuntimeError("the encoder's files are unreadable")
        return Built()


def replace_build(monkeypatch: pytest.MonkeyPatch, builds: Builds) -> None:
    monkeypatch.setattr(
        KnowledgeIndex, "build", classmethod(lambda cls, *a, **k: builds(*a, **k))
    )


async def test_the_hub_builds_the_index_at_start_without_a_read_nor_waiting(
    hub_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = Builds(hold=True)
    replace_build(monkeypatch, builds)
    # No Rasa runs here: build without waiting for it.
    monkeypatch.setattr(warm_up, "READY_WAIT_S", 0.0)
    loaded: list[bool] = []
    monkeypatch.setattr(warm_up, "shared_encoder", lambda: loaded.append(True))
    settings = hub_settings.with_changes(knowledge_warm_up=True)
    assert gc.get_freeze_count() == 0
    async with running_hub(settings) as hub:
        # Started and serving while the build runs.
        assert await asyncio.to_thread(builds.started.wait, 30)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{hub.url}/api/openapi.json") as response:
                assert response.status == 200
        task = hub.app.ctx.knowledge_warm_up
        assert not task.done()
        builds.release.set()
        assert await asyncio.wait_for(task, 30) is True
        # The first search (the inbox's first read) finds it built.
        assert isinstance(await hub.ctx.knowledge.index(), Built)
        assert builds.calls == 1
    # The encoder was loaded and what the hub held frozen before the build.
    assert loaded == [True]
    assert gc.get_freeze_count() > 0
    gc.unfreeze()


async def test_a_hub_with_the_warm_up_off_builds_at_the_first_search(
    hub_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = Builds()
    replace_build(monkeypatch, builds)
    assert hub_settings.knowledge_warm_up is False
    async with running_hub(hub_settings) as hub:
        assert hub.app.ctx.knowledge_warm_up is None
        await asyncio.sleep(0.2)
        assert builds.calls == 0
        assert isinstance(await hub.ctx.knowledge.index(), Built)
        assert builds.calls == 1


async def test_a_failed_background_build_is_logged_and_the_first_search_builds_it(
    engine: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    builds = Builds(failures=1)
    replace_build(monkeypatch, builds)
    knowledge = KnowledgeBase(KnowledgeRepository(engine), project_dir=PROJECT_DIR)
    with caplog.at_level(logging.WARNING, logger="bot.training.warm_up"):
        assert await warm_up_knowledge(knowledge) is False
    assert "could not be built in the background" in caplog.text
    assert "the encoder's files are unreadable" in caplog.text
    assert builds.calls == 1
    assert isinstance(await knowledge.index(), Built)
    assert builds.calls == 2


@pytest.fixture
def polled(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[KnowledgeBase, Builds]:
    """A knowledge base whose builds are counted; readiness polled at once."""
    builds = Builds()
    replace_build(monkeypatch, builds)
    monkeypatch.setattr(warm_up, "READY_POLL_S", 0.01)
    return KnowledgeBase(KnowledgeRepository(engine), project_dir=PROJECT_DIR), builds


async def test_the_build_waits_until_the_assistant_is_ready(
    polled: tuple[KnowledgeBase, Builds],
) -> None:
    knowledge, builds = polled
    answers = iter([False, RuntimeError("rasa is down"), False, True])
    asked = 0

    async def ready() -> bool:
        nonlocal asked
        asked += 1
        assert builds.calls == 0, "built before the assistant was ready"
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await warm_up_knowledge(knowledge, ready) is True
    assert asked == 4
    assert builds.calls == 1
    assert gc.get_freeze_count() == 0  # only when asked to


async def test_the_build_does_not_wait_for_an_assistant_that_never_gets_ready(
    polled: tuple[KnowledgeBase, Builds], monkeypatch: pytest.MonkeyPatch
) -> None:
    knowledge, builds = polled
    monkeypatch.setattr(warm_up, "READY_WAIT_S", 0.1)

    async def never() -> bool:
        return False

    assert await warm_up_knowledge(knowledge, never) is True
    assert builds.calls == 1


def test_the_warm_up_is_on_unless_turned_off() -> None:
    assert Settings.from_env({}).knowledge_warm_up is True
    off = Settings.from_env({"BATON_KNOWLEDGE_WARM_UP": "0"})
    assert off.knowledge_warm_up is False
    assert Settings.from_env({"BATON_KNOWLEDGE_WARM_UP": "yes"}).knowledge_warm_up

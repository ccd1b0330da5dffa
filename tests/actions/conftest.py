"""Shared fixtures of the action tests: seeded knowledge bases on real SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.knowledge import (
    KnowledgeRepository,
    SearchSettings,
    SharedKnowledgeBase,
    load_seed,
)
from tests.conftest import empty_knowledge_base


async def seeded(
    engine: Any, database_url: str, tmp_path: Path, search: SearchSettings | None
) -> AsyncIterator[SharedKnowledgeBase]:
    await empty_knowledge_base(engine)
    await KnowledgeRepository(engine).seed_if_new(load_seed())
    shared = SharedKnowledgeBase(
        lambda: Settings(data_dir=tmp_path, database_url=database_url), search
    )
    yield shared
    await shared.close()


@pytest.fixture
async def knowledge(
    engine: Any, database_url: str, tmp_path: Path
) -> AsyncIterator[SharedKnowledgeBase]:
    """The action server's knowledge base on a freshly seeded database."""
    async for shared in seeded(engine, database_url, tmp_path, None):
        yield shared


@pytest.fixture
async def confident(
    engine: Any, database_url: str, tmp_path: Path
) -> AsyncIterator[SharedKnowledgeBase]:
    """The same, always confident enough to answer with its best article."""
    always = SearchSettings(threshold=0.0)
    async for shared in seeded(engine, database_url, tmp_path, always):
        yield shared


@pytest.fixture
async def unsure(
    engine: Any, database_url: str, tmp_path: Path
) -> AsyncIterator[SharedKnowledgeBase]:
    """The same, never confident enough to answer: it offers what is plausible."""
    never = SearchSettings(threshold=float("inf"), suggest_threshold=0.0)
    async for shared in seeded(engine, database_url, tmp_path, never):
        yield shared

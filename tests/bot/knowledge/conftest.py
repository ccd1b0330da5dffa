"""Fixtures of the knowledge-base tests: an empty, never-seeded knowledge base.

The PostgreSQL database is shared by a whole test run, so each test starts by
emptying the knowledge-base tables rather than relying on a fresh database.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.knowledge.repository import kb_articles, kb_state, kb_versions


async def empty_knowledge_base(engine: Any) -> None:
    """Delete every article and version, and mark the KB as never seeded."""
    async with engine.begin() as connection:
        await connection.execute(kb_versions.delete())
        await connection.execute(kb_articles.delete())
        await connection.execute(kb_state.update().values(seeded=False))


@pytest.fixture
async def kb_engine(engine: Any) -> Any:
    """A migrated engine whose knowledge base is empty and never seeded."""
    await empty_knowledge_base(engine)
    return engine

"""Fixtures of the knowledge-base tests: an empty, never-seeded knowledge base.

The PostgreSQL database is shared by a whole test run, so each test starts by
emptying the knowledge-base tables rather than relying on a fresh database.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import empty_knowledge_base


@pytest.fixture
async def kb_engine(engine: Any) -> Any:
    """A migrated engine whose knowledge base is empty and never seeded."""
    await empty_knowledge_base(engine)
    return engine

"""The web API tests' default hub: one of its own per test and database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Limits, Settings
from tests.hub import RunningHub, running_hub


@pytest.fixture
async def hub(hub_settings: Settings, database_url: str) -> AsyncIterator[RunningHub]:
    """A hub on a fresh database; many sign-ins from one address are fine.

    Modules whose tests can share one hub define ``hub`` with
    :func:`tests.conftest.shared_hub` instead.
    """
    settings = hub_settings.with_changes(
        database_url=database_url, limits=Limits(logins_per_ip_per_minute=1000)
    )
    async with running_hub(settings) as running:
        yield running

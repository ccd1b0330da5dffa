"""The per-minute message limit holds per conversation and per address, on every hub.

Counted in SQL (SQLite, PostgreSQL) or Redis when configured, so neither a
new socket nor another hub resets it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import Limits, Settings
from tests.conftest import free_port
from tests.hub import RunningHub, receive_until, running_hub
from tests.security.test_rate_limits import within_one_window

PER_MINUTE = 3


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "redis"]
)
def shared_settings(request: pytest.FixtureRequest, hub_settings: Settings) -> Settings:
    """Hub settings whose counters live in SQLite, PostgreSQL, or Redis."""
    limits = Limits(
        messages_per_minute=PER_MINUTE,
        messages_per_ip_per_minute=100,
        # In Redis, new conversations from this address are counted for the run.
        conversations_per_ip_per_hour=100_000,
    )
    settings = hub_settings.with_changes(limits=limits)
    if request.param == "postgresql":
        return settings.with_changes(
            database_url=request.getfixturevalue("postgres_url")
        )
    if request.param == "redis":
        return settings.with_changes(
            database_url=request.getfixturevalue("postgres_url"),
            redis_url=request.getfixturevalue("redis_url"),
        )
    return settings


@contextlib.asynccontextmanager
async def two_hubs(settings: Settings) -> AsyncIterator[tuple[RunningHub, RunningHub]]:
    async with running_hub(settings) as first:
        async with running_hub(settings.with_changes(port=free_port())) as second:
            yield first, second


async def send(
    hub: RunningHub, conversation_id: str, token: str, **headers: str
) -> dict[str, Any]:
    """Send one message on a fresh socket; its error frame, or ``{}`` if stored."""
    client_id = secrets.token_hex(8)
    async with hub.socket(conversation_id, token, extra_headers=headers) as ws:
        await ws.send(
            json.dumps({"type": "message", "text": "hello", "client_id": client_id})
        )
        frames = await receive_until(ws, lambda f: f.get("client_id") == client_id)
    answer = frames[-1]
    return answer if answer["type"] == "error" else {}


async def test_reconnecting_does_not_reset_the_limit(shared_settings) -> None:
    async with running_hub(shared_settings) as hub:
        conversation_id, token = await hub.new_conversation()
        await within_one_window(60)
        answers = [
            await send(hub, conversation_id, token) for _ in range(PER_MINUTE + 1)
        ]
    assert [a.get("code") for a in answers[:PER_MINUTE]] == [None] * PER_MINUTE
    assert answers[-1]["code"] == "rate_limited" and answers[-1]["retry_after_s"] > 0


@pytest.mark.parametrize(
    "shared_settings",
    # Several hubs share PostgreSQL (and Redis), never an embedded SQLite file.
    [pytest.param("postgresql", marks=pytest.mark.postgres), "redis"],
    indirect=True,
)
async def test_another_hub_does_not_reset_the_limit(shared_settings) -> None:
    async with two_hubs(shared_settings) as hubs:
        conversation_id, token = await hubs[0].new_conversation()
        await within_one_window(60)
        answers = [
            await send(hubs[i % 2], conversation_id, token)
            for i in range(PER_MINUTE + 1)
        ]
    assert answers[-1]["code"] == "rate_limited"
    assert all(not a for a in answers[:PER_MINUTE])


async def test_new_conversations_from_one_address_share_its_limit(
    shared_settings,
) -> None:
    # Behind a trusted proxy, so that this test's address is its own (the
    # counters of a shared database outlive a test).
    limits = Limits(
        messages_per_minute=100,
        messages_per_ip_per_minute=PER_MINUTE,
        conversations_per_ip_per_hour=100_000,
    )
    settings = shared_settings.with_changes(limits=limits, trust_proxy=True)
    address = f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"
    async with running_hub(settings) as hub:
        await within_one_window(60)
        answers = []
        for _ in range(PER_MINUTE + 1):
            conversation_id, token = await hub.new_conversation()
            answers.append(
                await send(hub, conversation_id, token, **{"X-Forwarded-For": address})
            )
        # Another address is not held back by this one.
        conversation_id, token = await hub.new_conversation()
        other = await send(
            hub,
            conversation_id,
            token,
            **{"X-Forwarded-For": "2001:db8::1:" + secrets.token_hex(2)},
        )
    assert answers[-1]["code"] == "rate_limited"
    assert all(not a for a in answers[:PER_MINUTE]) and not other

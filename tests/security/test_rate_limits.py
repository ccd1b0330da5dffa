"""Limits on new conversations and sign-ins: a clear 429, for the offender only.

Over a limit the answer is ``429 rate_limited`` with ``Retry-After``; other
addresses go on as before. ``X-Forwarded-For`` names the address only behind
a trusted proxy (``BATON_TRUST_PROXY``): otherwise a forged one changes
nothing. With Redis configured the counts are shared by every hub, so a
client cannot get a fresh allowance by landing on another hub. (The
per-minute message limit is in ``test_message_limits.py``.)

Each test speaks for an address of its own (behind a trusted proxy) or a hub
of its own: the Redis counters outlive a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.config import Limits, Settings
from tests.bot.auth.test_auth_api import PASSWORD, new_account
from tests.conftest import free_port
from tests.hub import RunningHub, running_hub

LIMIT = 2


def some_address() -> str:
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


async def attempt(
    hub: RunningHub, kind: str, headers: dict[str, str], email: str = ""
) -> tuple[int, dict[str, Any], Any]:
    """Start a conversation, or sign in as ``email``; status, body, headers."""
    path, body = (
        ("/api/conversations", {})
        if kind == "conversation"
        else ("/api/auth/login", {"email": email, "password": PASSWORD})
    )
    async with aiohttp.ClientSession() as session:
        async with session.post(
            hub.url + path, data=json.dumps(body), headers=headers
        ) as response:
            return response.status, await response.json(), response.headers.copy()


async def within_one_window(period_s: float) -> None:
    """Wait, if need be, so that the next few attempts share a counting window.

    Shared counts are kept per fixed window (a minute for logins and
    messages, an hour for conversations); attempts on both sides of a
    window's end count apart.
    """
    left = period_s - time.time() % period_s
    if left < 15:
        await asyncio.sleep(left + 0.5)


def limited(kind: str) -> Limits:
    if kind == "conversation":
        return Limits(conversations_per_ip_per_hour=LIMIT, logins_per_ip_per_minute=100)
    return Limits(logins_per_ip_per_minute=LIMIT, conversations_per_ip_per_hour=100)


KINDS = ["conversation", "login"]


def assert_refused(status: int, body: dict[str, Any], headers: Any) -> None:
    assert (status, body["error"]["code"]) == (429, "rate_limited"), body
    assert int(headers["Retry-After"]) >= 1
    assert body["error"]["message"]


@pytest.mark.parametrize("kind", KINDS)
async def test_over_the_limit_is_429_for_that_address_only(
    hub_settings: Settings, kind: str
) -> None:
    settings = hub_settings.with_changes(limits=limited(kind), trust_proxy=True)
    async with running_hub(settings) as hub:
        email = await new_account(hub)
        offender = {"X-Forwarded-For": some_address()}
        answers = [await attempt(hub, kind, offender, email) for _ in range(LIMIT + 1)]
        assert [s for s, _, _ in answers[:LIMIT]] == [
            201 if kind == "conversation" else 200
        ] * LIMIT
        assert_refused(*answers[-1])
        # Someone else is not held back.
        status, _, _ = await attempt(
            hub, kind, {"X-Forwarded-For": some_address()}, email
        )
        assert status in {200, 201}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_forged_forwarded_for_gets_no_fresh_allowance(
    hub_settings: Settings, kind: str
) -> None:
    # No trusted proxy: the address is the connection's, whatever the header says.
    async with running_hub(hub_settings.with_changes(limits=limited(kind))) as hub:
        email = await new_account(hub)
        for _ in range(LIMIT):
            status, _, _ = await attempt(hub, kind, {}, email)
            assert status in {200, 201}
        for forged in (some_address(), "127.0.0.2", "1.2.3.4, 5.6.7.8"):
            assert_refused(
                *await attempt(hub, kind, {"X-Forwarded-For": forged}, email)
            )


@contextlib.asynccontextmanager
async def two_hubs(settings: Settings) -> AsyncIterator[tuple[RunningHub, RunningHub]]:
    async with running_hub(settings) as first:
        async with running_hub(settings.with_changes(port=free_port())) as second:
            yield first, second


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.parametrize("kind", KINDS)
async def test_another_hub_gives_no_fresh_allowance(
    hub_settings: Settings, postgres_url: str, redis_url: str, kind: str
) -> None:
    settings = hub_settings.with_changes(
        limits=limited(kind),
        trust_proxy=True,
        database_url=postgres_url,
        redis_url=redis_url,
    )
    async with two_hubs(settings) as hubs:
        email = await new_account(hubs[0])
        await within_one_window(3600 if kind == "conversation" else 60)
        offender = {"X-Forwarded-For": some_address()}
        answers = [
            await attempt(hubs[i % 2], kind, offender, email) for i in range(LIMIT + 1)
        ]
        assert all(s in {200, 201} for s, _, _ in answers[:LIMIT]), answers
        assert_refused(*answers[-1])
        # Someone else, on either hub, is not held back.
        for hub in hubs:
            status, _, _ = await attempt(
                hub, kind, {"X-Forwarded-For": some_address()}, email
            )
            assert status in {200, 201}

"""Agent presence across hub instances, on SQLite and on PostgreSQL.

Two trackers with different instance ids share one database, as two hubs
do; a controllable clock stands in for the time a dead console's lease
takes to run out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

import pytest

from bot.auth import AuthRepository, AuthService
from bot.bus import AGENTS_CHANNEL, create_bus
from bot.db.models import utcnow
from bot.handoff.presence import Console, ConsoleLeases, PresenceTracker
from tests.bot.handoff.test_repository import add_agents

LEASE_S = 30.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus():
    return create_bus(None)


@pytest.fixture
def hubs(engine, bus, clock) -> tuple[PresenceTracker, PresenceTracker]:
    """The presence trackers of two hub instances on one database."""
    auth = AuthService(AuthRepository(engine))
    return tuple(  # type: ignore[return-value]
        PresenceTracker(
            auth, bus, ConsoleLeases(engine), instance, lease_s=LEASE_S, clock=clock
        )
        for instance in ("hub-a", "hub-b")
    )


async def presence(engine, agent_id: int) -> str:
    agent = await AuthRepository(engine).get_agent(agent_id)
    assert agent is not None
    return agent.presence


async def open_console(tracker: PresenceTracker, engine, agent_id: int) -> Console:
    console = Console(agent_id, lambda: True)
    agent = await AuthRepository(engine).get_agent(agent_id)
    assert agent is not None
    await tracker.connected(console, agent)
    return console


async def test_an_agent_whose_hub_died_goes_offline_once_the_lease_runs_out(
    engine, bus, clock, hubs
) -> None:
    hub_a, hub_b = hubs
    [agent_id] = await add_agents(engine, 1, presence="offline")
    await open_console(hub_a, engine, agent_id)
    assert await presence(engine, agent_id) == "online"
    # hub A is killed: it neither closes its socket nor renews the lease.
    clock.advance(LEASE_S - 1)
    assert agent_id not in await hub_b.sweep()
    assert await presence(engine, agent_id) == "online"
    async with bus.subscribe(AGENTS_CHANNEL) as events:
        clock.advance(2)
        assert agent_id in await hub_b.sweep()
        assert await presence(engine, agent_id) == "offline"
        event = await events.get(timeout=5)
    assert event == {"type": "presence", "agent_id": agent_id, "presence": "offline"}


async def test_a_renewed_lease_keeps_the_agent_online(engine, clock, hubs) -> None:
    hub_a, hub_b = hubs
    [agent_id] = await add_agents(engine, 1, presence="offline")
    await open_console(hub_a, engine, agent_id)
    for _ in range(5):
        clock.advance(LEASE_S / 2)
        await hub_a.heartbeat()
        await hub_b.sweep()
    assert await presence(engine, agent_id) == "online"


async def test_a_socket_whose_close_was_missed_is_not_renewed(
    engine, clock, hubs
) -> None:
    hub_a, hub_b = hubs
    [agent_id] = await add_agents(engine, 1, presence="offline")
    connection_open = True
    console = Console(agent_id, lambda: connection_open)
    agent = await AuthRepository(engine).get_agent(agent_id)
    assert agent is not None
    await hub_a.connected(console, agent)
    # The connection is lost, but its handler never hears of it.
    connection_open = False
    clock.advance(LEASE_S / 2)
    await hub_a.heartbeat()
    clock.advance(LEASE_S / 2 + 1)
    await hub_a.heartbeat()
    assert agent_id in await hub_b.sweep()
    assert await presence(engine, agent_id) == "offline"


async def test_a_console_on_another_hub_keeps_the_agent_online(engine, hubs) -> None:
    hub_a, hub_b = hubs
    [agent_id] = await add_agents(engine, 1, presence="offline")
    on_a = await open_console(hub_a, engine, agent_id)
    on_b = await open_console(hub_b, engine, agent_id)
    await hub_a.disconnected(on_a)
    assert await presence(engine, agent_id) == "online"
    await hub_b.disconnected(on_b)
    assert await presence(engine, agent_id) == "offline"


async def test_the_last_clean_close_sets_the_agent_offline_even_if_cancelled(
    engine, hubs
) -> None:
    # Sanic cancels a WebSocket handler when its connection is lost, which
    # often happens while the handler is still cleaning up after the close.
    hub_a, _ = hubs
    [agent_id] = await add_agents(engine, 1, presence="offline")
    console = await open_console(hub_a, engine, agent_id)
    cleanup = asyncio.get_running_loop().create_task(hub_a.disconnected(console))
    await asyncio.sleep(0)
    cleanup.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cleanup
    await hub_a.settled()
    assert await presence(engine, agent_id) == "offline"


async def test_an_away_agent_stays_away_when_the_lease_runs_out(
    engine, clock, hubs
) -> None:
    hub_a, hub_b = hubs
    [agent_id] = await add_agents(engine, 1, presence="offline")
    await open_console(hub_a, engine, agent_id)
    auth = hub_a.auth
    agent = await auth.repository.get_agent(agent_id)
    assert agent is not None
    await auth.set_presence(agent, "away")
    clock.advance(LEASE_S + 1)
    await hub_b.sweep()
    assert await presence(engine, agent_id) == "away"


class ReloadWhileClosing(ConsoleLeases):
    """Real leases; a console reload's new socket arrives at the worst moment.

    That is just after the old socket's clean-up found no lease left, and
    with the agent read (still online) before the old socket closed.
    """

    reopen: Callable[[], Awaitable[None]] | None = None
    reopened: asyncio.Future[None] | None = None

    async def held(self, agent_id: int, now: dt.datetime) -> bool:
        held = await super().held(agent_id, now)
        if self.reopen is not None and self.reopened is None:
            self.reopened = asyncio.ensure_future(self.reopen())
            # The reopen runs as far as it can before the clean-up goes on.
            await asyncio.wait([self.reopened], timeout=1.0)
        return held


async def test_a_reloaded_console_leaves_the_agent_online(engine, bus) -> None:
    auth = AuthService(AuthRepository(engine))
    leases = ReloadWhileClosing(engine)
    tracker = PresenceTracker(auth, bus, leases, "hub-a", lease_s=LEASE_S)
    [agent_id] = await add_agents(engine, 1, presence="offline")
    old = await open_console(tracker, engine, agent_id)
    assert await presence(engine, agent_id) == "online"
    seen_before_close = await AuthRepository(engine).get_agent(agent_id)
    assert seen_before_close is not None

    new = Console(agent_id, lambda: True)
    leases.reopen = lambda: tracker.connected(new, seen_before_close)
    await tracker.disconnected(old)
    assert leases.reopened is not None
    await leases.reopened
    await tracker.settled()
    assert tracker.open_sockets(agent_id) == 1
    assert await presence(engine, agent_id) == "online"

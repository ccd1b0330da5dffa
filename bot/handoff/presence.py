"""Agent presence from open console sockets, kept honest by leases in SQL.

An agent is ``online`` while at least one of their console sockets is open
on some hub instance, unless they said they are ``away``. Each hub holds a
lease per agent whose console it serves (table ``console_leases``) and renews
it every ``lease_s / 3`` seconds while the socket is still open. The last
clean close anywhere sets the agent ``offline`` at once; a console that went
away without one (tab killed, network lost, hub killed) stops being renewed,
and the first hub to sweep after its lease ran out sets the agent
``offline``. The database is the truth, so every hub sees the same agents,
and the bound holds whichever hub died: ``lease_s`` plus one sweep interval.

Every change is announced on the agents' channel, since the number of agents
online feeds every wait estimate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.auth import AgentRecord, AuthService
from bot.bus import AGENTS_CHANNEL, EventBus
from bot.db.models import ConsoleLease, utcnow
from bot.periodic import Periodic

logger = logging.getLogger(__name__)

leases = ConsoleLease.__table__

#: How long a console counts as open without its hub renewing the lease.
LEASE_S = 30.0


class ConsoleLeases:
    """Reads and writes ``console_leases``: which consoles are open where."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def renew(
        self, agent_ids: Iterable[int], instance_id: str, until: dt.datetime
    ) -> None:
        """Extend (or take) this instance's lease of each agent to ``until``."""
        wanted = set(agent_ids)
        if not wanted:
            return
        async with self.engine.begin() as connection:
            await connection.execute(
                leases.update()
                .where(leases.c.instance_id == instance_id)
                .where(leases.c.agent_id.in_(wanted))
                .values(expires_at=until)
            )
            held = set(
                (
                    await connection.execute(
                        sa.select(leases.c.agent_id)
                        .where(leases.c.instance_id == instance_id)
                        .where(leases.c.agent_id.in_(wanted))
                    )
                ).scalars()
            )
            missing = wanted - held
            if missing:
                await connection.execute(
                    leases.insert(),
                    [
                        {"agent_id": a, "instance_id": instance_id, "expires_at": until}
                        for a in sorted(missing)
                    ],
                )

    async def release(self, agent_id: int, instance_id: str) -> None:
        """Drop this instance's lease of the agent (its last console closed)."""
        async with self.engine.begin() as connection:
            await connection.execute(
                leases.delete()
                .where(leases.c.agent_id == agent_id)
                .where(leases.c.instance_id == instance_id)
            )

    async def held(self, agent_id: int, now: dt.datetime) -> bool:
        """Whether any instance holds a lease of the agent that runs past ``now``."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(leases.c.agent_id)
                    .where(leases.c.agent_id == agent_id)
                    .where(leases.c.expires_at > now)
                    .limit(1)
                )
            ).first()
        return row is not None

    async def expire(self, now: dt.datetime) -> list[int]:
        """Delete the leases that ran out; return the agents left with none.

        Each delete repeats the expiry condition, so a lease renewed in the
        meantime survives, and two hubs sweeping at once do no harm.
        """
        async with self.engine.begin() as connection:
            expired = (
                await connection.execute(
                    sa.select(leases.c.agent_id, leases.c.instance_id).where(
                        leases.c.expires_at <= now
                    )
                )
            ).all()
            for agent_id, instance_id in expired:
                await connection.execute(
                    leases.delete()
                    .where(leases.c.agent_id == agent_id)
                    .where(leases.c.instance_id == instance_id)
                    .where(leases.c.expires_at <= now)
                )
            candidates = sorted({agent_id for agent_id, _ in expired})
            if not candidates:
                return []
            still_held = set(
                (
                    await connection.execute(
                        sa.select(leases.c.agent_id)
                        .where(leases.c.agent_id.in_(candidates))
                        .where(leases.c.expires_at > now)
                    )
                ).scalars()
            )
        return [agent_id for agent_id in candidates if agent_id not in still_held]


@dataclass(eq=False)
class Console:
    """One open console socket of an agent on this hub instance.

    Attributes:
        agent_id: Whose console it is.
        is_open: Whether the connection is still open; a socket whose handler
            missed the close is not renewed, so its lease runs out.
    """

    agent_id: int
    is_open: Callable[[], bool]


class PresenceTracker:
    """This hub instance's open consoles, their leases, and the expiry sweep."""

    def __init__(
        self,
        auth: AuthService,
        bus: EventBus,
        leases: ConsoleLeases,
        instance_id: str,
        *,
        lease_s: float = LEASE_S,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.auth = auth
        self.bus = bus
        self.leases = leases
        self.instance_id = instance_id
        self.lease_s = lease_s
        self.clock = clock
        self._consoles: dict[int, set[Console]] = {}
        self._cleanups: set[asyncio.Future[None]] = set()
        #: One agent's opens and closes happen one at a time on this instance:
        #: a console reloaded (closed, then opened) must not end offline.
        self._locks: dict[int, asyncio.Lock] = {}
        self._loop = Periodic(
            "presence heartbeat", self._beat, lease_s / 3, logger=logger
        )

    def open_sockets(self, agent_id: int) -> int:
        """How many console sockets the agent has open on this instance."""
        return len(self._consoles.get(agent_id, ()))

    async def connected(self, console: Console, agent: AgentRecord) -> None:
        """A console socket opened: take a lease; an offline agent is online."""
        async with self._lock(agent.id):
            self._consoles.setdefault(console.agent_id, set()).add(console)
            await self.leases.renew([agent.id], self.instance_id, self._until())
            # Read again: a close of this agent's other console may have set
            # them offline since ``agent`` was read.
            fresh = await self.auth.repository.get_agent(agent.id)
            await self.still_connected(fresh or agent)

    async def still_connected(self, agent: AgentRecord) -> None:
        """Re-assert ``online`` for an agent whose socket is still open."""
        if agent.presence == "offline":
            await self._set(agent, "offline", "online")

    async def disconnected(self, console: Console) -> None:
        """A console socket closed: with none left anywhere, the agent is offline.

        The database work finishes even if the caller is cancelled meanwhile
        (Sanic cancels a WebSocket handler when its connection is lost, often
        while the handler is still cleaning up after the close).
        """
        mine = self._consoles.get(console.agent_id)
        if mine is None or console not in mine:
            return
        mine.discard(console)
        if mine:
            return
        del self._consoles[console.agent_id]
        cleanup = asyncio.ensure_future(self._went_away(console.agent_id))
        self._cleanups.add(cleanup)
        cleanup.add_done_callback(self._cleanups.discard)
        await asyncio.shield(cleanup)

    async def _went_away(self, agent_id: int) -> None:
        async with self._lock(agent_id):
            await self.leases.release(agent_id, self.instance_id)
            if agent_id in self._consoles:
                return  # a new console opened here meanwhile
            if not await self.leases.held(agent_id, self.clock()):
                await self._offline(agent_id)

    def _lock(self, agent_id: int) -> asyncio.Lock:
        return self._locks.setdefault(agent_id, asyncio.Lock())

    async def settled(self) -> None:
        """Wait for the clean-ups of closed consoles to finish."""
        while self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)

    async def heartbeat(self) -> None:
        """Renew the leases of the consoles still open on this instance."""
        live = [
            agent_id
            for agent_id, consoles in self._consoles.items()
            if any(console.is_open() for console in consoles)
        ]
        await self.leases.renew(live, self.instance_id, self._until())

    async def sweep(self) -> list[int]:
        """Set offline the agents whose every lease ran out; return them."""
        gone = await self.leases.expire(self.clock())
        for agent_id in gone:
            await self._offline(agent_id)
        return gone

    def start(self) -> None:
        """Renew and sweep in the background, every third of a lease."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop renewing (a stopped hub's consoles expire like a killed one's)."""
        await self._loop.stop()
        await self.settled()

    async def _beat(self) -> None:
        await self.heartbeat()
        await self.sweep()

    def _until(self) -> dt.datetime:
        return self.clock() + dt.timedelta(seconds=self.lease_s)

    async def _offline(self, agent_id: int) -> None:
        agent = await self.auth.repository.get_agent(agent_id)
        if agent is not None and agent.presence == "online":
            await self._set(agent, "online", "offline")

    async def _set(self, agent: AgentRecord, was: str, presence: str) -> None:
        logger.info("agent %s is %s (was %s)", agent.id, presence, was)
        await self.auth.set_presence(agent, presence)
        await self.bus.publish(
            AGENTS_CHANNEL,
            {"type": "presence", "agent_id": agent.id, "presence": presence},
        )

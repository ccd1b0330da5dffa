"""Agent presence from open console sockets: online while one is open.

An agent is ``online`` while at least one of their console sockets is open
(on any hub instance), unless they said they are ``away``; the last socket to
close on an instance sets them ``offline``. Another instance that still has a
socket of theirs puts them back online at its next session check
(:meth:`PresenceTracker.still_connected`). Every change is announced on the
agents' channel, since the number of agents online feeds every wait estimate.
"""

from __future__ import annotations

from collections import Counter

from bot.auth import AgentRecord, AuthService
from bot.bus import AGENTS_CHANNEL, EventBus


class PresenceTracker:
    """Counts this hub instance's open console sockets per agent."""

    def __init__(self, auth: AuthService, bus: EventBus) -> None:
        self.auth = auth
        self.bus = bus
        self._sockets: Counter[int] = Counter()

    def open_sockets(self, agent_id: int) -> int:
        """How many console sockets the agent has open on this instance."""
        return self._sockets[agent_id]

    async def connected(self, agent: AgentRecord) -> None:
        """A console socket opened: an offline agent is now online."""
        self._sockets[agent.id] += 1
        await self.still_connected(agent)

    async def still_connected(self, agent: AgentRecord) -> None:
        """Re-assert ``online`` for an agent whose socket is still open."""
        if agent.presence == "offline":
            await self._set(agent, "online")

    async def disconnected(self, agent_id: int) -> None:
        """A console socket closed: with none left here, the agent goes offline."""
        self._sockets[agent_id] -= 1
        if self._sockets[agent_id] > 0:
            return
        del self._sockets[agent_id]
        agent = await self.auth.repository.get_agent(agent_id)
        if agent is not None and agent.presence == "online":
            await self._set(agent, "offline")

    async def _set(self, agent: AgentRecord, presence: str) -> None:
        await self.auth.set_presence(agent, presence)
        await self.bus.publish(
            AGENTS_CHANNEL,
            {"type": "presence", "agent_id": agent.id, "presence": presence},
        )

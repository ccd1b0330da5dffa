"""The event bus interface shared by every backend.

The bus carries notifications between hub instances; the database is the
truth. Subscribers must tolerate lost events: a ``{"type": "resync"}`` event
tells them to catch up from the database (after a reconnect or an overflow).
"""

from __future__ import annotations

import abc
import asyncio
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

Event = dict[str, Any]

#: Told to subscribers whose events may have been lost; they reload from SQL.
RESYNC: Event = {"type": "resync"}

#: Events a slow subscriber may fall behind by before it is told to resync.
SUBSCRIBER_BUFFER = 1000


def encode_event(event: Event) -> str:
    """Serialise an event; raises ``TypeError`` for non-JSON values."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


class Subscription:
    """A subscriber's queue of events on one or more channels.

    Use as an async context manager, then iterate or call :meth:`get`.
    """

    def __init__(self, bus: EventBus, channels: tuple[str, ...]) -> None:
        self.channels = channels
        self._bus = bus
        self._queue: asyncio.Queue[Event] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self._overflowed = False

    async def __aenter__(self) -> Subscription:
        await self._bus._attach(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._bus._detach(self)

    def deliver(self, event: Event) -> None:
        """Queue ``event`` for this subscriber without ever blocking the bus."""
        if self._overflowed:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # Drop what is queued: the subscriber reloads from the database.
            self._overflowed = True
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(RESYNC)

    async def get(self, timeout: float | None = None) -> Event:
        """Wait for the next event.

        Raises:
            TimeoutError: Nothing arrived within ``timeout`` seconds.
        """
        event = await asyncio.wait_for(self._queue.get(), timeout)
        if event is RESYNC:
            self._overflowed = False
        return event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.get()


class EventBus(abc.ABC):
    """Publish/subscribe of JSON events on named channels."""

    def subscribe(self, *channels: str) -> Subscription:
        """Return a subscription to ``channels`` (active inside ``async with``)."""
        if not channels:
            raise ValueError("subscribe needs at least one channel")
        return Subscription(self, channels)

    @abc.abstractmethod
    async def publish(self, channel: str, event: Event) -> None:
        """Send ``event`` to every current subscriber of ``channel``."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the bus cannot deliver events right now."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; subscriptions stop receiving events."""

    @abc.abstractmethod
    async def _attach(self, subscription: Subscription) -> None:
        """Start delivering to ``subscription`` (ready when this returns)."""

    @abc.abstractmethod
    async def _detach(self, subscription: Subscription) -> None:
        """Stop delivering to ``subscription``."""


class LocalFanout:
    """Channel → subscriptions registry used by every backend in one process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    def add(self, subscription: Subscription) -> list[str]:
        """Register; return the channels that had no local subscriber before."""
        new = []
        for channel in subscription.channels:
            subscribers = self._subscribers.setdefault(channel, set())
            if not subscribers:
                new.append(channel)
            subscribers.add(subscription)
        return new

    def remove(self, subscription: Subscription) -> list[str]:
        """Unregister; return the channels that now have no local subscriber."""
        empty = []
        for channel in subscription.channels:
            subscribers = self._subscribers.get(channel)
            if subscribers is None:
                continue
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[channel]
                empty.append(channel)
        return empty

    def channels(self) -> list[str]:
        """Channels with at least one local subscriber."""
        return list(self._subscribers)

    def deliver(self, channel: str, event: Event) -> None:
        """Hand ``event`` to every local subscriber of ``channel``."""
        for subscription in tuple(self._subscribers.get(channel, ())):
            subscription.deliver(event)

    def deliver_all(self, event: Event) -> None:
        """Hand ``event`` to every local subscriber once."""
        seen: set[int] = set()
        for subscribers in tuple(self._subscribers.values()):
            for subscription in tuple(subscribers):
                if id(subscription) not in seen:
                    seen.add(id(subscription))
                    subscription.deliver(event)

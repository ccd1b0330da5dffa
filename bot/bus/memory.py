"""The in-process event bus: the embedded default for a single hub."""

from __future__ import annotations

import json

from bot.bus.base import Event, EventBus, LocalFanout, Subscription, encode_event


class InMemoryEventBus(EventBus):
    """Delivers events to subscribers in the same process."""

    def __init__(self) -> None:
        self._fanout = LocalFanout()
        self._closed = False

    async def publish(self, channel: str, event: Event) -> None:
        """Deliver a copy of ``event`` (as JSON would carry it) to subscribers."""
        if self._closed:
            raise RuntimeError("the event bus is closed")
        self._fanout.deliver(channel, json.loads(encode_event(event)))

    async def ping(self) -> None:
        """Raise if the bus was closed."""
        if self._closed:
            raise RuntimeError("the event bus is closed")

    async def close(self) -> None:
        """Stop accepting events."""
        self._closed = True

    async def _attach(self, subscription: Subscription) -> None:
        self._fanout.add(subscription)

    async def _detach(self, subscription: Subscription) -> None:
        self._fanout.remove(subscription)

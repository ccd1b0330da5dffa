"""The event bus: notifications between hub instances.

``create_bus`` picks the backend from the settings: Redis pub/sub when
``BATON_REDIS_URL`` is set, in-process otherwise.
"""

from __future__ import annotations

from bot.bus.base import RESYNC, Event, EventBus, Subscription
from bot.bus.memory import InMemoryEventBus


def create_bus(redis_url: str | None, *, prefix: str = "baton:") -> EventBus:
    """Return the event bus for this deployment.

    Args:
        redis_url: Redis URL, or ``None`` for the in-process bus.
        prefix: Channel prefix in Redis (lets tests and deployments share one).
    """
    if redis_url:
        from bot.bus.redis_bus import RedisEventBus

        return RedisEventBus(redis_url, prefix=prefix)
    return InMemoryEventBus()


def conversation_channel(conversation_id: str) -> str:
    """Channel of one conversation's messages, status and typing events."""
    return f"conversation:{conversation_id}"


#: Channel of queue changes, seen by every agent console.
AGENTS_CHANNEL = "agents"

__all__ = [
    "AGENTS_CHANNEL",
    "RESYNC",
    "Event",
    "EventBus",
    "InMemoryEventBus",
    "Subscription",
    "conversation_channel",
    "create_bus",
]

"""The Redis pub/sub event bus, for several hub instances.

Each hub keeps one pub/sub connection and fans events out to its local
subscribers, so a thousand open WebSockets cost one Redis connection, not a
thousand. After the connection drops, every local subscriber is told to
resync from the database: Redis pub/sub does not replay what was missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from bot.bus.base import (
    RESYNC,
    Event,
    EventBus,
    LocalFanout,
    Subscription,
    encode_event,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

logger = logging.getLogger(__name__)

_RECONNECT_DELAY_S = 0.5


class RedisEventBus(EventBus):
    """Publishes through Redis; receives through one shared subscription."""

    def __init__(self, url: str, *, prefix: str = "baton:") -> None:
        """Create the bus (connections open lazily).

        Args:
            url: ``redis://`` URL of the server.
            prefix: Prepended to every channel name in Redis.
        """
        from redis.asyncio import Redis

        self._prefix = prefix
        self._redis: Redis = Redis.from_url(url, decode_responses=True)
        self._fanout = LocalFanout()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._closed = False

    async def publish(self, channel: str, event: Event) -> None:
        """Publish ``event`` on ``channel`` to every hub instance."""
        await self._redis.publish(self._prefix + channel, encode_event(event))

    async def ping(self) -> None:
        """Round-trip to Redis."""
        await self._redis.ping()

    async def close(self) -> None:
        """Stop the reader and close the connections."""
        self._closed = True
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.close()
        await self._redis.close()
        await self._redis.connection_pool.disconnect()

    async def _attach(self, subscription: Subscription) -> None:
        async with self._lock:
            new_channels = self._fanout.add(subscription)
            if not new_channels:
                await self._wait_confirmed(subscription.channels)
                return
            pubsub = await self._ensure_reader()
            for channel in new_channels:
                self._confirmed[channel] = asyncio.Event()
            try:
                await pubsub.subscribe(*(self._prefix + c for c in new_channels))
            except Exception:
                self._fanout.remove(subscription)
                raise
        await self._wait_confirmed(subscription.channels)

    async def _detach(self, subscription: Subscription) -> None:
        async with self._lock:
            empty = self._fanout.remove(subscription)
            for channel in empty:
                self._confirmed.pop(channel, None)
            if empty and self._pubsub is not None:
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(*(self._prefix + c for c in empty))

    async def _wait_confirmed(self, channels: tuple[str, ...]) -> None:
        # Redis acknowledges SUBSCRIBE asynchronously; until it has, a publish
        # from another connection could be missed.
        for channel in channels:
            confirmed = self._confirmed.get(channel)
            if confirmed is not None:
                await asyncio.wait_for(confirmed.wait(), timeout=10)

    async def _ensure_reader(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        return self._pubsub

    async def _read(self) -> None:
        while not self._closed:
            pubsub = self._pubsub
            if pubsub is None or not pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            try:
                message = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("redis bus connection lost; reconnecting", exc_info=True)
                await self._reconnect()
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = str(message.get("channel", ""))[len(self._prefix) :]
        if kind == "subscribe":
            confirmed = self._confirmed.get(channel)
            if confirmed is not None:
                confirmed.set()
        elif kind == "message":
            try:
                event = json.loads(message["data"])
            except (TypeError, ValueError):
                logger.warning("dropped a malformed event on %s", channel)
                return
            self._fanout.deliver(channel, event)

    async def _reconnect(self) -> None:
        await asyncio.sleep(_RECONNECT_DELAY_S)
        async with self._lock:
            old = self._pubsub
            self._pubsub = self._redis.pubsub()
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.close()
            channels = self._fanout.channels()
            if channels:
                try:
                    await self._pubsub.subscribe(*(self._prefix + c for c in channels))
                except Exception:
                    logger.warning("redis bus resubscribe failed", exc_info=True)
                    return
        self._fanout.deliver_all(RESYNC)

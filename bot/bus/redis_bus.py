"""The Redis pub/sub event bus, for several hub instances.

Each hub keeps one pub/sub connection and fans events out to its local
subscribers, so a thousand open WebSockets cost one Redis connection, not a
thousand. After the connection drops, every local subscriber is told to
resync from the database: Redis pub/sub does not replay what was missed.

While Redis is down the hub keeps serving: a publish still reaches this hub's
own subscribers (the caller's work, e.g. a message already stored, does not
fail), new subscriptions wait for no confirmation, and the reader retries
until Redis is back, then resubscribes and tells everyone to resync.
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
#: The longest pause between two attempts to reach Redis again.
_RECONNECT_MAX_DELAY_S = 5.0


class RedisEventBus(EventBus):
    """Publishes through Redis; receives through one shared subscription."""

    def __init__(self, url: str, *, prefix: str = "baton:") -> None:
        """Create the bus (connections open lazily).

        Args:
            url: ``redis://`` URL of the server.
            prefix: Prepended to every channel name in Redis.
        """
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        #: What a lost or refused connection raises.
        self._unreachable: tuple[type[Exception], ...] = (RedisError, OSError)
        self._prefix = prefix
        self._redis: Redis = Redis.from_url(url, decode_responses=True)
        self._fanout = LocalFanout()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._closed = False
        #: The subscription connection is lost and not yet re-established.
        self._lost = False
        self._failures = 0

    async def publish(self, channel: str, event: Event) -> None:
        """Publish ``event`` on ``channel`` to every hub instance.

        When Redis cannot be reached the event goes to this hub's own
        subscribers only; the others catch up from the database when their
        subscription is back (they are all told to resync then).
        """
        encoded = encode_event(event)
        try:
            await self._redis.publish(self._prefix + channel, encoded)
        except self._unreachable as error:
            logger.warning(
                "redis bus unreachable (%s: %s); event delivered on this hub only",
                type(error).__name__,
                error,
            )
            self._fanout.deliver(channel, json.loads(encoded))

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
            except self._unreachable as error:
                # Served from this hub meanwhile; the reader subscribes it
                # with the rest once Redis answers again.
                logger.warning("redis bus unreachable on subscribe: %s", error)
                self._lost = True
                return
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
            if confirmed is not None and not self._lost:
                try:
                    await asyncio.wait_for(confirmed.wait(), timeout=10)
                except asyncio.TimeoutError:
                    # Redis went away meanwhile: the resync after it comes
                    # back covers what this subscriber may miss.
                    logger.warning("redis did not confirm a subscription in time")

    async def _ensure_reader(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        return self._pubsub

    async def _read(self) -> None:
        while not self._closed:
            if self._lost:
                await self._reconnect()
                continue
            pubsub = self._pubsub
            if pubsub is None or not pubsub.subscribed:
                await asyncio.sleep(0.05)
                continue
            try:
                message = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("redis bus connection lost (%s); reconnecting", error)
                self._lost = True
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
        """Subscribe again to every channel; retried until Redis answers."""
        delay = min(_RECONNECT_DELAY_S * 2**self._failures, _RECONNECT_MAX_DELAY_S)
        await asyncio.sleep(delay)
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
                except Exception as error:
                    self._failures += 1
                    if self._failures == 1:
                        logger.warning("redis bus resubscribe failed: %s", error)
                    return
            self._lost = False
        if self._failures:
            logger.info("redis bus back after %d failed attempts", self._failures)
        self._failures = 0
        self._fanout.deliver_all(RESYNC)

"""Rate limiting: in-process token buckets, and limits shared by every hub."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import RateCounter
from bot.exceptions import RateLimited

logger = logging.getLogger(__name__)


class TokenBucket:
    """Allows ``capacity`` events at once, refilled at ``capacity / period_s``."""

    def __init__(self, capacity: int, period_s: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period_s
        self.tokens = float(capacity)
        self.updated = time.monotonic()

    def take(self, what: str) -> None:
        """Spend one token.

        Raises:
            RateLimited: The bucket is empty; says how long until it is not.
        """
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            raise RateLimited(
                f"too many {what}; please slow down",
                retry_after_s=(1 - self.tokens) / self.rate,
            )
        self.tokens -= 1


#: Events per key and fixed window, for limits shared by every hub; Redis
#: holds the same counters when it is configured.
rate_counters = RateCounter.__table__


class WindowCounter(Protocol):
    """Counts events of a key in a fixed time window, for every hub at once."""

    async def hit(self, key: str, window: int, period_s: float) -> int:
        """Count one event of ``key`` in ``window``; return the window's count."""

    async def close(self) -> None:
        """Release connections."""


class SqlWindowCounter:
    """Window counters in the hub database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def hit(self, key: str, window: int, period_s: float) -> int:
        """Count one event (an upsert), dropping the key's older windows."""
        insert = (
            postgresql_insert
            if self.engine.dialect.name == "postgresql"
            else sqlite_insert
        )
        statement = insert(rate_counters).values(key=key, window=window, count=1)
        statement = statement.on_conflict_do_update(
            index_elements=["key", "window"],
            set_={"count": rate_counters.c.count + 1},
        )
        async with self.engine.begin() as connection:
            await connection.execute(statement)
            count = (
                await connection.execute(
                    sa.select(rate_counters.c.count).where(
                        rate_counters.c.key == key, rate_counters.c.window == window
                    )
                )
            ).scalar_one()
            await connection.execute(
                rate_counters.delete().where(
                    rate_counters.c.key == key, rate_counters.c.window < window
                )
            )
        return int(count)

    async def close(self) -> None:
        """Nothing to release: the engine belongs to the hub."""


class RedisWindowCounter:
    """Window counters in Redis, each expiring with its window.

    When Redis cannot be reached the SQL counters take over for that event,
    so the limit holds (less cheaply) while Redis is down.
    """

    def __init__(
        self, url: str, fallback: WindowCounter, prefix: str = "baton:"
    ) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.fallback = fallback
        self.prefix = prefix

    async def hit(self, key: str, window: int, period_s: float) -> int:
        """Count one event (INCR, with an expiry past the window's end)."""
        name = f"{self.prefix}rate:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, int(period_s) + 5)
                count, _ = await pipe.execute()
            return int(count)
        except Exception:
            logger.warning("rate counters: Redis unavailable, counting in SQL")
            return await self.fallback.hit(key, window, period_s)

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._redis.close()


def create_counter(engine: AsyncEngine, redis_url: str | None) -> WindowCounter:
    """Redis counters when Redis is configured, SQL ones otherwise."""
    sql = SqlWindowCounter(engine)
    return RedisWindowCounter(redis_url, sql) if redis_url else sql


class SharedLimiter:
    """At most ``capacity`` events per key in each ``period_s`` window.

    The count lives in SQL or Redis, so it holds across reconnections and
    across hubs: a client cannot reset it by opening a new socket or by
    talking to another hub.
    """

    def __init__(
        self, counter: WindowCounter, capacity: int, period_s: float, what: str
    ) -> None:
        self.counter = counter
        self.capacity = capacity
        self.period_s = period_s
        self.what = what

    async def take(self, key: str) -> None:
        """Count one event of ``key`` (raises :class:`RateLimited` past the limit)."""
        now = time.time()
        window = int(now // self.period_s)
        count = await self.counter.hit(key, window, self.period_s)
        if count > self.capacity:
            raise RateLimited(
                f"too many {self.what}; please slow down",
                retry_after_s=(window + 1) * self.period_s - now,
            )


class KeyedLimiter:
    """A token bucket per key (e.g. client address), bounded in memory.

    With a ``shared`` counter (Redis, when configured) every event is also
    counted for all hubs at once, so a client cannot get a fresh allowance
    by landing on another hub; the bucket still answers first, in memory.
    """

    def __init__(
        self,
        capacity: int,
        period_s: float,
        what: str,
        max_keys: int = 100_000,
        *,
        shared: WindowCounter | None = None,
        name: str = "",
    ) -> None:
        self.capacity = capacity
        self.period_s = period_s
        self.what = what
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self.shared = (
            None if shared is None else SharedLimiter(shared, capacity, period_s, what)
        )
        self.name = name or what

    async def take(self, key: str) -> None:
        """Spend one token of ``key``'s allowance (raises :class:`RateLimited`)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.capacity, self.period_s)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        bucket.take(self.what)
        if self.shared is not None:
            await self.shared.take(f"{self.name}:{key}")

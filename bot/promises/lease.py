"""One hub acts for all: a lease in SQL, or in Redis when one is configured.

The hub holding the lease does the scheduled work and renews the lease every
round; another hub takes it only once it has expired, so a hub that died
holding it hands over after at most ``ttl``. The work itself is also written
so that it happens once (see :mod:`bot.promises.repository`): the lease keeps
hubs from doing it twice over, the database keeps it from being done twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import SchedulerLease, aware

leases = SchedulerLease.__table__


class Lease:
    """A named lease that one holder has at a time, until it expires."""

    def __init__(self, name: str, holder: str, ttl: dt.timedelta) -> None:
        self.name = name
        self.holder = holder
        self.ttl = ttl

    async def acquire(self, now: dt.datetime) -> bool:
        """Take or renew the lease until ``now + ttl``; whether we hold it."""
        raise NotImplementedError

    async def release(self) -> None:
        """Give the lease up (a clean stop), if we hold it."""
        raise NotImplementedError

    async def close(self) -> None:
        """Free the lease's resources."""


class SqlLease(Lease):
    """The lease as a row of ``scheduler_leases`` (SQLite and PostgreSQL).

    Taking it is one conditional update (``holder`` is us, or it expired),
    so of two hubs trying at once exactly one matches the row.
    """

    def __init__(
        self, engine: AsyncEngine, name: str, holder: str, ttl: dt.timedelta
    ) -> None:
        super().__init__(name, holder, ttl)
        self.engine = engine

    async def acquire(self, now: dt.datetime) -> bool:
        """Take the row if ours or expired, or create it; whether we hold it."""
        until = now + self.ttl
        async with self.engine.begin() as connection:
            taken = await connection.execute(
                leases.update()
                .where(leases.c.name == self.name)
                .where(
                    sa.or_(leases.c.holder == self.holder, leases.c.expires_at <= now)
                )
                .values(holder=self.holder, expires_at=until)
            )
            if taken.rowcount:
                return True
            exists = (
                await connection.execute(
                    sa.select(leases.c.name).where(leases.c.name == self.name)
                )
            ).first()
        if exists is not None:
            return False
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    leases.insert().values(
                        name=self.name, holder=self.holder, expires_at=until
                    )
                )
        except IntegrityError:
            return False  # another hub created it first
        return True

    async def release(self) -> None:
        """Delete the row if we hold it."""
        async with self.engine.begin() as connection:
            await connection.execute(
                leases.delete()
                .where(leases.c.name == self.name)
                .where(leases.c.holder == self.holder)
            )

    async def holder_until(self) -> tuple[str, dt.datetime] | None:
        """Who holds the lease and until when (for tests and the console)."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(leases).where(leases.c.name == self.name)
                )
            ).first()
        if row is None:
            return None
        until = aware(row.expires_at)
        assert until is not None
        return row.holder, until


# Renew only our own lease, atomically: a compare-and-extend.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLease(Lease):
    """The lease as a Redis key with an expiry (``SET NX PX``).

    Redis keeps the time, so ``now`` is not used: the key vanishes ``ttl``
    after the last renewal of a hub that died.
    """

    def __init__(
        self,
        url: str,
        name: str,
        holder: str,
        ttl: dt.timedelta,
        *,
        prefix: str = "baton:",
    ) -> None:
        super().__init__(name, holder, ttl)
        import redis.asyncio as redis

        self.client: Any = redis.Redis.from_url(url)
        self.key = f"{prefix}lease:{name}"

    async def acquire(self, now: dt.datetime) -> bool:
        """Create the key, or extend it if it is ours; whether we hold it."""
        ttl_ms = max(1, int(self.ttl.total_seconds() * 1000))
        if await self.client.set(self.key, self.holder, nx=True, px=ttl_ms):
            return True
        renewed = await self.client.eval(_RENEW, 1, self.key, self.holder, ttl_ms)
        return bool(renewed)

    async def release(self) -> None:
        """Delete the key if it is ours."""
        await self.client.eval(_RELEASE, 1, self.key, self.holder)

    async def close(self) -> None:
        """Close the Redis connection."""
        await self.client.close()


def create_lease(
    engine: AsyncEngine,
    redis_url: str | None,
    name: str,
    holder: str,
    ttl: dt.timedelta,
) -> Lease:
    """The lease for this deployment: Redis when configured, SQL otherwise."""
    if redis_url:
        return RedisLease(redis_url, name, holder, ttl)
    return SqlLease(engine, name, holder, ttl)

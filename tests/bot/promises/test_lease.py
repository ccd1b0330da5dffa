"""One holder at a time, renewed by its holder, taken over once it expires."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import pytest

from bot.promises import RedisLease, SqlLease

TTL = dt.timedelta(seconds=30)


async def test_the_sql_lease_has_one_holder_until_it_expires(own_engine, clock) -> None:
    name = f"lease-{secrets.token_hex(4)}"
    a, b = SqlLease(own_engine, name, "a", TTL), SqlLease(own_engine, name, "b", TTL)
    first = await asyncio.gather(a.acquire(clock.now), b.acquire(clock.now))
    assert sorted(first) == [False, True]  # both tried to create it: one won
    holder, other = (a, b) if first[0] else (b, a)
    clock.at(clock.now + TTL / 2)
    assert await holder.acquire(clock.now)  # renewed
    assert not await other.acquire(clock.now)
    clock.at(clock.now + TTL - dt.timedelta(seconds=1))
    assert not await other.acquire(clock.now)  # the renewal still runs
    clock.at(clock.now + dt.timedelta(seconds=1))
    assert await other.acquire(clock.now)  # the holder died: taken over
    assert not await holder.acquire(clock.now)
    assert (await other.holder_until())[0] == other.holder


async def test_releasing_the_sql_lease_lets_another_take_it_at_once(
    own_engine, clock
) -> None:
    name = f"lease-{secrets.token_hex(4)}"
    a, b = SqlLease(own_engine, name, "a", TTL), SqlLease(own_engine, name, "b", TTL)
    assert await a.acquire(clock.now)
    await b.release()  # not b's: nothing happens
    assert not await b.acquire(clock.now)
    await a.release()
    assert await b.acquire(clock.now)


@pytest.mark.redis
async def test_the_redis_lease_has_one_holder_and_hands_over_after_expiry(
    redis_url,
) -> None:
    name = f"test-{secrets.token_hex(4)}"
    ttl = dt.timedelta(milliseconds=300)
    a = RedisLease(redis_url, name, "a", ttl, prefix="baton-test:")
    b = RedisLease(redis_url, name, "b", ttl, prefix="baton-test:")
    now = dt.datetime.now(dt.timezone.utc)
    try:
        results = await asyncio.gather(a.acquire(now), b.acquire(now))
        assert sorted(results) == [False, True]
        holder, other = (a, b) if results[0] else (b, a)
        assert await holder.acquire(now)  # renews its own
        await other.release()  # not its own: nothing happens
        assert not await other.acquire(now)
        # The holder stops renewing (it died): Redis lets the key expire.
        for _ in range(100):
            if await other.acquire(now):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the lease never expired")
        assert not await holder.acquire(now)
        await other.release()
        assert await holder.acquire(now)
    finally:
        await a.release()
        await b.release()
        await a.close()
        await b.close()

"""One contract, every backend: the in-process bus and Redis pub/sub."""

from __future__ import annotations

import asyncio

import pytest

from bot.bus import RESYNC, EventBus
from bot.bus.base import SUBSCRIBER_BUFFER


async def test_delivers_to_every_subscriber_of_the_channel(bus_factory) -> None:
    bus: EventBus = bus_factory()
    async with bus.subscribe("a") as first, bus.subscribe("a") as second:
        await bus.publish("a", {"n": 1})
        assert await first.get(timeout=5) == {"n": 1}
        assert await second.get(timeout=5) == {"n": 1}
    await bus.close()


async def test_other_channels_are_not_delivered(bus_factory) -> None:
    bus: EventBus = bus_factory()
    async with bus.subscribe("a") as sub:
        await bus.publish("b", {"n": "b"})
        await bus.publish("a", {"n": "a"})
        assert await sub.get(timeout=5) == {"n": "a"}
    await bus.close()


async def test_one_subscription_on_several_channels(bus_factory) -> None:
    bus: EventBus = bus_factory()
    async with bus.subscribe("a", "b") as sub:
        await bus.publish("a", {"n": 1})
        await bus.publish("b", {"n": 2})
        got = [await sub.get(timeout=5), await sub.get(timeout=5)]
    assert sorted(e["n"] for e in got) == [1, 2]
    await bus.close()


async def test_order_of_one_publisher_is_kept(bus_factory) -> None:
    bus: EventBus = bus_factory()
    async with bus.subscribe("ordered") as sub:
        for n in range(200):
            await bus.publish("ordered", {"n": n})
        got = [(await sub.get(timeout=5))["n"] for _ in range(200)]
    assert got == list(range(200))
    await bus.close()


async def test_nothing_is_delivered_after_unsubscribing(bus_factory) -> None:
    bus: EventBus = bus_factory()
    async with bus.subscribe("a") as gone:
        pass
    async with bus.subscribe("a") as staying:
        await bus.publish("a", {"n": 1})
        assert await staying.get(timeout=5) == {"n": 1}
    with pytest.raises(asyncio.TimeoutError):
        await gone.get(timeout=0.2)
    await bus.close()


async def test_events_before_subscribing_are_not_replayed(bus_factory) -> None:
    bus: EventBus = bus_factory()
    await bus.publish("a", {"n": "early"})
    async with bus.subscribe("a") as sub:
        await bus.publish("a", {"n": "late"})
        assert await sub.get(timeout=5) == {"n": "late"}
    await bus.close()


async def test_events_cross_instances(bus_factory) -> None:
    """What one hub instance publishes, another instance's subscribers get."""
    publisher: EventBus = bus_factory()
    receiver: EventBus = bus_factory()
    async with receiver.subscribe("shared") as sub:
        await publisher.publish("shared", {"from": "other instance"})
        assert await sub.get(timeout=5) == {"from": "other instance"}
    await publisher.close()
    await receiver.close()


async def test_events_must_be_json(bus_factory) -> None:
    bus: EventBus = bus_factory()
    with pytest.raises(TypeError):
        await bus.publish("a", {"not json": object()})
    await bus.close()


async def test_a_slow_subscriber_is_told_to_resync(bus_factory) -> None:
    bus: EventBus = bus_factory()
    async with bus.subscribe("flood") as slow, bus.subscribe("marker") as marker:
        for n in range(SUBSCRIBER_BUFFER + 10):
            await bus.publish("flood", {"n": n})
        # One publisher's events arrive in order, so once the marker is here
        # every flood event has been handed to the slow subscriber.
        await bus.publish("marker", {"done": True})
        assert await marker.get(timeout=10) == {"done": True}
        assert await slow.get(timeout=5) == RESYNC
        await bus.publish("flood", {"n": "after resync"})
        assert await slow.get(timeout=5) == {"n": "after resync"}
    await bus.close()


async def test_ping(bus_factory) -> None:
    bus: EventBus = bus_factory()
    await bus.ping()
    await bus.close()

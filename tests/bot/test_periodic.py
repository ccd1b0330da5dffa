"""The one background loop: rounds on time, a failed round logged, a prompt stop."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.periodic import Periodic


class _FakeTime:
    """A clock that only moves when a round or a pause says so.

    The ``pauses``-th pause asks the loop to stop, as :meth:`Periodic.stop`
    does.
    """

    def __init__(self, pauses: int) -> None:
        self.now = 100.0
        self.limit = pauses
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    async def pause(self, stopping: asyncio.Event, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds
        if len(self.pauses) == self.limit:
            stopping.set()


async def test_rounds_are_paused_by_the_interval_after_each_round() -> None:
    time = _FakeTime(pauses=3)
    rounds: list[float] = []

    async def round_() -> None:
        rounds.append(time.now)
        time.now += 2.0  # a round that takes two seconds

    loop = Periodic("test round", round_, 5.0, clock=time.clock, pause=time.pause)
    await asyncio.wait_for(loop.run(), 5)
    assert rounds == [100.0, 107.0, 114.0]
    assert time.pauses == [5.0, 5.0, 5.0]


async def test_from_start_keeps_a_round_every_interval_however_long_it_took() -> None:
    time = _FakeTime(pauses=3)
    rounds: list[float] = []
    took = iter([2.0, 7.0, 1.0])

    async def round_() -> None:
        rounds.append(time.now)
        time.now += next(took)

    loop = Periodic(
        "test round",
        round_,
        5.0,
        from_start=True,
        clock=time.clock,
        pause=time.pause,
    )
    await asyncio.wait_for(loop.run(), 5)
    # 2 s round: 3 s pause; a 7 s round overran: the next starts at once.
    assert time.pauses == [3.0, 0.0, 4.0]
    assert rounds == [100.0, 105.0, 112.0]


async def test_a_failed_round_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time = _FakeTime(pauses=2)
    rounds = 0

    async def round_() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise RuntimeError("database went away")

    owner = logging.getLogger("tests.periodic.owner")
    loop = Periodic(
        "test sweep", round_, 1.0, logger=owner, clock=time.clock, pause=time.pause
    )
    with caplog.at_level(logging.WARNING, logger="tests.periodic.owner"):
        await asyncio.wait_for(loop.run(), 5)
    assert rounds == 2
    assert time.pauses == [1.0, 1.0]  # the failed round kept its interval
    [record] = [r for r in caplog.records if r.name == "tests.periodic.owner"]
    assert record.getMessage() == "test sweep failed"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


async def test_stop_wakes_a_long_pause_at_once() -> None:
    rounds = 0
    started = asyncio.Event()

    async def round_() -> None:
        nonlocal rounds
        rounds += 1
        started.set()

    loop = Periodic("test round", round_, 3600.0)  # the real pause
    loop.start()
    await asyncio.wait_for(started.wait(), 5)
    assert loop.running
    await asyncio.wait_for(loop.stop(), 1)  # not an hour
    assert rounds == 1
    assert not loop.running


async def test_stop_lets_the_round_in_progress_finish() -> None:
    inside = asyncio.Event()
    release = asyncio.Event()
    finished = []

    async def round_() -> None:
        inside.set()
        await release.wait()
        finished.append(True)

    loop = Periodic("test round", round_, 0.01)
    loop.start()
    await asyncio.wait_for(inside.wait(), 5)
    stopping = asyncio.create_task(loop.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waits for the round, does not cancel it
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert finished == [True]


async def test_stop_before_start_is_harmless_and_it_can_start_again() -> None:
    rounds = 0

    async def round_() -> None:
        nonlocal rounds
        rounds += 1

    loop = Periodic("test round", round_, 3600.0)
    await loop.stop()
    loop.start()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    await loop.stop()
    assert rounds == 1

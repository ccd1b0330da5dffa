"""Run a round every N seconds in the background until stopped.

The hub's background loops (the relay's sweep, presence heartbeats, the
ownership sweep, the promise scheduler) all do this one thing: a round that
fails is logged and the next one runs on time; stopping wakes the pause at
once and waits for a round in progress to finish. A round is never cancelled
halfway: a database call cancelled mid-query would leave its connection open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Periodic"]

_logger = logging.getLogger(__name__)

#: Waits ``seconds`` or until the event is set, whichever comes first.
Pause = Callable[[asyncio.Event, float], Awaitable[None]]


async def _pause_unless_stopped(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


class Periodic:
    """A coroutine run every ``interval_s`` seconds in the background."""

    def __init__(
        self,
        name: str,
        round_: Callable[[], Awaitable[object]],
        interval_s: float,
        *,
        from_start: bool = False,
        logger: logging.Logger = _logger,
        clock: Callable[[], float] | None = None,
        pause: Pause = _pause_unless_stopped,
    ) -> None:
        """Describe the loop; :meth:`start` runs it.

        Args:
            name: What a round is, for the log ("relay sweep" logs "relay
                sweep failed").
            round_: One round of work.
            interval_s: Seconds between rounds.
            from_start: Measure the interval from the start of a round (a
                round every ``interval_s``, however long rounds take) instead
                of pausing ``interval_s`` after each round.
            logger: Where a failed round is logged (the caller's logger).
            clock: Monotonic seconds (the event loop's clock by default).
            pause: Waits between rounds and must return early when the event
                is set (tests replace it).
        """
        self.name = name
        self.round = round_
        self.interval_s = interval_s
        self.from_start = from_start
        self.logger = logger
        self.clock = clock
        self.pause = pause
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the loop was started and has not finished."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run rounds in the background until :meth:`stop`."""
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop after the current round (if any) and wait for it to end."""
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def run(self) -> None:
        """The loop itself, until :meth:`stop` (in the caller's task)."""
        clock = self.clock or asyncio.get_running_loop().time
        while not self._stopping.is_set():
            started = clock()
            try:
                await self.round()
            except Exception:
                self.logger.warning("%s failed", self.name, exc_info=True)
            pause = self.interval_s
            if self.from_start:
                pause = max(0.0, pause - (clock() - started))
            if not self._stopping.is_set():
                await self.pause(self._stopping, pause)

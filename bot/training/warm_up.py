"""The hub's knowledge index, built in the background once the hub is up.

The trainers' inbox shows each group's top articles from the hub's
knowledge base, whose index is built at its first search: the sentence
encoder loaded and the index's meaning classifier fitted, about 10 s of CPU
on two cores (``knowledge_index_first_build`` of
``bench/results/training-inbox-*.json``). Built lazily, that was the first
inbox read of every hub. :func:`warm_up_knowledge` builds it instead when the
hub starts (``BATON_KNOWLEDGE_WARM_UP``, on by default), as a task of its
own:

- the hub's start does not wait for it (``/health`` and customers are
  served meanwhile; the build runs in a worker thread, off the event loop);
- it first waits until the assistant is ready (``ready``: Rasa and the
  action server answer, at most :data:`READY_WAIT_S`), so that it does not
  compete with their start for the two cores;
- a failed build is logged and left to the first search, which builds the
  index as before (the knowledge base tries again at every search until
  one succeeds).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

logger = logging.getLogger(__name__)

#: Longest wait for the assistant to be ready before building anyway.
READY_WAIT_S = 300.0
#: Seconds between readiness checks.
READY_POLL_S = 2.0


class _Indexed(Protocol):
    async def index(self) -> object: ...


async def warm_up_knowledge(
    knowledge: _Indexed,
    ready: Callable[[], Awaitable[bool]] | None = None,
) -> bool:
    """Build ``knowledge``'s index now, once ``ready()`` says so.

    Args:
        knowledge: The hub's :class:`~bot.knowledge.service.KnowledgeBase`.
        ready: Whether the assistant is up (checked every
            :data:`READY_POLL_S` for at most :data:`READY_WAIT_S`; a check
            that fails counts as not ready); ``None``: build at once.

    Returns:
        Whether the index was built; a failure is logged, and the first
        search builds it.
    """
    loop = asyncio.get_running_loop()
    if ready is not None:
        deadline = loop.time() + READY_WAIT_S
        while loop.time() < deadline:
            try:
                if await ready():
                    break
            except Exception as error:  # not ready yet
                logger.debug("readiness check failed: %s", error)
            await asyncio.sleep(min(READY_POLL_S, max(0.0, deadline - loop.time())))
    started, cpu = time.perf_counter(), time.process_time()
    try:
        await knowledge.index()
    except Exception:
        logger.warning(
            "the knowledge index could not be built in the background; "
            "the first search builds it",
            exc_info=True,
        )
        return False
    logger.info(
        "knowledge index built in the background in %.1f s (%.1f s CPU, the "
        "whole process's)",
        time.perf_counter() - started,
        time.process_time() - cpu,
    )
    return True

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

With ``freeze`` (the hub's), what the hub holds for good by then (its
modules, the sentence encoder, loaded first) is moved out of the garbage
collector's generations (:func:`gc.freeze`) before the index is built. A
full collection otherwise walked all of it: on the inbox benchmark's
100,000 turns one read in five or six took 0.11-0.15 s more CPU
(0.20-0.30 s instead of ~0.1 s for the most frequent view); with the
freeze such a collection costs 0.02-0.035 s. The index itself is not
frozen: an edited knowledge base replaces it, and frozen objects in
reference cycles would never be freed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.knowledge.embedding import shared_encoder

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
    *,
    freeze: bool = False,
) -> bool:
    """Build ``knowledge``'s index now, once ``ready()`` says so.

    Args:
        knowledge: The hub's :class:`~bot.knowledge.service.KnowledgeBase`.
        ready: Whether the assistant is up (checked every
            :data:`READY_POLL_S` for at most :data:`READY_WAIT_S`; a check
            that fails counts as not ready); ``None``: build at once.
        freeze: Load the process's shared sentence encoder (the one the
            index and the inbox use), then freeze what the process holds
            out of the garbage collector (:func:`gc.freeze`), before the
            build.

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
        if freeze:
            await asyncio.to_thread(shared_encoder)
            gc.collect()
            gc.freeze()
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

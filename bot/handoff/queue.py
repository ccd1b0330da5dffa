"""Queue order and honest wait estimates.

The live queue is ordered by priority (by the reason for the handoff) plus a
point per minute waited; agents also see follow-ups, raised as their promised
time nears. A chat where someone may be in danger goes before all of them,
however long the others have waited. A wait is estimated only from how fast
the team has really been taking chats, and not at all when there is nothing
honest to say.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable

from bot.contract import HandoffReason, HandoffState
from bot.handoff.repository import HandoffRecord

#: Base priority by reason: the unhappiest and the most sensitive go first.
#: ``DANGER``'s is shown to agents; its place does not depend on it
#: (:func:`tier`).
REASON_PRIORITY: dict[str, int] = {
    HandoffReason.DANGER: 100,
    HandoffReason.FRUSTRATION: 30,
    HandoffReason.SENSITIVE: 20,
    HandoffReason.KB_REJECTED: 15,
    HandoffReason.BOT_UNAVAILABLE: 15,
    HandoffReason.FALLBACK: 10,
    HandoffReason.CUSTOMER_REQUEST: 10,
}
#: Minutes of waiting worth one point of priority.
MINUTES_PER_PRIORITY_POINT = 1.0
#: Extra priority of a follow-up whose promised time is near, or missed.
FOLLOW_UP_DUE_SOON = dt.timedelta(minutes=30)
DUE_SOON_PRIORITY = 25
OVERDUE_PRIORITY = 50


def effective_priority(handoff: HandoffRecord, now: dt.datetime) -> float:
    """Base priority plus a point per minute waited (nobody waits forever)."""
    waited_minutes = handoff.waited_s(now) / 60
    return handoff.priority + waited_minutes / MINUTES_PER_PRIORITY_POINT


def tier(handoff: HandoffRecord) -> int:
    """0 for a chat where someone may be in danger, 1 for the rest.

    The queues sort by tier before priority: points for waiting are
    unbounded (a follow-up from last night has hundreds), so no base priority
    alone could keep these chats on top.
    """
    return 0 if handoff.reason == HandoffReason.DANGER else 1


def queue_order(
    open_handoffs: list[HandoffRecord], now: dt.datetime
) -> list[HandoffRecord]:
    """The live queue: danger first, then highest priority, then oldest."""
    waiting = [h for h in open_handoffs if h.state == HandoffState.QUEUED]
    return _most_urgent_first(waiting, effective_priority, now)


def _most_urgent_first(
    waiting: list[HandoffRecord],
    priority: Callable[[HandoffRecord, dt.datetime], float],
    now: dt.datetime,
) -> list[HandoffRecord]:
    """Danger first (:func:`tier`), then by ``priority``, then oldest."""
    return sorted(
        waiting,
        key=lambda h: (tier(h), -priority(h, now), h.created_at, h.id),
    )


def console_priority(handoff: HandoffRecord, now: dt.datetime) -> float:
    """Priority in the agents' queue: promised times count as well.

    A follow-up due within :data:`FOLLOW_UP_DUE_SOON` gains
    :data:`DUE_SOON_PRIORITY`, an overdue one :data:`OVERDUE_PRIORITY`, so a
    promise about to be broken rises above fresh chats.
    """
    priority = effective_priority(handoff, now)
    if handoff.due_at is not None:
        if now > handoff.due_at:
            priority += OVERDUE_PRIORITY
        elif handoff.due_at - now <= FOLLOW_UP_DUE_SOON:
            priority += DUE_SOON_PRIORITY
    return priority


def console_queue(
    open_handoffs: list[HandoffRecord], now: dt.datetime
) -> list[HandoffRecord]:
    """What agents may claim: the live queue and follow-ups, most urgent first.

    Danger first (:func:`tier`), then by :func:`console_priority`.
    """
    waiting = [
        h
        for h in open_handoffs
        if h.state in {HandoffState.QUEUED, HandoffState.FOLLOW_UP}
    ]
    return _most_urgent_first(waiting, console_priority, now)


#: Claims from this far back teach the wait estimate; at least this many.
CLAIM_WINDOW = dt.timedelta(hours=2)
MIN_CLAIMS = 3


def claim_intervals(claims: list[tuple[dt.datetime, dt.datetime]]) -> list[float]:
    """How long the team took to take each waiting chat, in seconds.

    Each interval runs from when the team could have turned to the chat (it
    was waiting and the claim before it was made, whichever came later) to
    its claim, so an idle team that takes a new chat at once counts as fast,
    and a busy one as slow as it was.

    Args:
        claims: ``(created, claimed)`` of recent claims, oldest claim first.
    """
    intervals = []
    previous: dt.datetime | None = None
    for created, claimed in claims:
        start = created if previous is None else max(created, previous)
        intervals.append(max(0.0, (claimed - start).total_seconds()))
        previous = claimed
    return intervals


def estimate_wait_s(
    position: int, agents_online: int, intervals: list[float]
) -> int | None:
    """Expected wait at ``position`` in line, from recent claims, or ``None``.

    Every customer ahead, and then this one, is taken after about the
    median interval between claims (:func:`claim_intervals`). With nobody
    online, or fewer than :data:`MIN_CLAIMS` recent claims to learn from,
    there is no honest number to give.
    """
    if agents_online <= 0 or len(intervals) < MIN_CLAIMS:
        return None
    return round(position * statistics.median(intervals))

"""Queue order and honest wait estimates."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff.repository import HandoffRecord
from bot.handoff.service import estimate_wait_s, queue_order

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


def handoff(
    id: int, priority: int, waited_min: float, state: str = "queued"
) -> HandoffRecord:
    return HandoffRecord(
        id=id,
        conversation_id=f"c{id}",
        reason="x",
        state=state,
        priority=priority,
        agent_id=None,
        agent_name=None,
        outcome=None,
        summary=None,
        created_at=NOW - dt.timedelta(minutes=waited_min),
        claimed_at=None,
        closed_at=None,
    )


def test_frustrated_customers_go_first_but_nobody_waits_forever() -> None:
    calm_long_wait = handoff(1, 10, waited_min=25)
    frustrated_new = handoff(2, 30, waited_min=1)
    calm_new = handoff(3, 10, waited_min=2)
    claimed = handoff(4, 99, waited_min=60, state="claimed")
    order = queue_order([calm_new, calm_long_wait, frustrated_new, claimed], NOW)
    assert [h.id for h in order] == [1, 2, 3]


@pytest.mark.parametrize(
    ("position", "online", "times", "expected"),
    [
        (1, 1, [300.0, 600.0, 900.0], 600),
        (3, 2, [300.0], 600),
        (1, 0, [300.0], None),  # nobody online: no honest number
        (1, 2, [], None),  # nothing learnt yet: no honest number
    ],
)
def test_wait_estimate(position, online, times, expected) -> None:
    assert estimate_wait_s(position, online, times) == expected

"""Queue order and honest wait estimates."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.contract import HandoffReason
from bot.handoff.queue import (
    REASON_PRIORITY,
    claim_intervals,
    console_queue,
    estimate_wait_s,
    queue_order,
)
from bot.handoff.repository import HandoffRecord

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


def handoff(
    id: int,
    priority: int,
    waited_min: float,
    state: str = "queued",
    reason: str = "x",
    due_in_min: float | None = None,
) -> HandoffRecord:
    return HandoffRecord(
        id=id,
        conversation_id=f"c{id}",
        reason=reason,
        state=state,
        priority=priority,
        agent_id=None,
        agent_name=None,
        outcome=None,
        summary=None,
        created_at=NOW - dt.timedelta(minutes=waited_min),
        claimed_at=None,
        closed_at=None,
        due_at=None if due_in_min is None else NOW + dt.timedelta(minutes=due_in_min),
    )


def test_frustrated_customers_go_first_but_nobody_waits_forever() -> None:
    calm_long_wait = handoff(1, 10, waited_min=25)
    frustrated_new = handoff(2, 30, waited_min=1)
    calm_new = handoff(3, 10, waited_min=2)
    claimed = handoff(4, 99, waited_min=60, state="claimed")
    order = queue_order([calm_new, calm_long_wait, frustrated_new, claimed], NOW)
    assert [h.id for h in order] == [1, 2, 3]


def test_someone_in_danger_goes_before_everyone_however_long_they_waited() -> None:
    danger = REASON_PRIORITY[HandoffReason.DANGER]
    overnight = handoff(1, 10, waited_min=14 * 60, reason="fallback")
    frustrated = handoff(2, 30, waited_min=90, reason="frustration")
    in_danger = handoff(3, danger, waited_min=0, reason="danger")
    earlier_in_danger = handoff(4, danger, waited_min=3, reason="danger")
    order = queue_order([overnight, frustrated, in_danger, earlier_in_danger], NOW)
    assert [h.id for h in order] == [4, 3, 1, 2]


def test_in_the_console_danger_goes_before_overdue_follow_ups() -> None:
    overdue = handoff(
        1,
        30,
        waited_min=16 * 60,
        state="follow_up",
        reason="frustration",
        due_in_min=-120,
    )
    due_soon = handoff(
        2, 20, waited_min=60, state="follow_up", reason="sensitive", due_in_min=10
    )
    in_danger = handoff(3, REASON_PRIORITY["danger"], waited_min=0, reason="danger")
    claimed = handoff(4, 99, waited_min=60, state="claimed", reason="danger")
    order = console_queue([overdue, due_soon, in_danger, claimed], NOW)
    assert [h.id for h in order] == [3, 1, 2]


def test_danger_has_the_highest_base_priority() -> None:
    others = [p for r, p in REASON_PRIORITY.items() if r != HandoffReason.DANGER]
    assert REASON_PRIORITY[HandoffReason.DANGER] > max(others)


def at(minute: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minute)


def test_claim_intervals_count_from_when_the_team_could_turn_to_a_chat() -> None:
    claims = [
        (at(0), at(2)),  # waited 2 minutes
        (at(1), at(5)),  # waiting since 1, the team was busy until 2: 3
        (at(10), at(10.5)),  # came to an idle team: half a minute
    ]
    assert claim_intervals(claims) == [120.0, 180.0, 30.0]
    assert claim_intervals([]) == []


@pytest.mark.parametrize(
    ("position", "online", "intervals", "expected"),
    [
        (1, 1, [300.0, 600.0, 900.0], 600),
        (3, 2, [60.0, 120.0, 60.0], 180),
        (1, 0, [300.0, 300.0, 300.0], None),  # nobody online: no honest number
        (1, 2, [300.0, 300.0], None),  # too little learnt yet: no honest number
        (1, 2, [], None),
    ],
)
def test_wait_estimate(position, online, intervals, expected) -> None:
    assert estimate_wait_s(position, online, intervals) == expected

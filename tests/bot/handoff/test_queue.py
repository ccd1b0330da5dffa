"""Queue order and honest wait estimates."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.handoff.queue import claim_intervals, estimate_wait_s, queue_order
from bot.handoff.repository import HandoffRecord

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

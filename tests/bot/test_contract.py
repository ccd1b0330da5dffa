"""The wire contract's Enums are the same strings on the wire and in SQL."""

from __future__ import annotations

import json

import pytest

from bot.contract import (
    OPEN_HANDOFF_STATES,
    ConversationState,
    HandoffReason,
    HandoffState,
)
from bot.handoff.card import REASON_TEXT
from bot.handoff.queue import REASON_PRIORITY


@pytest.mark.parametrize(
    "member", [*ConversationState, *HandoffState, *HandoffReason], ids=str
)
def test_a_member_is_its_value_everywhere(member) -> None:
    assert member == member.value and str(member) == member.value
    assert f"{member}" == member.value and member.value in {member}
    assert json.loads(json.dumps({"state": member})) == {"state": member.value}


def test_every_reason_has_a_priority_and_a_text_for_the_card() -> None:
    assert set(REASON_PRIORITY) == set(HandoffReason) == set(REASON_TEXT)


def test_open_handoffs_are_those_not_closed() -> None:
    closed = {HandoffState.HANDED_BACK, HandoffState.RESOLVED, HandoffState.CANCELLED}
    assert set(OPEN_HANDOFF_STATES) == set(HandoffState) - closed

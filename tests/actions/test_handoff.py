from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    SENSITIVE_INTENTS,
    ActionCheckFrustration,
    ActionHandoff,
    HandoffReason,
    handoff_message,
    handoff_reason,
    is_frustrated,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]


def tracker_after(
    intent: str | None,
    frustrated: bool | None = None,
    frustration: dict[str, Any] | None = None,
) -> Tracker:
    latest: dict[str, Any] = {"text": "…", "intent": {}, "intent_ranking": []}
    if intent is not None:
        latest["intent"] = {"name": intent, "confidence": 0.97}
    if frustration is not None:
        latest["frustration"] = frustration
    return Tracker(
        sender_id="c-1",
        slots={"frustrated": frustrated},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="utter_handoff",
    )


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        ("request_human", HandoffReason.CUSTOMER_REQUEST),
        ("affirm", HandoffReason.CUSTOMER_REQUEST),
        ("complaint", HandoffReason.SENSITIVE),
        ("account_compromised", HandoffReason.SENSITIVE),
        ("payment_dispute", HandoffReason.SENSITIVE),
        ("person_in_danger", HandoffReason.DANGER),
        ("legal_request", HandoffReason.SENSITIVE),
        ("nlu_fallback", HandoffReason.FALLBACK),
        ("out_of_scope", HandoffReason.FALLBACK),
        ("password_reset", HandoffReason.FALLBACK),
        (None, HandoffReason.FALLBACK),
    ],
)
def test_handoff_reason(intent: str | None, reason: HandoffReason) -> None:
    assert handoff_reason(intent) is reason
    assert handoff_reason(intent, frustrated=False) is reason


@pytest.mark.parametrize(
    "intent", ["request_human", "complaint", "sync_problem", "nlu_fallback", None]
)
def test_frustration_is_the_reason_whatever_the_intent(intent: str | None) -> None:
    assert handoff_reason(intent, frustrated=True) is HandoffReason.FRUSTRATION


def test_someone_in_danger_is_danger_even_when_the_message_sounds_frustrated() -> None:
    """A message about self-harm often scores as upset; frustration must not
    take it out of the first place in the queue (nor out of its hours rule)."""
    assert handoff_reason("person_in_danger", frustrated=True) is HandoffReason.DANGER


async def test_the_action_hands_someone_in_danger_over_as_danger() -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_after("person_in_danger", frustrated=True)

    assert await ActionHandoff().run(dispatcher, tracker, {}) == []
    assert [m["custom"] for m in dispatcher.messages] == [
        {"handoff": {"reason": "danger"}}
    ]


@pytest.mark.parametrize("reason", list(HandoffReason))
def test_handoff_message_is_plain_json(reason: HandoffReason) -> None:
    message = handoff_message(reason)

    assert message == {"handoff": {"reason": reason.value}}
    assert type(message["handoff"]["reason"]) is str


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        ("request_human", "customer_request"),
        ("complaint", "sensitive"),
        ("account_compromised", "sensitive"),
        ("payment_dispute", "sensitive"),
        ("legal_request", "sensitive"),
        ("nlu_fallback", "fallback"),
    ],
)
async def test_action_handoff_tells_the_hub_why(intent: str, reason: str) -> None:
    dispatcher = CollectingDispatcher()

    events = await ActionHandoff().run(dispatcher, tracker_after(intent), {})

    assert events == []
    assert len(dispatcher.messages) == 1
    assert dispatcher.messages[0]["custom"] == {"handoff": {"reason": reason}}
    assert dispatcher.messages[0]["text"] is None


async def test_action_handoff_for_a_frustrated_customer() -> None:
    dispatcher = CollectingDispatcher()

    await ActionHandoff().run(dispatcher, tracker_after("sync_problem", True), {})

    [message] = dispatcher.messages
    assert message["custom"] == {"handoff": {"reason": "frustration"}}


def test_action_name_matches_the_domain() -> None:
    assert ActionHandoff().name() == "action_handoff"
    assert ActionCheckFrustration().name() == "action_check_frustration"


def verdict(frustrated: bool) -> dict[str, Any]:
    return {"score": 0.7 if frustrated else 0.1, "frustrated": frustrated}


@pytest.mark.parametrize(
    ("parse_data", "expected"),
    [
        ({"frustration": verdict(True)}, True),
        ({"frustration": verdict(False)}, False),
        ({"frustration": {"score": 0.9}}, False),
        ({"frustration": "yes"}, False),
        ({}, False),
    ],
)
def test_is_frustrated(parse_data: dict[str, Any], expected: bool) -> None:
    assert is_frustrated(parse_data) is expected


async def test_a_frustrated_question_an_article_answers_sets_no_slot() -> None:
    # The NLU answers it with the article, sorry first and a person one click
    # away (bot/nlu/decision.py: soften): the frustration rule must not fire.
    dispatcher = CollectingDispatcher()
    tracker = tracker_after("out_of_scope", None, verdict(True))
    tracker.latest_message["knowledge"] = {
        "article": "notifications",
        "acknowledge": True,
    }
    assert await ActionCheckFrustration().run(dispatcher, tracker, {}) == []
    tracker.latest_message["knowledge"]["acknowledge"] = False
    assert await ActionCheckFrustration().run(dispatcher, tracker, {}) == [
        SlotSet("frustrated", True)
    ]


@pytest.mark.parametrize(
    ("slot", "frustration", "events"),
    [
        (None, verdict(True), [SlotSet("frustrated", True)]),
        (True, verdict(False), [SlotSet("frustrated", None)]),
        (True, None, [SlotSet("frustrated", None)]),
        (True, verdict(True), []),
        (None, verdict(False), []),
        (None, None, []),
    ],
)
async def test_check_frustration_keeps_the_slot_in_step(
    slot: bool | None,
    frustration: dict[str, Any] | None,
    events: list[dict[str, Any]],
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_after("sync_problem", slot, frustration)

    assert await ActionCheckFrustration().run(dispatcher, tracker, {}) == events
    assert dispatcher.messages == []


def test_the_frustration_rule_covers_every_intent_but_the_sensitive_ones() -> None:
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())
    rules = yaml.safe_load((PROJECT_DIR / "data/rules/handoff.yml").read_text())
    [rule] = [
        r
        for r in rules["rules"]
        if r["rule"] == "A frustrated customer goes to a person"
    ]

    covered = {step["intent"] for step in rule["steps"][0]["or"]}
    assert covered == set(domain["intents"]) - SENSITIVE_INTENTS | {"nlu_fallback"}
    assert domain["slots"]["frustrated"]["mappings"] == [
        {"type": "custom", "action": "action_check_frustration"}
    ]


def test_every_sensitive_intent_has_a_rule_that_hands_over() -> None:
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())
    rules = yaml.safe_load((PROJECT_DIR / "data/rules/handoff.yml").read_text())
    handing_over = {
        rule["steps"][0]["intent"]
        for rule in rules["rules"]
        if "intent" in rule["steps"][0]
        and rule["steps"][-2:]
        == [{"action": "utter_handoff"}, {"action": "action_handoff"}]
    }
    assert SENSITIVE_INTENTS <= set(domain["intents"])
    assert SENSITIVE_INTENTS <= handing_over

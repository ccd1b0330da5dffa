"""Reading the Baton channel's answer: what the handoff card needs."""

from __future__ import annotations

from bot.assistant.client import parse_turn


def test_a_turn_keeps_intent_slots_actions_and_frustration() -> None:
    turn = parse_turn(
        {
            "messages": [
                {"text": "On it.", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
                {"custom": {"handoff": {"reason": "frustration"}}},
            ],
            "intent": {"name": "sync_problem", "confidence": 0.83},
            "entities": [{"entity": "device", "value": "phone"}],
            "slots": {"frustrated": True},
            "actions": ["utter_handoff", "action_handoff"],
            "frustration": {"score": 0.8, "frustrated": True, "signals": []},
        }
    )
    assert (turn.intent, turn.confidence) == ("sync_problem", 0.83)
    assert turn.slots == {"frustrated": True}
    assert turn.actions == ["utter_handoff", "action_handoff"]
    assert turn.frustration == {"score": 0.8, "frustrated": True, "signals": []}
    assert turn.handoff_reason == "frustration"
    assert turn.messages[0].buttons == [{"title": "Yes", "payload": "/affirm"}]


def test_a_turn_without_a_frustration_score_has_none() -> None:
    turn = parse_turn({"messages": [], "frustration": "loud"})
    assert turn.frustration is None
    assert turn.intent is None

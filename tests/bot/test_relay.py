"""The relay when the assistant's actions fail: the hub hands over itself.

A real hub talks to the real Baton channel (served on loopback with a
model-less Rasa agent, :mod:`tests.bot.assistant.rasa_parts`), whose turn
runs Rasa's ``RemoteAction`` against an action server that is down, hung or
failing. No Rasa model or server is needed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Settings
from bot.relay import UNAVAILABLE_TEXT
from tests.bot.assistant.rasa_parts import (
    HANDOFF_TEXT,
    TOKEN,
    ActionServer,
    channel_server,
)
from tests.hub import drain, receive_until, running_hub

ANSWER_TEXT = "To reset your password, open the sign-in page."


def handed_over(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "status" and frame.get("state") in {
        "queued",
        "follow_up",
    }


async def converse(
    hub_settings: Settings, action_server: str, texts: tuple[str, ...], action: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """One customer message through hub and channel; the frames and handoffs."""
    async with ActionServer(action_server) as actions:
        async with channel_server(actions.url, texts, action) as rasa_url:
            settings = hub_settings.with_changes(rasa_url=rasa_url, rasa_token=TOKEN)
            async with running_hub(settings) as hub:
                conversation_id, token = await hub.new_conversation()
                async with hub.socket(conversation_id, token) as ws:
                    await ws.recv()
                    await ws.send(
                        json.dumps({"type": "message", "text": "hi", "client_id": "m1"})
                    )
                    frames = await receive_until(
                        ws,
                        lambda f: handed_over(f) or f.get("role") == "bot",
                        timeout=60,
                    )
                    frames += await drain(ws, quiet_s=1.0)
                    await hub.ctx.relay.idle()
                async with hub.ctx.engine.connect() as connection:
                    handoffs = (
                        await connection.execute(
                            sa.text(
                                "SELECT reason, state FROM handoffs "
                                "WHERE conversation_id = :c"
                            ),
                            {"c": conversation_id},
                        )
                    ).all()
    return frames, [tuple(row) for row in handoffs]


def said(frames: list[dict[str, Any]], role: str) -> list[str]:
    return [
        f["text"] for f in frames if f.get("type") == "message" and f["role"] == role
    ]


@pytest.mark.parametrize("action_server", ["down", "hung", "failing"])
async def test_asking_for_a_person_reaches_one_when_the_handoff_action_fails(
    hub_settings: Settings, action_server: str
) -> None:
    frames, handoffs = await converse(
        hub_settings, action_server, (HANDOFF_TEXT,), "action_handoff"
    )
    assert [reason for reason, _ in handoffs] == ["bot_unavailable"]
    assert any(handed_over(f) for f in frames)
    # One clear message: the hub's, not the turn's promise of a person that
    # its failed action never asked for.
    assert said(frames, "bot") == []
    assert said(frames, "system")[0] == UNAVAILABLE_TEXT


@pytest.mark.parametrize("action_server", ["down", "hung"])
async def test_a_question_whose_answer_action_fails_reaches_a_person(
    hub_settings: Settings, action_server: str
) -> None:
    frames, handoffs = await converse(
        hub_settings, action_server, (), "action_answer_from_kb"
    )
    assert [reason for reason, _ in handoffs] == ["bot_unavailable"]
    assert said(frames, "system")[0] == UNAVAILABLE_TEXT


async def test_a_turn_whose_actions_ran_is_delivered_and_keeps_the_bot(
    hub_settings: Settings,
) -> None:
    frames, handoffs = await converse(
        hub_settings, "ok", (ANSWER_TEXT,), "action_answer_from_kb"
    )
    assert handoffs == []
    assert said(frames, "bot") == [ANSWER_TEXT]
    assert said(frames, "system") == []

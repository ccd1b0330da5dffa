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
from bot.conversations.service import REOPENED_TEXT
from bot.handoff.service import FOLLOW_UP_TEXT, QUEUED_TEXT
from bot.relay import UNAVAILABLE_TEXT
from tests.bot.agents import add_agent
from tests.bot.assistant.rasa_parts import (
    HANDOFF_TEXT,
    TOKEN,
    ActionServer,
    channel_server,
)
from tests.hub import drain, receive_until, running_hub

ANSWER_TEXT = "To reset your password, open the sign-in page."
FOLLOW_UP_START = FOLLOW_UP_TEXT.split("{", 1)[0]


def handed_over(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "status" and frame.get("state") in {
        "queued",
        "follow_up",
    }


async def converse(
    hub_settings: Settings,
    action_server: str,
    texts: tuple[str, ...],
    action: str,
    *,
    agent_online: bool = False,
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """One customer message through hub and channel; the frames and handoffs."""
    async with ActionServer(action_server) as actions:
        async with channel_server(actions.url, texts, action) as rasa_url:
            settings = hub_settings.with_changes(rasa_url=rasa_url, rasa_token=TOKEN)
            async with running_hub(settings) as hub:
                if agent_online:
                    await add_agent(hub.ctx.engine, email="ann@example.com")
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
    [notice] = said(frames, "system")
    assert notice.startswith(f"{UNAVAILABLE_TEXT} {FOLLOW_UP_START}")


@pytest.mark.parametrize("action_server", ["down", "hung"])
async def test_a_question_whose_answer_action_fails_reaches_a_person(
    hub_settings: Settings, action_server: str
) -> None:
    frames, handoffs = await converse(
        hub_settings, action_server, (), "action_answer_from_kb"
    )
    assert [reason for reason, _ in handoffs] == ["bot_unavailable"]
    assert said(frames, "system")[0].startswith(UNAVAILABLE_TEXT)


async def test_a_turn_whose_actions_ran_is_delivered_and_keeps_the_bot(
    hub_settings: Settings,
) -> None:
    frames, handoffs = await converse(
        hub_settings, "ok", (ANSWER_TEXT,), "action_answer_from_kb"
    )
    assert handoffs == []
    assert said(frames, "bot") == [ANSWER_TEXT, "done"]  # the action's too
    assert said(frames, "system") == []


@pytest.mark.parametrize(
    ("agent_online", "state", "notice"),
    [(True, "queued", QUEUED_TEXT), (False, "follow_up", FOLLOW_UP_START)],
    ids=["agent-online", "nobody-online"],
)
async def test_a_handoff_is_announced_once_with_what_will_happen(
    hub_settings: Settings, agent_online: bool, state: str, notice: str
) -> None:
    frames, handoffs = await converse(
        hub_settings,
        "handing_over",
        (HANDOFF_TEXT,),
        "action_handoff",
        agent_online=agent_online,
    )
    assert handoffs == [("customer_request", state)]
    # The bot's "I'm bringing in a person" is not said before the hub knows
    # whether anyone can join: one notice says what happens.
    assert said(frames, "bot") == []
    [text] = said(frames, "system")
    assert text.startswith(notice)
    [message] = [f for f in frames if f.get("role") == "system"]
    if state == "follow_up":
        # The promised time, for the widget to show in the customer's zone.
        status = next(f for f in frames if f.get("type") == "status")
        assert message["meta"]["due_at"] == status["due_at"]
        assert message["meta"]["due_text"] in text
        assert "UTC" in message["meta"]["due_text"]
    else:
        assert message["meta"] == {}


async def test_a_message_after_the_chat_was_resolved_reopens_it_to_the_bot(
    hub_settings: Settings,
) -> None:
    async with ActionServer("ok") as actions:
        async with channel_server(
            actions.url, (ANSWER_TEXT,), "action_answer_from_kb"
        ) as rasa_url:
            settings = hub_settings.with_changes(rasa_url=rasa_url, rasa_token=TOKEN)
            async with running_hub(settings) as hub:
                conversation_id, token = await hub.new_conversation()
                handoffs = hub.ctx.handoffs
                agent_id = await add_agent(hub.ctx.engine, email="ann@example.com")
                handoff = await handoffs.start(conversation_id, "customer_request")
                assert handoff is not None
                await handoffs.claim(handoff.id, agent_id, "Ann")
                await handoffs.resolve(handoff.id, agent_id, "solved")
                async with hub.socket(conversation_id, token) as ws:
                    await receive_until(ws, lambda f: f.get("type") == "status")
                    await ws.send(
                        json.dumps(
                            {"type": "message", "text": "one more", "client_id": "m2"}
                        )
                    )
                    frames = await receive_until(
                        ws,
                        lambda f: f.get("type") == "message" and f["role"] == "bot",
                        timeout=60,
                    )
                    await hub.ctx.relay.idle()
                # The customer is told, sees the bot take it, and gets an answer.
                assert said(frames, "system")[-1] == REOPENED_TEXT
                assert {"type": "status", "state": "bot"} in frames
                assert said(frames, "bot")[0] == ANSWER_TEXT
                conversation = await hub.ctx.conversations.get(conversation_id)
                assert conversation is not None and conversation.state == "bot"
                # And the bot can hand over again: a new handoff, in line.
                again = await handoffs.start(conversation_id, "customer_request")
                assert again is not None and again.id != handoff.id
                assert again.state in {"queued", "follow_up"}

"""The hub's Rasa client: reading the Baton channel's answer (what the handoff
card needs), and telling a busy Rasa from one that does not answer at all."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.assistant.client import RasaClient, parse_turn
from bot.exceptions import DependencyUnavailable
from tests.conftest import free_port


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
    assert turn.embedding is None


def test_a_turn_keeps_the_messages_embedding_for_the_inbox() -> None:
    embedding = {"model": "m", "dimension": 2, "vector": "AACAPwAAAAA="}
    assert parse_turn({"messages": [], "embedding": embedding}).embedding == embedding
    assert parse_turn({"messages": [], "embedding": "AACAPw"}).embedding is None


@contextlib.asynccontextmanager
async def rasa_like(
    turn_after_s: float | None, root_answers: bool
) -> AsyncIterator[str]:
    """An HTTP server where Rasa would be: a turn answered after
    ``turn_after_s`` (never with ``None``), a root page answered or not."""
    never = asyncio.Event()

    async def turn(request: web.Request) -> web.Response:
        if turn_after_s is None:
            await never.wait()
        await asyncio.sleep(turn_after_s or 0)
        return web.json_response({"messages": [{"text": "Here is how."}]})

    async def root(request: web.Request) -> web.Response:
        if not root_answers:
            await never.wait()
        return web.Response(text="Hello from Rasa")

    app = web.Application()
    app.router.add_post("/webhooks/baton/webhook", turn)
    app.router.add_get("/", root)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def client_for(url: str) -> RasaClient:
    return RasaClient(
        url,
        "http://127.0.0.1:9",
        "t",
        60.0,
        liveness_after_s=0.2,
        liveness_timeout_s=0.3,
    )


async def test_a_rasa_that_does_not_answer_at_all_fails_the_turn_in_seconds() -> None:
    async with rasa_like(turn_after_s=None, root_answers=False) as url:
        client = client_for(url)
        try:
            with pytest.raises(DependencyUnavailable, match="does not answer"):
                await asyncio.wait_for(client.send("c1", "hello", {}), 5)
            # For a moment after, calls fail at once (a handoff's pause of
            # the tracker does not wait on the same silent server).
            with pytest.raises(DependencyUnavailable, match="did not answer just now"):
                await asyncio.wait_for(client.append_events("c1", []), 0.1)
        finally:
            await client.close()


async def test_a_busy_rasa_that_answers_is_waited_for() -> None:
    async with rasa_like(turn_after_s=1.0, root_answers=True) as url:
        client = client_for(url)
        try:
            turn = await client.send("c1", "hello", {})
        finally:
            await client.close()
    assert [m.text for m in turn.messages] == ["Here is how."]

"""Handoff triggers and the agent's side, end to end with the real stack.

Each trigger goes through the trained model, the action server and the hub;
the agent uses the same HTTP API and WebSocket the console uses. The last
test kills the Rasa server (found by its environment among the processes
this test run started) and waits for the stack's supervisor to restart it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.helpers import Console, handoffs_of, stack_processes, stack_rows
from tests.e2e.test_stack import connect, is_bot, start
from tests.hub import drain, receive_until

pytestmark = pytest.mark.stack


def handed_over(frame: dict[str, Any]) -> bool:
    return frame.get("type") == "status" and frame.get("state") in {
        "queued",
        "follow_up",
    }


async def send(ws: Any, text: str, client_id: str) -> None:
    await ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))


async def talk_until_handoff(
    stack, texts: list[str]
) -> tuple[str, str, list[dict[str, Any]]]:
    """Say each text in turn (waiting for the bot) until the chat is handed over."""
    conversation_id, token = await start(stack)
    frames: list[dict[str, Any]] = []
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        for n, text in enumerate(texts):
            await send(ws, text, f"m{n}")
            got = await receive_until(
                ws, lambda f: is_bot(f) or handed_over(f), timeout=60
            )
            got += await drain(ws, quiet_s=1.5)
            frames += got
            if any(handed_over(f) for f in got):
                return conversation_id, token, frames
    pytest.fail(f"no handoff after {texts}: {frames}")


@pytest.mark.parametrize(
    "texts",
    [
        ["I forgot my password", "can I talk to a real person please"],
        ["my notes don't sync", "get me a human"],
        ["hello", "I'd rather speak to someone from your team"],
    ],
)
async def test_asking_for_a_person_at_any_point_hands_over(stack, texts) -> None:
    conversation_id, _, frames = await talk_until_handoff(stack, texts)
    assert [reason for _, reason, _ in handoffs_of(stack, conversation_id)] == [
        "customer_request"
    ]
    # One notice says what happens, and nothing contradicts it: a person
    # joins, or nobody can now and one gets back by a time.
    said = [
        f["text"]
        for f in frames
        if f.get("type") == "message" and f["role"] in {"bot", "system"}
    ]
    promises = [
        text
        for text in said
        if "bringing in a person" in text or "Nobody from our team" in text
    ]
    assert len(promises) == 1, said


async def test_not_understood_twice_hands_over(stack) -> None:
    conversation_id, _, _ = await talk_until_handoff(
        stack, ["qwzx plorb vint", "zzkv blarg frump", "xq jjv wubble", "mrrp tzz"]
    )
    assert [reason for _, reason, _ in handoffs_of(stack, conversation_id)] == [
        "fallback"
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I want to make a formal complaint about your service", "sensitive"),
        (
            "someone logged into my account from another country and changed my email",
            "sensitive",
        ),
        ("my bank statement shows a lumen charge that I never authorised", "sensitive"),
        ("my lawyer is going to contact your company", "sensitive"),
        # Someone who may be in danger has a reason of their own, first in
        # the queue (bot/handoff/queue.py).
        (
            "my sister wrote in a note she shared with me "
            "that she wants to kill herself",
            "danger",
        ),
    ],
)
async def test_a_sensitive_topic_goes_to_a_person(stack, text, reason) -> None:
    conversation_id, _, _ = await talk_until_handoff(stack, [text])
    assert [found for _, found, _ in handoffs_of(stack, conversation_id)] == [reason]


async def test_a_frustrated_customer_goes_to_a_person_and_the_card_shows_it(
    stack, console
) -> None:
    conversation_id, _, _ = await talk_until_handoff(
        stack, ["my notes don't sync", "WHY DOES NOTHING EVER WORK??? useless"]
    )
    [(handoff_id, reason, _)] = handoffs_of(stack, conversation_id)
    assert reason == "frustration"
    status, card = await console.call("GET", f"/api/handoffs/{handoff_id}")
    assert status == 200, card
    assert card["reason"] == "frustration"
    assert card["sentiment"][-1]["frustrated"] is True
    assert card["sentiment"][0]["score"] < card["sentiment"][-1]["score"]
    assert card["turns"][0]["intent"] == "sync_problem"
    assert card["turns"][0]["confidence"] > 0
    assert "my notes don't sync" in card["summary"]
    assert card["customer"]["locale"] == "en"
    assert card["actions"]


async def test_while_queued_the_agent_gets_every_message_and_the_bot_none(
    stack, console
) -> None:
    conversation_id, token = await start(stack)
    async with console.socket() as agent_ws:
        await receive_until(agent_ws, lambda f: f.get("type") == "queue")
        async with connect(stack, conversation_id, token) as ws:
            await ws.recv()
            await send(ws, "talk to an agent", "h1")
            await receive_until(ws, handed_over, timeout=60)
            await receive_until(
                agent_ws,
                lambda f: (
                    f.get("type") == "watching"
                    and f["conversation_id"] == conversation_id
                ),
            )
            await send(ws, "I forgot my password", "q1")
            await send(ws, "hello?", "q2")
            to_agent = await receive_until(
                agent_ws, lambda f: f.get("client_id") == "q2", timeout=30
            )
            to_customer = await drain(ws, quiet_s=3.0)
    texts = [f["text"] for f in to_agent if f.get("type") == "message"]
    assert texts[-2:] == ["I forgot my password", "hello?"]
    assert not [f for f in to_customer if is_bot(f)]
    states = stack_rows(
        stack,
        "SELECT relay_state FROM messages WHERE conversation_id = :c "
        "AND client_id IN ('q1', 'q2')",
        c=conversation_id,
    )
    assert {row.relay_state for row in states} == {"skipped"}


@contextlib.asynccontextmanager
async def claimed_chat(
    stack: Any, console: Console
) -> AsyncIterator[tuple[Any, str, int]]:
    """A new chat whose customer asked for a person and whose agent claimed it:
    (the customer's socket, the conversation id, the handoff id)."""
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await send(ws, "I want to talk to a human", "h1")
        await receive_until(ws, handed_over, timeout=60)
        [(handoff_id, _, _)] = handoffs_of(stack, conversation_id)
        status, body = await console.call("POST", f"/api/handoffs/{handoff_id}/claim")
        assert status == 200, body
        yield ws, conversation_id, handoff_id


async def test_after_hand_back_the_next_question_gets_the_right_answer(
    stack, console
) -> None:
    async with claimed_chat(stack, console) as (ws, conversation_id, handoff_id):
        status, body = await console.call(
            "POST",
            f"/api/conversations/{conversation_id}/messages",
            {"text": "Hi, Demo Agent here. What's up?", "client_id": "a1"},
        )
        assert status == 201, body
        reply = await receive_until(ws, lambda f: f.get("role") == "agent")
        assert reply[-1]["meta"]["agent"]["name"]
        status, body = await console.call(
            "POST", f"/api/handoffs/{handoff_id}/handback"
        )
        assert status == 200, body
        await receive_until(ws, lambda f: f.get("state") == "bot")
        await send(ws, "I forgot my password", "p1")
        frames = await receive_until(ws, is_bot, timeout=60)
    answer = next(f for f in frames if is_bot(f))
    assert "password" in answer["text"].lower()
    assert "reset" in answer["text"].lower()
    [(meta,)] = stack_rows(
        stack,
        "SELECT meta FROM messages WHERE conversation_id = :c AND client_id = 'p1'",
        c=conversation_id,
    )
    nlu = (json.loads(meta) if isinstance(meta, str) else meta)["_nlu"]
    assert nlu["intent"] == "password_reset"
    assert nlu["slots"].get("handed_back") is True


async def test_after_resolve_a_message_is_answered_and_a_person_can_come_again(
    stack, console
) -> None:
    async with claimed_chat(stack, console) as (ws, conversation_id, handoff_id):
        status, body = await console.call(
            "POST", f"/api/handoffs/{handoff_id}/resolve", {"outcome": "solved"}
        )
        assert status == 200, body
        await receive_until(ws, lambda f: f.get("state") == "resolved")
        # Minutes later the customer writes again: the bot takes it, says so,
        # and answers.
        await send(ws, "I forgot my password", "p1")
        frames = await receive_until(ws, is_bot, timeout=60)
        notices = [f["text"] for f in frames if f.get("role") == "system"]
        assert any(text.startswith("This chat was closed") for text in notices)
        assert {"type": "status", "state": "bot"} in frames
        answer = next(f for f in frames if is_bot(f))
        assert "password" in answer["text"].lower()
        # Asking for a person again starts a new handoff.
        await drain(ws, quiet_s=1.5)
        await send(ws, "can I talk to a real person please", "h2")
        await receive_until(ws, handed_over, timeout=60)
    assert [
        (reason, state) for _, reason, state in handoffs_of(stack, conversation_id)
    ] == [
        ("customer_request", "resolved"),
        ("customer_request", "queued"),
    ]


def child_pid(data_dir: Path, module: bytes) -> int:
    """The stack's process running ``module`` (matched by its data dir)."""
    for pid, cmdline, _ in stack_processes(data_dir):
        if module in cmdline:
            return pid
    pytest.fail(f"the stack's {module.decode()} was not found")


def rasa_server_pid(data_dir: Path) -> int:
    """The Rasa server this test run's stack started."""
    return child_pid(data_dir, b"bot.rasa_server")


def wait_healthy(url: str, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=3) as response:
                if response.status == 200:
                    return
        except Exception:
            pass
        time.sleep(1)
    pytest.fail("the stack did not recover")


async def test_rasa_stopped_mid_conversation_hands_over_and_loses_nothing(
    stack,
) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await send(ws, "my notes don't sync", "s1")
        await receive_until(ws, is_bot, timeout=60)
        await drain(ws, quiet_s=1.0)
        os.kill(rasa_server_pid(stack.data_dir), signal.SIGKILL)
        await send(ws, "it still doesn't work on my phone", "s2")
        frames = await receive_until(ws, handed_over, timeout=90)
        await send(ws, "are you there?", "s3")
        frames += await receive_until(ws, lambda f: f.get("client_id") == "s3")
    system = [f["text"] for f in frames if f.get("role") == "system"]
    assert any("having trouble" in text for text in system)
    assert [reason for _, reason, _ in handoffs_of(stack, conversation_id)] == [
        "bot_unavailable"
    ]
    async with aiohttp.ClientSession() as client:
        async with client.get(
            f"{stack.url}/api/conversations/{conversation_id}/messages",
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            history = (await response.json())["messages"]
    customer = [m["text"] for m in history if m["role"] == "customer"]
    assert customer == [
        "my notes don't sync",
        "it still doesn't work on my phone",
        "are you there?",
    ]
    # Leave the stack as we found it: the supervisor restarts Rasa.
    await asyncio.to_thread(wait_healthy, stack.url)

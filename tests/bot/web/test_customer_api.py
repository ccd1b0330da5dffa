"""The customer API and WebSocket, on a real hub; Rasa is not running here.

Bad input gets a clear error, the connection survives, nothing is stored
twice. With Rasa down, a customer's message is handed to a person.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
import websockets

from bot.config import Settings
from tests.hub import RunningHub, drain, receive_until, running_hub


@pytest.fixture
async def hub(hub_settings: Settings) -> AsyncIterator[RunningHub]:
    """A hub of its own per test on an embedded SQLite file.

    Not the web tests' hub on each database (tests/bot/web/conftest.py):
    these tests count queue places and handoffs, which other tests' rows in
    the run's shared PostgreSQL database would change.
    """
    async with running_hub(hub_settings) as running:
        yield running


def handed_off(frame: dict) -> bool:
    return frame.get("state") in {"queued", "follow_up"}


async def http(method: str, url: str, **kw) -> tuple[int, dict, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, **kw) as response:
            text = await response.text()
            body = json.loads(text) if text else {}
            return response.status, body, dict(response.headers)


async def stored_messages(hub, conversation_id: str) -> list:
    return await hub.ctx.conversations.repository.messages_after(conversation_id, 0)


async def test_create_conversation_returns_id_and_token(hub) -> None:
    status, body, _ = await http(
        "POST", f"{hub.url}/api/conversations", json={"locale": "en-GB"}
    )
    assert status == 201
    assert len(body["conversation_id"]) >= 20 and len(body["token"]) >= 40
    other = await hub.new_conversation()
    assert other[0] != body["conversation_id"] and other[1] != body["token"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (json.dumps({"locale": 5}).encode(), "bad_request"),
        (json.dumps({"page_url": "x" * 5000}).encode(), "bad_request"),
        (json.dumps({"user": "me"}).encode(), "bad_request"),
        (
            json.dumps({"user": {"id": "u1"}, "user_hash": "forged"}).encode(),
            "identity_unavailable",
        ),
    ],
)
async def test_bad_create_requests_get_clear_errors(hub, body, code) -> None:
    status, answer, _ = await http("POST", f"{hub.url}/api/conversations", data=body)
    assert status == 400
    assert answer["error"]["code"] == code and answer["error"]["message"]


async def test_conversation_creation_is_rate_limited_per_address(hub) -> None:
    limit = hub.settings.limits.conversations_per_ip_per_hour
    statuses = [
        (await http("POST", f"{hub.url}/api/conversations"))[0]
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [201] * limit
    status, body, headers = await http("POST", f"{hub.url}/api/conversations")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert int(headers["Retry-After"]) >= 1


async def test_other_origins_are_refused(hub) -> None:
    status, body, _ = await http(
        "POST",
        f"{hub.url}/api/conversations",
        headers={"Origin": "https://evil.example"},
    )
    assert status == 403 and body["error"]["code"] == "bad_origin"
    status, _, headers = await http(
        "POST", f"{hub.url}/api/conversations", headers={"Origin": hub.url}
    )
    assert status == 201 and headers["Access-Control-Allow-Origin"] == hub.url


async def test_history_needs_the_right_token(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    url = f"{hub.url}/api/conversations/{conversation_id}/messages"
    status, body, _ = await http(
        "GET", url, headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 200
    assert body == {"messages": [], "status": {"type": "status", "state": "bot"}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
        status, body, _ = await http("GET", url, headers=headers)
        assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body, _ = await http(
        "GET",
        f"{hub.url}/api/conversations/{'x' * 22}/messages",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body, _ = await http(
        "GET", f"{url}?after=-1", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 400 and body["error"]["code"] == "bad_after"


async def test_unknown_routes_and_methods_answer_json(hub) -> None:
    status, body, _ = await http("GET", f"{hub.url}/api/nothing-here")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body, _ = await http("DELETE", f"{hub.url}/api/conversations")
    assert status == 405 and body["error"]["code"]


async def test_socket_with_wrong_token_or_unknown_conversation(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    cases = [
        (conversation_id, "wrong", "unauthorized", 4401),
        ("y" * 22, token, "not_found", 4404),
        ("short", token, "not_found", 4404),
    ]
    for target, secret, code, close_code in cases:
        async with hub.socket(target, secret) as ws:
            frame = json.loads(await ws.recv())
            assert (frame["type"], frame["code"]) == ("error", code)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.code == close_code


async def test_socket_from_another_origin_is_refused(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    async with hub.socket(
        conversation_id, token, extra_headers={"Origin": "https://evil.example"}
    ) as ws:
        frame = json.loads(await ws.recv())
        assert frame["code"] == "bad_origin"


async def test_bad_frames_get_error_frames_and_the_socket_survives(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    bad_frames = [
        ("{oops", "invalid_json"),
        ("[]", "bad_request"),
        (json.dumps({"text": "no type"}), "bad_request"),
        (json.dumps({"type": "launch_missiles"}), "unknown_type"),
        (json.dumps({"type": "message", "text": ""}), "empty_message"),
        (json.dumps({"type": "message", "text": "   "}), "empty_message"),
        (json.dumps({"type": "message", "text": 42}), "bad_request"),
        (json.dumps({"type": "message", "text": "x" * 5000}), "too_large"),
        (json.dumps({"type": "message", "text": "x" * 100_000}), "too_large"),
        (
            json.dumps({"type": "message", "text": "hi", "client_id": "a b"}),
            "bad_client_id",
        ),
        (
            json.dumps({"type": "button", "payload": "/restart", "client_id": "b1"}),
            "unknown_button",
        ),
        (json.dumps({"type": "rating", "score": 9}), "bad_request"),
        (json.dumps({"type": "rating", "score": True}), "bad_request"),
    ]
    async with hub.socket(conversation_id, token) as ws:
        assert json.loads(await ws.recv()) == {"type": "status", "state": "bot"}
        for raw, code in bad_frames:
            await ws.send(raw)
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert (frame["type"], frame["code"]) == ("error", code), raw[:60]
            assert frame["message"]
        await ws.send(json.dumps({"type": "rating", "score": 5, "comment": "ok"}))
        assert json.loads(await ws.recv()) == {"type": "rated", "score": 5}
    assert await stored_messages(hub, conversation_id) == []


async def test_messages_are_stored_once_and_echoed_with_seq(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    async with hub.socket(conversation_id, token) as ws:
        await ws.recv()
        for _ in range(3):  # a client retrying the same send
            await ws.send(
                json.dumps({"type": "message", "text": "hello", "client_id": "c-1"})
            )
        frames = await receive_until(ws, handed_off)
    echoes = [f for f in frames if f.get("client_id") == "c-1"]
    assert (
        len(echoes) == 1 and echoes[0]["seq"] == 1 and echoes[0]["role"] == "customer"
    )
    customer = [
        m for m in await stored_messages(hub, conversation_id) if m.role == "customer"
    ]
    assert len(customer) == 1


async def test_rasa_down_hands_the_customer_to_a_person(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    async with hub.socket(conversation_id, token) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "message", "text": "my sync is broken"}))
        frames = await receive_until(ws, handed_off)
        await ws.send(json.dumps({"type": "message", "text": "anyone?"}))
        frames += await drain(ws)
    # Nobody is online here: the customer gets a promise with a due time.
    status = next(f for f in frames if handed_off(f))
    assert status["state"] == "follow_up" and status["due_at"]
    stored = await stored_messages(hub, conversation_id)
    # One notice: why, and what happens (nobody online: a promise).
    assert [m.role for m in stored] == ["customer", "system", "customer"]
    assert "trouble" in stored[1].text and "get back to you by" in stored[1].text
    assert [m.relay_state for m in stored if m.role == "customer"] == [
        "failed",
        "skipped",
    ]


async def test_resume_after_seq_sends_exactly_what_was_missed(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    async with hub.socket(conversation_id, token) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "message", "text": "one", "client_id": "1"}))
        await receive_until(ws, handed_off)
    # While disconnected, more is written (the queue is waiting for a person).
    for n in (2, 3):
        await hub.ctx.conversations.post_customer_text(
            await hub.ctx.conversations.repository.get(conversation_id), f"m{n}", f"{n}"
        )
    # Seen before disconnecting: "one", then one system message (the bot is
    # unavailable; nobody is online, so a follow-up is promised).
    async with hub.socket(conversation_id, token, after=2) as ws:
        frames = await drain(ws)
    messages = [f for f in frames if f["type"] == "message"]
    assert [m["seq"] for m in messages] == [3, 4]
    assert [m["text"] for m in messages] == ["m2", "m3"]
    assert frames[-1]["type"] == "status"


async def test_two_sockets_of_one_conversation_see_each_message_once(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    async with (
        hub.socket(conversation_id, token) as a,
        hub.socket(conversation_id, token) as b,
    ):
        await a.recv()
        await b.recv()
        await a.send(json.dumps({"type": "message", "text": "from tab a"}))
        frames_b = await receive_until(b, handed_off)
        frames_b += await drain(b)
    seqs = [f["seq"] for f in frames_b if f["type"] == "message"]
    assert seqs == sorted(set(seqs)) == [1, 2]  # the message, the one notice


async def test_messages_per_minute_are_limited_on_one_connection(hub_settings) -> None:
    from bot.config import Limits
    from tests.hub import running_hub

    settings = hub_settings.with_changes(limits=Limits(messages_per_minute=3))
    async with running_hub(settings) as limited:
        conversation_id, token = await limited.new_conversation()
        async with limited.socket(conversation_id, token) as ws:
            await ws.recv()
            for n in range(4):
                await ws.send(json.dumps({"type": "rating", "score": 3, "n": n}))
            frames = [json.loads(await ws.recv()) for _ in range(4)]
        assert [f["type"] for f in frames] == ["rated", "rated", "rated", "error"]
        assert frames[-1]["code"] == "rate_limited" and frames[-1]["retry_after_s"] > 0


async def test_pages_send_a_content_security_policy(hub) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{hub.url}/api/openapi.json") as response:
            document = await response.json()
        assert "/api/conversations" in document["paths"]
        async with session.get(f"{hub.url}/static/..%2Fapp.py") as response:
            assert response.status == 404


async def test_health_reports_each_dependency(hub) -> None:
    status, body, _ = await http("GET", f"{hub.url}/health")
    assert status == 503 and body["status"] == "degraded"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["bus"]["status"] == "ok"
    assert body["checks"]["rasa"]["status"] == "down"
    assert body["checks"]["action_server"]["status"] == "down"


@pytest.mark.parametrize(
    "refresh_s",
    # 3600: only the queue-change event can move the customer up in time;
    # 0.2: the periodic refresh alone would do it too.
    [3600.0, 0.2],
    ids=["on-queue-events", "periodic"],
)
async def test_queued_customers_see_their_place_move_and_the_agent_join(
    hub, monkeypatch, refresh_s
) -> None:
    from bot.web import customer as customer_module

    monkeypatch.setattr(customer_module, "STATUS_REFRESH_S", refresh_s)
    agent = await hub.ctx.auth.create_agent(
        "ann@example.com", "Ann", "agent", "a long enough password"
    )
    await hub.ctx.auth.set_presence(agent, "online")
    first_id, first_token = await hub.new_conversation()
    second_id, second_token = await hub.new_conversation()
    async with (
        hub.socket(first_id, first_token) as first,
        hub.socket(second_id, second_token) as second,
    ):
        await first.recv()
        await second.recv()
        await first.send(json.dumps({"type": "message", "text": "help me"}))
        await receive_until(first, lambda f: f.get("state") == "queued")
        await second.send(json.dumps({"type": "message", "text": "me too"}))
        frames = await receive_until(second, lambda f: f.get("state") == "queued")
        assert frames[-1]["position"] == 2
        # Ann takes the first customer: the second moves up without doing
        # anything, and the first sees who joined.
        handoff = await hub.ctx.handoffs.repository.current(first_id)
        await hub.ctx.handoffs.claim(handoff.id, agent.id, agent.name)
        joined = await receive_until(first, lambda f: f.get("state") == "agent")
        assert joined[-1]["agent"] == {"name": "Ann"}
        moved = await receive_until(second, lambda f: f.get("position") == 1)
    assert moved[-1]["state"] == "queued"

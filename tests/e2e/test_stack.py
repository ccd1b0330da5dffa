"""A customer talks to the real assistant through the real hub."""

from __future__ import annotations

import json

import aiohttp
import pytest
import websockets

from tests.e2e.helpers import stack_processes
from tests.hub import drain, receive_until

pytestmark = pytest.mark.stack


async def start(stack) -> tuple[str, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{stack.url}/api/conversations", json={"locale": "en", "page_url": "/"}
        ) as response:
            assert response.status == 201
            body = await response.json()
    return body["conversation_id"], body["token"]


def connect(stack, conversation_id: str, token: str, after: int = 0):
    return websockets.connect(
        f"{stack.ws_url}/api/conversations/{conversation_id}/ws"
        f"?token={token}&after={after}"
    )


def is_bot(frame: dict) -> bool:
    return frame.get("type") == "message" and frame.get("role") == "bot"


async def say(ws, text: str, client_id: str) -> list[dict]:
    await ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
    frames = await receive_until(ws, is_bot, timeout=60)
    return frames + await drain(ws, quiet_s=1.0)


async def test_health_reports_every_dependency_up(stack) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{stack.url}/health") as response:
            body = await response.json()
    assert response.status == 200, body
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "bus": "ok",
        "rasa": "ok",
        "action_server": "ok",
    }
    expected = "redis" if stack.mode == "production" else "in-process"
    assert body["checks"]["bus"]["backend"] == expected


async def test_forgotten_password_gets_the_bot_answer(stack) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        assert json.loads(await ws.recv())["state"] == "bot"
        frames = await say(ws, "I forgot my password", "pw-1")
    echo = next(f for f in frames if f.get("client_id") == "pw-1")
    answer = next(f for f in frames if is_bot(f))
    assert echo["seq"] == 1 and echo["role"] == "customer"
    assert answer["seq"] == 2
    assert "password" in answer["text"].lower()
    assert "_nlu" not in json.dumps(frames)


async def test_reconnect_with_after_gets_exactly_what_was_missed(stack) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as first:
        await first.recv()
        seen = await say(first, "hello", "hi-1")
    last_seen = max(f["seq"] for f in seen if f["type"] == "message")
    # The first tab is gone; the conversation goes on in another one.
    async with connect(stack, conversation_id, token, after=last_seen) as second:
        await second.recv()
        missed_live = await say(second, "my notes are not syncing", "sync-1")
    live = [f for f in missed_live if f["type"] == "message"]
    async with connect(stack, conversation_id, token, after=last_seen) as resumed:
        replayed = await drain(resumed, quiet_s=1.5)
    messages = [f for f in replayed if f["type"] == "message"]
    assert [m["seq"] for m in messages] == [m["seq"] for m in live]
    assert len({m["seq"] for m in messages}) == len(messages)
    assert messages[0]["seq"] == last_seen + 1
    assert messages[0]["client_id"] == "sync-1"
    assert replayed[-1]["type"] == "status"
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{stack.url}/api/conversations/{conversation_id}/messages",
            params={"after": str(last_seen)},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            history = await response.json()
    assert [m["seq"] for m in history["messages"]] == [m["seq"] for m in messages]


async def test_offered_buttons_work_and_others_are_refused(stack) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, "how do I reset my password", "b-1")
        offered = [b for f in frames if is_bot(f) for b in f["buttons"]]
        assert offered, "the answer offers quick replies"
        await ws.send(
            json.dumps({"type": "button", "payload": "/restart", "client_id": "b-2"})
        )
        refused = json.loads(await ws.recv())
        assert (refused["type"], refused["code"]) == ("error", "unknown_button")
        await ws.send(
            json.dumps(
                {"type": "button", "payload": offered[0]["payload"], "client_id": "b-3"}
            )
        )
        after_click = await receive_until(ws, is_bot, timeout=60)
    echo = next(f for f in after_click if f.get("client_id") == "b-3")
    assert echo["text"] == offered[0]["title"]


async def test_asking_for_a_person_hands_off_and_silences_the_bot(stack) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await ws.send(
            json.dumps({"type": "message", "text": "I want to talk to a human agent"})
        )
        frames = await receive_until(
            ws, lambda f: f.get("state") in {"queued", "follow_up"}, 60
        )
        # The hub says what happens, once it knows: a person joins or gets back.
        assert [
            f["text"]
            for f in frames
            if f.get("type") == "message"
            and f["role"] == "system"
            and ("bringing in a person" in f["text"] or "Nobody from our" in f["text"])
        ]
        await ws.send(json.dumps({"type": "message", "text": "hello? password reset"}))
        later = await drain(ws, quiet_s=2.0)
    # The bot is silent; the message waits for a person.
    assert [f["role"] for f in later if f["type"] == "message"] == ["customer"]


async def test_a_request_for_a_person_after_a_bot_question_hands_off(stack) -> None:
    # Read whole, the bot question outweighed the request (small talk).
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await ws.send(
            json.dumps(
                {
                    "type": "message",
                    "text": "Is this a bot? I'd rather speak with a real person.",
                }
            )
        )
        frames = await receive_until(
            ws, lambda f: f.get("state") in {"queued", "follow_up"}, 60
        )
    assert frames[-1]["state"] in {"queued", "follow_up"}


async def test_typed_slash_commands_reach_rasa_as_text(stack) -> None:
    """As a command, ``/intent@0.123`` would be parsed with confidence 0.123."""
    import sqlalchemy as sa

    conversation_id, token = await start(stack)
    typed = "/bot_challenge@0.123"
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "message", "text": typed}))
        frames = await receive_until(ws, is_bot, timeout=60)
    echo = next(f for f in frames if f.get("role") == "customer")
    assert echo["text"] == typed  # the customer sees what they typed
    engine = sa.create_engine(stack.database_url)
    with engine.connect() as connection:
        meta = connection.execute(
            sa.text("SELECT meta FROM messages WHERE conversation_id = :c AND seq = 1"),
            {"c": conversation_id},
        ).scalar_one()
    engine.dispose()
    nlu = (json.loads(meta) if isinstance(meta, str) else meta)["_nlu"]
    assert nlu["intent"] is not None
    assert nlu["confidence"] != pytest.approx(0.123)


def test_rasa_loads_its_model_once_at_start(stack) -> None:
    """The model Rasa runs is loaded once: pulled from the hub, not from disk too.

    A load (the intent classifier's graph, the encoder, the knowledge index)
    is most of a stack's start. Rasa ignores ``--model`` when ``endpoints.yml``
    names a model server; a second load would double the wait of every start.
    """
    loads = [
        line
        for line in stack.log.read_text(errors="replace").splitlines()
        if line.startswith("[rasa]") and "rasa.core.processor" in line
        if "Loading model" in line
    ]
    assert len(loads) == 1, loads


def test_no_process_of_the_stack_shows_the_shared_secret(stack) -> None:
    """Rasa's token travels in the environment, never on a command line."""
    seen = 0
    for _, cmdline, environ in stack_processes(stack.data_dir):
        token = next(
            (
                v[len(b"BATON_RASA_TOKEN=") :]
                for v in environ
                if v.startswith(b"BATON_RASA_TOKEN=")
            ),
            b"",
        )
        if not token:
            continue  # the supervisor, which makes the token for its children
        assert not any(token in argument for argument in cmdline), cmdline[:3]
        seen += 1
    assert seen >= 3  # Rasa, the action server and the hub


def stack_environment(stack) -> dict[str, str]:
    """The settings the stack's Rasa, action server and hub run with."""
    for _, _, environ in stack_processes(stack.data_dir):
        env = dict(v.decode().partition("=")[::2] for v in environ if b"=" in v)
        if env.get("BATON_RASA_TOKEN"):
            return env
    pytest.fail("no process of the stack holds the shared secret")


async def test_rasa_and_the_action_server_refuse_callers_without_the_secret(
    stack,
) -> None:
    env = stack_environment(stack)
    rasa, actions = env["BATON_RASA_URL"], env["BATON_ACTION_SERVER_URL"]
    secret = env["BATON_RASA_TOKEN"]
    sender = "someone-else-s-conversation"
    calls = [
        ("GET", f"{rasa}/status", None),
        ("GET", f"{rasa}/domain", None),
        ("GET", f"{rasa}/conversations/{sender}/tracker", None),
        ("POST", f"{rasa}/conversations/{sender}/messages", {"text": "hi"}),
        ("POST", f"{rasa}/conversations/{sender}/trigger_intent", {"name": "greet"}),
        ("POST", f"{rasa}/model/parse", {"text": "hi"}),
        ("PUT", f"{rasa}/model", {"model_file": "/tmp/other.tar.gz"}),
        ("POST", f"{rasa}/webhooks/baton/webhook", {"sender": sender, "message": "hi"}),
        ("POST", f"{actions}/webhook", {"next_action": "action_listen"}),
        ("POST", f"{actions}/webhook/", {"next_action": "action_listen"}),
    ]
    async with aiohttp.ClientSession() as client:
        for method, url, body in calls:
            for query, headers in [
                ("", {}),
                ("?token=wrong", {"Authorization": "Bearer wrong"}),
            ]:
                async with client.request(
                    method, url + query, json=body, headers=headers
                ) as response:
                    assert response.status in {401, 403}, (method, url, query)
        # The secret is what opens them (the routes exist and answer).
        async with client.get(f"{rasa}/status?token={secret}") as response:
            assert response.status == 200

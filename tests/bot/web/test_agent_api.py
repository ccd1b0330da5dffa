"""The agent API on a real hub (no Rasa), on SQLite and on PostgreSQL.

Every refusal is checked for its status and code *and* for having changed
nothing. Without Rasa, a customer message makes the hub hand the
conversation over by itself (``bot_unavailable``), which gives the queue
real handoffs through the real path.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
import websockets

from bot.auth.repository import audit_log
from bot.config import Limits
from bot.db.models import Agent as AgentRow
from bot.db.models import Handoff, Message, Note
from bot.web import agent_socket
from tests.bot.auth.test_auth_api import PASSWORD, call, login, update_sessions
from tests.conftest import shared_hub
from tests.hub import RunningHub, drain, receive_until

# One hub per database for the module. Twenty agents sign in from one address
# in the claim race, and every test opens conversations from it.
module_hub = shared_hub(
    name="module_hub",
    limits=Limits(logins_per_ip_per_minute=1000, conversations_per_ip_per_hour=1000),
)


@pytest.fixture
async def hub(module_hub: RunningHub) -> AsyncIterator[RunningHub]:
    # The database outlives each test: start with nobody online.
    async with module_hub.ctx.engine.begin() as connection:
        await connection.execute(AgentRow.__table__.update().values(presence="offline"))
    yield module_hub


class Agent:
    """A signed-in console account."""

    def __init__(self, id: int, name: str, email: str, session: str, csrf: str):
        self.id, self.name, self.email = id, name, email
        self.session, self.csrf = session, csrf

    async def call(
        self, hub: RunningHub, method: str, path: str, *, csrf: bool = True, **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        status, body, _ = await call(
            hub,
            method,
            path,
            session=self.session,
            csrf=self.csrf if csrf else None,
            **kw,
        )
        return status, body

    def socket(self, hub: RunningHub, **headers: str) -> Any:
        return websockets.connect(
            f"{hub.ws_url}/api/agent/ws",
            extra_headers={"Cookie": f"baton_session={self.session}", **headers},
        )


async def sign_in(hub: RunningHub, role: str = "agent", online: bool = True) -> Agent:
    name = f"{role.title()} {secrets.token_hex(3)}"
    email = f"{role}-{secrets.token_hex(4)}@example.com"
    record = await hub.ctx.auth.create_agent(email, name, role, PASSWORD)
    if online:
        await hub.ctx.auth.set_presence(record, "online")
    session, csrf = await login(hub, email)
    return Agent(record.id, name, email, session, csrf)


async def handed_off(
    hub: RunningHub,
    text: str = "my notes vanished after the update",
    *,
    locale: str | None = "en-GB",
    **body: Any,
) -> tuple[str, str, int]:
    """A conversation the hub handed over because the bot is unavailable.

    ``body`` (and ``locale``, unless ``None``) starts the conversation.
    """
    if locale is not None:
        body["locale"] = locale
    conversation_id, token = await hub.new_conversation(**body)
    async with hub.socket(conversation_id, token) as ws:
        await ws.send(json.dumps({"type": "message", "text": text, "client_id": "c1"}))
        await receive_until(
            ws, lambda f: f.get("type") == "status" and f.get("state") != "bot"
        )
    await hub.ctx.relay.idle()
    handoff = await hub.ctx.handoffs.repository.current(conversation_id)
    assert handoff is not None
    return conversation_id, token, handoff.id


async def claimed(hub: RunningHub, agent: Agent) -> tuple[str, str, int]:
    conversation_id, token, handoff_id = await handed_off(hub)
    status, body = await agent.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim")
    assert status == 200, body
    return conversation_id, token, handoff_id


async def snapshot(hub: RunningHub, conversation_id: str) -> dict[str, Any]:
    """Everything an API call could change about a conversation."""
    async with hub.ctx.engine.connect() as connection:
        handoffs = (
            await connection.execute(
                sa.select(Handoff.__table__)
                .where(Handoff.__table__.c.conversation_id == conversation_id)
                .order_by(Handoff.__table__.c.id)
            )
        ).all()
        # In order: PostgreSQL returns an updated row where it now lies.
        messages = (
            await connection.execute(
                sa.select(Message.__table__.c.seq, Message.__table__.c.text)
                .where(Message.__table__.c.conversation_id == conversation_id)
                .order_by(Message.__table__.c.seq)
            )
        ).all()
        notes = (
            await connection.execute(
                sa.select(sa.func.count()).where(
                    Note.__table__.c.conversation_id == conversation_id
                )
            )
        ).scalar_one()
    conversation = await hub.ctx.conversations.repository.get(conversation_id)
    assert conversation is not None
    return {
        "state": conversation.state,
        "handoffs": [tuple(row) for row in handoffs],
        "messages": [tuple(row) for row in messages],
        "notes": notes,
    }


async def test_the_queue_shows_reason_wait_priority_and_summary(hub) -> None:
    agent = await sign_in(hub)
    conversation_id, _, handoff_id = await handed_off(
        hub, "my notes vanished after the update"
    )
    status, body = await agent.call(hub, "GET", "/api/queue")
    assert status == 200, body
    assert body["agents_online"] == 1
    [entry] = [e for e in body["queue"] if e["conversation_id"] == conversation_id]
    assert entry["id"] == handoff_id
    assert entry["conversation_id"] == conversation_id
    assert entry["reason"] == "bot_unavailable"
    assert entry["state"] == "queued"
    queued = [e for e in body["queue"] if e["state"] == "queued"]
    assert entry["position"] == queued.index(entry) + 1
    assert entry["priority"] == 15
    assert entry["waited_s"] >= 0
    assert "my notes vanished after the update" in entry["summary"]
    assert entry["follow_up"] is None
    assert not [e for e in body["claimed"] if e["conversation_id"] == conversation_id]


async def test_twenty_agents_claim_over_http_and_exactly_one_wins(hub) -> None:
    agents = [await sign_in(hub) for _ in range(20)]
    conversation_id, _, handoff_id = await handed_off(hub)
    results = await asyncio.gather(
        *(a.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim") for a in agents)
    )
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 1
    assert statuses.count(409) == 19
    winner = agents[statuses.index(200)]
    for status, body in results:
        if status == 409:
            assert body["error"]["code"] == "already_claimed"
            assert winner.name in body["error"]["message"]
    handoff = await hub.ctx.handoffs.require(handoff_id)
    assert (handoff.state, handoff.agent_id) == ("claimed", winner.id)
    messages = await hub.ctx.conversations.repository.messages_after(conversation_id, 0)
    joined = [m for m in messages if "joined the chat" in m.text]
    assert [m.text for m in joined] == [f"{winner.name} from support joined the chat."]


async def test_agent_reply_reaches_the_customer_with_the_agent_name_once(hub) -> None:
    agent = await sign_in(hub)
    conversation_id, token, _ = await claimed(hub, agent)
    async with hub.socket(conversation_id, token) as customer:
        await drain(customer, 0.3)
        path = f"/api/conversations/{conversation_id}/messages"
        body = {"text": "Hi, I'm looking at your notes now.", "client_id": "r-1"}
        status, first = await agent.call(hub, "POST", path, json=body)
        assert status == 201, first
        status, again = await agent.call(hub, "POST", path, json=body)
        assert status == 200
        assert again["message"]["seq"] == first["message"]["seq"]
        frames = await receive_until(customer, lambda f: f.get("role") == "agent")
        reply = frames[-1]
        assert reply["text"] == "Hi, I'm looking at your notes now."
        assert reply["meta"] == {"agent": {"name": agent.name}}
        assert reply["seq"] == first["message"]["seq"]
        assert not [f for f in await drain(customer, 0.3) if f.get("role") == "agent"]


async def test_customer_messages_while_queued_reach_the_agent_and_never_the_bot(
    hub,
) -> None:
    agent = await sign_in(hub)
    conversation_id, token, handoff_id = await handed_off(hub)
    async with agent.socket(hub) as console:
        await receive_until(
            console,
            lambda f: (
                f.get("type") == "watching" and f["conversation_id"] == conversation_id
            ),
        )
        async with hub.socket(conversation_id, token) as customer:
            await customer.send(
                json.dumps(
                    {"type": "message", "text": "still there?", "client_id": "q1"}
                )
            )
            frames = await receive_until(
                console,
                lambda f: (
                    f.get("type") == "message" and f.get("text") == "still there?"
                ),
            )
    assert frames[-1]["conversation_id"] == conversation_id
    assert frames[-1]["role"] == "customer"
    await hub.ctx.relay.idle()
    stored = await hub.ctx.conversations.repository.find_by_client_id(
        conversation_id, "q1"
    )
    assert stored is not None and stored.relay_state == "skipped"
    status, card = await agent.call(hub, "GET", f"/api/handoffs/{handoff_id}")
    assert status == 200
    assert "still there?" in [m["text"] for m in card["transcript"]]
    assert [t["handled_by"] for t in card["turns"] if t["text"] == "still there?"] == [
        "people"
    ]


async def test_the_agent_socket_streams_live_events_of_held_chats(hub) -> None:
    agent = await sign_in(hub)
    conversation_id, token, handoff_id = await handed_off(hub)
    async with agent.socket(hub) as console:
        hello = json.loads(await console.recv())
        assert hello == {"type": "hello", "agent": hello["agent"]}
        assert hello["agent"]["id"] == agent.id
        await receive_until(console, lambda f: f.get("type") == "queue")
        status, _ = await agent.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim")
        assert status == 200
        await receive_until(
            console,
            lambda f: f.get("type") == "watching" and f.get("held") is True,
        )
        async with hub.socket(conversation_id, token) as customer:
            await customer.send(json.dumps({"type": "typing"}))
            await receive_until(
                console, lambda f: f.get("type") == "typing" and f["role"] == "customer"
            )
            await console.send(
                json.dumps({"type": "typing", "conversation_id": conversation_id})
            )
            await receive_until(
                customer, lambda f: f.get("type") == "typing" and f["role"] == "agent"
            )
            await customer.send(
                json.dumps({"type": "message", "text": "thanks!", "client_id": "t1"})
            )
            await receive_until(console, lambda f: f.get("text") == "thanks!")
        status, _ = await agent.call(
            hub,
            "POST",
            f"/api/conversations/{conversation_id}/notes",
            json={"text": "customer is on the Pro plan"},
        )
        assert status == 201
        note = await receive_until(console, lambda f: f.get("type") == "note")
        assert note[-1]["text"] == "customer is on the Pro plan"


async def test_typing_the_moment_a_claim_returns_reaches_the_customer(hub) -> None:
    """The console may type before its socket has seen the new queue."""
    agent = await sign_in(hub)
    conversation_id, token, handoff_id = await handed_off(hub)
    async with agent.socket(hub) as console:
        await receive_until(console, lambda f: f.get("type") == "queue")
        # Claimed in the store only: no queue event, so the socket still
        # thinks the chat is waiting, as it does for a moment after a claim.
        assert await hub.ctx.handoffs.repository.claim(handoff_id, agent.id)
        async with hub.socket(conversation_id, token) as customer:
            await receive_until(customer, lambda f: f.get("type") == "status")
            await console.send(
                json.dumps({"type": "typing", "conversation_id": conversation_id})
            )
            await receive_until(
                customer, lambda f: f.get("type") == "typing" and f["role"] == "agent"
            )
        assert [f for f in await drain(console) if f.get("type") == "error"] == []


async def test_notes_are_kept_and_never_sent_to_the_customer(hub) -> None:
    agent = await sign_in(hub)
    conversation_id, token, handoff_id = await claimed(hub, agent)
    async with hub.socket(conversation_id, token) as customer:
        await drain(customer, 0.3)
        status, body = await agent.call(
            hub,
            "POST",
            f"/api/conversations/{conversation_id}/notes",
            json={"text": "refund approved by Sam, do not mention yet"},
        )
        assert status == 201, body
        assert body["note"]["agent"] == {"id": agent.id, "name": agent.name}
        seen = await drain(customer, 0.5)
    assert not [f for f in seen if "refund approved" in json.dumps(f)]
    history = await hub.ctx.conversations.history(conversation_id, 0)
    assert not [m for m in history if "refund approved" in m["text"]]
    status, card = await agent.call(hub, "GET", f"/api/handoffs/{handoff_id}")
    assert [n["text"] for n in card["notes"]] == [
        "refund approved by Sam, do not mention yet"
    ]


async def test_transfer_hand_back_and_resolve(hub) -> None:
    ann, bob = await sign_in(hub), await sign_in(hub)
    conversation_id, _, handoff_id = await claimed(hub, ann)
    status, body = await ann.call(
        hub, "POST", f"/api/handoffs/{handoff_id}/transfer", json={"agent_id": bob.id}
    )
    assert status == 200, body
    assert body["handoff"]["agent"] == {"id": bob.id, "name": bob.name}
    status, body = await ann.call(
        hub, "POST", f"/api/handoffs/{handoff_id}/resolve", json={"outcome": "solved"}
    )
    assert (status, body["error"]["code"]) == (409, "not_owner")
    assert bob.name in body["error"]["message"]
    status, body = await bob.call(hub, "POST", f"/api/handoffs/{handoff_id}/handback")
    assert status == 200, body
    assert body["handoff"]["state"] == "handed_back"
    conversation = await hub.ctx.conversations.repository.get(conversation_id)
    assert conversation is not None and conversation.state == "bot"

    _, _, second = await claimed(hub, ann)
    status, body = await ann.call(
        hub, "POST", f"/api/handoffs/{second}/resolve", json={"outcome": "maybe"}
    )
    assert (status, body["error"]["code"]) == (400, "bad_outcome")
    status, body = await ann.call(
        hub, "POST", f"/api/handoffs/{second}/resolve", json={"outcome": "solved"}
    )
    assert status == 200, body
    assert (body["handoff"]["state"], body["handoff"]["outcome"]) == (
        "resolved",
        "solved",
    )

    # Who changed each conversation's owner is in the audit log; the refused
    # calls (not the owner, a bad outcome) left no trace.
    async with hub.ctx.engine.connect() as connection:
        audited = (
            await connection.execute(
                sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
                .where(audit_log.c.actor.in_((ann.email, bob.email)))
                .order_by(audit_log.c.id)
            )
        ).all()
    assert [tuple(row) for row in audited] == [
        (ann.email, "handoff.claim", {"handoff_id": handoff_id}),
        (
            ann.email,
            "handoff.transfer",
            {"handoff_id": handoff_id, "to_agent_id": bob.id},
        ),
        (bob.email, "handoff.handback", {"handoff_id": handoff_id}),
        (ann.email, "handoff.claim", {"handoff_id": second}),
        (ann.email, "handoff.resolve", {"handoff_id": second, "outcome": "solved"}),
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [({"agent_id": "x"}, "bad_agent_id"), ({"agent_id": 999_999}, "unknown_agent")],
)
async def test_transfer_to_nobody_is_refused(hub, body, code) -> None:
    ann = await sign_in(hub)
    conversation_id, _, handoff_id = await claimed(hub, ann)
    before = await snapshot(hub, conversation_id)
    status, answer = await ann.call(
        hub, "POST", f"/api/handoffs/{handoff_id}/transfer", json=body
    )
    assert (status, answer["error"]["code"]) == (400, code)
    assert await snapshot(hub, conversation_id) == before


def agent_actions(conversation_id: str, handoff_id: int) -> list[tuple[str, str, Any]]:
    return [
        ("POST", f"/api/handoffs/{handoff_id}/claim", None),
        ("POST", f"/api/handoffs/{handoff_id}/handback", None),
        ("POST", f"/api/handoffs/{handoff_id}/resolve", {"outcome": "solved"}),
        ("POST", f"/api/handoffs/{handoff_id}/transfer", {"agent_id": 1}),
        ("POST", f"/api/conversations/{conversation_id}/messages", {"text": "hi"}),
        ("POST", f"/api/conversations/{conversation_id}/notes", {"text": "n"}),
    ]


async def queued_chat(
    hub: RunningHub, role: str = "agent"
) -> tuple[Agent, str, int, dict[str, Any]]:
    """Someone signed in, and a chat waiting in the queue: (them, the chat's
    id, its handoff's id, a snapshot to compare with afterwards)."""
    person = await sign_in(hub, role)
    conversation_id, _, handoff_id = await handed_off(hub)
    return person, conversation_id, handoff_id, await snapshot(hub, conversation_id)


async def test_a_trainer_may_not_use_agent_endpoints(hub) -> None:
    trainer, conversation_id, handoff_id, before = await queued_chat(hub, "trainer")
    requests = [
        ("GET", "/api/queue", None),
        ("GET", f"/api/handoffs/{handoff_id}", None),
        *agent_actions(conversation_id, handoff_id),
    ]
    for method, path, body in requests:
        status, answer = await trainer.call(hub, method, path, json=body)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), path
    assert await snapshot(hub, conversation_id) == before


async def test_state_changes_without_csrf_token_are_refused(hub) -> None:
    agent, conversation_id, handoff_id, before = await queued_chat(hub)
    for method, path, body in agent_actions(conversation_id, handoff_id):
        status, answer = await agent.call(hub, method, path, json=body, csrf=False)
        assert (status, answer["error"]["code"]) == (403, "csrf_failed"), path
    assert await snapshot(hub, conversation_id) == before


async def test_an_expired_session_is_refused(hub) -> None:
    agent, conversation_id, handoff_id, before = await queued_chat(hub)
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    await update_sessions(hub, agent.email, expires_at=past)
    status, answer = await agent.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim")
    assert (status, answer["error"]["code"]) == (401, "session_expired")
    assert await snapshot(hub, conversation_id) == before
    status, answer = await agent.call(hub, "GET", "/api/queue")
    assert (status, answer["error"]["code"]) == (401, "unauthorized")


async def test_nobody_but_the_holder_acts_on_a_chat(hub) -> None:
    ann, bob = await sign_in(hub), await sign_in(hub)
    conversation_id, _, handoff_id = await claimed(hub, ann)
    before = await snapshot(hub, conversation_id)
    for method, path, body in agent_actions(conversation_id, handoff_id):
        status, answer = await bob.call(hub, method, path, json=body)
        assert status == 409, path
        assert answer["error"]["code"] in {"already_claimed", "not_owner"}, path
        assert ann.name in answer["error"]["message"], path
    assert await snapshot(hub, conversation_id) == before


async def test_nobody_replies_to_a_chat_still_in_the_queue(hub) -> None:
    agent, conversation_id, _, before = await queued_chat(hub)
    status, answer = await agent.call(
        hub,
        "POST",
        f"/api/conversations/{conversation_id}/messages",
        json={"text": "hello", "client_id": str(uuid.uuid4())},
    )
    assert (status, answer["error"]["code"]) == (409, "not_owner")
    assert await snapshot(hub, conversation_id) == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 400, "empty_message"),
        ({"text": 5}, 400, "bad_request"),
        ({"text": "x" * 5000}, 413, "too_large"),
        ({"text": "hi", "client_id": "no spaces"}, 400, "bad_client_id"),
    ],
)
async def test_bad_replies_are_refused(hub, body, status, code) -> None:
    agent = await sign_in(hub)
    conversation_id, _, _ = await claimed(hub, agent)
    before = await snapshot(hub, conversation_id)
    got, answer = await agent.call(
        hub, "POST", f"/api/conversations/{conversation_id}/messages", json=body
    )
    assert (got, answer["error"]["code"]) == (status, code)
    assert await snapshot(hub, conversation_id) == before


async def test_unknown_handoffs_and_conversations_are_404(hub) -> None:
    agent = await sign_in(hub)
    for method, path in [
        ("GET", "/api/handoffs/424242"),
        ("POST", "/api/handoffs/424242/claim"),
        ("POST", "/api/conversations/nosuchconversation00/messages"),
    ]:
        status, answer = await agent.call(hub, method, path, json={"text": "x"})
        assert status == 404, (path, answer)
        assert answer["error"]["code"] == "not_found"


async def close_of(ws: Any) -> tuple[int, list[dict[str, Any]]]:
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    except websockets.ConnectionClosed as closed:
        return closed.code, frames


async def test_the_agent_socket_needs_a_session_an_agent_and_our_origin(hub) -> None:
    async with websockets.connect(f"{hub.ws_url}/api/agent/ws") as ws:
        code, frames = await close_of(ws)
    assert (code, frames[0]["code"]) == (4401, "unauthorized")
    trainer = await sign_in(hub, "trainer")
    async with trainer.socket(hub) as ws:
        code, frames = await close_of(ws)
    assert (code, frames[0]["code"]) == (4403, "forbidden")
    agent = await sign_in(hub)
    async with agent.socket(hub, Origin="https://evil.example") as ws:
        code, frames = await close_of(ws)
    assert (code, frames[0]["code"]) == (4403, "bad_origin")
    async with agent.socket(hub, Origin=hub.url) as ws:
        hello = json.loads(await ws.recv())
    assert hello["type"] == "hello"


async def test_the_agent_socket_closes_on_logout(hub, monkeypatch) -> None:
    monkeypatch.setattr(agent_socket, "SESSION_CHECK_S", 0.1)
    agent = await sign_in(hub)
    async with agent.socket(hub) as ws:
        await receive_until(ws, lambda f: f.get("type") == "queue")
        status, _, _ = await call(
            hub, "POST", "/api/auth/logout", session=agent.session, csrf=agent.csrf
        )
        assert status == 204
        code, frames = await close_of(ws)
    assert code == 4401
    assert frames[-1]["type"] == "error"


async def test_the_agent_socket_closes_when_the_session_expires(
    hub, monkeypatch
) -> None:
    monkeypatch.setattr(agent_socket, "SESSION_CHECK_S", 0.1)
    agent = await sign_in(hub)
    async with agent.socket(hub) as ws:
        await receive_until(ws, lambda f: f.get("type") == "queue")
        past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
        await update_sessions(hub, agent.email, expires_at=past)
        code, frames = await close_of(ws)
    assert code == 4401
    assert frames[-1]["code"] == "session_expired"


async def until_offline(hub: RunningHub, agent: Agent) -> None:
    """Wait (up to 15 s) until the agent counts as offline; fail if never."""
    record = None
    for _ in range(300):
        record = await hub.ctx.auth.repository.get_agent(agent.id)
        if record is not None and record.presence == "offline":
            return
        await asyncio.sleep(0.05)
    assert record is not None and record.presence == "offline"


async def test_an_open_socket_makes_the_agent_online_and_feeds_the_eta(hub) -> None:
    agent = await sign_in(hub, online=False)
    # PostgreSQL is shared by the whole run: count from what is there.
    before = await hub.ctx.handoffs.accounts.agents_online()
    async with agent.socket(hub) as ws:
        await receive_until(ws, lambda f: f.get("type") == "queue")
        record = await hub.ctx.auth.repository.get_agent(agent.id)
        assert record is not None and record.presence == "online"
        _, body = await agent.call(hub, "GET", "/api/queue")
        assert body["agents_online"] == before + 1
    # The hub notices the close asynchronously (on a loaded machine, seconds
    # later). Other tests' agents may come and go on the shared database, so
    # this agent's own presence is what is checked.
    await until_offline(hub, agent)


async def test_a_console_killed_without_a_close_stops_counting_as_online(
    hub, monkeypatch
) -> None:
    # Checked often here so that the bound is short; 5 s in production.
    monkeypatch.setattr(agent_socket, "SESSION_CHECK_S", 0.1)
    # Chats in the queue keep the hub busy watching them when the console
    # dies: the moment it used to miss.
    for _ in range(3):
        await handed_off(hub)
    agent = await sign_in(hub, online=False)
    ws = await agent.socket(hub)
    await receive_until(ws, lambda f: f.get("type") == "queue")
    # A killed tab or a lost network: no close frame, the TCP connection ends.
    ws.transport.abort()
    await until_offline(hub, agent)
    assert hub.app.ctx.agent_presence.open_sockets(agent.id) == 0


async def test_the_openapi_document_lists_the_agent_endpoints(hub) -> None:
    status, document, _ = await call(hub, "GET", "/api/openapi.json")
    assert status == 200
    paths = document["paths"]
    for path in [
        "/api/queue",
        "/api/handoffs/{handoff_id}",
        "/api/handoffs/{handoff_id}/claim",
        "/api/handoffs/{handoff_id}/transfer",
        "/api/handoffs/{handoff_id}/handback",
        "/api/handoffs/{handoff_id}/resolve",
        "/api/conversations/{conversation_id}/notes",
    ]:
        assert path in paths, path
    assert "post" in paths["/api/conversations/{conversation_id}/messages"]

"""Who may call what: every route of the hub, read from its router.

Every route the hub serves is classified here as public, customer (the
conversation's bearer token) or console (a session, with the roles that may
use it). A route added to the hub without a line in this file fails
:func:`test_every_route_is_classified`; once it has one, the checks below
cover it: anonymous callers get ``401``, other roles ``403 forbidden``, a
state change without the session's CSRF token ``403 csrf_failed``, and a
customer request with no, a wrong or another conversation's token ``401``.

The allowed roles' calls use ids no record has (and malformed bodies), so
they reach the handler and change nothing: they must not be refused for
their role.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.config import Limits, Settings
from bot.training.jobs import JobRepository
from bot.web.app import create_app
from bot.web.openapi import document
from tests.bot.auth.test_auth_api import login, new_account
from tests.bot.web.test_agent_api import agent_actions, claimed, sign_in, snapshot
from tests.conftest import shared_hub
from tests.hub import RunningHub, drain, receive_until

ROLES = ("agent", "trainer", "admin")
CHATS = frozenset({"agent", "admin"})
EDITORS = frozenset({"agent", "trainer", "admin"})
TRAINERS = frozenset({"trainer", "admin"})
ADMINS = frozenset({"admin"})
SIGNED_IN = frozenset(ROLES)

#: Console routes and the roles that may use them (admins may do anything).
CONSOLE: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/auth/me"): SIGNED_IN,
    ("POST", "/api/auth/presence"): CHATS,
    ("GET", "/api/queue"): CHATS,
    ("GET", "/api/handoffs/{handoff_id}"): CHATS,
    ("POST", "/api/handoffs/{handoff_id}/claim"): CHATS,
    ("POST", "/api/handoffs/{handoff_id}/transfer"): CHATS,
    ("POST", "/api/handoffs/{handoff_id}/handback"): CHATS,
    ("POST", "/api/handoffs/{handoff_id}/resolve"): CHATS,
    ("POST", "/api/conversations/{conversation_id}/messages"): CHATS,
    ("POST", "/api/conversations/{conversation_id}/notes"): CHATS,
    ("GET", "/api/conversations"): CHATS,
    ("GET", "/api/conversations/{conversation_id}"): CHATS,
    ("GET", "/api/conversations/{conversation_id}/earlier"): CHATS,
    ("GET", "/api/agents"): CHATS,
    ("GET", "/api/outbox"): CHATS,
    ("GET", "/api/canned-replies"): CHATS,
    ("POST", "/api/canned-replies"): ADMINS,
    ("PATCH", "/api/canned-replies/{reply_id}"): ADMINS,
    ("DELETE", "/api/canned-replies/{reply_id}"): ADMINS,
    ("GET", "/api/admin/agents"): ADMINS,
    ("POST", "/api/admin/agents"): ADMINS,
    ("PATCH", "/api/admin/agents/{agent_id}"): ADMINS,
    ("POST", "/api/admin/agents/{agent_id}/password-reset"): ADMINS,
    ("GET", "/api/admin/audit"): ADMINS,
    ("GET", "/api/kb/articles"): EDITORS,
    ("POST", "/api/kb/articles"): EDITORS,
    ("GET", "/api/kb/articles/{slug}"): EDITORS,
    ("PUT", "/api/kb/articles/{slug}"): EDITORS,
    ("PATCH", "/api/kb/articles/{slug}"): EDITORS,
    ("DELETE", "/api/kb/articles/{slug}"): EDITORS,
    ("POST", "/api/kb/articles/{slug}/publish"): EDITORS,
    ("POST", "/api/kb/articles/{slug}/unpublish"): EDITORS,
    ("GET", "/api/kb/articles/{slug}/versions"): EDITORS,
    ("GET", "/api/kb/articles/{slug}/versions/{version}"): EDITORS,
    ("POST", "/api/kb/articles/{slug}/versions/{version}/restore"): EDITORS,
    ("GET", "/api/training/inbox"): TRAINERS,
    ("POST", "/api/training/annotations"): TRAINERS,
    ("DELETE", "/api/training/annotations/{annotation_id}"): TRAINERS,
    ("GET", "/api/training/intents"): TRAINERS,
    ("POST", "/api/training/intents"): TRAINERS,
    ("GET", "/api/training/intents/{name}"): TRAINERS,
    ("PUT", "/api/training/intents/{name}"): TRAINERS,
    ("DELETE", "/api/training/intents/{name}"): TRAINERS,
    ("GET", "/api/training/jobs"): TRAINERS,
    ("POST", "/api/training/jobs"): TRAINERS,
    ("GET", "/api/training/jobs/{job_id}"): TRAINERS,
    ("GET", "/api/models"): TRAINERS,
    ("POST", "/api/models/{version}/deploy"): TRAINERS,
    ("POST", "/api/models/{version}/evaluate"): TRAINERS,
    ("POST", "/api/models/{version}/rollback"): TRAINERS,
}
#: Customer routes: the conversation's bearer token (the socket: ``?token=``).
CUSTOMER = frozenset(
    {
        ("GET", "/api/conversations/{conversation_id}/messages"),
        ("POST", "/api/conversations/{conversation_id}/recap"),
        ("GET", "/api/conversations/{conversation_id}/contact"),
        ("POST", "/api/conversations/{conversation_id}/contact"),
        ("POST", "/api/conversations/{conversation_id}/leave"),
        ("GET", "/api/conversations/{conversation_id}/ws"),
    }
)
#: Routes anyone may call, and why.
PUBLIC = {
    ("GET", "/"): "the demo page",
    ("GET", "/console"): "the console page (signs in itself)",
    ("GET", "/widget.js"): "the widget",
    ("GET", "/static/{name}"): "static files",
    ("GET", "/static/{folder}/{name}"): "static files",
    ("GET", "/health"): "the load balancer's probe",
    ("GET", "/api/openapi.json"): "the API's description",
    ("POST", "/api/auth/login"): "signing in (origin-checked, rate-limited)",
    ("POST", "/api/auth/logout"): "ends the cookie's session, if any (CSRF)",
    ("POST", "/api/auth/password-reset"): "spends a one-time link",
    ("POST", "/api/conversations"): "starting a conversation (rate-limited)",
    ("POST", "/api/resume"): "trades a signed resume link for a token",
    ("GET", "/resume/{link}"): "the resume link's page",
    ("GET", "/api/models/live"): "Rasa's model pull (X-Baton-Token, checked below)",
    ("GET", "/api/agent/ws"): "the console socket (session, checked below)",
    ("GET", "/account/reset"): "a customer's reset link's page (one-time token)",
    ("POST", "/account/reset"): "spends that link (origin, CSRF cookie pair)",
    ("POST", "/api/account/sign-in"): "built-in accounts' sign-in (rate-limited)",
    ("OPTIONS", "/api/conversations"): "CORS preflight",
    ("OPTIONS", "/api/conversations/{conversation_id}/messages"): "CORS preflight",
    ("OPTIONS", "/api/conversations/{conversation_id}/recap"): "CORS preflight",
    ("OPTIONS", "/api/conversations/{conversation_id}/contact"): "CORS preflight",
    ("OPTIONS", "/api/conversations/{conversation_id}/leave"): "CORS preflight",
}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Path values no record has: an allowed call reaches its handler and finds
#: nothing (404), or a malformed body (400), and changes nothing.
NOTHING = {
    "conversation_id": secrets.token_urlsafe(16),
    "handoff_id": "2147483000",
    "reply_id": "2147483000",
    "agent_id": "2147483000",
    "annotation_id": "2147483000",
    "slug": "no-such-article-here",
    "version": "2147483000",
    "name": "no_such_intent_here",
    "job_id": "2147483000",
}


def template(sanic_path: str) -> str:
    """``api/handoffs/<handoff_id:int>`` as ``/api/handoffs/{handoff_id}``."""
    return "/" + re.sub(r"<([a-z_]+)(?::[^>]*)?>", r"{\1}", sanic_path)


def served_routes() -> set[tuple[str, str]]:
    """Every (method, path) the hub's router serves."""
    app = create_app(Settings.from_env({}), name="baton_access_matrix")
    return {
        (method, template(route.path))
        for route in app.router.routes
        for method in route.methods
    }


ROUTES = served_routes()


def fill(path: str, **values: str) -> str:
    return re.sub(r"{([a-z_]+)}", lambda m: values.get(m[1], NOTHING[m[1]]), path)


def test_every_route_is_classified() -> None:
    classified = set(CONSOLE) | CUSTOMER | set(PUBLIC)
    assert not set(CONSOLE) & CUSTOMER and not set(CONSOLE) & set(PUBLIC)
    unknown = sorted(ROUTES - classified)
    assert not unknown, f"say who may call these routes in {__file__}: {unknown}"
    gone = sorted(classified - ROUTES)
    assert not gone, f"these routes are no longer served: {gone}"


def test_the_openapi_document_says_the_same() -> None:
    spec = document()
    for (method, path), _ in CONSOLE.items():
        operation = spec["paths"][path][method.lower()]
        assert operation.get("security") == [{"sessionCookie": []}], (method, path)
    for method, path in CUSTOMER - {("GET", "/api/conversations/{conversation_id}/ws")}:
        operation = spec["paths"][path][method.lower()]
        assert operation.get("security") == [{"conversationToken": []}], (
            method,
            path,
        )


LIMITS = Limits(logins_per_ip_per_minute=1000, conversations_per_ip_per_hour=1000)
hub_fixture = shared_hub(on_databases=False, name="matrix_hub", limits=LIMITS)
#: The route x role matrix runs on SQLite and PostgreSQL: a role check that
#: reads the database differently on one of them would show there.
route_hub_fixture = shared_hub(name="route_hub", limits=LIMITS)


class Caller:
    """One HTTP client for the module; each request says its own cookie."""

    def __init__(self, hub: RunningHub, client: aiohttp.ClientSession) -> None:
        self.hub, self.client = hub, client

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        session: str | None = None,
        csrf: str | None = None,
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if session is not None:
            sent["Cookie"] = f"baton_session={session}"
        if csrf is not None:
            sent["X-CSRF-Token"] = csrf
        async with self.client.request(
            method, self.hub.url + path, data=body, headers=sent
        ) as response:
            text = await response.text()
            try:
                answer = json.loads(text) if text else {}
            except ValueError:
                answer = {"html": text}
            return response.status, answer


@pytest.fixture
def hub(matrix_hub: RunningHub) -> RunningHub:
    return matrix_hub


@pytest.fixture
async def training_job_queued(route_hub: RunningHub) -> None:
    """A training job is queued already, and freshly heard from.

    An allowed ``POST /api/training/jobs`` is then refused (409) rather than
    starting a real training run.
    """
    jobs = JobRepository(route_hub.ctx.engine)
    active = await jobs.active() or await jobs.start("matrix@example.com")
    await jobs.report(active.id, stage="queued")


@pytest.fixture(scope="module")
async def caller(matrix_hub: RunningHub) -> AsyncIterator[Caller]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client:
        yield Caller(matrix_hub, client)


@pytest.fixture(scope="module")
async def sessions(matrix_hub: RunningHub) -> dict[str, tuple[str, str]]:
    """A signed-in session (cookie, CSRF token) per role."""
    return await signed_in(matrix_hub)


async def signed_in(hub: RunningHub) -> dict[str, tuple[str, str]]:
    return {role: await login(hub, await new_account(hub, role)) for role in ROLES}


@pytest.fixture(scope="module")
async def route_caller(route_hub: RunningHub) -> AsyncIterator[Caller]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as client:
        yield Caller(route_hub, client)


@pytest.fixture(scope="module")
async def route_sessions(route_hub: RunningHub) -> dict[str, tuple[str, str]]:
    return await signed_in(route_hub)


def refused_for_role(status: int, answer: dict[str, Any]) -> bool:
    return status == 403 and answer.get("error", {}).get("code") == "forbidden"


@pytest.mark.usefixtures("training_job_queued")
@pytest.mark.parametrize(("method", "path"), sorted(CONSOLE), ids=str)
async def test_console_route_roles_and_csrf(
    route_caller: Caller, route_sessions, method: str, path: str
) -> None:
    caller, sessions = route_caller, route_sessions
    url = fill(path)
    body = "{" if method in UNSAFE else None
    # Nobody signed in, or a made-up session: 401.
    for cookie in (None, secrets.token_urlsafe(32)):
        status, answer = await caller(method, url, session=cookie, body=body)
        assert status == 401, (cookie, status, answer)
        assert answer["error"]["code"] in {"unauthorized", "session_expired"}
    for role in ROLES:
        session, csrf = sessions[role]
        status, answer = await caller(
            method, url, session=session, csrf=csrf, body=body
        )
        if role in CONSOLE[(method, path)]:
            assert status not in {401, 500} and not refused_for_role(status, answer), (
                role,
                status,
                answer,
            )
        else:
            assert refused_for_role(status, answer), (role, status, answer)
    if method in UNSAFE:
        # The admin may do anything, but not without the session's CSRF token,
        # nor with another session's.
        session, _ = sessions["admin"]
        for csrf in (None, "", sessions["agent"][1], secrets.token_urlsafe(32)):
            status, answer = await caller(
                method, url, session=session, csrf=csrf, body=body
            )
            assert (status, answer["error"]["code"]) == (403, "csrf_failed"), csrf


async def test_logout_needs_the_csrf_token_of_its_session(hub, caller) -> None:
    session, csrf = await login(hub, await new_account(hub, "agent"))
    for wrong in (None, secrets.token_urlsafe(32)):
        status, answer = await caller(
            "POST", "/api/auth/logout", session=session, csrf=wrong
        )
        assert (status, answer["error"]["code"]) == (403, "csrf_failed")
    status, _ = await caller("GET", "/api/auth/me", session=session)
    assert status == 200
    status, _ = await caller("POST", "/api/auth/logout", session=session, csrf=csrf)
    assert status == 204
    status, _ = await caller("GET", "/api/auth/me", session=session)
    assert status == 401


async def test_the_model_pull_needs_rasa_s_token(hub, caller, sessions) -> None:
    session, csrf = sessions["admin"]
    for headers in ({}, {"X-Baton-Token": "guess"}, {"X-Baton-Token": ""}):
        status, answer = await caller(
            "GET", "/api/models/live", session=session, csrf=csrf, headers=headers
        )
        assert status == 403, (headers, answer)


@pytest.mark.parametrize("role", [*ROLES, None])
async def test_the_console_socket_needs_a_session_that_takes_chats(
    hub, sessions, role
) -> None:
    cookie = sessions[role][0] if role else secrets.token_urlsafe(32)
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(
            hub.ws_url + "/api/agent/ws",
            headers={"Cookie": f"baton_session={cookie}"},
        ) as ws:
            frame = await ws.receive_json(timeout=10)
            if role in CHATS:
                assert frame["type"] != "error", frame
                return
            await ws.receive(timeout=10)
            expected = 4401 if role is None else 4403
            assert frame["type"] == "error" and ws.close_code == expected, frame


# Customer routes ---------------------------------------------------------


def customer_request(method: str, path: str, conversation_id: str) -> tuple[str, str]:
    return method, fill(path, conversation_id=conversation_id)


@pytest.fixture(scope="module")
async def two_conversations(matrix_hub: RunningHub) -> list[tuple[str, str]]:
    """Two conversations, each with a customer message stored."""
    hub = matrix_hub
    made = []
    for text in ("my secret is mine", "another customer's words"):
        conversation_id, token = await hub.new_conversation()
        async with hub.socket(conversation_id, token) as ws:
            await ws.send(
                json.dumps({"type": "message", "text": text, "client_id": "m"})
            )
            await receive_until(ws, lambda f: f.get("client_id") == "m")
        made.append((conversation_id, token))
    return made


HTTP_CUSTOMER = sorted(CUSTOMER - {("GET", "/api/conversations/{conversation_id}/ws")})


@pytest.mark.parametrize(("method", "path"), HTTP_CUSTOMER, ids=str)
async def test_customer_routes_need_the_conversation_s_own_token(
    caller, sessions, two_conversations, method: str, path: str
) -> None:
    (mine, _), (_, theirs) = two_conversations
    url = fill(path, conversation_id=mine)
    body = "{}" if method in UNSAFE else None
    admin_session, admin_csrf = sessions["admin"]
    attempts = {
        "no token": {},
        "made-up token": {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
        "another conversation's token": {"Authorization": f"Bearer {theirs}"},
        "token in another scheme": {"Authorization": f"Basic {theirs}"},
    }
    for what, headers in attempts.items():
        status, answer = await caller(method, url, body=body, headers=headers)
        assert status == 401, (what, status, answer)
        assert "messages" not in answer and "my secret" not in json.dumps(answer)
    # A console session (even an admin's, with its CSRF token) is no token.
    status, answer = await caller(
        method, url, body=body, session=admin_session, csrf=admin_csrf
    )
    assert status == 401, answer


@pytest.mark.parametrize(("method", "path"), HTTP_CUSTOMER, ids=str)
async def test_a_guessed_conversation_id_gets_nothing(
    caller, two_conversations, method: str, path: str
) -> None:
    (mine, token), _ = two_conversations
    body = "{}" if method in UNSAFE else None
    for guess in (
        secrets.token_urlsafe(16),
        mine[:-1] + ("0" if mine[-1] != "0" else "1"),
    ):
        status, answer = await caller(
            method,
            fill(path, conversation_id=guess),
            body=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert status == 404 and answer["error"]["code"] == "not_found", answer


async def test_conversation_ids_and_tokens_are_random(hub) -> None:
    made = [await hub.new_conversation() for _ in range(3)]
    ids = [conversation_id for conversation_id, _ in made]
    # 128 random bits each (secrets.token_urlsafe(16)): nothing to count up.
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    tokens = [token for _, token in made]
    assert len(set(tokens)) == 3 and all(len(t) >= 40 for t in tokens)
    # The client cannot choose the id.
    chosen = secrets.token_urlsafe(16)
    async with aiohttp.ClientSession() as client:
        async with client.post(
            hub.url + "/api/conversations",
            json={"conversation_id": chosen, "id": chosen},
        ) as response:
            answer = await response.json()
    assert response.status in {201, 400}
    assert answer.get("conversation_id") != chosen


@pytest.mark.parametrize(
    "attempt", ["no token", "made-up token", "another's token", "guessed id"]
)
async def test_the_customer_socket_needs_the_conversation_s_own_token(
    hub, two_conversations, attempt: str
) -> None:
    (mine, _), (_, theirs) = two_conversations
    conversation_id, query = {
        "no token": (mine, ""),
        "made-up token": (mine, f"token={secrets.token_urlsafe(32)}"),
        "another's token": (mine, f"token={theirs}"),
        "guessed id": (secrets.token_urlsafe(16), f"token={theirs}"),
    }[attempt]
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(
            f"{hub.ws_url}/api/conversations/{conversation_id}/ws?{query}"
        ) as ws:
            frame = await ws.receive_json(timeout=10)
            closing = await ws.receive(timeout=10)
    assert frame["type"] == "error" and "my secret" not in json.dumps(frame)
    expected = 4404 if attempt == "guessed id" else 4401
    assert closing.type == aiohttp.WSMsgType.CLOSE and ws.close_code == expected


async def test_a_replaced_token_stops_working(hub, caller) -> None:
    conversation_id, token = await hub.new_conversation()
    assert await hub.ctx.conversations.issue_token(conversation_id)
    status, _ = await caller(
        "GET",
        f"/api/conversations/{conversation_id}/messages",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 401


# Acting on another agent's chat (IDOR) ---------------------------------------


async def test_an_agent_cannot_act_on_or_listen_to_a_colleague_s_chat(hub) -> None:
    ann, bob = await sign_in(hub), await sign_in(hub)
    conversation_id, token, handoff_id = await claimed(hub, ann)
    before = await snapshot(hub, conversation_id)
    async with bob.socket(hub) as bob_ws, ann.socket(hub) as ann_ws:
        await receive_until(bob_ws, lambda f: f["type"] == "queue")
        await receive_until(
            ann_ws,
            lambda f: (
                f["type"] == "watching" and f["conversation_id"] == conversation_id
            ),
        )
        # Bob cannot take, give away, close, answer or note Ann's chat, nor
        # give it to himself.
        for method, path, body in [
            *agent_actions(conversation_id, handoff_id),
            ("POST", f"/api/handoffs/{handoff_id}/transfer", {"agent_id": bob.id}),
        ]:
            status, answer = await bob.call(hub, method, path, json=body)
            assert status == 409, (path, answer)
            assert answer["error"]["code"] in {"already_claimed", "not_owner"}
        # Nor type in it.
        await bob_ws.send(
            json.dumps({"type": "typing", "conversation_id": conversation_id})
        )
        refusal = await receive_until(bob_ws, lambda f: f["type"] == "error")
        assert refusal[-1]["code"] == "not_owner"
        # What the customer and Ann say reaches Ann's console, not Bob's.
        async with hub.socket(conversation_id, token) as customer:
            await customer.send(
                json.dumps(
                    {"type": "message", "text": "only for Ann", "client_id": "x"}
                )
            )
            await receive_until(customer, lambda f: f.get("client_id") == "x")
        status, _ = await ann.call(
            hub,
            "POST",
            f"/api/conversations/{conversation_id}/notes",
            json={"text": "a private note"},
        )
        assert status == 201
        await receive_until(ann_ws, lambda f: f["type"] == "note")
        seen_by_bob = json.dumps(await drain(bob_ws))
    assert "only for Ann" not in seen_by_bob and "a private note" not in seen_by_bob
    after = await snapshot(hub, conversation_id)
    assert after["handoffs"] == before["handoffs"]
    assert after["notes"] == before["notes"] + 1

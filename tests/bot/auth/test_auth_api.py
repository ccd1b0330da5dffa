"""Console sign-in over HTTP on a real hub, on SQLite and on PostgreSQL.

Cookies are handled by hand (not by a client cookie jar) so that each test
says exactly which session a request carries.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.auth.repository import agent_sessions, agents
from bot.config import Limits
from tests.conftest import shared_hub
from tests.hub import RunningHub, running_hub

PASSWORD = "a long enough password"


# One hub per database for the module: each test signs in accounts of its own;
# the limit on logins per address is tested on hubs of their own.
hub = shared_hub(limits=Limits(logins_per_ip_per_minute=1000))


async def call(
    hub: RunningHub,
    method: str,
    path: str,
    *,
    session: str | None = None,
    csrf: str | None = None,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> tuple[int, dict[str, Any], Any]:
    sent = dict(headers or {})
    if session is not None:
        sent["Cookie"] = f"baton_session={session}"
    if csrf is not None:
        sent["X-CSRF-Token"] = csrf
    async with aiohttp.ClientSession() as client:
        async with client.request(
            method, f"{hub.url}{path}", headers=sent, **kw
        ) as response:
            text = await response.text()
            body = json.loads(text) if text else {}
            return response.status, body, response.headers.copy()


def session_cookie(headers: Any) -> Any:
    cookies: SimpleCookie = SimpleCookie()
    for header in headers.getall("Set-Cookie", []):
        cookies.load(header)
    return cookies["baton_session"]


async def new_account(hub: RunningHub, role: str = "agent") -> str:
    email = f"{role}-{secrets.token_hex(4)}@Example.com"
    await hub.ctx.auth.create_agent(email, f"Test {role}", role, PASSWORD)
    return email.lower()


async def login(
    hub: RunningHub, email: str, password: str = PASSWORD
) -> tuple[str, str]:
    status, body, headers = await call(
        hub, "POST", "/api/auth/login", json={"email": email, "password": password}
    )
    assert status == 200, body
    return session_cookie(headers).value, body["csrf_token"]


async def presence_of(hub: RunningHub, email: str) -> str:
    agent = await hub.ctx.auth.repository.get_agent_by_email(email)
    assert agent is not None
    return agent.presence


async def update_sessions(hub: RunningHub, email: str, **values: Any) -> None:
    agent = await hub.ctx.auth.repository.get_agent_by_email(email)
    assert agent is not None
    async with hub.ctx.engine.begin() as connection:
        await connection.execute(
            agent_sessions.update()
            .where(agent_sessions.c.agent_id == agent.id)
            .values(**values)
        )


async def session_rows(hub: RunningHub, email: str) -> list[Any]:
    agent = await hub.ctx.auth.repository.get_agent_by_email(email)
    assert agent is not None
    async with hub.ctx.engine.connect() as connection:
        result = await connection.execute(
            sa.select(agent_sessions).where(agent_sessions.c.agent_id == agent.id)
        )
        return list(result.all())


@pytest.mark.parametrize("role", ["agent", "trainer", "admin"])
@pytest.mark.parametrize("typed", [str.lower, str.upper, lambda e: f"  {e} "])
async def test_login_sets_a_strict_http_only_cookie(hub, role, typed) -> None:
    email = await new_account(hub, role)
    status, body, headers = await call(
        hub,
        "POST",
        "/api/auth/login",
        json={"email": typed(email), "password": PASSWORD},
    )
    assert status == 200
    agent = body["agent"]
    assert set(agent) == {"id", "name", "email", "role"}
    assert (agent["email"], agent["role"]) == (email, role)
    assert len(body["csrf_token"]) >= 32
    assert headers["Cache-Control"] == "no-store"
    cookie = session_cookie(headers)
    assert len(cookie.value) >= 40
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(12 * 3600)
    assert not cookie["secure"]  # plain http here
    status, me, _ = await call(hub, "GET", "/api/auth/me", session=cookie.value)
    assert status == 200
    assert me == {"agent": agent, "csrf_token": body["csrf_token"]}


async def test_the_cookie_is_secure_over_https(hub_settings, database_url) -> None:
    settings = hub_settings.with_changes(database_url=database_url, trust_proxy=True)
    async with running_hub(settings) as hub:
        email = await new_account(hub)
        status, _, headers = await call(
            hub,
            "POST",
            "/api/auth/login",
            json={"email": email, "password": PASSWORD},
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        )
        assert status == 200
        assert session_cookie(headers)["secure"] is True
        (row,) = await session_rows(hub, email)
        assert row.ip == "203.0.113.9"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("known", "wrong password!"),
        ("known", PASSWORD.upper()),
        ("known", ""),
        ("nobody@example.com", PASSWORD),
        ("", PASSWORD),
        ("known", "x" * 5000),
    ],
)
async def test_wrong_password_and_unknown_email_look_the_same(
    hub, email, password
) -> None:
    known = await new_account(hub)
    status, body, headers = await call(
        hub,
        "POST",
        "/api/auth/login",
        json={"email": known if email == "known" else email, "password": password},
    )
    assert status == 401
    assert body == {
        "error": {"code": "invalid_credentials", "message": "wrong email or password"}
    }
    assert "Set-Cookie" not in headers


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{nope", "invalid_json"),
        (b"[]", "invalid_json"),
        (b"{}", "bad_request"),
        (json.dumps({"email": "a@example.com"}).encode(), "bad_request"),
        (json.dumps({"email": 5, "password": "x" * 12}).encode(), "bad_request"),
        (json.dumps({"email": "a@example.com", "password": None}).encode(), None),
    ],
)
async def test_malformed_logins_are_bad_requests(hub, data, code) -> None:
    status, body, _ = await call(hub, "POST", "/api/auth/login", data=data)
    assert status == 400
    assert body["error"]["code"] == (code or "bad_request")


async def test_five_failures_lock_the_account(hub, caplog) -> None:
    caplog.set_level(logging.INFO)
    email = await new_account(hub)
    for _ in range(5):
        status, body, _ = await call(
            hub,
            "POST",
            "/api/auth/login",
            json={"email": email, "password": "guess-guess-guess"},
        )
        assert (status, body["error"]["code"]) == (401, "invalid_credentials")
    for password in (PASSWORD, "guess-guess-guess"):
        status, body, headers = await call(
            hub, "POST", "/api/auth/login", json={"email": email, "password": password}
        )
        assert (status, body["error"]["code"]) == (429, "locked_out")
        assert 14 * 60 <= int(headers["Retry-After"]) <= 15 * 60
        assert "Set-Cookie" not in headers
    # Another account is not affected.
    await login(hub, await new_account(hub))
    # When the lock ends, the right password works again.
    async with hub.ctx.engine.begin() as connection:
        await connection.execute(
            agents.update()
            .where(agents.c.email == email)
            .values(locked_until=dt.datetime.now(dt.timezone.utc))
        )
    await login(hub, email)
    credentials = await hub.ctx.auth.repository.credentials(email)
    assert credentials is not None
    assert (credentials.failed_logins, credentials.locked_until) == (0, None)
    # Logs never carry passwords or full emails.
    assert PASSWORD not in caplog.text and "guess-guess-guess" not in caplog.text
    assert email not in caplog.text
    masked = f"{email[0]}***@example.com"
    assert f"login failed for {masked}" in caplog.text
    assert f"{masked} locked until" in caplog.text


@pytest.mark.parametrize("limit", [1, 3])
async def test_logins_are_limited_per_address(hub_settings, database_url, limit):
    settings = hub_settings.with_changes(
        database_url=database_url, limits=Limits(logins_per_ip_per_minute=limit)
    )
    async with running_hub(settings) as hub:
        email = await new_account(hub)
        for attempt in range(limit):
            password = PASSWORD if attempt == 0 else "wrong password!"
            status, _, _ = await call(
                hub,
                "POST",
                "/api/auth/login",
                json={"email": email, "password": password},
            )
            assert status in {200, 401}
        status, body, headers = await call(
            hub, "POST", "/api/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert (status, body["error"]["code"]) == (429, "rate_limited")
        assert int(headers["Retry-After"]) >= 1


@pytest.mark.parametrize(
    ("origin", "status"),
    [("https://evil.example", 403), ("own", 200), (None, 200)],
)
async def test_login_checks_the_origin(hub, origin, status) -> None:
    email = await new_account(hub)
    headers = (
        {} if origin is None else {"Origin": hub.url if origin == "own" else origin}
    )
    got, body, _ = await call(
        hub,
        "POST",
        "/api/auth/login",
        json={"email": email, "password": PASSWORD},
        headers=headers,
    )
    assert got == status
    if status == 403:
        assert body["error"]["code"] == "bad_origin"


async def set_presence(
    hub: Any, session: str, csrf: str | None, presence: Any
) -> tuple[int, Any, Any]:
    """``POST /api/auth/presence`` in a session: (status, body, headers)."""
    return await call(
        hub,
        "POST",
        "/api/auth/presence",
        session=session,
        csrf=csrf,
        json={"presence": presence},
    )


async def test_logout_ends_the_session(hub) -> None:
    email = await new_account(hub)
    token, csrf = await login(hub, email)
    other_token, _ = await login(hub, email)
    await set_presence(hub, token, csrf, "online")
    status, body, _ = await call(hub, "POST", "/api/auth/logout", session=token)
    assert (status, body["error"]["code"]) == (403, "csrf_failed")
    assert (await call(hub, "GET", "/api/auth/me", session=token))[0] == 200

    status, _, headers = await call(
        hub, "POST", "/api/auth/logout", session=token, csrf=csrf
    )
    assert status == 204
    cookie = session_cookie(headers)
    assert (cookie.value, cookie["max-age"]) == ("", "0")
    status, body, _ = await call(hub, "GET", "/api/auth/me", session=token)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    # The other session (another browser) still works, and keeps the agent on.
    assert len(await session_rows(hub, email)) == 1
    assert await presence_of(hub, email) == "online"
    assert (await call(hub, "GET", "/api/auth/me", session=other_token))[0] == 200


async def test_logging_out_of_the_last_session_goes_offline(hub) -> None:
    email = await new_account(hub)
    token, csrf = await login(hub, email)
    await set_presence(hub, token, csrf, "away")
    assert await presence_of(hub, email) == "away"
    assert (await call(hub, "POST", "/api/auth/logout", session=token, csrf=csrf))[
        0
    ] == 204
    assert await presence_of(hub, email) == "offline"
    assert await session_rows(hub, email) == []


@pytest.mark.parametrize("session", [None, "", "not-a-session"])
async def test_logout_without_a_session_just_clears_the_cookie(hub, session) -> None:
    status, _, headers = await call(hub, "POST", "/api/auth/logout", session=session)
    assert status == 204
    assert session_cookie(headers)["max-age"] == "0"


@pytest.mark.parametrize("session", [None, "", "forged-session-token"])
async def test_me_needs_a_session(hub, session) -> None:
    status, body, _ = await call(hub, "GET", "/api/auth/me", session=session)
    assert (status, body["error"]["code"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    "change",
    [
        {"expires_at": dt.timedelta(seconds=-1)},
        {"last_seen_at": dt.timedelta(hours=-2, seconds=-1)},
    ],
    ids=["absolute lifetime", "idle timeout"],
)
async def test_expired_sessions_are_refused(hub, change) -> None:
    email = await new_account(hub)
    token, _ = await login(hub, email)
    now = dt.datetime.now(dt.timezone.utc)
    await update_sessions(hub, email, **{k: now + v for k, v in change.items()})
    status, body, _ = await call(hub, "GET", "/api/auth/me", session=token)
    assert (status, body["error"]["code"]) == (401, "session_expired")
    assert await session_rows(hub, email) == []
    status, body, _ = await call(hub, "GET", "/api/auth/me", session=token)
    assert (status, body["error"]["code"]) == (401, "unauthorized")


async def test_using_a_session_postpones_its_idle_timeout(hub) -> None:
    email = await new_account(hub)
    token, _ = await login(hub, email)
    an_hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    await update_sessions(hub, email, last_seen_at=an_hour_ago)
    assert (await call(hub, "GET", "/api/auth/me", session=token))[0] == 200
    (row,) = await session_rows(hub, email)
    last_seen = row.last_seen_at.replace(tzinfo=dt.timezone.utc)
    assert last_seen > an_hour_ago + dt.timedelta(minutes=59)


@pytest.mark.parametrize("csrf", [None, "", "wrong", "other session"])
async def test_state_changes_need_the_csrf_token(hub, csrf) -> None:
    email = await new_account(hub)
    token, right = await login(hub, email)
    _, other = await login(hub, await new_account(hub))
    sent = other if csrf == "other session" else csrf
    status, body, _ = await set_presence(hub, token, sent, "online")
    assert (status, body["error"]["code"]) == (403, "csrf_failed")
    assert await presence_of(hub, email) == "offline"
    status, body, _ = await set_presence(hub, token, right, "online")
    assert status == 200 and body["presence"] == "online"
    assert await presence_of(hub, email) == "online"


@pytest.mark.parametrize(
    ("role", "status"), [("agent", 200), ("admin", 200), ("trainer", 403)]
)
async def test_presence_is_for_agents_and_admins(hub, role, status) -> None:
    email = await new_account(hub, role)
    token, csrf = await login(hub, email)
    got, body, _ = await set_presence(hub, token, csrf, "away")
    assert got == status
    expected = "away" if status == 200 else "offline"
    assert await presence_of(hub, email) == expected
    if status == 403:
        assert body["error"]["code"] == "forbidden"


@pytest.mark.parametrize("presence", ["busy", "", None, 1, ["online"]])
async def test_unknown_presences_are_refused(hub, presence) -> None:
    email = await new_account(hub)
    token, csrf = await login(hub, email)
    status, body, _ = await set_presence(hub, token, csrf, presence)
    assert (status, body["error"]["code"]) == (400, "bad_presence")
    assert await presence_of(hub, email) == "offline"


async def test_presence_needs_a_session(hub) -> None:
    status, body, _ = await call(
        hub, "POST", "/api/auth/presence", json={"presence": "online"}
    )
    assert (status, body["error"]["code"]) == (401, "unauthorized")


async def test_disabling_an_account_ends_its_sessions(hub) -> None:
    email = await new_account(hub)
    token, _ = await login(hub, email)
    await hub.ctx.auth.set_active(email, False)
    status, body, _ = await call(hub, "GET", "/api/auth/me", session=token)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body, _ = await call(
        hub, "POST", "/api/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert (status, body["error"]["code"]) == (401, "invalid_credentials")


async def test_the_openapi_document_lists_the_auth_endpoints(hub) -> None:
    status, document, _ = await call(hub, "GET", "/api/openapi.json")
    assert status == 200
    for path in ("login", "logout", "me", "presence"):
        assert f"/api/auth/{path}" in document["paths"]
    assert document["components"]["securitySchemes"]["sessionCookie"]["in"] == "cookie"

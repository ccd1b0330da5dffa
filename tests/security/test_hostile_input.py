"""Hostile input gets a clear 4xx (or an error frame), never a 500.

Whole numbers past what the database can hold, lone surrogates, JSON nested
thousands of levels deep: each is refused where it enters the hub, with a
code that says what was wrong, and the connection it came on stays usable.
Everything runs on SQLite and on PostgreSQL, whose INTEGER is 32 bits.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import aiohttp
import pytest

from bot.config import Limits
from tests.bot.auth.test_auth_api import call, login, new_account
from tests.conftest import shared_hub
from tests.hub import RunningHub, receive_until

#: Past a signed 64-bit integer, and just past PostgreSQL's INTEGER.
HUGE = [str(2**63), str(2**31)]
LONE_SURROGATE = "\ud800"
DEEP = "[" * 5000 + "]" * 5000


# One hub per database for the whole module: every test sends its own bad input
# to its own conversation, and none of them is about the limits.
hub = shared_hub(
    limits=Limits(conversations_per_ip_per_hour=1000, logins_per_ip_per_minute=1000)
)


@pytest.fixture(scope="module")
async def admin(hub: RunningHub) -> tuple[str, str]:
    """A signed-in admin (who may use every console endpoint)."""
    return await login(hub, await new_account(hub, "admin"))


def escaped(value: Any) -> str:
    """JSON as a client sends it: a lone surrogate as its escape ``\\ud800``."""
    return json.dumps(value)


async def send_raw(
    hub: RunningHub, method: str, path: str, body: str | bytes, **kw: Any
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    status, answer, _ = await call(hub, method, path, data=body, headers=headers, **kw)
    return status, answer


@pytest.mark.parametrize("value", [*HUGE, "abc", "-1", "1_0", "\u0661"])
async def test_a_bad_after_on_the_history_is_400(hub, value: str) -> None:
    conversation_id, token = await hub.new_conversation()
    status, body, _ = await call(
        hub,
        "GET",
        f"/api/conversations/{conversation_id}/messages?after={value}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 400 and body["error"]["code"] == "bad_after", body


@pytest.mark.parametrize("value", [*HUGE, "abc", "-1"])
async def test_a_bad_after_on_the_socket_is_refused_and_the_token_not_logged(
    hub, value: str, caplog
) -> None:
    conversation_id, token = await hub.new_conversation()
    caplog.set_level(logging.DEBUG)
    async with hub.socket(conversation_id, token, after=value) as ws:  # type: ignore[arg-type]
        frame = json.loads(await ws.recv())
        assert (frame["type"], frame["code"]) == ("error", "bad_after")
        await ws.wait_closed()
        assert ws.close_code == 4400
    # Everything the hub logged (the test's own client logs its request).
    logged = "\n".join(
        record.getMessage() + (record.exc_text or "")
        for record in caplog.records
        if not record.name.startswith("websockets.client")
    )
    assert token not in logged
    # The conversation is fine with a good ``after``.
    async with hub.socket(conversation_id, token, after=0) as ws:
        frames = await receive_until(ws, lambda f: f.get("type") == "status")
        assert frames[-1]["state"] == "bot"


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/handoffs/{n}"),
        ("POST", "/api/handoffs/{n}/claim"),
        ("POST", "/api/handoffs/{n}/transfer"),
        ("POST", "/api/handoffs/{n}/handback"),
        ("POST", "/api/handoffs/{n}/resolve"),
        ("PATCH", "/api/admin/agents/{n}"),
    ],
)
async def test_an_id_no_record_can_have_is_404(
    hub, admin, method: str, path: str, value: str
) -> None:
    session, csrf = admin
    status, body, _ = await call(
        hub,
        method,
        path.format(n=value),
        session=session,
        csrf=csrf,
        json={"agent_id": 1, "outcome": "solved", "active": True},
    )
    assert status == 404 and body["error"]["code"] == "not_found", body


@pytest.mark.parametrize("value", [*HUGE, "two", "0", "²"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/kb/articles/password-reset/versions/{n}"),
        ("POST", "/api/kb/articles/password-reset/versions/{n}/restore"),
    ],
)
async def test_a_bad_article_version_is_400(
    hub, admin, method: str, path: str, value: str
) -> None:
    session, csrf = admin
    status, body, _ = await call(
        hub, method, path.format(n=value), session=session, csrf=csrf
    )
    assert status == 400 and body["error"]["code"] == "bad_version", body


@pytest.mark.parametrize("value", [*HUGE, "abc", "0"])
@pytest.mark.parametrize("name", ["before", "limit"])
async def test_a_bad_outbox_page_is_400(hub, admin, name: str, value: str) -> None:
    session, _ = admin
    status, body, _ = await call(
        hub, "GET", f"/api/outbox?{name}={value}", session=session
    )
    assert status == 400 and body["error"]["code"] == f"bad_{name}", body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"locale": LONE_SURROGATE}, id="locale"),
        pytest.param({"page_url": f"https://example.com/{LONE_SURROGATE}"}, id="page"),
        pytest.param({"user": {"id": LONE_SURROGATE}, "user_hash": "0"}, id="user id"),
        pytest.param({"user": {"name": "Ann"}, LONE_SURROGATE: 1}, id="key"),
    ],
)
async def test_a_lone_surrogate_in_a_new_conversation_is_400(hub, body) -> None:
    status, answer = await send_raw(hub, "POST", "/api/conversations", escaped(body))
    assert status == 400 and answer["error"]["code"] == "invalid_unicode", answer


async def test_surrogates_encoded_as_utf8_bytes_are_400_too(hub) -> None:
    raw = b'{"locale": "\xed\xa0\x80"}'
    status, answer = await send_raw(hub, "POST", "/api/conversations", raw)
    assert status == 400 and answer["error"]["code"] == "invalid_unicode", answer


async def test_a_lone_surrogate_in_a_login_is_400(hub) -> None:
    for body in (
        {"email": f"a{LONE_SURROGATE}@example.com", "password": "long enough pass"},
        {"email": "a@example.com", "password": f"pass{LONE_SURROGATE}word"},
    ):
        status, answer = await send_raw(hub, "POST", "/api/auth/login", escaped(body))
        assert status == 400 and answer["error"]["code"] == "invalid_unicode"


async def test_a_lone_surrogate_in_an_agent_reply_or_note_is_400(hub, admin) -> None:
    session, csrf = admin
    conversation_id, _ = await hub.new_conversation()
    for path in ("messages", "notes"):
        status, answer = await send_raw(
            hub,
            "POST",
            f"/api/conversations/{conversation_id}/{path}",
            escaped({"text": f"hi {LONE_SURROGATE}", "client_id": str(uuid.uuid4())}),
            session=session,
            csrf=csrf,
        )
        assert status == 400 and answer["error"]["code"] == "invalid_unicode"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/conversations"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/kb/articles"),
        ("POST", "/api/admin/agents"),
    ],
)
async def test_json_nested_thousands_deep_is_400(hub, admin, method, path) -> None:
    session, csrf = admin
    for body in (DEEP, '{"a":' * 2500 + "1" + "}" * 2500):
        status, answer = await send_raw(
            hub, method, path, body, session=session, csrf=csrf
        )
        assert status == 400 and answer["error"]["code"] == "json_too_deep", answer


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        pytest.param(
            {"type": "message", "text": f"hi {LONE_SURROGATE}", "client_id": "c1"},
            "invalid_unicode",
            id="message",
        ),
        pytest.param(
            {"type": "rating", "score": 4, "comment": LONE_SURROGATE},
            "invalid_unicode",
            id="rating comment",
        ),
        pytest.param(
            {"type": "message", "text": "hi", "client_id": LONE_SURROGATE},
            "invalid_unicode",
            id="client id",
        ),
        pytest.param(DEEP, "json_too_deep", id="deep"),
    ],
)
async def test_a_bad_customer_frame_gets_an_error_frame_and_the_socket_stays_usable(
    hub, frame: Any, code: str
) -> None:
    conversation_id, token = await hub.new_conversation()
    async with hub.socket(conversation_id, token) as ws:
        await receive_until(ws, lambda f: f.get("type") == "status")
        await ws.send(frame if isinstance(frame, str) else escaped(frame))
        frames = await receive_until(ws, lambda f: f.get("type") == "error")
        assert frames[-1]["code"] == code
        await ws.send(
            json.dumps({"type": "message", "text": "still here?", "client_id": "ok"})
        )
        frames = await receive_until(
            ws, lambda f: f.get("type") == "message" and f.get("client_id") == "ok"
        )
        assert frames[-1]["text"] == "still here?"


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(escaped({"type": "ping", LONE_SURROGATE: 1}), id="surrogate"),
        pytest.param(DEEP, id="deep"),
    ],
)
async def test_a_bad_console_frame_gets_an_error_frame(hub, admin, frame) -> None:
    session, _ = admin
    async with aiohttp.ClientSession() as client:
        async with client.ws_connect(
            f"{hub.ws_url}/api/agent/ws",
            headers={"Cookie": f"baton_session={session}"},
        ) as ws:
            while (await ws.receive_json()).get("type") != "queue":
                pass
            await ws.send_str(frame)
            answer = await ws.receive_json()
            while answer.get("type") not in {"error", "pong"}:
                answer = await ws.receive_json()
            assert answer["type"] == "error"
            assert answer["code"] in {"invalid_unicode", "json_too_deep"}
            await ws.send_str(json.dumps({"type": "ping"}))
            answer = await ws.receive_json()
            while answer.get("type") != "pong":
                answer = await ws.receive_json()

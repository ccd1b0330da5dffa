"""Account management over HTTP on a real hub, on SQLite and on PostgreSQL.

Every refusal is checked for its status and code *and* for having changed
nothing: the accounts table and the audit log are compared before and after.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.auth.repository import agents, audit_log
from bot.config import Limits
from tests.bot.auth.test_auth_api import PASSWORD, call, login
from tests.bot.web.test_agent_api import Agent
from tests.conftest import shared_hub
from tests.hub import RunningHub

# One hub per database for the module: each test signs in accounts of its own.
hub = shared_hub(
    limits=Limits(logins_per_ip_per_minute=1000, conversations_per_ip_per_hour=1000)
)


def unique_email(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


async def signed_in(hub: RunningHub, role: str) -> Agent:
    email = unique_email(role)
    record = await hub.ctx.auth.create_agent(email, f"Test {role}", role, PASSWORD)
    session, csrf = await login(hub, email)
    return Agent(record.id, record.name, email, session, csrf)


async def state(hub: RunningHub) -> tuple[list[Any], int]:
    """Every account row (secrets included) and the audit log's length."""
    async with hub.ctx.engine.connect() as connection:
        rows = (await connection.execute(sa.select(agents).order_by(agents.c.id))).all()
        audited = (
            await connection.execute(sa.select(sa.func.count()).select_from(audit_log))
        ).scalar_one()
    return [tuple(row) for row in rows], int(audited)


def new_account_body(**changes: Any) -> dict[str, Any]:
    return {
        "email": unique_email("new"),
        "name": "New Colleague",
        "role": "agent",
        "password": PASSWORD,
        **changes,
    }


async def test_admin_creates_lists_changes_and_disables_an_account(hub) -> None:
    admin = await signed_in(hub, "admin")
    body = new_account_body(email="  Ann.Lee@Example.com ", name="Ann Lee")
    status, created = await admin.call(hub, "POST", "/api/admin/agents", json=body)
    assert status == 201, created
    ann = created["agent"]
    assert ann["email"] == "ann.lee@example.com"
    assert (ann["role"], ann["active"], ann["presence"]) == ("agent", True, "offline")
    assert "password" not in str(created) and "hash" not in str(created)

    # Ann can sign in with the password the admin chose.
    ann_session, _ = await login(hub, "ann.lee@example.com")

    status, listed = await admin.call(hub, "GET", "/api/admin/agents")
    assert status == 200
    assert listed["roles"] == ["agent", "trainer", "admin"]
    assert {a["email"] for a in listed["agents"]} >= {admin.email, ann["email"]}

    status, changed = await admin.call(
        hub, "PATCH", f"/api/admin/agents/{ann['id']}", json={"role": "trainer"}
    )
    assert status == 200 and changed["agent"]["role"] == "trainer"
    stored = await hub.ctx.auth.repository.get_agent(ann["id"])
    assert stored is not None and stored.role == "trainer"

    status, changed = await admin.call(
        hub, "PATCH", f"/api/admin/agents/{ann['id']}", json={"active": False}
    )
    assert status == 200 and changed["agent"]["active"] is False
    # Disabling ends her session at once.
    status, answer, _ = await call(hub, "GET", "/api/auth/me", session=ann_session)
    assert status == 401, answer
    status, answer, _ = await call(
        hub,
        "POST",
        "/api/auth/login",
        json={"email": "ann.lee@example.com", "password": PASSWORD},
    )
    assert status == 401 and answer["error"]["code"] == "invalid_credentials"

    # Re-enabled, she can sign in again.
    status, _ = await admin.call(
        hub, "PATCH", f"/api/admin/agents/{ann['id']}", json={"active": True}
    )
    assert status == 200
    await login(hub, "ann.lee@example.com")

    async with hub.ctx.engine.connect() as connection:
        actions = (
            await connection.execute(
                sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
                .where(audit_log.c.subject == "ann.lee@example.com")
                .order_by(audit_log.c.id)
            )
        ).all()
    assert [tuple(a) for a in actions] == [
        (admin.email, "agent.create", {"role": "agent"}),
        (admin.email, "agent.change", {"role": "trainer"}),
        (admin.email, "agent.change", {"active": False}),
        (admin.email, "agent.change", {"active": True}),
    ]


async def test_colleagues_for_a_transfer_are_enabled_agents_and_admins(hub) -> None:
    agent = await signed_in(hub, "agent")
    admin = await signed_in(hub, "admin")
    trainer = await signed_in(hub, "trainer")
    gone = await signed_in(hub, "agent")
    await hub.ctx.auth.set_active(gone.email, False)
    status, body = await agent.call(hub, "GET", "/api/agents")
    assert status == 200
    ids = {a["id"] for a in body["agents"]}
    assert {agent.id, admin.id} <= ids
    assert trainer.id not in ids and gone.id not in ids
    assert all(set(a) == {"id", "name", "role", "presence"} for a in body["agents"])

    status, body = await trainer.call(hub, "GET", "/api/agents")
    assert status == 403 and body["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", ["agent", "trainer"])
async def test_only_admins_manage_accounts(hub, role) -> None:
    caller = await signed_in(hub, role)
    victim = await signed_in(hub, "agent")
    before = await state(hub)
    attempts = [
        ("GET", "/api/admin/agents", None),
        ("POST", "/api/admin/agents", new_account_body(role="admin")),
        ("PATCH", f"/api/admin/agents/{caller.id}", {"role": "admin"}),
        ("PATCH", f"/api/admin/agents/{victim.id}", {"active": False}),
    ]
    for method, path, body in attempts:
        status, answer = await caller.call(hub, method, path, json=body)
        assert status == 403, (method, path, answer)
        assert answer["error"]["code"] == "forbidden"
    assert await state(hub) == before


async def test_signed_out_callers_are_refused(hub) -> None:
    victim = await signed_in(hub, "agent")
    before = await state(hub)
    for method, path, body in [
        ("GET", "/api/admin/agents", None),
        ("GET", "/api/agents", None),
        ("POST", "/api/admin/agents", new_account_body()),
        ("PATCH", f"/api/admin/agents/{victim.id}", {"active": False}),
    ]:
        status, answer, _ = await call(hub, method, path, json=body)
        assert status == 401 and answer["error"]["code"] == "unauthorized"
    assert await state(hub) == before


@pytest.mark.parametrize("csrf", [None, "not-the-token"])
async def test_changes_without_the_csrf_token_are_refused(hub, csrf) -> None:
    admin = await signed_in(hub, "admin")
    victim = await signed_in(hub, "agent")
    before = await state(hub)
    for method, path, body in [
        ("POST", "/api/admin/agents", new_account_body()),
        ("PATCH", f"/api/admin/agents/{victim.id}", {"active": False}),
        ("PATCH", f"/api/admin/agents/{victim.id}", {"role": "admin"}),
    ]:
        status, answer, _ = await call(
            hub, method, path, session=admin.session, csrf=csrf, json=body
        )
        assert status == 403 and answer["error"]["code"] == "csrf_failed"
    assert await state(hub) == before


async def test_a_taken_email_is_a_conflict_in_any_case(hub) -> None:
    admin = await signed_in(hub, "admin")
    taken = await signed_in(hub, "agent")
    before = await state(hub)
    status, answer = await admin.call(
        hub,
        "POST",
        "/api/admin/agents",
        json=new_account_body(email=taken.email.upper(), role="admin"),
    )
    assert status == 409 and answer["error"]["code"] == "email_taken"
    assert await state(hub) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (new_account_body(role="superuser"), "bad_role"),
        (new_account_body(role=""), "bad_role"),
        (new_account_body(email="not-an-email"), "bad_email"),
        (new_account_body(name="   "), "bad_name"),
        (new_account_body(password="short"), "weak_password"),
        ({"email": unique_email("x"), "name": "X", "role": "agent"}, "missing_fields"),
        (new_account_body(role=["admin"]), "missing_fields"),
        ([1, 2], "invalid_json"),
    ],
)
async def test_bad_new_accounts_are_refused(hub, body, code) -> None:
    admin = await signed_in(hub, "admin")
    before = await state(hub)
    status, answer = await admin.call(hub, "POST", "/api/admin/agents", json=body)
    assert status == 400, answer
    assert answer["error"]["code"] == code
    assert answer["error"]["message"]
    assert await state(hub) == before


async def test_invalid_json_is_a_bad_request(hub) -> None:
    admin = await signed_in(hub, "admin")
    before = await state(hub)
    status, answer = await admin.call(
        hub,
        "POST",
        "/api/admin/agents",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert status == 400 and answer["error"]["code"] == "invalid_json"
    assert await state(hub) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"role": "superuser"}, "bad_role"),
        ({"role": "trainer", "active": "no"}, "bad_active"),
        ({"active": 0}, "bad_active"),
        ({"role": "trainer", "password": "a new password"}, "bad_field"),
        ({}, "bad_field"),
    ],
)
async def test_bad_changes_are_refused_whole(hub, body, code) -> None:
    admin = await signed_in(hub, "admin")
    victim = await signed_in(hub, "agent")
    before = await state(hub)
    status, answer = await admin.call(
        hub, "PATCH", f"/api/admin/agents/{victim.id}", json=body
    )
    assert status == 400, answer
    assert answer["error"]["code"] == code
    assert await state(hub) == before


async def test_an_unknown_account_is_not_found(hub) -> None:
    admin = await signed_in(hub, "admin")
    before = await state(hub)
    status, answer = await admin.call(
        hub, "PATCH", "/api/admin/agents/987654", json={"role": "trainer"}
    )
    assert status == 404 and answer["error"]["code"] == "unknown_agent"
    assert await state(hub) == before


@pytest.mark.parametrize("body", [{"role": "agent"}, {"active": False}])
async def test_an_admin_cannot_lock_themselves_out(hub, body) -> None:
    admin = await signed_in(hub, "admin")
    before = await state(hub)
    status, answer = await admin.call(
        hub, "PATCH", f"/api/admin/agents/{admin.id}", json=body
    )
    assert status == 409 and answer["error"]["code"] == "own_account"
    assert await state(hub) == before


async def test_the_endpoints_are_in_the_openapi_document(hub) -> None:
    status, document, _ = await call(hub, "GET", "/api/openapi.json")
    assert status == 200
    paths = document["paths"]
    assert "get" in paths["/api/agents"]
    assert {"get", "post"} <= set(paths["/api/admin/agents"])
    patch = paths["/api/admin/agents/{agent_id}"]["patch"]
    assert "409" in patch["responses"]
    assert any(p["name"] == "X-CSRF-Token" for p in patch["parameters"])


async def test_the_console_page_is_served_with_a_strict_policy(hub) -> None:
    for path, kind in [
        ("/console", "text/html"),
        ("/static/console/main.js", "application/javascript"),
        ("/static/console/chat.js", "application/javascript"),
        ("/static/console.css", "text/css"),
    ]:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{hub.url}{path}") as response:
                assert response.status == 200, path
                assert response.headers["Content-Type"].startswith(kind)
                if kind == "text/html":
                    policy = response.headers["Content-Security-Policy"]
                    assert "script-src 'self'" in policy
                    page = await response.text()
                    assert "<script>" not in page and " style=" not in page
                    module = '<script type="module" src="/static/console/main.js">'
                    assert module in page
    for path in ["/static/other/main.js", "/static/console/.hidden.js"]:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{hub.url}{path}") as response:
                assert response.status == 404, path


async def claimed_chat(hub: RunningHub, agent: Agent) -> str:
    """A conversation handed to people and claimed by ``agent``."""
    conversation_id, _ = await hub.new_conversation()
    handoff = await hub.ctx.handoffs.start(conversation_id, "customer_request")
    assert handoff is not None
    await hub.ctx.handoffs.claim(handoff.id, agent.id, "Test agent")
    return conversation_id


async def test_disabling_an_agent_puts_their_chats_back_in_the_queue(hub) -> None:
    admin = await signed_in(hub, "admin")
    leaving = await signed_in(hub, "agent")
    conversation_id = await claimed_chat(hub, leaving)

    status, _ = await admin.call(
        hub, "PATCH", f"/api/admin/agents/{leaving.id}", json={"active": False}
    )

    assert status == 200
    current = await hub.ctx.handoffs.repository.current(conversation_id)
    assert current is not None and (current.state, current.agent_id) == (
        "queued",
        None,
    )


async def test_an_account_disabled_elsewhere_loses_its_chats_at_the_next_sweep(
    hub,
) -> None:
    leaving = await signed_in(hub, "agent")
    conversation_id = await claimed_chat(hub, leaving)

    # As `baton disable-agent` does, from another process: no hub is told.
    await hub.ctx.auth.set_active(leaving.email, False)

    async def requeued() -> bool:
        current = await hub.ctx.handoffs.repository.current(conversation_id)
        return current is not None and current.state == "queued"

    for _ in range(100):
        if await requeued():
            break
        await asyncio.sleep(0.2)
    assert await requeued()

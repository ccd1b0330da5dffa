"""Canned replies over HTTP, on SQLite and PostgreSQL: admins write, agents read.

Every refusal is checked for its status and code and for having changed
nothing (the replies and the audit log are compared before and after).
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from bot.auth.repository import audit_log
from bot.canned.repository import canned_replies
from tests.bot.auth.test_auth_api import call
from tests.bot.web.test_agent_api import sign_in
from tests.hub import RunningHub


async def stored(hub: RunningHub) -> tuple[list[Any], int]:
    async with hub.ctx.engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(canned_replies).order_by(canned_replies.c.id)
            )
        ).all()
        audited = (
            await connection.execute(sa.select(sa.func.count()).select_from(audit_log))
        ).scalar_one()
    return [tuple(row) for row in rows], int(audited)


async def test_admins_write_replies_agents_find_them_and_it_is_audited(hub) -> None:
    admin, agent = await sign_in(hub, "admin"), await sign_in(hub, "agent")
    tag = secrets.token_hex(3)
    body = {
        "shortcut": f"/Reset-{tag}",
        "title": "  Password reset link ",
        "body": "I have sent you a link to reset your password.",
    }
    status, answer = await admin.call(hub, "POST", "/api/canned-replies", json=body)
    assert status == 201, answer
    reply = answer["reply"]
    assert (reply["shortcut"], reply["title"]) == (
        f"reset-{tag}",
        "Password reset link",
    )
    assert reply["updated_by"] == admin.email
    status, answer = await admin.call(
        hub,
        "POST",
        "/api/canned-replies",
        json={
            "shortcut": f"refund-{tag}",
            "title": "Refund 100%_sure",
            "body": "Done.",
        },
    )
    assert status == 201, answer
    refund_id = answer["reply"]["id"]

    status, answer = await agent.call(
        hub, "GET", "/api/canned-replies", params={"q": tag}
    )
    assert status == 200, answer
    assert [r["shortcut"] for r in answer["replies"]] == [
        f"refund-{tag}",
        f"reset-{tag}",
    ]
    # What follows the "/" as typed; % and _ match themselves.
    status, answer = await agent.call(
        hub, "GET", "/api/canned-replies", params={"q": "/res"}
    )
    assert f"reset-{tag}" in [r["shortcut"] for r in answer["replies"]]
    status, answer = await agent.call(
        hub, "GET", "/api/canned-replies", params={"q": "100%_sure"}
    )
    assert [r["id"] for r in answer["replies"]] == [refund_id]
    status, answer = await agent.call(
        hub, "GET", "/api/canned-replies", params={"q": "100_"}
    )
    assert refund_id not in [r["id"] for r in answer["replies"]]

    status, answer = await admin.call(
        hub,
        "PATCH",
        f"/api/canned-replies/{refund_id}",
        json={"body": "Your refund is on its way."},
    )
    assert status == 200 and answer["reply"]["body"] == "Your refund is on its way."
    status, answer = await admin.call(hub, "DELETE", f"/api/canned-replies/{refund_id}")
    assert status == 204, answer
    status, answer = await admin.call(hub, "DELETE", f"/api/canned-replies/{refund_id}")
    assert (status, answer["error"]["code"]) == (404, "unknown_canned_reply")

    async with hub.ctx.engine.connect() as connection:
        actions = (
            await connection.execute(
                sa.select(audit_log.c.action, audit_log.c.subject, audit_log.c.detail)
                .where(audit_log.c.actor == admin.email)
                .order_by(audit_log.c.id)
            )
        ).all()
    assert [(a, s) for a, s, _ in actions] == [
        ("canned.create", f"/reset-{tag}"),
        ("canned.create", f"/refund-{tag}"),
        ("canned.change", f"/refund-{tag}"),
        ("canned.delete", f"/refund-{tag}"),
    ]
    assert actions[2][2]["changed"] == ["body"]


async def test_refusals_change_nothing(hub) -> None:
    admin, agent = await sign_in(hub, "admin"), await sign_in(hub, "agent")
    trainer = await sign_in(hub, "trainer")
    tag = secrets.token_hex(3)
    good = {"shortcut": f"hi-{tag}", "title": "Greeting", "body": "Hello!"}
    status, answer = await admin.call(hub, "POST", "/api/canned-replies", json=good)
    assert status == 201, answer
    reply_id = answer["reply"]["id"]
    before = await stored(hub)

    new, one = "/api/canned-replies", f"/api/canned-replies/{reply_id}"
    other = {**good, "shortcut": f"other-{tag}"}
    refusals: list[tuple[Any, str, str, dict[str, Any] | None, int, str]] = [
        (agent, "POST", new, good, 403, "forbidden"),
        (agent, "PATCH", one, {"body": "x"}, 403, "forbidden"),
        (agent, "DELETE", one, None, 403, "forbidden"),
        (admin, "POST", new, good, 409, "shortcut_taken"),
        (admin, "POST", new, {"shortcut": "x"}, 400, "missing_fields"),
        (admin, "POST", new, {**good, "shortcut": "two words"}, 400, "bad_shortcut"),
        (admin, "POST", new, {**good, "shortcut": "x" * 41}, 400, "bad_shortcut"),
        (admin, "POST", new, {**good, "shortcut": 7}, 400, "bad_shortcut"),
        (admin, "POST", new, {**other, "title": " "}, 400, "bad_title"),
        (admin, "POST", new, {**other, "body": "b" * 4001}, 400, "bad_body"),
        (admin, "POST", new, {**other, "tags": []}, 400, "bad_field"),
        (admin, "PATCH", one, {}, 400, "bad_field"),
        (admin, "PATCH", one, {"body": ""}, 400, "bad_body"),
        (admin, "PATCH", f"{new}/99999999", {"body": "x"}, 404, "unknown_canned_reply"),
    ]
    for who, method, path, body, status_wanted, code in refusals:
        status, answer = await who.call(hub, method, path, json=body)
        assert (status, answer["error"]["code"]) == (status_wanted, code), (path, body)
    status, answer = await trainer.call(hub, "GET", "/api/canned-replies")
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, answer = await admin.call(
        hub, "POST", "/api/canned-replies", csrf=False, json=other
    )
    assert (status, answer["error"]["code"]) == (403, "csrf_failed")
    status, _, _ = await call(hub, "GET", "/api/canned-replies")
    assert status == 401
    status, answer = await agent.call(
        hub, "GET", "/api/canned-replies", params={"q": "x" * 101}
    )
    assert (status, answer["error"]["code"]) == (400, "bad_q")
    assert await stored(hub) == before

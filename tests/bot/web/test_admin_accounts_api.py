"""Account administration over HTTP (issue #18, item 13), on SQLite and PostgreSQL.

What disabling does to the person's chats, editing names and e-mails, the
last sign-in, one-time password-reset links by mail, and the audit log view.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from bot.auth.repository import password_resets
from bot.db.models import utcnow
from tests.bot.auth.test_auth_api import PASSWORD, call, login
from tests.bot.web.test_admin_api import state
from tests.bot.web.test_agent_api import Agent, claimed, sign_in
from tests.hub import RunningHub

NEW_PASSWORD = "a-much-better-passphrase-42"


async def account(admin: Agent, hub: RunningHub, agent_id: int) -> dict:
    status, listed = await admin.call(hub, "GET", "/api/admin/agents")
    assert status == 200, listed
    (found,) = [a for a in listed["agents"] if a["id"] == agent_id]
    return found


async def disable_releasing_one_chat(
    admin: Agent, hub: RunningHub, person: Agent, conversation_id: str
) -> None:
    """Disable the account: its one open chat goes back to the queue."""
    status, changed = await admin.call(
        hub, "PATCH", f"/api/admin/agents/{person.id}", json={"active": False}
    )
    assert status == 200, changed
    assert changed["released_chats"] == 1
    assert changed["agent"]["open_chats"] == 0
    conversation = await hub.ctx.conversations.get(conversation_id)
    assert conversation is not None and conversation.state == "queued"


async def test_disabling_says_and_does_what_happens_to_open_chats(hub) -> None:
    admin, ann = await sign_in(hub, "admin"), await sign_in(hub)
    conversation_id, _, _ = await claimed(hub, ann)
    before = await account(admin, hub, ann.id)
    assert (before["open_chats"], before["open_follow_ups"]) == (1, 0)
    assert before["last_login_at"] is not None

    await disable_releasing_one_chat(admin, hub, ann, conversation_id)


async def test_disabling_counts_the_chats_the_ownership_sweep_requeued_first(
    hub, monkeypatch
) -> None:
    # The periodic ownership sweep can requeue a disabled account's chats
    # between the change and the admin API's own release: the admin is
    # still told they went back to the queue.
    admin, ann = await sign_in(hub, "admin"), await sign_in(hub)
    conversation_id, _, _ = await claimed(hub, ann)
    release = hub.ctx.handoffs.release_unable_holders

    async def the_sweep_came_first() -> int:
        await release()
        return await release()

    monkeypatch.setattr(
        hub.ctx.handoffs, "release_unable_holders", the_sweep_came_first
    )
    await disable_releasing_one_chat(admin, hub, ann, conversation_id)


async def test_admin_edits_name_and_email_and_refusals_change_nothing(hub) -> None:
    admin, ann = await sign_in(hub, "admin"), await sign_in(hub)
    new_email = f"Ann.New-{secrets.token_hex(3)}@Example.com"
    status, changed = await admin.call(
        hub,
        "PATCH",
        f"/api/admin/agents/{ann.id}",
        json={"name": "  Ann Newname ", "email": new_email},
    )
    assert status == 200, changed
    assert (changed["agent"]["name"], changed["agent"]["email"]) == (
        "Ann Newname",
        new_email.lower(),
    )
    assert changed["released_chats"] == 0
    await login(hub, new_email)

    before = await state(hub)
    for body, code, wanted in [
        ({"email": admin.email}, "email_taken", 409),
        ({"email": "not an address"}, "bad_email", 400),
        ({"name": " "}, "bad_name", 400),
        ({"name": 5}, "bad_name", 400),
        ({"name": "Fine", "role": "boss"}, "bad_role", 400),
        ({"password": "x"}, "bad_field", 400),
    ]:
        status, answer = await admin.call(
            hub, "PATCH", f"/api/admin/agents/{ann.id}", json=body
        )
        assert (status, answer["error"]["code"]) == (wanted, code), body
    assert await state(hub) == before


async def test_a_reset_link_is_mailed_works_once_and_expires(hub) -> None:
    admin, ann = await sign_in(hub, "admin"), await sign_in(hub)
    other = await sign_in(hub)
    status, sent = await admin.call(
        hub, "POST", f"/api/admin/agents/{ann.id}/password-reset"
    )
    assert status == 202, sent
    assert sent["mail"]["status"] == "kept" and sent["demo_mode"] is True
    assert ann.email not in str(sent)

    # The mail is in the outbox; only admins see the link in it.
    status, outbox = await admin.call(hub, "GET", "/api/outbox")
    (mail,) = [m for m in outbox["mails"] if m["recipient"] == ann.email]
    assert mail["kind"] == "password_reset"
    token = re.search(r"/console#reset=([\w-]+)", mail["body"]).group(1)
    status, outbox = await other.call(hub, "GET", "/api/outbox")
    (hidden,) = [m for m in outbox["mails"] if m["recipient"] == ann.email]
    assert hidden["body"] is None

    # A weak password is refused and the link still works.
    status, answer, _ = await call(
        hub, "POST", "/api/auth/password-reset", json={"token": token, "password": "x"}
    )
    assert (status, answer["error"]["code"]) == (400, "weak_password")
    body = {"token": token, "password": NEW_PASSWORD}
    status, answer, _ = await call(hub, "POST", "/api/auth/password-reset", json=body)
    assert status == 200, answer
    assert answer["agent"]["email"] == ann.email
    # Ann is signed out everywhere; the new password works, the old does not.
    status, _, _ = await call(hub, "GET", "/api/auth/me", session=ann.session)
    assert status == 401
    await login(hub, ann.email, NEW_PASSWORD)
    status, answer, _ = await call(
        hub, "POST", "/api/auth/login", json={"email": ann.email, "password": PASSWORD}
    )
    assert status == 401
    # Used once: never again.
    body = {"token": token, "password": "yet-another-passphrase-7"}
    status, answer, _ = await call(hub, "POST", "/api/auth/password-reset", json=body)
    assert (status, answer["error"]["code"]) == (400, "reset_link_invalid")

    # A newer link replaces an older one; an expired link does nothing.
    for _ in range(2):
        status, _ = await admin.call(
            hub, "POST", f"/api/admin/agents/{ann.id}/password-reset"
        )
        assert status == 202
    status, outbox = await admin.call(hub, "GET", "/api/outbox")
    newest, older = [
        re.search(r"#reset=([\w-]+)", m["body"]).group(1)
        for m in outbox["mails"]
        if m["recipient"] == ann.email
    ][:2]
    body = {"token": older, "password": "yet-another-passphrase-7"}
    status, answer, _ = await call(hub, "POST", "/api/auth/password-reset", json=body)
    assert (status, answer["error"]["code"]) == (400, "reset_link_invalid")
    async with hub.ctx.engine.begin() as connection:
        await connection.execute(
            password_resets.update()
            .where(password_resets.c.agent_id == ann.id)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    body = {"token": newest, "password": "yet-another-passphrase-7"}
    status, answer, _ = await call(hub, "POST", "/api/auth/password-reset", json=body)
    assert (status, answer["error"]["code"]) == (400, "reset_link_invalid")
    await login(hub, ann.email, NEW_PASSWORD)

    # Nobody but an admin sends links; a disabled account gets none.
    status, answer = await other.call(
        hub, "POST", f"/api/admin/agents/{ann.id}/password-reset"
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    await admin.call(
        hub, "PATCH", f"/api/admin/agents/{ann.id}", json={"active": False}
    )
    status, answer = await admin.call(
        hub, "POST", f"/api/admin/agents/{ann.id}/password-reset"
    )
    assert (status, answer["error"]["code"]) == (409, "account_disabled")
    status, answer = await admin.call(
        hub, "POST", "/api/admin/agents/99999/password-reset"
    )
    assert (status, answer["error"]["code"]) == (404, "unknown_agent")


async def test_the_audit_log_pages_and_filters(hub) -> None:
    admin, ann = await sign_in(hub, "admin"), await sign_in(hub)
    for role in ("trainer", "agent", "trainer"):
        status, _ = await admin.call(
            hub, "PATCH", f"/api/admin/agents/{ann.id}", json={"role": role}
        )
        assert status == 200
    await admin.call(hub, "POST", f"/api/admin/agents/{ann.id}/password-reset")

    params = {"actor": admin.email.upper(), "limit": "2"}
    status, page = await admin.call(hub, "GET", "/api/admin/audit", params=params)
    assert status == 200, page
    assert [e["action"] for e in page["entries"]] == [
        "agent.password_reset_sent",
        "agent.change",
    ]
    assert page["entries"][1]["detail"] == {"role": "trainer"}
    assert page["entries"][1]["subject"] == ann.email
    status, rest = await admin.call(
        hub,
        "GET",
        "/api/admin/audit",
        params={**params, "before": str(page["next_before"]), "limit": "50"},
    )
    assert [e["detail"] for e in rest["entries"]] == [
        {"role": "agent"},
        {"role": "trainer"},
    ]
    assert rest["next_before"] is None
    status, only = await admin.call(
        hub,
        "GET",
        "/api/admin/audit",
        params={"actor": admin.email, "action": "agent.change"},
    )
    assert [e["action"] for e in only["entries"]] == ["agent.change"] * 3
    status, prefixed = await admin.call(
        hub,
        "GET",
        "/api/admin/audit",
        params={"actor": admin.email, "action": "agent."},
    )
    assert len(prefixed["entries"]) == 4

    for params, code in [
        ({"limit": "0"}, "bad_limit"),
        ({"before": "x"}, "bad_before"),
        ({"action": "a" * 65}, "bad_action"),
    ]:
        status, answer = await admin.call(hub, "GET", "/api/admin/audit", params=params)
        assert (status, answer["error"]["code"]) == (400, code)
    status, answer = await ann.call(hub, "GET", "/api/admin/audit")
    assert (status, answer["error"]["code"]) == (403, "forbidden")

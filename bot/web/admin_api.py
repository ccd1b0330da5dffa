"""Console accounts over HTTP: colleagues for a transfer, and admin management.

``GET /api/agents`` lists the colleagues who can take a chat (agents and
admins; for the console's transfer menu). Everything under
``/api/admin/agents`` is for admins only: list every account (with its last
sign-in and the chats and follow-ups it holds), create one, change its name,
e-mail or role, disable or enable it, and e-mail it a one-time link to set a
new password (``POST /api/auth/password-reset`` spends the link). Changes
need the session's CSRF token (``bot.web.auth_api.require_agent``), validate
the whole request before touching anything, and are written to the audit log,
which admins read at ``GET /api/admin/audit``.

Disabling an account, or giving it a role that does not take chats, puts the
chats it holds back in the queue (their customers are told) and gives its
follow-ups to a colleague, at once; the answer says how many chats went back.

An admin cannot take away their own admin role or disable their own account
(``409 own_account``): the last admin must not lock everybody out of account
management by mistake.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.auth import CHAT_ROLES, ROLES, AgentRecord, OpenWork, mask_email
from bot.bus import AGENTS_CHANNEL
from bot.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
)
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object, whole_number
from bot.web.context import hub_of
from bot.web.customer import client_address
from bot.web.origins import origin_allowed

admin_api = Blueprint("admin_api")

_CREATE_FIELDS = ("email", "name", "role", "password")
_CHANGE_FIELDS = frozenset({"name", "email", "role", "active"})
#: The mail kind of a password-reset link (the outbox shows its body to admins only).
RESET_MAIL_KIND = "password_reset"
_MAX_AUDIT_PAGE = 200
_NO_WORK = OpenWork(chats=0, follow_ups=0)
#: Largest body accepted; an account is a few hundred bytes.
MAX_BODY_BYTES = 16 * 1024


def account_view(agent: AgentRecord, work: OpenWork = _NO_WORK) -> dict[str, Any]:
    """An account as admins see it: no secrets, but its state and open work."""
    return {
        **agent.public(),
        "active": agent.active,
        "presence": agent.presence,
        "created_at": agent.created_at.isoformat(),
        "last_login_at": (
            agent.last_login_at.isoformat() if agent.last_login_at else None
        ),
        "open_chats": work.chats,
        "open_follow_ups": work.follow_ups,
    }


def _check_role(role: object) -> str:
    if not isinstance(role, str) or role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}", code="bad_role")
    return role


@admin_api.get("/api/agents")
async def colleagues(request: Request) -> HTTPResponse:
    """Enabled accounts that can take a chat, with their presence."""
    await require_agent(request, "agent")
    accounts = await hub_of(request).auth.repository.list_agents()
    return json_response(
        {
            "agents": [
                {
                    "id": agent.id,
                    "name": agent.name,
                    "role": agent.role,
                    "presence": agent.presence,
                }
                for agent in accounts
                if agent.active and agent.role in CHAT_ROLES
            ]
        }
    )


@admin_api.get("/api/admin/agents")
async def list_accounts(request: Request) -> HTTPResponse:
    """Every console account, enabled ones first (admins only)."""
    await require_agent(request, "admin")
    repository = hub_of(request).auth.repository
    accounts = await repository.list_agents()
    work = await repository.open_work()
    response = json_response(
        {
            "agents": [
                account_view(agent, work.get(agent.id, _NO_WORK)) for agent in accounts
            ],
            "roles": list(ROLES),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_api.post("/api/admin/agents")
async def create_account(request: Request) -> HTTPResponse:
    """Create an account: ``{"email", "name", "role", "password"}`` (admins only).

    Errors: ``400`` (``bad_email``, ``bad_name``, ``bad_role``,
    ``weak_password``, ...), ``409 email_taken``.
    """
    admin = await require_agent(request, "admin")
    body = json_object(request, MAX_BODY_BYTES)
    missing = [
        field for field in _CREATE_FIELDS if not isinstance(body.get(field), str)
    ]
    if missing:
        raise BadRequest(
            f"{', '.join(missing)} must be given as text", code="missing_fields"
        )
    _check_role(body["role"])
    hub = hub_of(request)
    agent = await hub.auth.create_agent(
        body["email"], body["name"], body["role"], body["password"]
    )
    await hub.auth.repository.record_audit(
        admin.email, "agent.create", agent.email, {"role": agent.role}
    )
    # The first account that can take chats owns the promises nobody could.
    await hub.handoffs.own_follow_ups()
    return json_response({"agent": account_view(agent)}, status=201)


@admin_api.patch("/api/admin/agents/<agent_id:int>")
async def change_account(request: Request, agent_id: int) -> HTTPResponse:
    """Change an account's ``name``, ``email``, ``role`` and/or ``active`` flag.

    Admins only. Disabling ends the account's sessions at once, on every hub
    instance; the answer's ``released_chats`` says how many chats went back
    to the queue.
    """
    admin = await require_agent(request, "admin")
    body = json_object(request, MAX_BODY_BYTES)
    unknown = sorted(set(body) - _CHANGE_FIELDS)
    if unknown:
        raise BadRequest(
            f"only name, email, role and active can be changed, not "
            f"{', '.join(unknown)}",
            code="bad_field",
        )
    if not body:
        raise BadRequest(
            "nothing to change: give name, email, role or active", code="bad_field"
        )
    for field in ("name", "email"):
        if field in body and not isinstance(body[field], str):
            raise BadRequest(f"{field} must be text", code=f"bad_{field}")
    role = _check_role(body["role"]) if "role" in body else None
    active = body.get("active")
    if "active" in body and not isinstance(active, bool):
        raise BadRequest("active must be true or false", code="bad_active")
    hub = hub_of(request)
    agent = await hub.auth.repository.get_agent(agent_id)
    if agent is None:
        raise NotFound("no such account", code="unknown_agent")
    if agent.id == admin.id and (
        (role is not None and role != "admin") or active is False
    ):
        raise Conflict(
            "you cannot take away your own admin role or disable your own "
            "account; ask another admin",
            code="own_account",
        )
    changes: dict[str, Any] = {}
    name = body["name"].strip() if "name" in body else None
    email = body["email"].strip().lower() if "email" in body else None
    if (name is not None and name != agent.name) or (
        email is not None and email != agent.email
    ):
        before = agent
        agent = await hub.auth.set_profile(agent.id, name=name, email=email)
        if agent.name != before.name:
            changes["name"] = agent.name
        if agent.email != before.email:
            changes["email"] = {"was": before.email}
    if role is not None and role != agent.role:
        agent = await hub.auth.set_role(agent.email, role)
        changes["role"] = role
    if isinstance(active, bool) and active != agent.active:
        held = (await hub.auth.repository.open_work()).get(agent.id, _NO_WORK).chats
        agent = await hub.auth.set_active(agent.email, active)
        changes["active"] = active
    released = 0
    if changes:
        await hub.auth.repository.record_audit(
            admin.email, "agent.change", agent.email, changes
        )
    if "role" in changes or "active" in changes:
        # Who can take chats changed: every console's queue and ETA follow.
        await hub.bus.publish(
            AGENTS_CHANNEL,
            {"type": "presence", "agent_id": agent.id, "presence": agent.presence},
        )
        # A disabled account, or one that no longer takes chats, hands its
        # chats back to the queue now rather than at the next sweep.
        released = await hub.handoffs.release_unable_holders()
    work = (await hub.auth.repository.open_work()).get(agent.id, _NO_WORK)
    if "active" in changes and not agent.active:
        # The ownership sweep may requeue the account's chats between the
        # change and the release above: they still went back because of it.
        released = max(released, held - work.chats)
    return json_response(
        {"agent": account_view(agent, work), "released_chats": released}
    )


@admin_api.post("/api/admin/agents/<agent_id:int>/password-reset")
async def send_password_reset(request: Request, agent_id: int) -> HTTPResponse:
    """E-mail the account a one-time link to set a new password (admins only).

    The link works once, until it expires; a newer link replaces it. Without
    SMTP (demo mode) the mail is kept in the outbox, where only admins see
    its body. Errors: ``404 unknown_agent``, ``409 account_disabled``,
    ``409 mail_unavailable``.
    """
    admin = await require_agent(request, "admin")
    hub = hub_of(request)
    agent = await hub.auth.repository.get_agent(agent_id)
    if agent is None:
        raise NotFound("no such account", code="unknown_agent")
    if not agent.active:
        raise Conflict(
            "this account is disabled; enable it before sending a link",
            code="account_disabled",
        )
    mailer = hub.conversations.mailer
    if mailer is None:
        raise Conflict("e-mail is not available here", code="mail_unavailable")
    token, expires_at = await hub.auth.issue_password_reset(agent, admin.email)
    link = f"{hub.settings.public_origins[0]}/console#reset={token}"
    mail = await mailer.deliver(
        recipient=agent.email,
        subject="Set a new password for the Baton console",
        body=(
            f"Hello {agent.name},\n\n"
            f"{admin.name} asked for a new password for your console account.\n"
            f"Open this link to choose one (it works once, until "
            f"{expires_at:%Y-%m-%d %H:%M} UTC):\n\n{link}\n\n"
            "Setting it signs you out everywhere. If you did not expect this "
            "mail, tell your admin.\n"
        ),
        kind=RESET_MAIL_KIND,
    )
    await hub.auth.repository.record_audit(
        admin.email, "agent.password_reset_sent", agent.email, {"mail": mail.status}
    )
    return json_response(
        {
            "mail": {"status": mail.status, "email": mask_email(agent.email)},
            "expires_at": expires_at.isoformat(),
            "demo_mode": mailer.demo_mode,
        },
        status=202,
    )


@admin_api.post("/api/auth/password-reset")
async def reset_password(request: Request) -> HTTPResponse:
    """Set a new password with a reset link: ``{"token", "password"}``.

    No session is needed (the token is the proof); tries count against the
    address like sign-ins do. Errors: ``400 weak_password`` (the link stays
    usable), ``400 reset_link_invalid`` (used, expired, replaced or unknown).
    """
    hub = hub_of(request)
    if not origin_allowed(request, hub.settings):
        raise Forbidden("this origin may not reset passwords", code="bad_origin")
    await hub.login_limiter.take(client_address(request))
    body = json_object(request, MAX_BODY_BYTES)
    token, password = body.get("token"), body.get("password")
    if not isinstance(token, str) or not isinstance(password, str):
        raise BadRequest("token and password must be text", code="missing_fields")
    agent = await hub.auth.reset_password(token, password)
    await hub.auth.repository.record_audit(
        agent.email, "agent.password_reset", agent.email, {}
    )
    response = json_response({"agent": agent.public()})
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_api.get("/api/admin/audit")
async def audit_log(request: Request) -> HTTPResponse:
    """The audit log, newest first (admins only).

    ``?actor=`` (an e-mail), ``?action=`` (``agent.change``, or a prefix such
    as ``canned.``), ``?limit=`` (at most 200) and ``?before=ID`` to page back.
    """
    await require_agent(request, "admin")
    limit = min(
        whole_number(request.args.get("limit"), "limit", default=50, minimum=1) or 50,
        _MAX_AUDIT_PAGE,
    )
    actor = (request.args.get("actor") or "").strip()
    action = (request.args.get("action") or "").strip()
    if len(actor) > 320:
        raise BadRequest("actor is an e-mail address", code="bad_actor")
    if len(action) > 64:
        raise BadRequest("action has at most 64 characters", code="bad_action")
    entries = await hub_of(request).auth.repository.audit_entries(
        limit=limit,
        before_id=whole_number(request.args.get("before"), "before", minimum=1),
        actor=actor or None,
        action=action or None,
    )
    response = json_response(
        {
            "entries": [entry.to_dict() for entry in entries],
            "next_before": entries[-1].id if len(entries) == limit else None,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response

"""Console accounts over HTTP: colleagues for a transfer, and admin management.

``GET /api/agents`` lists the colleagues who can take a chat (agents and
admins; for the console's transfer menu). Everything under
``/api/admin/agents`` is for admins only: list every account, create one,
change its role, disable or enable it. Changes need the session's CSRF token
(``bot.web.auth_api.require_agent``), validate the whole request before
touching anything, and are written to the audit log.

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

from bot.auth import CHAT_ROLES, ROLES, AgentRecord
from bot.bus import AGENTS_CHANNEL
from bot.exceptions import BadRequest, Conflict, NotFound
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object
from bot.web.context import hub_of

admin_api = Blueprint("admin_api")

_CREATE_FIELDS = ("email", "name", "role", "password")
_CHANGE_FIELDS = frozenset({"role", "active"})
#: Largest body accepted; an account is a few hundred bytes.
MAX_BODY_BYTES = 16 * 1024


def account_view(agent: AgentRecord) -> dict[str, Any]:
    """An account as admins see it: no secrets, but its state."""
    return {
        **agent.public(),
        "active": agent.active,
        "presence": agent.presence,
        "created_at": agent.created_at.isoformat(),
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
    accounts = await hub_of(request).auth.repository.list_agents()
    response = json_response(
        {"agents": [account_view(agent) for agent in accounts], "roles": list(ROLES)}
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
    """Change an account's ``role`` and/or ``active`` flag (admins only).

    Disabling ends the account's sessions at once, on every hub instance.
    """
    admin = await require_agent(request, "admin")
    body = json_object(request, MAX_BODY_BYTES)
    unknown = sorted(set(body) - _CHANGE_FIELDS)
    if unknown:
        raise BadRequest(
            f"only role and active can be changed, not {', '.join(unknown)}",
            code="bad_field",
        )
    if not body:
        raise BadRequest("nothing to change: give role or active", code="bad_field")
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
    if role is not None and role != agent.role:
        agent = await hub.auth.set_role(agent.email, role)
        changes["role"] = role
    if isinstance(active, bool) and active != agent.active:
        agent = await hub.auth.set_active(agent.email, active)
        changes["active"] = active
    if changes:
        await hub.auth.repository.record_audit(
            admin.email, "agent.change", agent.email, changes
        )
        # Who can take chats changed: every console's queue and ETA follow.
        await hub.bus.publish(
            AGENTS_CHANNEL,
            {"type": "presence", "agent_id": agent.id, "presence": agent.presence},
        )
        # A disabled account, or one that no longer takes chats, hands its
        # chats back to the queue now rather than at the next sweep.
        await hub.handoffs.release_unable_holders()
    return json_response({"agent": account_view(agent)})

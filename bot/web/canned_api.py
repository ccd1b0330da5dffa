"""Canned replies over HTTP: every agent reads them, admins write them.

``GET /api/canned-replies`` (``?q=`` filters by shortcut or title) is for agents
and admins, who insert a reply by typing ``/`` and its shortcut in the reply
box. Creating, changing and deleting are for admins, need the session's CSRF
token like every console change, and are written to the audit log.
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, empty
from sanic.response import json as json_response

from bot.canned import CannedReplies
from bot.exceptions import BadRequest
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object
from bot.web.context import hub_of

canned_api = Blueprint("canned_api", url_prefix="/api/canned-replies")

#: Largest body accepted: a reply is at most 4,000 characters.
MAX_BODY_BYTES = 32 * 1024
_MAX_QUERY = 100


def _replies(request: Request) -> CannedReplies:
    return CannedReplies(hub_of(request).engine)


@canned_api.get("")
async def list_replies(request: Request) -> HTTPResponse:
    """The shared replies by shortcut; ``?q=`` keeps those matching it."""
    await require_agent(request, "agent")
    text = request.args.get("q", "")
    if len(text) > _MAX_QUERY:
        raise BadRequest(f"q has at most {_MAX_QUERY} characters", code="bad_q")
    replies = await _replies(request).list(text)
    response = json_response({"replies": [reply.to_dict() for reply in replies]})
    response.headers["Cache-Control"] = "no-store"
    return response


@canned_api.post("")
async def create_reply(request: Request) -> HTTPResponse:
    """Add a reply: ``{"shortcut", "title", "body"}`` (admins only).

    Errors: ``400`` (``missing_fields``, ``bad_shortcut``, ``bad_title``,
    ``bad_body``, ``bad_field``), ``409 shortcut_taken``.
    """
    admin = await require_agent(request, "admin")
    body = json_object(request, MAX_BODY_BYTES)
    reply = await _replies(request).create(body, admin.email)
    await hub_of(request).auth.repository.record_audit(
        admin.email, "canned.create", f"/{reply.shortcut}", {"title": reply.title}
    )
    return json_response({"reply": reply.to_dict()}, status=201)


@canned_api.patch("/<reply_id:int>")
async def change_reply(request: Request, reply_id: int) -> HTTPResponse:
    """Change a reply's shortcut, title and/or body (admins only)."""
    admin = await require_agent(request, "admin")
    body = json_object(request, MAX_BODY_BYTES)
    before, after = await _replies(request).change(reply_id, body, admin.email)
    changed = sorted(
        field
        for field in ("shortcut", "title", "body")
        if getattr(before, field) != getattr(after, field)
    )
    if changed:
        await hub_of(request).auth.repository.record_audit(
            admin.email,
            "canned.change",
            f"/{after.shortcut}",
            {"changed": changed, "was": f"/{before.shortcut}"},
        )
    return json_response({"reply": after.to_dict()})


@canned_api.delete("/<reply_id:int>")
async def delete_reply(request: Request, reply_id: int) -> HTTPResponse:
    """Delete a reply (admins only)."""
    admin = await require_agent(request, "admin")
    gone = await _replies(request).delete(reply_id)
    await hub_of(request).auth.repository.record_audit(
        admin.email, "canned.delete", f"/{gone.shortcut}", {"title": gone.title}
    )
    return empty(status=204)

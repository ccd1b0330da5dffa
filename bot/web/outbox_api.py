"""The mail outbox, for agents and admins: recaps sent, failed, or kept in demo mode.

Without an SMTP server (``BATON_SMTP_HOST`` unset) nothing leaves the
machine; this is where the console shows what would have been sent.
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.exceptions import BadRequest, Conflict
from bot.web.auth_api import require_agent
from bot.web.context import Hub

outbox_api = Blueprint("outbox_api", url_prefix="/api/outbox")

_MAX_LIMIT = 200


def _whole_number(request: Request, name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError as error:
        raise BadRequest(f"{name} must be a whole number") from error
    if value < 1:
        raise BadRequest(f"{name} must be at least 1")
    return value


@outbox_api.get("")
async def list_outbox(request: Request) -> HTTPResponse:
    """The newest mails first (``?limit=``, ``?before=ID``, ``?conversation_id=``)."""
    await require_agent(request, "agent")
    hub: Hub = request.app.ctx.hub
    mailer = hub.conversations.mailer
    if mailer is None:
        raise Conflict("e-mail is not available here", code="mail_unavailable")
    limit = min(_whole_number(request, "limit", 50) or 50, _MAX_LIMIT)
    conversation_id = request.args.get("conversation_id") or None
    mails = await mailer.repository.recent(
        limit=limit,
        before_id=_whole_number(request, "before", None),
        conversation_id=conversation_id,
    )
    response = json_response(
        {"mails": [m.to_dict() for m in mails], "demo_mode": mailer.demo_mode}
    )
    response.headers["Cache-Control"] = "no-store"
    return response

"""The mail outbox, for agents and admins: recaps sent, failed, or kept in demo mode.

Without an SMTP server (``BATON_SMTP_HOST`` unset) nothing leaves the
machine; this is where the console shows what would have been sent.
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.exceptions import Conflict
from bot.web.admin_api import RESET_MAIL_KIND
from bot.web.auth_api import require_agent
from bot.web.bodies import whole_number
from bot.web.context import hub_of

outbox_api = Blueprint("outbox_api", url_prefix="/api/outbox")

_MAX_LIMIT = 200


@outbox_api.get("")
async def list_outbox(request: Request) -> HTTPResponse:
    """The newest mails first (``?limit=``, ``?before=ID``, ``?conversation_id=``)."""
    reader = await require_agent(request, "agent")
    hub = hub_of(request)
    mailer = hub.conversations.mailer
    if mailer is None:
        raise Conflict("e-mail is not available here", code="mail_unavailable")
    limit = min(
        whole_number(request.args.get("limit"), "limit", minimum=1) or 50, _MAX_LIMIT
    )
    conversation_id = request.args.get("conversation_id") or None
    mails = await mailer.repository.recent(
        limit=limit,
        before_id=whole_number(request.args.get("before"), "before", minimum=1),
        conversation_id=conversation_id,
    )
    shown = [m.to_dict() for m in mails]
    if reader.role != "admin":
        # A password-reset mail holds a one-time link to take over an account.
        for mail in shown:
            if mail["kind"] == RESET_MAIL_KIND:
                mail["body"] = None
    response = json_response({"mails": shown, "demo_mode": mailer.demo_mode})
    response.headers["Cache-Control"] = "no-store"
    return response

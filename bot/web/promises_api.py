"""Promises on the web: the customer's contact address, and resume links.

- ``GET|POST /api/conversations/{id}/contact`` (the conversation's bearer
  token): where the customer of a follow-up wants the answer, see
  :meth:`bot.promises.PromiseDesk.set_contact`.
- ``POST /api/conversations/{id}/leave`` (bearer token): the customer stops
  waiting in the live queue, ``{"keep_follow_up": true|false}``; agents get a
  ``queue_left`` frame saying so.
- ``GET /resume/{link}``: the page a reply mail links to. A valid link gets a
  page whose script (``/static/resume.js``) trades it at ``POST /api/resume``
  for the conversation's id and a new token, stores them where the widget
  looks, and opens the demo page with the conversation. A tampered or
  expired link gets a page that says so. The page itself changes nothing, so
  a mail scanner that fetches it does no harm.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic.response import json as json_response

from bot.conversations.repository import ConversationRecord
from bot.db.models import utcnow
from bot.exceptions import Forbidden
from bot.promises import LinkRefused, PromiseDesk, verify_resume_link
from bot.web.bodies import json_object
from bot.web.context import hub_of
from bot.web.customer import customer_conversation
from bot.web.origins import origin_allowed

JsonObject = dict[str, Any]

promises_api = Blueprint("promises_api")

_PAGE = Path(__file__).parent / "static" / "resume.html"
#: What a refused link's page says, by error code.
_REFUSALS = {
    "link_expired": (
        410,
        "This link has expired",
        "Links in our e-mails work for a limited time, to keep your "
        "conversation private. Start a new chat and we'll pick it up from there.",
    ),
    "bad_link": (
        400,
        "This link is not valid",
        "It may have been cut short or changed on the way. Please use the "
        "whole link from the e-mail, or start a new chat.",
    ),
}


def _desk(request: Request) -> PromiseDesk:
    desk: PromiseDesk = request.app.ctx.promises
    return desk


@promises_api.get("/api/conversations/<conversation_id:str>/contact")
async def get_contact(request: Request, conversation_id: str) -> HTTPResponse:
    """Where the customer said they may be reached, and the address to offer."""
    conversation = await customer_conversation(request, conversation_id)
    return json_response(await _desk(request).contact(conversation))


@promises_api.post("/api/conversations/<conversation_id:str>/contact")
async def set_contact(request: Request, conversation_id: str) -> HTTPResponse:
    """Answer "Where can we reach you?": an address, a confirmation, or no."""
    return await _answer(
        request, conversation_id, "set a contact", PromiseDesk.set_contact
    )


@promises_api.post("/api/conversations/<conversation_id:str>/leave")
async def leave_queue(request: Request, conversation_id: str) -> HTTPResponse:
    """Stop waiting in the live queue, keeping a follow-up or not."""
    return await _answer(
        request, conversation_id, "leave the queue", PromiseDesk.leave_queue
    )


async def _answer(
    request: Request,
    conversation_id: str,
    may_not: str,
    answer: Callable[[PromiseDesk, ConversationRecord, Any], Awaitable[JsonObject]],
) -> HTTPResponse:
    """Hand a customer's JSON answer about their conversation to the desk."""
    conversation = await customer_conversation(
        request, conversation_id, may_not=may_not
    )
    body = json_object(request)
    return json_response(await answer(_desk(request), conversation, body))


@promises_api.post("/api/resume")
async def resume(request: Request) -> HTTPResponse:
    """Trade a resume link for its conversation's id and a new token."""
    if not origin_allowed(request, hub_of(request).settings):
        raise Forbidden("this origin may not resume conversations", code="bad_origin")
    link = json_object(request).get("link")
    conversation_id, token = await _desk(request).resume(
        link if isinstance(link, str) else ""
    )
    return json_response({"conversation_id": conversation_id, "token": token})


def _page(status: int, title: str, message: str, *, script: bool) -> HTTPResponse:
    page = Template(_PAGE.read_text(encoding="utf-8")).substitute(
        title=title,
        message=message,
        script='<script src="/static/resume.js" defer></script>' if script else "",
    )
    return html_response(page, status=status, headers={"Cache-Control": "no-store"})


@promises_api.get("/resume/<link:str>")
async def resume_page(request: Request, link: str) -> HTTPResponse:
    """The page a reply mail links to: reopens the conversation, or says why not."""
    try:
        verify_resume_link(_desk(request).link_secret, link, utcnow())
    except LinkRefused as refused:
        status, title, message = _REFUSALS.get(refused.code, _REFUSALS["bad_link"])
        return _page(status, title, message, script=False)
    return _page(
        200,
        "Opening your conversation",
        "One moment — we're opening your conversation with our support team.",
        script=True,
    )

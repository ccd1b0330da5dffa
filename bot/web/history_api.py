"""Past conversations for agents: search, open one read-only, earlier ones.

``GET /api/conversations`` searches (``q`` for text in the messages or the
customer's name or e-mail, ``email`` for the customer's exact address,
``from`` / ``to`` as dates or ISO 8601 times, ``outcome``, ``agent``,
``state``), a page at a time (``limit``, and ``cursor`` from the previous
page's ``next_cursor``). ``GET /api/conversations/{id}`` is the whole
conversation to read, and ``.../earlier`` the same customer's other
conversations (by verified identity, or by e-mail and marked so). For agents
and admins; reading changes nothing, so no CSRF token is needed.
"""

from __future__ import annotations

import datetime as dt

from sanic import Blueprint
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.contract import ConversationState
from bot.conversations.service import message_frame
from bot.exceptions import BadRequest, NotFound
from bot.handoff.card import customer_identity
from bot.handoff.history import ConversationHistory, HistoryQuery, decode_cursor
from bot.handoff.service import OUTCOMES
from bot.mail.address import valid_email
from bot.web.auth_api import require_agent
from bot.web.bodies import whole_number
from bot.web.context import hub_of

history_api = Blueprint("history_api", url_prefix="/api/conversations")

MAX_LIMIT = 100
#: Shortest text search: one letter matches nearly everything.
MIN_QUERY = 2
MAX_QUERY = 200
_STATES = tuple(state.value for state in ConversationState)


def _private(response: HTTPResponse) -> HTTPResponse:
    # Customer details and transcripts: never cached along the way.
    response.headers["Cache-Control"] = "no-store"
    return response


def _moment(raw: str, name: str, *, end: bool) -> dt.datetime:
    """A date (the whole day) or an ISO 8601 time; naive times are UTC."""
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
            return start + dt.timedelta(days=1) if end else start
        moment = dt.datetime.fromisoformat(raw)
    except ValueError as error:
        raise BadRequest(
            f"{name} must be a date (2026-12-03) or an ISO 8601 time",
            code=f"bad_{name}",
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def parse_query(args: RequestParameters) -> HistoryQuery:
    """The search a query string asks for.

    Raises:
        BadRequest: ``bad_q``, ``bad_email``, ``bad_from``, ``bad_to``,
            ``bad_range``, ``bad_outcome``, ``bad_agent``, ``bad_state``,
            ``bad_limit``, ``bad_cursor`` or ``bad_parameter``.
    """
    known = {"q", "email", "from", "to", "outcome", "agent", "state", "limit", "cursor"}
    unknown = sorted(set(args) - known)
    if unknown:
        raise BadRequest(
            f"unknown parameter {', '.join(unknown)}; use {', '.join(sorted(known))}",
            code="bad_parameter",
        )

    def one(name: str) -> str | None:
        values = args.getlist(name) or []
        if len(values) > 1:
            raise BadRequest(f"give {name} once", code=f"bad_{name}")
        return values[0].strip() if values and values[0].strip() else None

    text = one("q")
    if text is not None and not MIN_QUERY <= len(text) <= MAX_QUERY:
        raise BadRequest(f"q needs {MIN_QUERY} to {MAX_QUERY} characters", code="bad_q")
    email = one("email")
    if email is not None and not valid_email(email):
        raise BadRequest("email is not an e-mail address", code="bad_email")
    raw_from, raw_to = one("from"), one("to")
    started_from = _moment(raw_from, "from", end=False) if raw_from else None
    started_before = _moment(raw_to, "to", end=True) if raw_to else None
    if started_from and started_before and started_from >= started_before:
        raise BadRequest("from must be before to", code="bad_range")
    outcome = one("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise BadRequest(
            f"outcome must be one of {', '.join(OUTCOMES)}", code="bad_outcome"
        )
    state = one("state")
    if state is not None and state not in _STATES:
        raise BadRequest(f"state must be one of {', '.join(_STATES)}", code="bad_state")
    cursor = one("cursor")
    return HistoryQuery(
        text=text,
        email=email,
        started_from=started_from,
        started_before=started_before,
        outcome=outcome,
        agent_id=whole_number(one("agent"), "agent", minimum=1),
        state=state,
        limit=min(
            whole_number(one("limit"), "limit", default=25, minimum=1) or 25, MAX_LIMIT
        ),
        cursor=decode_cursor(cursor) if cursor else None,
    )


@history_api.get("")
async def search(request: Request) -> HTTPResponse:
    """One page of past conversations matching the query, newest first."""
    await require_agent(request, "agent")
    query = parse_query(request.args)
    rows, following = await ConversationHistory(hub_of(request).engine).search(query)
    return _private(json_response({"conversations": rows, "next_cursor": following}))


@history_api.get("/<conversation_id:str>")
async def read(request: Request, conversation_id: str) -> HTTPResponse:
    """A whole conversation to read: customer, messages, handoffs and notes."""
    await require_agent(request, "agent")
    hub = hub_of(request)
    conversation = await hub.conversations.get(conversation_id)
    if conversation is None:
        raise NotFound("no such conversation", code="unknown_conversation")
    transcript = await hub.conversations.transcript(conversation_id)
    handoffs = await ConversationHistory(hub.engine).handoffs_of(conversation_id)
    notes = await hub.handoffs.notes_of(conversation_id)
    return _private(
        json_response(
            {
                "conversation": {
                    "id": conversation.id,
                    "state": conversation.state,
                    "customer": customer_identity(conversation),
                },
                "messages": [message_frame(message) for message in transcript],
                "handoffs": handoffs,
                "notes": [note.public() for note in notes],
            }
        )
    )


@history_api.get("/<conversation_id:str>/earlier")
async def earlier(request: Request, conversation_id: str) -> HTTPResponse:
    """The same customer's other conversations, and how they were matched."""
    await require_agent(request, "agent")
    hub = hub_of(request)
    if await hub.conversations.get(conversation_id) is None:
        raise NotFound("no such conversation", code="unknown_conversation")
    matched_by, rows = await ConversationHistory(hub.engine).earlier(conversation_id)
    return _private(json_response({"matched_by": matched_by, "conversations": rows}))

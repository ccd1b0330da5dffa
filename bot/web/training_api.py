"""The trainer's inbox and annotations over HTTP.

Trainers and admins only (agents get 403), checked on every route; changes
need the session's CSRF token (``bot/web/auth_api.py``) and are written to
the audit log. An article or out-of-scope label is used by the bot's next
knowledge-base answer, in every process, without training; an intent label
adds a training example (``bot/web/intents_api.py``) for the next training job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.exceptions import BadRequest
from bot.training import AnnotationRequest, Annotations, Inbox, InboxFilter, Reason
from bot.training.inbox import MAX_GROUPS, SORTS
from bot.training.intents import NluRepository
from bot.training.repository import TrainingRepository
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object, whole_number
from bot.web.context import hub_of

#: Roles that may see the inbox and annotate (admins always may).
TRAINER_ROLES = ("trainer",)
#: Largest annotation request body (a group id lists up to 500 message ids).
MAX_BODY_BYTES = 16 * 1024

training_api = Blueprint("training_api", url_prefix="/api/training")


def _repository(request: Request) -> TrainingRepository:
    hub = hub_of(request)
    return TrainingRepository(
        hub.engine,
        hub.knowledge.repository,
        NluRepository(hub.engine, hub.settings.project_dir),
    )


def inbox_filter(args: Any) -> InboxFilter:
    """Parse the inbox's query string.

    Raises:
        BadRequest: ``bad_reason``, ``bad_since`` (not an ISO 8601 time),
            ``bad_sort`` or ``bad_limit``.
    """
    reason = args.get("reason")
    if reason is not None and reason not in {r.value for r in Reason}:
        raise BadRequest(
            f"reason must be one of {', '.join(r.value for r in Reason)}",
            code="bad_reason",
        )
    since_text = args.get("since")
    since = None
    if since_text:
        try:
            since = dt.datetime.fromisoformat(since_text.replace("Z", "+00:00"))
        except ValueError as error:
            raise BadRequest(
                "since must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z",
                code="bad_since",
            ) from error
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
    sort = args.get("sort", "newest")
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", code="bad_sort")
    limit = whole_number(args.get("limit"), "limit", default=50, minimum=1) or 50
    return InboxFilter(
        reason=Reason(reason) if reason else None,
        since=since,
        sort=sort,
        limit=min(limit, MAX_GROUPS),
    )


@training_api.get("/inbox")
async def inbox(request: Request) -> HTTPResponse:
    """The groups of customer messages the bot struggled with."""
    await require_agent(request, *TRAINER_ROLES)
    query = inbox_filter(request.args)
    hub = hub_of(request)
    groups = await Inbox(_repository(request), hub.knowledge).groups(query)
    return json_response({"groups": groups})


@training_api.post("/annotations")
async def annotate(request: Request) -> HTTPResponse:
    """Label a message or a group: an article, an intent, out of scope, or dismiss."""
    agent = await require_agent(request, *TRAINER_ROLES)
    parsed = AnnotationRequest.parse(json_object(request, MAX_BODY_BYTES))
    stored = await Annotations(_repository(request)).annotate(
        parsed, author=agent.email
    )
    hub = hub_of(request)
    await hub.auth.repository.record_audit(
        agent.email,
        "training.annotate",
        ",".join(str(record.message_id) for record in stored),
        {
            "kind": parsed.kind,
            "article": parsed.article,
            "intent": parsed.intent,
            "annotations": [record.id for record in stored],
        },
    )
    return json_response(
        {"annotations": [record.public() for record in stored]}, status=201
    )


@training_api.delete("/annotations/<annotation_id:str>")
async def undo(request: Request, annotation_id: str) -> HTTPResponse:
    """Undo an annotation: its message returns to the inbox."""
    agent = await require_agent(request, *TRAINER_ROLES)
    number = whole_number(annotation_id, "annotation_id", minimum=1) or 0
    record = await Annotations(_repository(request)).undo(number, author=agent.email)
    hub = hub_of(request)
    await hub.auth.repository.record_audit(
        agent.email,
        "training.undo",
        str(record.message_id),
        {
            "annotation": record.id,
            "kind": record.kind,
            "article": record.article,
            "intent": record.intent,
        },
    )
    return json_response({"annotation": record.public()})

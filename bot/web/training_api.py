"""The trainer's inbox and annotations over HTTP.

Trainers and admins only (agents get 403), checked on every route; changes
need the session's CSRF token (``bot/web/auth_api.py``) and are written to
the audit log. An article or out-of-scope label is used by the bot's next
knowledge-base answer, in every process, without training.
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
from bot.training.repository import TrainingRepository
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object, whole_number
from bot.web.context import Hub
from bot.web.openapi_parts import CSRF_HEADER, SESSION, error_responses

#: Roles that may see the inbox and annotate (admins always may).
TRAINER_ROLES = ("trainer",)
#: Largest annotation request body (a group id lists up to 500 message ids).
MAX_BODY_BYTES = 16 * 1024

training_api = Blueprint("training_api", url_prefix="/api/training")


def _repository(request: Request) -> TrainingRepository:
    hub: Hub = request.app.ctx.hub
    return TrainingRepository(hub.engine, hub.knowledge.repository)


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
    hub: Hub = request.app.ctx.hub
    groups = await Inbox(_repository(request), hub.knowledge).groups(query)
    return json_response({"groups": groups})


@training_api.post("/annotations")
async def annotate(request: Request) -> HTTPResponse:
    """Label a message or a group: an article, out of scope, or dismiss."""
    agent = await require_agent(request, *TRAINER_ROLES)
    parsed = AnnotationRequest.parse(json_object(request, MAX_BODY_BYTES))
    stored = await Annotations(_repository(request)).annotate(
        parsed, author=agent.email
    )
    hub: Hub = request.app.ctx.hub
    await hub.auth.repository.record_audit(
        agent.email,
        "training.annotate",
        ",".join(str(record.message_id) for record in stored),
        {
            "kind": parsed.kind,
            "article": parsed.article,
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
    hub: Hub = request.app.ctx.hub
    await hub.auth.repository.record_audit(
        agent.email,
        "training.undo",
        str(record.message_id),
        {"annotation": record.id, "kind": record.kind, "article": record.article},
    )
    return json_response({"annotation": record.public()})


def add_training_paths(document: dict[str, Any]) -> dict[str, Any]:
    """Add the training endpoints to the OpenAPI ``document`` (in place)."""
    tags = ["training"]
    text = {"type": "string"}
    context = {
        "type": "object",
        "properties": {
            "seq": {"type": "integer"},
            "role": {"type": "string"},
            "text": text,
            "at": {"type": "string", "format": "date-time"},
            "current": {"type": "boolean"},
        },
    }
    item = {
        "type": "object",
        "properties": {
            "message_id": {"type": "integer"},
            "conversation_id": text,
            "seq": {"type": "integer"},
            "text": {**text, "description": "masked: e-mail, phone, card numbers"},
            "at": {"type": "string", "format": "date-time"},
            "reasons": {"type": "array", "items": text},
            "handoff_reason": {**text, "nullable": True},
            "intents": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": text,
                        "confidence": {"type": "number", "nullable": True},
                    },
                },
            },
            "context": {"type": "array", "items": context},
            "outcome": {"type": "array", "items": text},
        },
    }
    group = {
        "type": "object",
        "properties": {
            "group_id": {
                **text,
                "description": "what a group annotation labels (opaque)",
            },
            "text": text,
            "count": {"type": "integer"},
            "latest_at": {"type": "string", "format": "date-time"},
            "reasons": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
            },
            "articles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "slug": text,
                        "title": text,
                        "score": {"type": "number"},
                    },
                },
            },
            "items": {"type": "array", "items": item},
        },
    }
    annotation = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "message_id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["article", "out_of_scope", "dismiss"]},
            "article": {**text, "nullable": True},
            "intent": {**text, "nullable": True},
            "text": text,
            "created_by": text,
            "created_at": {"type": "string", "format": "date-time"},
            "undone_by": {**text, "nullable": True},
            "undone_at": {"type": "string", "format": "date-time", "nullable": True},
        },
    }

    def answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }

    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "description": description,
            "schema": schema,
        }

    paths = document.setdefault("paths", {})
    paths["/api/training/inbox"] = {
        "get": {
            "security": SESSION,
            "tags": tags,
            "summary": "Customer messages the bot struggled with, grouped "
            "(trainers and admins)",
            "parameters": [
                query(
                    "reason",
                    {"type": "string", "enum": [r.value for r in Reason]},
                    "only messages in the inbox for this reason",
                ),
                query(
                    "since",
                    {"type": "string", "format": "date-time"},
                    "only events since this time (default: 30 days back)",
                ),
                query(
                    "sort",
                    {"type": "string", "enum": list(SORTS)},
                    "newest first (default) or largest group first",
                ),
                query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": MAX_GROUPS},
                    "most groups (default 50)",
                ),
            ],
            "responses": {
                "200": answer(
                    "the groups",
                    {
                        "type": "object",
                        "properties": {"groups": {"type": "array", "items": group}},
                    },
                ),
                **error_responses(400, 401, 403),
            },
        }
    }
    paths["/api/training/annotations"] = {
        "post": {
            "security": SESSION,
            "tags": tags,
            "parameters": [CSRF_HEADER],
            "summary": "Label a message or a group: an article (the search "
            "learns it at once), out of scope, or dismiss",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "description": "exactly one of message_id and "
                            "group_id, and exactly one label",
                            "properties": {
                                "message_id": {"type": "integer", "minimum": 1},
                                "group_id": text,
                                "article": {
                                    **text,
                                    "description": "a published article's slug",
                                },
                                "out_of_scope": {"type": "boolean", "enum": [True]},
                                "dismiss": {"type": "boolean", "enum": [True]},
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": answer(
                    "one annotation per message",
                    {
                        "type": "object",
                        "properties": {
                            "annotations": {"type": "array", "items": annotation}
                        },
                    },
                ),
                **error_responses(400, 401, 403, 404, 409, 413),
            },
        }
    }
    paths["/api/training/annotations/{annotation_id}"] = {
        "delete": {
            "security": SESSION,
            "tags": tags,
            "parameters": [
                {
                    "name": "annotation_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
                CSRF_HEADER,
            ],
            "summary": "Undo an annotation (its label leaves the search)",
            "responses": {
                "200": answer(
                    "the annotation, undone",
                    {"type": "object", "properties": {"annotation": annotation}},
                ),
                **error_responses(400, 401, 403, 404, 409),
            },
        }
    }
    return document

"""The agent endpoints in the OpenAPI document (see :mod:`bot.web.openapi`)."""

from __future__ import annotations

from typing import Any

from bot.web.openapi_parts import (
    CSRF_HEADER,
    SESSION,
    error_responses,
    path_parameter,
)


def _operation(
    summary: str,
    *,
    description: str = "",
    body: dict[str, Any] | None = None,
    ok: str = "200",
    errors: tuple[int, ...] = (401, 403, 404, 409),
    unsafe: bool = True,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": SESSION,
        "responses": {
            ok: {"description": "done", "content": {"application/json": {}}},
            **error_responses(*errors),
        },
    }
    if description:
        operation["description"] = description
    if unsafe:
        operation["parameters"] = [CSRF_HEADER]
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def add_agent_paths(document: dict[str, Any]) -> dict[str, Any]:
    """Add the agent endpoints to the OpenAPI ``document`` (in place)."""
    handoff_id = path_parameter("handoff_id", {"type": "integer"})
    conversation_id = path_parameter("conversation_id", {"type": "string"})

    def on_handoff(operation: dict[str, Any]) -> dict[str, Any]:
        return {
            **operation,
            "parameters": [handoff_id, *operation.get("parameters", [])],
        }

    def on_conversation(operation: dict[str, Any]) -> dict[str, Any]:
        parameters = [conversation_id, *operation.get("parameters", [])]
        return {**operation, "parameters": parameters}

    text_body = {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string"}, "client_id": {"type": "string"}},
    }
    paths = document.setdefault("paths", {})
    additions: dict[str, dict[str, Any]] = {
        "/api/queue": {
            "get": _operation(
                "The live queue (agents and admins)",
                description="Waiting handoffs and follow-ups, most urgent first "
                "(priority, waiting time, promised times), each with its reason, "
                "wait, summary, place in line and ETA, or due time, overdue flag "
                "and owner (unowned while no account can take chats); the "
                "handoffs agents hold; how many agents are online; and how many "
                "follow-ups have no owner.",
                errors=(401, 403),
                unsafe=False,
            )
        },
        "/api/handoffs/{handoff_id}": {
            "get": on_handoff(
                _operation(
                    "The handoff card",
                    description="Customer, transcript, per-turn intent and "
                    "confidence, slots, entities, KB articles shown and whether "
                    "they helped, bot actions, sentiment over time, reason, "
                    "summary, wait, internal notes.",
                    errors=(401, 403, 404),
                    unsafe=False,
                )
            )
        },
        "/api/handoffs/{handoff_id}/claim": {
            "post": on_handoff(
                _operation(
                    "Take a waiting conversation",
                    description="Exactly one of many agents wins; the others get "
                    "409 already_claimed naming who has it.",
                )
            )
        },
        "/api/handoffs/{handoff_id}/transfer": {
            "post": on_handoff(
                _operation(
                    "Give a conversation you hold to a colleague",
                    body={
                        "type": "object",
                        "required": ["agent_id"],
                        "properties": {"agent_id": {"type": "integer"}},
                    },
                    errors=(400, 401, 403, 404, 409),
                )
            )
        },
        "/api/handoffs/{handoff_id}/handback": {
            "post": on_handoff(_operation("Hand a conversation you hold to the bot"))
        },
        "/api/handoffs/{handoff_id}/resolve": {
            "post": on_handoff(
                _operation(
                    "Close a conversation you hold with an outcome",
                    body={
                        "type": "object",
                        "required": ["outcome"],
                        "properties": {
                            "outcome": {
                                "type": "string",
                                "enum": [
                                    "solved",
                                    "not_solved",
                                    "duplicate",
                                    "spam",
                                    "follow_up_sent",
                                ],
                            }
                        },
                    },
                    errors=(400, 401, 403, 404, 409),
                )
            )
        },
        "/api/conversations/{conversation_id}/messages": {
            "post": on_conversation(
                _operation(
                    "Reply to the customer of a conversation you hold",
                    description="Stored with the next seq and delivered to the "
                    "customer with the agent's name; a retry with the same "
                    "client_id is stored once (200 instead of 201).",
                    body=text_body,
                    ok="201",
                    errors=(400, 401, 403, 404, 409, 413),
                )
            )
        },
        "/api/conversations/{conversation_id}/notes": {
            "post": on_conversation(
                _operation(
                    "An internal note; never sent to the customer",
                    body=text_body,
                    ok="201",
                    errors=(400, 401, 403, 404, 409),
                )
            )
        },
    }
    for path, operations in additions.items():
        paths.setdefault(path, {}).update(operations)
    return document

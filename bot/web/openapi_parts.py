"""Pieces of the OpenAPI document that every API blueprint describes alike.

Kept apart from :mod:`bot.web.openapi`, which imports the blueprints.
"""

from __future__ import annotations

from typing import Any

#: The JSON error body of every 4xx/5xx answer.
ERROR_SCHEMA: dict[str, Any] = {"$ref": "#/components/schemas/Error"}
#: A console session cookie.
SESSION: list[dict[str, list[str]]] = [{"sessionCookie": []}]
#: The header that state-changing console requests carry.
CSRF_HEADER: dict[str, Any] = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": True,
    "description": "the csrf_token of the session (from login or /me)",
    "schema": {"type": "string"},
}
#: One error response, answering with :data:`ERROR_SCHEMA`.
ERROR_RESPONSE: dict[str, Any] = {
    "description": "error",
    "content": {"application/json": {"schema": ERROR_SCHEMA}},
}


def error_responses(*statuses: int) -> dict[str, Any]:
    """The ``responses`` entries of the given error statuses."""
    return {str(status): ERROR_RESPONSE for status in statuses}


def path_parameter(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A required path parameter ``name`` with the given JSON schema."""
    return {"name": name, "in": "path", "required": True, "schema": schema}

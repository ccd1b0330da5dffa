"""Request bodies: one JSON object, within a size limit, or a clear 4xx."""

from __future__ import annotations

import json
from typing import Any

from sanic.request import Request

from bot.exceptions import BadRequest, PayloadTooLarge


def json_object(request: Request, max_bytes: int | None = None) -> dict[str, Any]:
    """Return the request's body as a JSON object (``{}`` when it is empty).

    Args:
        request: The request.
        max_bytes: The largest body accepted; Sanic's request limit otherwise.

    Raises:
        PayloadTooLarge: The body is larger than ``max_bytes``.
        BadRequest: The body is not JSON, or not a JSON object.
    """
    raw = request.body or b""
    if max_bytes is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"the body is {len(raw)} bytes, the limit is {max_bytes}",
            code="body_too_large",
        )
    try:
        body = json.loads(raw or b"{}")
    except ValueError as error:
        raise BadRequest("the body is not valid JSON", code="invalid_json") from error
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="invalid_json")
    return body

r"""What clients send, checked in one place: valid, or a clear 4xx.

JSON bodies and WebSocket frames are parsed here, and so are the whole
numbers of paths and query strings, so that no malformed value reaches the
database (where it would be a 500) or the rest of the hub:

- JSON nested deeper than :data:`MAX_JSON_DEPTH` is ``400 json_too_deep``
  (Python's parser would fail with a ``RecursionError`` a few thousand levels
  down, and every later walk over the value would too);
- a lone surrogate (``"\ud800"``) anywhere in a string or a key is
  ``400 invalid_unicode``: it is not a character, UTF-8 cannot encode it, and
  the database refuses to store it;
- whole numbers are ASCII digits within the range of an SQL ``INTEGER``
  (ids, sequence numbers, versions): a bigger one can name no record.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sanic.request import Request

from bot.exceptions import BadRequest, NotFound, PayloadTooLarge

#: Deepest nesting of arrays and objects accepted in a body or a frame; the
#: contract's deepest is three levels.
MAX_JSON_DEPTH = 32
#: The largest value of an SQL INTEGER column (PostgreSQL's is 32 bits).
MAX_SQL_INTEGER = 2**31 - 1
_DIGITS = re.compile(r"-?[0-9]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json(raw: str | bytes, what: str = "body") -> Any:
    """Parse JSON from a client, refusing what the hub could not handle.

    Args:
        raw: The text or bytes received.
        what: What it is, for the error message (``body``, ``frame``).

    Raises:
        BadRequest: ``invalid_json``, ``json_too_deep`` or ``invalid_unicode``.
    """
    try:
        value = json.loads(raw)
    except RecursionError as error:
        raise _too_deep(what) from error
    except ValueError as error:
        raise BadRequest(
            f"the {what} is not valid JSON", code="invalid_json"
        ) from error
    _check_value(value, what)
    return value


def _too_deep(what: str) -> BadRequest:
    return BadRequest(
        f"the {what} nests arrays or objects more than {MAX_JSON_DEPTH} deep",
        code="json_too_deep",
    )


def _check_value(value: Any, what: str) -> None:
    """Walk the parsed value (without recursion): depth and lone surrogates."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item, what)
        elif isinstance(item, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep(what)
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key, what)
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)


def _check_text(text: str, what: str) -> None:
    if _SURROGATE.search(text):
        raise BadRequest(
            f"the {what} holds a lone surrogate (such as \\ud800), "
            "which is not a character",
            code="invalid_unicode",
        )


def json_object(request: Request, max_bytes: int | None = None) -> dict[str, Any]:
    """Return the request's body as a JSON object (``{}`` when it is empty).

    Args:
        request: The request.
        max_bytes: The largest body accepted; Sanic's request limit otherwise.

    Raises:
        PayloadTooLarge: The body is larger than ``max_bytes``.
        BadRequest: The body is not JSON, not a JSON object, or holds what
            :func:`parse_json` refuses.
    """
    raw = request.body or b""
    if max_bytes is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"the body is {len(raw)} bytes, the limit is {max_bytes}",
            code="body_too_large",
        )
    body = parse_json(raw or b"{}")
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="invalid_json")
    return body


def whole_number(
    raw: str | None,
    name: str,
    *,
    default: int | None = None,
    minimum: int = 0,
    code: str | None = None,
) -> int | None:
    """Parse a whole number from a path or a query string.

    Args:
        raw: The value as sent (``None`` or empty: ``default``).
        name: The parameter's name, for the message.
        default: The value when none was sent.
        minimum: The smallest value accepted.
        code: The error code; ``bad_<name>`` by default.

    Raises:
        BadRequest: Not ASCII digits, or outside ``minimum`` to
            :data:`MAX_SQL_INTEGER`.
    """
    if raw in (None, ""):
        return default
    text = str(raw)
    # The length check first: int() of a huge string is slow (or refused).
    if (
        len(text) > len(str(MAX_SQL_INTEGER)) + 1
        or _DIGITS.fullmatch(text) is None
        or not minimum <= int(text) <= MAX_SQL_INTEGER
    ):
        raise BadRequest(
            f"{name} must be a whole number from {minimum} to {MAX_SQL_INTEGER}",
            code=code or f"bad_{name}",
        )
    return int(text)


async def check_path_numbers(request: Request) -> None:
    """Refuse whole-number path values that no record can have (``404``).

    Sanic's ``<name:int>`` accepts any size; the database does not, and
    would answer a 500. Registered as request middleware, so every route
    with an ``int`` parameter is covered.
    """
    for name, value in request.match_info.items():
        if isinstance(value, int) and not 0 <= value <= MAX_SQL_INTEGER:
            raise NotFound(f"there is nothing with {name} {value}", code="not_found")

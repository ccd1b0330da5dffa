"""Origin checks for WebSockets and cross-origin API calls.

The hub's own origins come from the settings (``BATON_PUBLIC_URL``, by default
derived from ``BATON_HOST`` and ``BATON_PORT``), never from the request's
``Host`` header: a page on a name rebound to the hub's address (DNS
rebinding) sends a ``Host`` and an ``Origin`` that agree with each other.
"""

from __future__ import annotations

from sanic.request import Request

from bot.config import Settings


def _origin_of(request: Request) -> str | None:
    origin = request.headers.get("Origin")
    return None if origin is None else origin.rstrip("/").lower()


def is_hub_origin(request: Request, settings: Settings) -> bool:
    """Whether the request comes from the hub's own pages (or no page at all).

    Requests without an ``Origin`` header do not come from a web page (load
    tests, server-side integrations) and are allowed.
    """
    origin = _origin_of(request)
    return origin is None or origin in settings.public_origins


def origin_allowed(request: Request, settings: Settings) -> bool:
    """Whether a browser on the request's ``Origin`` may use this endpoint.

    The hub's own origins and ``BATON_ALLOWED_ORIGINS`` (websites embedding
    the widget) may; requests without an ``Origin`` are allowed (see
    :func:`is_hub_origin`).
    """
    origin = _origin_of(request)
    return (
        origin is None
        or origin in settings.public_origins
        or origin in (allowed.lower() for allowed in settings.allowed_origins)
    )

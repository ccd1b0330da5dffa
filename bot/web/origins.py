"""Origin checks for WebSockets and cross-origin API calls."""

from __future__ import annotations

from sanic.request import Request

from bot.config import Settings


def own_origin(request: Request) -> str:
    """The origin the hub is reached at, as the browser sees it."""
    scheme = "https" if request.scheme in {"https", "wss"} else "http"
    return f"{scheme}://{request.host}"


def origin_allowed(request: Request, settings: Settings) -> bool:
    """Whether a browser on the request's ``Origin`` may use this endpoint.

    Requests without an ``Origin`` header do not come from a web page (load
    tests, server-side integrations) and are allowed.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    return origin == own_origin(request) or origin in settings.allowed_origins

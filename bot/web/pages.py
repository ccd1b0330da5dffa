"""Pages and static files: the demo page and the embeddable widget."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, file

from bot.exceptions import NotFound

STATIC_DIR = Path(__file__).parent / "static"

pages = Blueprint("pages")

#: Pages get a strict policy: scripts only from the hub, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'self'; "
    "base-uri 'none'; form-action 'self'"
)


#: Sent behind a trusted TLS proxy: browsers use HTTPS only, for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def transport_headers(request: Request, trust_proxy: bool) -> dict[str, str]:
    """Headers that depend on how the request reached the hub.

    HSTS only when the hub sits behind a trusted proxy that says the client
    used HTTPS: over plain HTTP browsers ignore it, and without a trusted
    proxy ``X-Forwarded-Proto`` is whatever the client wrote.
    """
    if trust_proxy and request.scheme in {"https", "wss"}:
        return {"Strict-Transport-Security": STRICT_TRANSPORT_SECURITY}
    return {}


async def _static(name: str, mime_type: str) -> HTTPResponse:
    path = STATIC_DIR / name
    if not path.is_file():
        raise NotFound(f"{name} is not available")
    return await file(path, mime_type=mime_type, headers={"Cache-Control": "no-cache"})


@pages.get("/")
async def demo_page(_: Request) -> HTTPResponse:
    """The demo website with the widget embedded."""
    return await _static("index.html", "text/html; charset=utf-8")


@pages.get("/console")
async def console(_: Request) -> HTTPResponse:
    """The agent console (sign-in, queue, chats, accounts)."""
    return await _static("console.html", "text/html; charset=utf-8")


@pages.get("/widget.js")
async def widget(_: Request) -> HTTPResponse:
    """The embeddable chat widget."""
    response = await _static("widget.js", "application/javascript; charset=utf-8")
    # Any website may embed the widget.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@pages.get("/static/<name:str>")
async def static_file(_: Request, name: str) -> HTTPResponse:
    """Style sheets and images of the pages (no sub-folders, no dot-files)."""
    if "/" in name or name.startswith("."):
        raise NotFound("no such file")
    mime = {
        ".css": "text/css; charset=utf-8",
        ".js": "application/javascript; charset=utf-8",
        ".svg": "image/svg+xml",
        ".png": "image/png",
    }.get(Path(name).suffix)
    if mime is None:
        raise NotFound("no such file")
    return await _static(name, mime)

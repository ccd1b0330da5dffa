"""Pages and static files: the demo page and the embeddable widget."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from pathlib import Path

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, file, raw

from bot.exceptions import NotFound
from bot.web.auth_api import SESSION_COOKIE

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


#: How the console page tells its script that the browser sent no session
#: cookie: the sign-in form comes at once, without first asking
#: ``/api/auth/me`` for an answer of 401 that the browser logs as an error.
SIGNED_OUT_MARK = b'<html lang="en" data-session="none">'


@pages.get("/console")
async def console(request: Request) -> HTTPResponse:
    """The agent console (sign-in, queue, chats, accounts)."""
    path = STATIC_DIR / "console.html"
    try:
        body = await asyncio.to_thread(path.read_bytes)
    except FileNotFoundError as error:
        raise NotFound("console.html is not available") from error
    if not request.cookies.get(SESSION_COOKIE):
        body = body.replace(b'<html lang="en">', SIGNED_OUT_MARK, 1)
    # The page differs with the cookie: never served from a cache.
    return raw(
        body,
        content_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


#: The widget's source, ``static/widget/``, one file per job; ``/widget.js``
#: is these files joined in this order, so that a website embeds it with one
#: script tag and nothing is built. They share one scope (``settings.js``
#: opens a function, ``start.js`` closes it): a part may use what an earlier
#: part declares.
WIDGET_PARTS = (
    "settings.js",
    "storage.js",
    "text.js",
    "style.js",
    "dom.js",
    "state.js",
    "transcript.js",
    "messages.js",
    "status.js",
    "followups.js",
    "socket.js",
    "start.js",
)
WIDGET_DIR = STATIC_DIR / "widget"


@functools.lru_cache(maxsize=2)
def _joined_widget(folder: Path, stamps: tuple[int, ...]) -> tuple[bytes, str]:
    """The parts in ``folder`` joined, and an ETag; ``stamps``: their mtimes."""
    body = b"".join((folder / name).read_bytes() for name in WIDGET_PARTS)
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def widget_script() -> tuple[bytes, str]:
    """``/widget.js`` and its ETag, joined again when a part changed on disk.

    Raises:
        NotFound: A part is missing.
    """
    try:
        folder = WIDGET_DIR
        stamps = tuple((folder / name).stat().st_mtime_ns for name in WIDGET_PARTS)
        return _joined_widget(folder, stamps)
    except FileNotFoundError as error:
        raise NotFound("widget.js is not available") from error


def _etag_matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return etag in tags or "*" in tags


@pages.get("/widget.js")
async def widget(request: Request) -> HTTPResponse:
    """The embeddable chat widget: one script, joined from its parts."""
    body, etag = await asyncio.to_thread(widget_script)
    # Any website may embed the widget; browsers ask again each time (as
    # for the other static files) and get a 304 while it is unchanged.
    headers = {
        "Cache-Control": "no-cache",
        "ETag": etag,
        "Access-Control-Allow-Origin": "*",
    }
    if _etag_matches(request, etag):
        return HTTPResponse(status=304, headers=headers)
    return raw(
        body, content_type="application/javascript; charset=utf-8", headers=headers
    )


#: What the static folders may serve, by file suffix.
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

#: Sub-folders of ``static/`` that are served: the console's ES modules.
STATIC_FOLDERS = frozenset({"console"})


def _static_name(name: str) -> tuple[str, str]:
    """``name`` checked (no path, no dot-file, a known type) and its MIME type."""
    mime = STATIC_TYPES.get(Path(name).suffix)
    if "/" in name or "\\" in name or name.startswith(".") or mime is None:
        raise NotFound("no such file")
    return name, mime


@pages.get("/static/<name:str>")
async def static_file(_: Request, name: str) -> HTTPResponse:
    """Style sheets and images of the pages (no dot-files)."""
    name, mime = _static_name(name)
    return await _static(name, mime)


@pages.get("/static/<folder:str>/<name:str>")
async def static_folder_file(_: Request, folder: str, name: str) -> HTTPResponse:
    """A file of a served sub-folder, e.g. ``/static/console/main.js``.

    Module scripts are fetched in CORS mode and checked strictly for a
    JavaScript type; they come from the hub itself, so ``script-src 'self'``
    of the page's policy allows them.
    """
    if folder not in STATIC_FOLDERS:
        raise NotFound("no such file")
    name, mime = _static_name(name)
    return await _static(f"{folder}/{name}", mime)

"""Console sign-in over HTTP, and the session check other blueprints use.

The session token travels only in the ``baton_session`` cookie (HttpOnly,
SameSite=Strict); every state-changing request authenticated by it must also
send the session's CSRF token in ``X-CSRF-Token``. Other blueprints protect a
route with::

    agent = await require_agent(request, "agent")  # agents and admins
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, empty
from sanic.response import json as json_response

from bot.auth import AgentRecord, Principal, require_role
from bot.exceptions import BadRequest, Forbidden, Unauthorized
from bot.web.bodies import json_object
from bot.web.context import hub_of
from bot.web.customer import client_address
from bot.web.origins import origin_allowed

SESSION_COOKIE = "baton_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

auth_api = Blueprint("auth_api", url_prefix="/api/auth")


async def require_session(request: Request, *roles: str) -> Principal:
    """Return the signed-in account and session of ``request``.

    Checks, in order: a valid, unexpired session cookie; for POST, PUT, PATCH
    and DELETE the ``X-CSRF-Token`` header; the role. Then it notes the use of
    the session (postponing its idle timeout) and keeps the principal on
    ``request.ctx.principal``.

    Args:
        request: The request (or WebSocket upgrade request).
        roles: Roles that may pass; admins always may; none means anyone
            signed in.

    Returns:
        The account and its session.

    Raises:
        Unauthorized: ``unauthorized`` or ``session_expired``.
        Forbidden: ``csrf_failed``, or ``forbidden`` for another role.
    """
    auth = hub_of(request).auth
    principal = await auth.authenticate(request.cookies.get(SESSION_COOKIE))
    if request.method in UNSAFE_METHODS:
        auth.check_csrf(principal, request.headers.get(CSRF_HEADER))
    require_role(principal.agent, *roles)
    await auth.touch(principal)
    request.ctx.principal = principal
    return principal


async def require_agent(request: Request, *roles: str) -> AgentRecord:
    """Return the signed-in account, checked like :func:`require_session`."""
    return (await require_session(request, *roles)).agent


def _set_session_cookie(
    request: Request, response: HTTPResponse, token: str, max_age: int
) -> None:
    response.cookies[SESSION_COOKIE] = token
    cookie = response.cookies[SESSION_COOKIE]
    cookie["path"] = "/"
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = max_age
    if request.scheme in {"https", "wss"}:
        cookie["secure"] = True


def _private(response: HTTPResponse) -> HTTPResponse:
    # Answers carry the CSRF token: never cache them anywhere.
    response.headers["Cache-Control"] = "no-store"
    return response


@auth_api.post("/login")
async def login(request: Request) -> HTTPResponse:
    """Sign in with email and password; sets the session cookie."""
    hub = hub_of(request)
    if not origin_allowed(request, hub.settings):
        raise Forbidden("this origin may not sign in", code="bad_origin")
    address = client_address(request)
    await hub.login_limiter.take(address)
    body = json_object(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise BadRequest("email and password must be strings")
    result = await hub.auth.login(
        email, password, ip=address, user_agent=request.headers.get("User-Agent")
    )
    response = json_response(
        {"agent": result.agent.public(), "csrf_token": result.session.csrf_token}
    )
    lifetime = int(hub.auth.policy.session_lifetime.total_seconds())
    _set_session_cookie(request, response, result.token, lifetime)
    return _private(response)


@auth_api.post("/logout")
async def logout(request: Request) -> HTTPResponse:
    """End the session (if any) and expire the cookie."""
    auth = hub_of(request).auth
    try:
        principal = await auth.authenticate(request.cookies.get(SESSION_COOKIE))
    except Unauthorized:
        principal = None
    if principal is not None:
        auth.check_csrf(principal, request.headers.get(CSRF_HEADER))
        await auth.logout(principal)
    response = empty(status=204)
    _set_session_cookie(request, response, "", 0)
    return _private(response)


@auth_api.get("/me")
async def me(request: Request) -> HTTPResponse:
    """The signed-in account and the CSRF token of its session."""
    principal = await require_session(request)
    return _private(
        json_response(
            {
                "agent": principal.agent.public(),
                "csrf_token": principal.session.csrf_token,
            }
        )
    )


@auth_api.post("/presence")
async def presence(request: Request) -> HTTPResponse:
    """Set the agent's presence: online, away or offline (agents and admins)."""
    agent = await require_agent(request, "agent")
    body = json_object(request)
    updated = await hub_of(request).auth.set_presence(agent, body.get("presence"))
    return json_response({"agent": updated.public(), "presence": updated.presence})

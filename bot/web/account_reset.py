"""The reset page of the built-in account provider, and customer sign-in.

- ``GET /account/reset?token=...``: the page a reset mail links to (the
  token travels in the query string, which the access log leaves out). A
  valid link gets a form: the new password twice. It sets a CSRF cookie
  (``SameSite=Strict``, HTTP only) whose value the form repeats; the page
  has no script at all, so the pages' Content-Security-Policy holds.
- ``POST /account/reset`` (a form): checks the origin, the CSRF pair, that
  both passwords match and are strong enough, then uses the link once. A
  refused password shows the form again with what to change; the link
  stays usable.
- ``POST /api/account/sign-in`` ``{"email", "password"}``: whether a
  customer's password works (``200 {"account": {"email"}}`` or ``401``),
  for the company's sign-in and the tests; limited per client address.

Only with ``BATON_ACCOUNTS=builtin``; otherwise every route answers 404.
"""

from __future__ import annotations

import hmac
import secrets
from html import escape
from pathlib import Path
from string import Template

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import html as html_response
from sanic.response import json as json_response

from bot.accounts import BuiltinAccounts, LinkRefused, check_strength
from bot.exceptions import BadRequest, NotFound, Unauthorized
from bot.web.bodies import json_object
from bot.web.context import hub_of
from bot.web.customer import client_address
from bot.web.origins import is_hub_origin

account_reset = Blueprint("account_reset")

_PAGE = Path(__file__).parent / "static" / "reset.html"
CSRF_COOKIE = "baton_reset_csrf"
#: What a refused link's page says, by error code.
_REFUSALS = {
    "link_expired": (
        410,
        "This link has expired",
        "Reset links work for a short time, to keep your account safe. Open the "
        "chat again and ask for a new one.",
    ),
    "link_used": (
        410,
        "This link has been used",
        "Each reset link works once. If you did not change your password "
        "yourself, open the chat and ask for a person.",
    ),
    "bad_link": (
        400,
        "This link is not valid",
        "It may have been cut short. Please use the whole link from the e-mail, "
        "or open the chat and ask for a new one.",
    ),
}


def _provider(request: Request) -> BuiltinAccounts:
    desk = getattr(request.app.ctx, "reset_desk", None)
    if desk is None or not isinstance(desk.provider, BuiltinAccounts):
        raise NotFound("password reset is not served here")
    provider: BuiltinAccounts = desk.provider
    return provider


def _page(status: int, title: str, body: str) -> HTTPResponse:
    page = Template(_PAGE.read_text(encoding="utf-8")).substitute(
        title=escape(title), body=body
    )
    return html_response(page, status=status, headers={"Cache-Control": "no-store"})


def _message(status: int, title: str, message: str) -> HTTPResponse:
    body = (
        f'<p id="reset-status" role="status">{escape(message)}</p>'
        '<p><a class="button" href="/">Go to the help page</a></p>'
    )
    return _page(status, title, body)


def _refused(refused: LinkRefused) -> HTTPResponse:
    status, title, message = _REFUSALS.get(refused.code, _REFUSALS["bad_link"])
    return _message(status, title, message)


def _form(
    request: Request, token: str, *, status: int = 200, problem: str = ""
) -> HTTPResponse:
    csrf = secrets.token_urlsafe(24)
    problem_html = (
        f'<p class="problem" id="reset-problem" role="alert">{escape(problem)}</p>'
        if problem
        else ""
    )
    body = f"""{problem_html}
    <p>Choose a new password for your account. You'll use it to sign in from
    now on.</p>
    <form method="post" action="/account/reset" autocomplete="off">
      <input type="hidden" name="token" value="{escape(token)}">
      <input type="hidden" name="csrf" value="{csrf}">
      <label for="password">New password</label>
      <input type="password" id="password" name="password" required minlength="10"
        maxlength="1024" autocomplete="new-password" aria-describedby="hint">
      <p class="hint" id="hint">At least 10 characters: letters with digits or
      symbols, or 16 characters or more.</p>
      <label for="confirm">The same password again</label>
      <input type="password" id="confirm" name="confirm" required minlength="10"
        maxlength="1024" autocomplete="new-password">
      <button type="submit">Set my new password</button>
    </form>"""
    response = _page(status, "Choose a new password", body)
    response.cookies[CSRF_COOKIE] = csrf
    cookie = response.cookies[CSRF_COOKIE]
    cookie["path"] = "/account/reset"
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["max-age"] = 3600
    if request.scheme == "https":
        cookie["secure"] = True
    return response


@account_reset.get("/account/reset")
async def reset_page(request: Request) -> HTTPResponse:
    """The form for a valid link, or a page saying why the link does not work."""
    provider = _provider(request)
    token = request.args.get("token", "")
    try:
        await provider.check_link(token)
    except LinkRefused as refused:
        return _refused(refused)
    return _form(request, token)


@account_reset.post("/account/reset")
async def set_password(request: Request) -> HTTPResponse:
    """Set the new password (once per link), or say what to change."""
    provider = _provider(request)
    hub = hub_of(request)
    await hub.login_limiter.take(client_address(request))
    form = request.form or {}
    token = form.get("token") or ""
    sent_csrf = form.get("csrf") or ""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    if (
        not is_hub_origin(request, hub.settings)
        or not cookie
        or not hmac.compare_digest(cookie.encode(), sent_csrf.encode())
    ):
        return _message(
            403,
            "Please try again",
            "This form could not be checked (it may have been open too long, or "
            "sent from another site). Open the link from the e-mail again.",
        )
    password = form.get("password") or ""
    if password != (form.get("confirm") or ""):
        return _form(
            request, token, status=400, problem="The two passwords are not the same."
        )
    try:
        link = await provider.check_link(token)
        check_strength(password, link.email)
        await provider.set_password(token, password)
    except LinkRefused as refused:
        return _refused(refused)
    except BadRequest as weak:
        return _form(
            request,
            token,
            status=400,
            problem=f"Choose another: {weak.message}.",
        )
    response = _message(
        200,
        "Your password is changed",
        "You can sign in with your new password now. We have signed you out of "
        "your other devices.",
    )
    response.cookies[CSRF_COOKIE] = ""
    response.cookies[CSRF_COOKIE]["path"] = "/account/reset"
    response.cookies[CSRF_COOKIE]["max-age"] = 0
    return response


@account_reset.post("/api/account/sign-in")
async def sign_in(request: Request) -> HTTPResponse:
    """Whether a customer's e-mail and password sign in."""
    provider = _provider(request)
    await hub_of(request).login_limiter.take(client_address(request))
    body = json_object(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise BadRequest("email and password are required")
    account = await provider.sign_in(email, password)
    if account is None:
        raise Unauthorized("wrong e-mail or password, or the account is locked")
    return json_response({"account": {"email": account.email}})

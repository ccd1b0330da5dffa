"""The hub's reset page and customer sign-in (built-in provider), over HTTP."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.accounts import BuiltinAccounts
from bot.config import Accounts
from bot.db.models import AccountResetLink
from tests.bot.accounts.conftest import (
    PASSWORD,
    new_conversation,
    smtp_of,
    unique_email,
)
from tests.conftest import settings_in
from tests.hub import RunningHub, running_hub

account_reset_links = AccountResetLink.__table__

NEW_PASSWORD = "correct horse 42 battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def hub(tmp_path: Path, smtp_server: Any) -> AsyncIterator[RunningHub]:
    settings = settings_in(tmp_path).with_changes(
        accounts=Accounts(provider="builtin"),
        secret_key="k" * 32,
        smtp=smtp_of(smtp_server),
    )
    async with running_hub(settings) as running:
        yield running


def provider_of(hub: RunningHub) -> BuiltinAccounts:
    provider = hub.app.ctx.reset_desk.provider
    assert isinstance(provider, BuiltinAccounts)
    return provider


async def reset_url(
    hub: RunningHub, smtp_server: Any, **flags: bool
) -> tuple[str, str]:
    """A customer account and the reset link mailed to it."""
    provider = provider_of(hub)
    email = unique_email()
    account = await provider.create_account(email, "Alice", PASSWORD, **flags)
    chat = await new_conversation(provider.engine)
    await provider.send_reset(account, conversation_id=chat, locale=None)
    body = str(smtp_server[1].mails[-1][1].get_payload(decode=True), "utf-8")
    found = re.search(rf"{re.escape(hub.url)}/account/reset\?token=[\w-]+", body)
    assert found is not None, body
    return email, found.group(0)


async def open_form(session: aiohttp.ClientSession, url: str) -> tuple[str, str, str]:
    """GET the page; the token, the form's CSRF value and the cookie's."""
    async with session.get(url) as response:
        assert response.status == 200
        page = await response.text()
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        cookie = response.cookies["baton_reset_csrf"]
    assert "<script" not in page
    assert cookie["samesite"] == "Strict" and cookie["httponly"]
    found = CSRF.search(page)
    assert found is not None
    return url.split("token=")[1], found.group(1), cookie.value


async def submit(
    session: aiohttp.ClientSession,
    hub: RunningHub,
    token: str,
    csrf: str,
    cookie: str | None,
    password: str = NEW_PASSWORD,
    confirm: str | None = None,
    origin: str | None = None,
) -> tuple[int, str]:
    headers = {"Cookie": f"baton_reset_csrf={cookie}"} if cookie else {}
    if origin:
        headers["Origin"] = origin
    form = {
        "token": token,
        "csrf": csrf,
        "password": password,
        "confirm": password if confirm is None else confirm,
    }
    async with session.post(
        f"{hub.url}/account/reset", data=form, headers=headers
    ) as response:
        return response.status, await response.text()


async def signs_in(hub: RunningHub, email: str, password: str) -> bool:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{hub.url}/api/account/sign-in",
            json={"email": email, "password": password},
        ) as response:
            assert response.status in (200, 401), await response.text()
            return response.status == 200


async def test_the_link_sets_a_password_that_signs_in(
    hub: RunningHub, smtp_server: Any
) -> None:
    email, url = await reset_url(hub, smtp_server, locked=True)
    async with aiohttp.ClientSession() as session:
        token, csrf, cookie = await open_form(session, url)
        status, page = await submit(session, hub, token, csrf, cookie)
        assert status == 200, page
        assert "Your password is changed" in page
        assert await signs_in(hub, email, NEW_PASSWORD)
        assert not await signs_in(hub, email, PASSWORD)
        # Used once: the page and a second submission say so.
        async with session.get(url) as response:
            assert response.status == 410
            assert "has been used" in await response.text()
        status, page = await submit(session, hub, token, csrf, cookie, "other pw 9 x!")
        assert status == 410
    assert await signs_in(hub, email, NEW_PASSWORD)


async def test_an_expired_link_is_refused(hub: RunningHub, smtp_server: Any) -> None:
    email, url = await reset_url(hub, smtp_server)
    async with aiohttp.ClientSession() as session:
        token, csrf, cookie = await open_form(session, url)
        async with provider_of(hub).engine.begin() as connection:
            await connection.execute(
                account_reset_links.update().values(
                    expires_at=dt.datetime.now(dt.timezone.utc)
                )
            )
        async with session.get(url) as response:
            assert response.status == 410
            assert "expired" in await response.text()
        status, _ = await submit(session, hub, token, csrf, cookie)
        assert status == 410
    assert await signs_in(hub, email, PASSWORD)


async def test_a_bad_link_is_refused(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{hub.url}/account/reset?token=nonsense") as r:
            assert r.status == 400
            assert "not valid" in await r.text()
        async with session.get(f"{hub.url}/account/reset") as r:
            assert r.status == 400


@pytest.mark.parametrize("attack", ["no cookie", "other value", "other site"])
async def test_csrf_is_refused_and_changes_nothing(
    hub: RunningHub, smtp_server: Any, attack: str
) -> None:
    email, url = await reset_url(hub, smtp_server)
    async with aiohttp.ClientSession() as session:
        token, csrf, cookie = await open_form(session, url)
        status, page = (
            await submit(
                session,
                hub,
                token,
                csrf,
                None if attack == "no cookie" else cookie,
                origin="https://evil.example" if attack == "other site" else None,
            )
            if attack != "other value"
            else await submit(session, hub, token, "forged", cookie)
        )
        assert status == 403, page
        assert await signs_in(hub, email, PASSWORD)
        # The link still works from the real form.
        status, _ = await submit(session, hub, token, csrf, cookie)
        assert status == 200


@pytest.mark.parametrize(
    ("password", "confirm", "problem"),
    [
        ("short", None, "at least 10 characters"),
        ("onlyletterss", None, "mix letters with digits"),
        (NEW_PASSWORD, "correct horse 42 batterz", "not the same"),
    ],
)
async def test_a_refused_password_shows_the_form_again(
    hub: RunningHub,
    smtp_server: Any,
    password: str,
    confirm: str | None,
    problem: str,
) -> None:
    email, url = await reset_url(hub, smtp_server)
    async with aiohttp.ClientSession() as session:
        token, csrf, cookie = await open_form(session, url)
        status, page = await submit(
            session, hub, token, csrf, cookie, password, confirm
        )
        assert status == 400
        assert problem in page and 'name="password"' in page
        new_csrf = CSRF.search(page)
        assert new_csrf is not None
        assert await signs_in(hub, email, PASSWORD)
        status, _ = await submit(session, hub, token, csrf, cookie)
        assert status == 200
    assert await signs_in(hub, email, NEW_PASSWORD)


async def test_sign_in_needs_both_fields(hub: RunningHub) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{hub.url}/api/account/sign-in", json={"email": "a@example.com"}
        ) as response:
            assert response.status == 400
            assert (await response.json())["error"]["code"] == "bad_request"


async def test_without_the_builtin_provider_there_is_no_page(tmp_path: Path) -> None:
    async with running_hub(settings_in(tmp_path)) as hub:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{hub.url}/account/reset?token=x") as response:
                assert response.status == 404
            async with session.post(
                f"{hub.url}/api/account/sign-in", json={"email": "a", "password": "b"}
            ) as response:
                assert response.status == 404

"""Transport hardening: HSTS behind TLS, ``Allow`` on 405, literal article search."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp
import pytest

from bot.config import Limits, Settings
from tests.bot.auth.test_auth_api import call, login, new_account
from tests.bot.web.test_kb_api import ARTICLES, create
from tests.conftest import shared_hub
from tests.hub import RunningHub, running_hub

FORWARDED_TLS = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


# One hub per database for the module; the proxy test starts a hub of its own.
hub = shared_hub(limits=Limits(logins_per_ip_per_minute=1000))


async def headers_of(hub: RunningHub, path: str, headers: dict[str, str]) -> dict:
    async with aiohttp.ClientSession() as session:
        async with session.get(hub.url + path, headers=headers) as response:
            return dict(response.headers)


@pytest.mark.parametrize("path", ["/", "/health", "/api/openapi.json"])
async def test_behind_a_trusted_tls_proxy_answers_carry_hsts(
    hub_settings: Settings, path: str
) -> None:
    async with running_hub(hub_settings.with_changes(trust_proxy=True)) as proxied:
        headers = await headers_of(proxied, path, FORWARDED_TLS)
        assert "max-age=31536000" in headers["Strict-Transport-Security"]
        # Plain HTTP through the proxy: HSTS would mean nothing (browsers ignore it).
        plain = {**FORWARDED_TLS, "X-Forwarded-Proto": "http"}
        assert "Strict-Transport-Security" not in await headers_of(proxied, path, plain)


async def test_without_a_trusted_proxy_a_forged_proto_gets_no_hsts(hub) -> None:
    headers = await headers_of(hub, "/", FORWARDED_TLS)
    assert "Strict-Transport-Security" not in headers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/conversations", "POST"),
        ("PUT", "/health", "GET"),
        ("PATCH", "/api/auth/login", "POST"),
    ],
)
async def test_a_405_says_which_methods_are_allowed(
    hub, method: str, path: str, allowed: str
) -> None:
    status, body, headers = await call(hub, method, path)
    assert status == 405 and body["error"]["code"]
    assert allowed in [m.strip() for m in headers["Allow"].split(",")]


@pytest.mark.parametrize("wildcard", ["%", "_"])
async def test_percent_and_underscore_are_literal_in_the_article_search(
    hub, wildcard: str
) -> None:
    editor = await login(hub, await new_account(hub, "trainer"))
    literal = await create(hub, editor, title=f"Discounts of 50{wildcard} off")
    session, _ = editor
    status, body, _ = await call(
        hub, "GET", f"{ARTICLES}?q={quote(wildcard)}", session=session
    )
    assert status == 200
    assert [a["slug"] for a in body["articles"]] == [literal["slug"]]
    # The escape character itself is literal too.
    status, body, _ = await call(hub, "GET", f"{ARTICLES}?q=%5C", session=session)
    assert status == 200 and body["articles"] == []

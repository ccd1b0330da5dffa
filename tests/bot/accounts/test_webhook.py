"""The webhook provider against a local fake of a company's account system."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from bot.accounts import Account, ProviderUnavailable, ResetDesk, WebhookAccounts
from bot.accounts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_valid
from bot.config import Accounts
from tests.bot.accounts.conftest import new_conversation
from tests.conftest import free_port

SECRET = "a company secret of at least 32 characters"


@dataclass
class Company:
    """The fake company system: its accounts, the calls it got, its mood."""

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused_signatures: int = 0
    #: ``ok``, ``error`` (500), ``slow`` (past the timeout), ``garbage``.
    mood: str = "ok"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signature_valid(
            SECRET.encode(),
            request.headers.get(TIMESTAMP_HEADER, ""),
            body,
            request.headers.get(SIGNATURE_HEADER, ""),
        ):
            self.refused_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        if self.mood == "error":
            return web.json_response({"error": "down"}, status=500)
        if self.mood == "slow":
            await asyncio.sleep(2)
        if self.mood == "garbage":
            return web.Response(text="<html>oops</html>")
        payload = json.loads(body)
        self.calls.append((request.path, payload))
        if request.path == "/lookup":
            found = next(
                (a for a in self.accounts.values() if a["email"] == payload["email"]),
                None,
            )
            return web.json_response({"account": found})
        if request.path == "/account":
            return web.json_response({"account": self.accounts.get(payload["id"])})
        if request.path == "/unlock":
            self.accounts[payload["id"]]["locked"] = False
        return web.json_response({"ok": True})


@pytest.fixture
async def company() -> AsyncIterator[tuple[Company, str]]:
    """The fake company system, served on loopback; its base URL."""
    company = Company()
    company.accounts["u-1"] = {
        "id": "u-1",
        "email": "carol@example.com",
        "locked": True,
        "compromised": False,
        "two_factor_lost": False,
    }
    app = web.Application()
    app.router.add_post("/{path:.*}", company.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield company, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def provider(company: tuple[Company, str]) -> AsyncIterator[WebhookAccounts]:
    provider = WebhookAccounts(company[1], SECRET, timeout_s=0.5)
    yield provider
    await provider.close()


async def test_signed_calls_look_up_unlock_and_send_a_reset(
    company: tuple[Company, str], provider: WebhookAccounts
) -> None:
    fake, _ = company
    account = await provider.lookup("carol@example.com")
    assert account == Account("u-1", "carol@example.com", locked=True)
    assert await provider.lookup("nobody@example.com") is None
    await provider.unlock(account)
    assert await provider.get("u-1") == Account("u-1", "carol@example.com")
    await provider.send_reset(account, conversation_id="c1", locale="de")
    assert fake.calls[-1] == (
        "/send-reset",
        {
            "id": "u-1",
            "conversation_id": "c1",
            "locale": "de",
            "sign_out_other_devices": True,
        },
    )
    assert fake.refused_signatures == 0


async def test_a_wrong_secret_is_refused_by_the_company(
    company: tuple[Company, str],
) -> None:
    fake, url = company
    wrong = WebhookAccounts(url, "not the company's secret, but long enough")
    try:
        with pytest.raises(ProviderUnavailable):
            await wrong.lookup("carol@example.com")
    finally:
        await wrong.close()
    assert fake.refused_signatures == 1 and fake.calls == []


def test_old_or_tampered_signatures_do_not_verify() -> None:
    from bot.accounts.webhook import sign

    body = b'{"email":"carol@example.com"}'
    good = sign(SECRET.encode(), "1000", body)
    assert signature_valid(SECRET.encode(), "1000", body, good, now=1100)
    assert not signature_valid(SECRET.encode(), "1000", body, good, now=2000)
    assert not signature_valid(SECRET.encode(), "1000", body + b" ", good, now=1100)
    assert not signature_valid(SECRET.encode(), "x", body, good, now=1100)


@pytest.mark.parametrize("mood", ["error", "slow", "garbage"])
async def test_a_failing_company_system_is_unavailable(
    company: tuple[Company, str], provider: WebhookAccounts, mood: str
) -> None:
    company[0].mood = mood
    with pytest.raises(ProviderUnavailable):
        await provider.lookup("carol@example.com")


async def test_the_company_being_down_stops_the_desk_before_any_code(
    company: tuple[Company, str],
    provider: WebhookAccounts,
    engine: Any,
    mailer: Any,
    smtp_server: Any,
) -> None:
    company[0].mood = "slow"
    desk = ResetDesk(provider, engine, mailer, b"s" * 32, Accounts(provider="webhook"))
    chat = await new_conversation(engine)
    with pytest.raises(ProviderUnavailable):
        await desk.request_code(chat, "carol@example.com")
    await desk.drain()
    assert smtp_server[1].mails == []
    assert (await desk.check_code(chat, "123456")).status.value == "no_code"

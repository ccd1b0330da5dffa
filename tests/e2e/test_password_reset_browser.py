"""The reset page in headless Chromium (built-in account provider, issue #16).

A real browser submits the form as a customer would, which the HTTP tests
cannot prove: that it sends the CSRF cookie and a real ``Origin`` (a page
with ``no-referrer`` made Chromium send ``Origin: null``, and every reset
was refused), that the page works with no script under the hub's CSP, and
that it fits a phone. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.accounts import BuiltinAccounts
from bot.config import Accounts
from bot.mail import OutboxRepository
from tests.bot.accounts.conftest import PASSWORD, new_conversation, unique_email
from tests.bot.accounts.test_reset_page import signs_in
from tests.conftest import settings_in
from tests.e2e.conftest import artifact
from tests.e2e.helpers import watch_problems
from tests.hub import RunningHub, running_hub

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "correct horse 42 battery"


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    """A hub with the built-in provider; mail kept in the outbox (demo mode)."""
    settings = settings_in(tmp_path).with_changes(
        accounts=Accounts(provider="builtin"), secret_key="k" * 32
    )
    async with running_hub(settings) as running:
        yield running


async def reset_link(hub: RunningHub) -> tuple[str, str]:
    """A customer, and the link in the reset mail the outbox kept."""
    provider = hub.app.ctx.reset_desk.provider
    assert isinstance(provider, BuiltinAccounts)
    email = unique_email()
    account = await provider.create_account(email, "Alice", PASSWORD)
    chat = await new_conversation(provider.engine)
    await provider.send_reset(account, conversation_id=chat, locale=None)
    [mail] = await OutboxRepository(provider.engine).recent(conversation_id=chat)
    found = re.search(r"http://\S+/account/reset\?token=[\w-]+", mail.body)
    assert found is not None, mail.body
    return email, found.group(0)


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_a_customer_sets_a_new_password_in_the_browser(
    hub: RunningHub, browser: Any, name: str, viewport: dict[str, int]
) -> None:
    email, link = await reset_link(hub)
    context = await browser.new_context(viewport=viewport, is_mobile=name == "phone")
    page = await context.new_page()
    problems = watch_problems(page)
    try:
        await page.goto(link)
        await page.screenshot(path=artifact(f"reset-form-{name}.png"))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]

        await page.fill("#password", "onlyletterss")
        await page.fill("#confirm", "onlyletterss")
        await page.click("button[type=submit]")
        problem = page.locator("#reset-problem")
        await problem.wait_for()
        assert "mix letters with digits" in await problem.inner_text()
        await page.screenshot(path=artifact(f"reset-weak-{name}.png"))
        assert await signs_in(hub, email, PASSWORD)

        await page.fill("#password", NEW_PASSWORD)
        await page.fill("#confirm", NEW_PASSWORD)
        await page.click("button[type=submit]")
        title = page.locator("#reset-title")
        await page.wait_for_selector("text=Your password is changed")
        assert await title.inner_text() == "Your password is changed"
        await page.screenshot(path=artifact(f"reset-done-{name}.png"))
        assert await signs_in(hub, email, NEW_PASSWORD)
        assert not await signs_in(hub, email, PASSWORD)

        await page.goto(link)
        assert await title.inner_text() == "This link has been used"
    finally:
        await context.close()
    assert problems == []

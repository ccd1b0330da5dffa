"""History, canned replies and account admin in the console, in headless Chromium.

One hub in this process on the embedded SQLite database, Rasa not running:
every customer message is handed to people at once, which is all these
screens need. The agent and the admin work in the console page as people
would. Screenshots (desktop and a 390 x 844 phone) go to ``test-artifacts/``.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.config import Limits
from tests.bot.web.test_agent_api import Agent, sign_in
from tests.bot.web.test_history_api import conversation
from tests.conftest import settings_in
from tests.e2e.conftest import artifact
from tests.e2e.helpers import watch_problems
from tests.e2e.test_widget_browser import AGENT_PASSWORD
from tests.hub import RunningHub, running_hub

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
async def hub(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningHub]:
    settings = settings_in(tmp_path_factory.mktemp("console-history")).with_changes(
        limits=Limits(logins_per_ip_per_minute=1000)
    )
    async with running_hub(settings) as running:
        yield running


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Any]:
    """Opens pages that record script errors and CSP reports."""
    contexts: list[Any] = []

    async def open_page(viewport: dict[str, int] | None = None) -> Any:
        context = await browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800}
        )
        contexts.append(context)
        page = await context.new_page()
        watch_problems(page)
        return page

    yield open_page


async def console_as(hub: RunningHub, page_factory: Any, role: str, **kw: Any) -> Any:
    """A console page signed in with a new account of ``role``."""
    email = f"{role}-{secrets.token_hex(3)}@example.com"
    await hub.ctx.auth.create_agent(email, f"Kim {role.title()}", role, AGENT_PASSWORD)
    page = await page_factory(**kw)
    await page.goto(f"{hub.url}/console")
    await page.fill("#signin-email", email)
    await page.fill("#signin-password", AGENT_PASSWORD)
    await page.click("#signin-submit")
    await page.locator("#app-view").wait_for()
    page.email = email
    return page


async def resolved_by(hub: RunningHub, agent: Agent, text: str, **body: Any) -> str:
    conversation_id, handoff_id = await conversation(hub, text, **body)
    status, answer = await agent.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim")
    assert status == 200, answer
    status, answer = await agent.call(
        hub, "POST", f"/api/handoffs/{handoff_id}/resolve", json={"outcome": "solved"}
    )
    assert status == 200, answer
    return conversation_id


async def test_search_finds_a_resolved_conversation_and_opens_it_read_only(
    hub, page_factory
) -> None:
    ann = await sign_in(hub)
    word = f"Quokka{secrets.token_hex(2)}"
    found = await resolved_by(
        hub,
        ann,
        f"My {word} export stopped halfway",
        user={"name": "Cleo Park", "email": "cleo@example.com"},
    )
    await resolved_by(hub, ann, "Something else entirely")

    for name, viewport in (("desktop", None), ("phone", PHONE)):
        page = await console_as(hub, page_factory, "agent", viewport=viewport)
        await page.click("#tab-history")
        await page.fill("#history-q", word.lower())
        await page.click("#history-search")
        # The tab lists the newest conversations first; then the search's answer.
        await page.locator("#history-count", has_text="1 conversation,").wait_for()
        row = page.locator(f'.history-open[data-conversation="{found}"]')
        assert await page.locator("#history-rows .history-row").count() == 1
        assert "Cleo Park" in await row.inner_text()
        assert "Solved" in await row.inner_text()
        await page.screenshot(path=artifact(f"console-history-search-{name}.png"))
        await row.click()
        reader = page.locator("#history-reader")
        await reader.locator(".msg-customer", has_text=f"My {word} export").wait_for()
        assert "Read only" in await reader.inner_text()
        assert ann.name in await page.locator("#history-handoffs").inner_text()
        # Read-only: nothing to write with, and nothing changed.
        assert await reader.locator("textarea, input, [contenteditable]").count() == 0
        stored = await hub.ctx.conversations.get(found)
        assert stored is not None and stored.state == "resolved"
        await page.screenshot(
            path=artifact(f"console-history-open-{name}.png"), full_page=True
        )
        assert page.problems == []


async def test_slash_inserts_a_stored_canned_reply(hub, page_factory) -> None:
    admin = await sign_in(hub, "admin")
    tag = secrets.token_hex(2)
    body = "Your refund is on its way; it reaches your card in 3 to 5 working days."
    status, answer = await admin.call(
        hub,
        "POST",
        "/api/canned-replies",
        json={"shortcut": f"refund{tag}", "title": "Refund sent", "body": body},
    )
    assert status == 201, answer

    page = await console_as(hub, page_factory, "agent")
    await page.locator(".connection.is-live").wait_for()
    conversation_id, _ = await conversation(hub, "Where is my refund?")
    waiting = page.locator(f'#queue-list .entry[data-conversation="{conversation_id}"]')
    await waiting.locator("button.claim").click()
    await page.locator("#composer").wait_for()

    box = page.locator("#compose-text")
    await box.click()
    await box.type(f"Hello! /refund{tag[:1]}")
    option = page.locator("#canned-popup .canned-option", has_text=f"/refund{tag}")
    await option.wait_for()
    await page.screenshot(path=artifact("console-canned-popup-desktop.png"))
    await box.press("Enter")
    assert await box.input_value() == f"Hello! {body}"
    assert await page.locator("#canned-popup").is_hidden()
    # Enter chose the reply; it did not send anything.
    transcript = await hub.ctx.conversations.transcript(conversation_id)
    assert [m.role for m in transcript].count("agent") == 0
    assert page.problems == []


async def test_disabling_an_account_asks_first_and_says_what_happens(
    hub, page_factory
) -> None:
    holder = await sign_in(hub)
    conversation_id, handoff_id = await conversation(hub, "My invoice is wrong")
    status, _ = await holder.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim")
    assert status == 200

    for name, viewport in (("desktop", None), ("phone", PHONE)):
        page = await console_as(hub, page_factory, "admin", viewport=viewport)
        await page.click("#tab-admin")
        disable = page.get_by_role("button", name=f"Disable {holder.name}", exact=True)
        await disable.click()
        dialog = page.locator("dialog.confirm-dialog")
        await dialog.wait_for()
        text = await dialog.inner_text()
        assert f"Disable {holder.name}?" in text
        assert f"1 chat {holder.name} holds goes back to the queue" in text
        await page.screenshot(path=artifact(f"console-disable-confirm-{name}.png"))
        if name == "desktop":
            await dialog.get_by_role("button", name="Cancel").click()
            await dialog.wait_for(state="detached")
            stored = await hub.ctx.auth.repository.get_agent(holder.id)
            assert stored is not None and stored.active
            assert (await hub.ctx.conversations.get(conversation_id)).state == "agent"
            assert page.problems == []
            continue
        await dialog.get_by_role("button", name=f"Disable {holder.name}").click()
        await page.locator(
            "#admin-status", has_text="1 chat went back to the queue"
        ).wait_for()
        stored = await hub.ctx.auth.repository.get_agent(holder.id)
        assert stored is not None and not stored.active
        assert (await hub.ctx.conversations.get(conversation_id)).state == "queued"
        await page.screenshot(
            path=artifact(f"console-accounts-{name}.png"), full_page=True
        )
        assert page.problems == []

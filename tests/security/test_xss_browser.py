"""Script in what people type stays text: the widget and the console in Chromium.

Payloads go wherever someone other than the viewer writes: a customer's
messages and name, an agent's name, replies and notes, a canned reply, an
article's title and body. Each page is then opened in headless Chromium and
must show the payload as text: no payload script ran (``window.__xss`` is
never set, no dialog opened), nothing was even blocked by the
Content-Security-Policy (the markup never became markup), no element has an
inline event handler, and no link points at ``javascript:``.

One hub in this process on the embedded SQLite database, Rasa not running:
every customer message is handed to people at once.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Limits
from bot.db.models import Message
from tests.bot.auth.test_auth_api import call, login
from tests.bot.web.test_history_api import conversation
from tests.conftest import settings_in
from tests.e2e.conftest import browser  # noqa: F401  (the fixture)
from tests.e2e.test_widget_browser import AGENT_PASSWORD
from tests.hub import RunningHub, running_hub

pytestmark = pytest.mark.browser


def short(tag: str) -> str:
    """A payload that fits a name or a title."""
    return f"{tag}<img src=x onerror=window.__xss='{tag}'>"


def long(tag: str) -> str:
    """A payload for free text: markup, script, links, markdown, list lines."""
    return (
        f"{tag} <img src=x onerror=\"window.__xss='{tag}';alert(1)\">"
        f"<script>window.__xss='{tag}'</script>"
        f"<svg onload=\"window.__xss='{tag}'\"></svg>"
        f"<a href=\"javascript:window.__xss='{tag}'\">link</a> "
        f"[click](javascript:window.__xss='{tag}') "
        f"<iframe src=\"javascript:top.__xss='{tag}'\"></iframe>"
        # Lines that become list items and links in bot and agent text.
        f"\n1. https://ok.example/\"><img src=x onerror=window.__xss='{tag}'>"
        f"\n- http://a.example/'onmouseover='window.__xss=1'"
        f"\n- javascript:window.__xss='{tag}'"
    )


@pytest.fixture(scope="module")
async def hub(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningHub]:
    settings = settings_in(tmp_path_factory.mktemp("xss")).with_changes(
        limits=Limits(logins_per_ip_per_minute=1000)
    )
    async with running_hub(settings) as running:
        yield running


#: Elements (the widget's shadow root included) with an inline event handler.
INLINE_HANDLERS = """() => {
  const roots = [document], found = [];
  while (roots.length) {
    for (const el of roots.pop().querySelectorAll('*')) {
      if (el.shadowRoot) roots.push(el.shadowRoot);
      for (const a of el.attributes)
        if (a.name.startsWith('on')) found.push(el.tagName + ' ' + a.name);
    }
  }
  return found;
}"""


class Watched:
    """A page that records dialogs, script errors and CSP reports."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        page.on("dialog", self._dialog)
        page.on(
            "console",
            lambda m: (
                self.blocked.append(m.text) if "Content Security" in m.text else None
            ),
        )

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def assert_inert(self, *shown: str) -> None:
        page = self.page
        # Give any handler that was going to run (an image error) its chance.
        await page.wait_for_timeout(300)
        assert await page.evaluate("window.__xss === undefined"), await page.evaluate(
            "window.__xss"
        )
        assert self.dialogs == [] and self.blocked == [], (self.dialogs, self.blocked)
        assert await page.locator("a[href^='javascript' i]").count() == 0
        assert await page.locator("iframe").count() == 0
        assert await page.evaluate(INLINE_HANDLERS) == []
        for text in shown:
            # Shown as the characters typed (the locator looks into the
            # widget's shadow root too).
            assert await page.get_by_text(text, exact=False).count() >= 1, text


@pytest.fixture
async def open_page(browser: Any) -> AsyncIterator[Any]:  # noqa: F811
    contexts = []

    async def opened() -> Watched:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(context)
        return Watched(await context.new_page())

    yield opened
    for context in contexts:
        await context.close()


async def console_as(hub: RunningHub, open_page: Any, email: str) -> Watched:
    watched = await open_page()
    page = watched.page
    await page.goto(f"{hub.url}/console")
    await page.fill("#signin-email", email)
    await page.fill("#signin-password", AGENT_PASSWORD)
    await page.click("#signin-submit")
    await page.locator("#app-view").wait_for()
    return watched


async def test_payloads_are_text_in_the_widget_and_the_console(
    hub: RunningHub, open_page: Any
) -> None:
    tag = f"x{secrets.token_hex(3)}"
    agent_email = f"agent-{tag}@example.com"
    agent = await hub.ctx.auth.create_agent(
        agent_email, short(tag + "a"), "agent", AGENT_PASSWORD
    )
    await hub.ctx.auth.set_presence(agent, "online")
    admin_email = f"admin-{tag}@example.com"
    await hub.ctx.auth.create_agent(admin_email, "Ada Admin", "admin", AGENT_PASSWORD)
    admin = await login(hub, admin_email, AGENT_PASSWORD)
    ann = await login(hub, agent_email, AGENT_PASSWORD)

    status, answer, _ = await call(
        hub,
        "POST",
        "/api/canned-replies",
        session=admin[0],
        csrf=admin[1],
        json={
            "shortcut": f"c{tag}",
            "title": short(tag + "t"),
            "body": long(tag + "b"),
        },
    )
    assert status == 201, answer
    slug = f"xss-{tag}"
    status, answer, _ = await call(
        hub,
        "POST",
        "/api/kb/articles",
        session=admin[0],
        csrf=admin[1],
        json={
            "slug": slug,
            "title": short(tag + "k"),
            "summary": long(tag + "s"),
            "body": long(tag + "m") + "\n\n- " + long(tag + "l"),
            "steps": [long(tag + "p")],
            "tags": ["xss"],
            "intents": [],
            "examples": ["can script run here"],
        },
    )
    assert status == 201, answer

    # A customer on the demo page types a payload; the bot is down, so the
    # chat goes to people; Ann (a payload for a name) claims it and answers
    # with payloads.
    widget = await open_page()
    await widget.page.goto(hub.url)
    await widget.page.click("button.launcher")
    await widget.page.fill("textarea#in", long(tag + "w"))
    await widget.page.keyboard.press("Enter")
    await widget.page.locator(".msg.system").first.wait_for()
    await hub.ctx.relay.idle()
    async with hub.ctx.engine.connect() as connection:
        widget_conversation = (
            await connection.execute(
                sa.select(Message.__table__.c.conversation_id).where(
                    Message.__table__.c.text == long(tag + "w")
                )
            )
        ).scalar_one()
    handoff = await hub.ctx.handoffs.repository.current(widget_conversation)
    assert handoff is not None
    for method, path, body in [
        ("POST", f"/api/handoffs/{handoff.id}/claim", None),
        (
            "POST",
            f"/api/conversations/{widget_conversation}/messages",
            {"text": long(tag + "r"), "client_id": "r1"},
        ),
        (
            "POST",
            f"/api/conversations/{widget_conversation}/notes",
            {"text": long(tag + "n")},
        ),
    ]:
        status, answer, _ = await call(
            hub, method, path, session=ann[0], csrf=ann[1], json=body
        )
        assert status in {200, 201}, answer
    await widget.page.locator(".msg.agent", has_text=tag + "r").wait_for()
    await widget.assert_inert(tag + "w <img", tag + "r <img", tag + "a<img")

    # Another customer, with a payload for a name, waits in the queue.
    await conversation(
        hub,
        long(tag + "q"),
        user={"id": "u1", "name": short(tag + "u"), "email": "eve@example.com"},
    )

    # Ann's desk: the queue, her chat's transcript, card and note, and the
    # canned reply offered when she types its shortcut.
    desk = await console_as(hub, open_page, agent_email)
    page = desk.page
    await page.locator("#queue-list .entry", has_text=tag + "u").wait_for()
    await page.locator(
        f'#mine-list .entry[data-conversation="{widget_conversation}"]'
    ).click()
    await page.locator(".msg-customer", has_text=tag + "w").wait_for()
    await page.locator(".msg-note", has_text=tag + "n").wait_for()
    box = page.locator("#compose-text")
    await box.click()
    await box.type(f"/c{tag}")
    await page.locator("#canned-popup .canned-option").first.wait_for()
    await desk.assert_inert(
        tag + "u<img", tag + "w <img", tag + "r <img", tag + "n <img", tag + "t<img"
    )
    await page.click("#tab-history")
    await page.locator(".history-row", has_text=tag + "u").first.wait_for()
    await desk.assert_inert(tag + "u<img")

    # The article, in the editors' list and editor with its preview.
    kb = await console_as(hub, open_page, admin_email)
    page = kb.page
    await page.click("#tab-kb")
    entry = page.locator(f'#kb-list [data-slug="{slug}"]')
    await entry.wait_for()
    await entry.locator("button").click()
    await page.wait_for_function(
        "slug => document.getElementById('kb-slug').value === slug", arg=slug
    )
    await page.locator("#kb-preview", has_text=tag + "m").wait_for()
    await kb.assert_inert(tag + "k<img", tag + "m <img")

    # The admin's list of accounts names Ann.
    await page.click("#tab-admin")
    await page.locator("#admin-rows").get_by_text(tag + "a<img").first.wait_for()
    await kb.assert_inert(tag + "a<img")

"""The agent console in headless Chromium, against the real stack.

The agent works in the console page (``/console``) exactly as a person would;
the customer is a real client of the customer WebSocket, so every message
goes through the hub, Rasa and the action server. Accounts are created with
the command line, as an operator would. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bench.stack import create_agent, stack_settings
from bot.auth.repository import agent_sessions, agents
from bot.config import Limits, Settings
from bot.contract import HandoffReason
from bot.conversations.repository import NewMessage
from bot.handoff.service import DANGER_QUEUED_TEXT
from tests.e2e.conftest import artifact
from tests.e2e.helpers import watch_problems
from tests.e2e.test_stack import connect, is_bot, start
from tests.e2e.test_widget_browser import AGENT_PASSWORD, DANGER_NOTE
from tests.hub import drain, receive_until, running_hub

pytestmark = pytest.mark.browser

#: Frames a customer socket may take to show something the console did.
CUSTOMER_TIMEOUT_S = 20.0
ASK_FOR_A_PERSON = "I want to talk to a person"


@pytest.fixture
async def page(browser) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    watch_problems(page)
    yield page
    await context.close()


def new_agent(stack: Any, name: str, role: str = "agent") -> str:
    """Create an account with ``python -m bot create-agent``; return its email."""
    email = f"{name.split()[0].lower()}-{secrets.token_hex(3)}@example.com"
    env = {**stack_settings(stack), "BATON_NEW_AGENT_PASSWORD": AGENT_PASSWORD}
    create_agent(env, email, name, role)
    return email


async def sign_in(page: Any, stack: Any, email: str) -> None:
    await page.goto(f"{stack.url}/console")
    await page.fill("#signin-email", email)
    await page.fill("#signin-password", AGENT_PASSWORD)
    await page.click("#signin-submit")
    await page.locator("#app-view").wait_for()
    # The console's socket is open: the agent is online and sees the queue.
    await page.locator(".connection.is-live").wait_for()


def status_is(*states: str) -> Any:
    return lambda f: f.get("type") == "status" and f.get("state") in states


async def say(ws: Any, text: str) -> None:
    await ws.send(
        json.dumps({"type": "message", "text": text, "client_id": secrets.token_hex(8)})
    )


async def ask_for_a_person(ws: Any) -> list[dict[str, Any]]:
    await say(ws, ASK_FOR_A_PERSON)
    return await receive_until(ws, status_is("queued"), timeout=60)


def entry(page: Any, conversation_id: str, where: str = "#queue-list") -> Any:
    return page.locator(f'{where} .entry[data-conversation="{conversation_id}"]')


# On both setups: the embedded defaults, and PostgreSQL + Redis.
@pytest.mark.stack
async def test_agent_takes_over_notes_hands_back_and_resolves(stack, page) -> None:
    name = "Ann Console"
    email = new_agent(stack, name)

    # A wrong password is refused with a clear message; the right one works.
    await page.goto(f"{stack.url}/console")
    await page.fill("#signin-email", email)
    await page.fill("#signin-password", "not the password")
    await page.click("#signin-submit")
    error = page.locator("#signin-error")
    await error.filter(has_text="Wrong email or password").wait_for()
    await page.screenshot(path=artifact("console-signin-error.png"))
    await sign_in(page, stack, email)

    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as customer:
        await say(customer, "My notes vanished after the update")
        await receive_until(customer, is_bot, timeout=60)
        await drain(customer, quiet_s=1.0)
        await ask_for_a_person(customer)

        # The handoff appears in the queue without a reload.
        waiting = entry(page, conversation_id)
        await waiting.wait_for()
        assert "asked for a person" in await waiting.inner_text()
        assert "waiting" in await waiting.locator(".waited").inner_text()
        await page.screenshot(path=artifact("console-queue.png"))

        await waiting.locator("button.claim").click()
        await page.locator("#composer").wait_for()
        assert await page.evaluate("document.activeElement.id") == "compose-text"
        await entry(page, conversation_id, "#mine-list").wait_for()
        joined = await receive_until(customer, status_is("agent"), CUSTOMER_TIMEOUT_S)
        assert joined[-1]["agent"]["name"] == name
        # The card shows what the bot saw: the first message and its intent.
        first = page.locator(".msg-customer", has_text="My notes vanished")
        await first.wait_for()
        assert await first.locator(".chip-intent").count() == 1
        assert "asked for a person" in await page.locator("#card-reason").inner_text()

        # The agent's reply reaches the customer with the agent's name.
        await page.fill("#compose-text", "Hi, I'm Ann. Let me look at your sync.")
        await page.keyboard.press("Enter")
        reply = (
            await receive_until(
                customer,
                lambda f: f.get("type") == "message" and f.get("role") == "agent",
                CUSTOMER_TIMEOUT_S,
            )
        )[-1]
        assert reply["text"] == "Hi, I'm Ann. Let me look at your sync."
        assert reply["meta"]["agent"]["name"] == name
        await page.locator(".msg-agent", has_text="Let me look at your sync").wait_for()

        # The customer's typing and messages appear live.
        await customer.send(json.dumps({"type": "typing"}))
        await page.locator("#typing", has_text="is typing").wait_for()
        await say(customer, "It happens on my phone since Tuesday")
        await page.locator(".msg-customer", has_text="on my phone").wait_for()

        # An internal note is shown to agents, never to the customer.
        await page.click("label[for=mode-note]")
        await page.fill("#compose-text", "Known iOS sync issue, see ticket 42")
        await page.keyboard.press("Enter")
        note = page.locator(".msg-note", has_text="Known iOS sync issue")
        await note.wait_for()
        assert "Only agents see this" in await note.inner_text()
        await page.screenshot(path=artifact("console-chat.png"))
        heard = await drain(customer, quiet_s=1.5)
        assert "Known iOS sync issue" not in json.dumps(heard)

        # Back to the bot: it answers the customer's next question.
        await page.click("label[for=mode-reply]")
        await page.click("#handback-button")
        await page.locator("#chat-banner", has_text="Handed back").wait_for()
        await receive_until(customer, status_is("bot"), CUSTOMER_TIMEOUT_S)
        await drain(customer, quiet_s=1.0)
        await say(customer, "I forgot my password")
        answer = await receive_until(customer, is_bot, timeout=60)
        assert "password" in answer[-1]["text"].lower()
        await drain(customer, quiet_s=1.0)
        await entry(page, conversation_id, "#mine-list").wait_for(state="detached")

        # A second handoff of the same chat: claimed and resolved.
        await ask_for_a_person(customer)
        again = entry(page, conversation_id)
        await again.wait_for()
        await again.locator("button.claim").click()
        await page.locator("#composer").wait_for()
        await page.select_option("#outcome", "solved")
        await page.click("#resolve-button")
        await page.locator("#chat-banner", has_text="Resolved: Solved").wait_for()
        await receive_until(customer, status_is("resolved"), CUSTOMER_TIMEOUT_S)
        assert await page.locator("#composer").is_hidden()
        await page.screenshot(path=artifact("console-resolved.png"))

    history = await stored_messages(stack, conversation_id, token)
    texts = [m["text"] for m in history]
    assert "Known iOS sync issue, see ticket 42" not in texts
    assert texts.count("Hi, I'm Ann. Let me look at your sync.") == 1
    assert page.problems == []


@pytest.mark.stack
@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_claimed_by_a_colleague_and_markup_shown_as_text(stack, page) -> None:
    ann = new_agent(stack, "Ann Second")
    bob_email = new_agent(stack, "Bob Quick")
    # Frames from the hub to the console can be held back, so that Bob's
    # claim is certain to land before Ann's console hears of it.
    hold: dict[str, Any] = {"on": False, "frames": [], "page_side": None}

    def relay(ws: Any) -> None:
        server = ws.connect_to_server()
        hold["page_side"] = ws

        def from_hub(frame: Any) -> None:
            if hold["on"]:
                hold["frames"].append(frame)
            else:
                ws.send(frame)

        server.on_message(from_hub)

    await page.route_web_socket("**/api/agent/ws", relay)
    await sign_in(page, stack, ann)

    conversation_id, token = await start(stack)
    attack = '<img src=x onerror="window.__xss=1"> my invoice is wrong'
    async with connect(stack, conversation_id, token) as customer:
        await say(customer, attack)
        await receive_until(customer, is_bot, timeout=60)
        await drain(customer, quiet_s=1.0)
        await ask_for_a_person(customer)
        waiting = entry(page, conversation_id)
        await waiting.wait_for()

        # Opening the chat shows the markup as text, in the list and the chat.
        await waiting.locator(".entry-open").click()
        shown = page.locator(".msg-customer", has_text="<img src=x")
        await shown.wait_for()
        assert await page.locator("#transcript img, #queue-list img").count() == 0
        assert await page.evaluate("window.__xss") is None
        assert "Preview" in await page.locator("#chat-banner").inner_text()
        await page.screenshot(path=artifact("console-markup-as-text.png"))

        # Bob claims it a moment before Ann clicks: she is told who has it.
        hold["on"] = True
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as bob:
            async with bob.post(
                f"{stack.url}/api/auth/login",
                json={"email": bob_email, "password": AGENT_PASSWORD},
            ) as response:
                assert response.status == 200
                csrf = (await response.json())["csrf_token"]
            handoff_id = int(await waiting.get_attribute("data-handoff"))
            async with bob.post(
                f"{stack.url}/api/handoffs/{handoff_id}/claim",
                headers={"X-CSRF-Token": csrf},
            ) as response:
                assert response.status == 200
        await page.click("#claim-button")
        await page.locator("#chat-error", has_text="Bob Quick").wait_for()
        hold["on"] = False
        for frame in hold["frames"]:
            hold["page_side"].send(frame)
        await page.locator("#chat-banner", has_text="Bob Quick has this").wait_for()
        assert await page.locator("#composer").is_hidden()
        await page.screenshot(path=artifact("console-claimed-by-colleague.png"))
    assert page.problems == []


@pytest.mark.stack
@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_admin_creates_an_account_in_the_console(stack, page) -> None:
    admin = new_agent(stack, "Ada Admin", role="admin")
    await sign_in(page, stack, admin)
    await page.click("#tab-admin")
    await page.locator("#admin-rows tr").first.wait_for()
    email = f"carl-{secrets.token_hex(3)}@example.com"
    await page.fill("#new-name", "Carl New")
    await page.fill("#new-email", email)
    await page.select_option("#new-role", "trainer")
    await page.fill("#new-password", "short")
    await page.click("#create-agent button[type=submit]")
    await page.locator("#create-error", has_text="at least").wait_for()
    await page.fill("#new-password", AGENT_PASSWORD)
    await page.click("#create-agent button[type=submit]")
    await page.locator("#admin-status", has_text="Carl New").wait_for()
    row = page.locator("#admin-rows tr", has_text=email)
    assert await row.locator("select").input_value() == "trainer"
    await row.locator("select").select_option("agent")
    # A role change, like a disable, is confirmed first.
    await page.locator("#confirm-title", has_text="Make Carl New an agent?").wait_for()
    await page.click("#confirm-ok")
    await page.locator("#admin-status", has_text="Carl New is now Agent").wait_for()
    await (
        page.locator("#admin-rows tr", has_text=email)
        .locator("button", has_text="Disable")
        .click()
    )
    await page.locator("#confirm-title", has_text="Disable Carl New?").wait_for()
    await page.click("#confirm-ok")
    await page.locator("#admin-status", has_text="disabled").wait_for()
    await page.screenshot(path=artifact("console-accounts.png"))

    # The account can no longer sign in.
    async with aiohttp.ClientSession() as client:
        async with client.post(
            f"{stack.url}/api/auth/login",
            json={"email": email, "password": AGENT_PASSWORD},
        ) as response:
            assert response.status == 401

    # Signing out returns to the sign-in form.
    await page.click("#signout")
    await page.locator("#signin-view").wait_for()
    await page.locator("#signin-error", has_text="signed out").wait_for()
    assert page.problems == []


async def stored_messages(stack: Any, conversation_id: str, token: str) -> list[Any]:
    url = f"{stack.url}/api/conversations/{conversation_id}/messages"
    async with aiohttp.ClientSession() as session:
        async with session.get(
            url, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert response.status == 200
            return list((await response.json())["messages"])


@pytest.mark.stack
@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_an_expired_session_returns_to_sign_in(stack, page) -> None:
    email = new_agent(stack, "Eve Expiring")
    await sign_in(page, stack, email)
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                agent_sessions.update()
                .where(
                    agent_sessions.c.agent_id
                    == sa.select(agents.c.id)
                    .where(agents.c.email == email)
                    .scalar_subquery()
                )
                .values(expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
            )
    finally:
        engine.dispose()
    # The console's socket notices at its next session check and closes.
    await page.locator("#signin-view").wait_for(timeout=30_000)
    await page.locator("#signin-error", has_text="session has expired").wait_for()
    assert await page.locator("#app-view").is_hidden()
    assert await page.evaluate("document.activeElement.id") == "signin-email"
    await page.screenshot(path=artifact("console-session-expired.png"))
    assert page.problems == []


async def test_sign_in_errors_say_what_happened(hub_settings: Settings, page) -> None:
    """Wrong password, locked account, too many attempts: each told plainly.

    A hub in this process (no Rasa needed) with low limits: the second
    failure in a row locks the account, and an address may try three times a
    minute.
    """
    settings = hub_settings.with_changes(
        limits=Limits(failed_logins_before_lockout=2, logins_per_ip_per_minute=3)
    )
    async with running_hub(settings) as hub:
        email = "lou@example.com"
        await hub.ctx.auth.create_agent(email, "Lou", "agent", AGENT_PASSWORD)
        await page.goto(f"{hub.url}/console")
        error = page.locator("#signin-error")

        async def attempt(password: str, expected: str) -> None:
            await page.fill("#signin-email", email)
            await page.fill("#signin-password", password)
            await page.click("#signin-submit")
            await error.filter(has_text=expected).wait_for()

        await attempt("wrong password 1", "Wrong email or password")
        await attempt("wrong password 2", "Wrong email or password")
        # Locked now: even the right password is refused, with the wait.
        await attempt(AGENT_PASSWORD, "this account is locked. Try again in 15 minutes")
        await page.screenshot(path=artifact("console-locked-out.png"))
        await attempt(AGENT_PASSWORD, "Too many sign-in attempts from here. Wait")
        assert await page.locator("#app-view").is_hidden()
        assert await page.evaluate("document.activeElement.id") == "signin-password"
    assert page.problems == []


async def test_transfer_and_suggested_replies(hub_settings: Settings, page) -> None:
    """On a hub in this process: with Rasa down the hub hands chats over itself."""
    async with running_hub(hub_settings) as hub:
        ann = await hub.ctx.auth.create_agent(
            "ann@example.com", "Ann Desk", "agent", AGENT_PASSWORD
        )
        bob = await hub.ctx.auth.create_agent(
            "bob@example.com", "Bob Desk", "agent", AGENT_PASSWORD
        )
        await page.goto(f"{hub.url}/console")
        await page.fill("#signin-email", ann.email)
        await page.fill("#signin-password", AGENT_PASSWORD)
        await page.click("#signin-submit")
        await page.locator(".connection.is-live").wait_for()

        conversation_id, token = await hub.new_conversation(locale="en-GB")
        async with hub.socket(conversation_id, token) as customer:
            await say(customer, "My notes vanished after the update")
            await receive_until(customer, status_is("queued"))
            waiting = entry(page, conversation_id)
            await waiting.wait_for()
            await waiting.locator("button.claim").click()
            await page.locator("#composer").wait_for()

            # The customer sees the agent typing.
            await page.locator("#compose-text").press_sequentially("Hel")
            await receive_until(
                customer, lambda f: f.get("type") == "typing" and f["role"] == "agent"
            )
            await page.fill("#compose-text", "")

            # A suggested article, then a canned reply, go into the reply box.
            suggestion = page.locator("#kb-results .suggestion").first
            await suggestion.wait_for()
            title = await suggestion.locator(".suggestion-title").inner_text()
            await suggestion.locator("button").click()
            box = page.locator("#compose-text")
            await page.wait_for_function(
                "t => document.getElementById('compose-text').value.startsWith(t)",
                arg=title,
            )
            await page.select_option("#canned", label="/anything-else · Anything else")
            await page.click("#canned-insert")
            text = await box.input_value()
            assert text.startswith(title + ": ")
            assert text.endswith("Is there anything else I can help you with today?")
            await page.keyboard.press("Enter")
            sent = await receive_until(
                customer,
                lambda f: f.get("type") == "message" and f.get("role") == "agent",
            )
            assert sent[-1]["text"] == text.strip()

            # Transfer to Bob: he holds it now, and the customer is told.
            await page.select_option("#transfer-to", str(bob.id))
            await page.click("#transfer-button")
            await page.locator("#chat-banner", has_text="Bob Desk").wait_for()
            told = await receive_until(customer, status_is("agent"))
            assert told[-1]["agent"]["name"] == "Bob Desk"
            assert await page.locator("#composer").is_hidden()
            await page.screenshot(path=artifact("console-transferred.png"))
        handoff = await hub.ctx.handoffs.repository.current(conversation_id)
        assert handoff is not None and handoff.agent_id == bob.id
    assert page.problems == []


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
#: Records each desktop notification the console shows (the real one is still
#: shown): the test sees what the agent would.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notifications = [];
  class Recorded extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: (options || {}).body || "" });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Recorded.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recorded;
})();
"""
PHONE = {"width": 390, "height": 844}


async def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's policy (no
        # inline script) would block a <script> tag, as it should.
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def phone_shot(page: Any, name: str) -> None:
    """A screenshot at a phone's size, then back to the desktop size."""
    desktop = page.viewport_size
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=artifact(name), full_page=True)
    await page.set_viewport_size(desktop)


async def test_new_chats_get_noticed_told_apart_and_handled_by_keyboard(
    hub_settings: Settings, browser
) -> None:
    """On a hub in this process (Rasa down: the hub hands every chat over)."""
    async with running_hub(hub_settings) as hub:
        agent = await hub.ctx.auth.create_agent(
            "nia@example.com", "Nia Desk", "agent", AGENT_PASSWORD
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        await context.grant_permissions(["notifications"], origin=hub.url)
        await context.add_init_script(RECORD_NOTIFICATIONS)
        page = await context.new_page()
        problems = watch_problems(page)
        await page.goto(f"{hub.url}/console")
        await page.locator("#signin-view").wait_for()
        assert await serious_accessibility_problems(page) == []
        await page.fill("#signin-email", agent.email)
        await page.fill("#signin-password", AGENT_PASSWORD)
        await page.click("#signin-submit")
        await page.locator(".connection.is-live").wait_for()
        for tab, ready in [("#tab-outbox", "#outbox-mode"), ("#tab-kb", "#kb-list li")]:
            await page.click(tab)
            await page.locator(ready).first.wait_for()
            assert await serious_accessibility_problems(page) == [], tab
        await page.click("#tab-desk")

        # Alerts are off until the agent turns them on, and stay on for them.
        await page.click("#alerts summary")
        assert not await page.is_checked("#alert-notify")
        await page.check("#alert-notify")
        await page.check("#alert-title")
        await page.screenshot(path=artifact("console-alerts.png"))
        assert await serious_accessibility_problems(page) == []
        await page.reload()
        await page.locator(".connection.is-live").wait_for()
        assert await page.is_checked("#alert-notify")
        assert await page.is_checked("#alert-title")
        assert not await page.is_checked("#alert-sound")

        # The console goes to the background; a customer asks for help.
        # (Headless Chromium calls every tab focused unless told to track it.)
        focus = await context.new_cdp_session(page)
        await focus.send("Emulation.setFocusEmulationEnabled", {"enabled": False})
        other = await context.new_page()
        await other.goto(f"{hub.url}/")
        await other.bring_to_front()
        conversation_id, token = await hub.new_conversation(
            user={"name": "Sam Lee", "email": "sam@example.com"},
            page_url="https://shop.example.com/billing/invoices?id=7",
        )
        async with hub.socket(conversation_id, token) as customer:
            await say(customer, "hello")
            await say(customer, "My invoice shows the wrong company name")
            await receive_until(customer, status_is("queued"))
            await page.wait_for_function("() => window.__notifications.length > 0")
            [shown] = await page.evaluate("window.__notifications")
            assert shown["title"] == "New chat waiting"
            assert "Sam Lee" in shown["body"]
            assert await page.title() == "(1) Baton console"

            # The queue item says who asks what, from where, for how long.
            await page.bring_to_front()
            waiting = entry(page, conversation_id)
            await waiting.wait_for()
            await waiting.locator(
                ".entry-question", has_text="wrong company"
            ).wait_for()
            assert await waiting.locator(".entry-who").inner_text() == "Sam Lee"
            assert "No question" not in await waiting.inner_text()
            page_text = await waiting.locator(".entry-page").inner_text()
            assert page_text == "shop.example.com/billing/invoices"
            assert "waiting" in await waiting.locator(".waited").inner_text()
            await page.screenshot(path=artifact("console-queue-items.png"))
            await phone_shot(page, "console-queue-items-phone.png")

            # "?" lists the shortcuts; keys typed in a field stay text.
            await page.keyboard.press("?")
            dialog = page.locator("#shortcuts")
            await dialog.wait_for()
            listed = await page.locator("#shortcut-list").inner_text()
            for action in ("next chat", "Claim", "Resolve", "internal note"):
                assert action in listed, action
            await page.screenshot(path=artifact("console-shortcuts.png"))
            assert await serious_accessibility_problems(page) == []
            await page.keyboard.press("Escape")
            await dialog.wait_for(state="hidden")

            # J opens the next chat, C claims it, N writes a note, E resolves.
            await page.keyboard.press("j")
            await page.locator("#chat-title", has_text="Sam Lee").wait_for()
            # Rasa is down here, so the bot noted nothing: said beside the
            # card's list of facts, which may only hold term/value pairs.
            await page.locator("#card-slots-empty", has_text="Nothing noted").wait_for()
            assert await page.locator("#card-slots").is_hidden()
            assert await serious_accessibility_problems(page) == []
            await page.keyboard.press("c")
            await page.locator("#composer").wait_for()
            await receive_until(customer, status_is("agent"))
            mine = entry(page, conversation_id, "#mine-list")
            await mine.wait_for()
            # "My chats" is the first list, above the follow-up alerts (shown
            # when there are any), the queue and the follow-ups.
            assert await page.evaluate(
                "[...document.querySelectorAll('.queue-pane h2')].map(h => h.id)"
            ) == ["mine-title", "events-title", "queue-title", "followups-title"]
            assert await page.title() == "Baton console"
            await page.evaluate("document.activeElement.blur()")
            await page.keyboard.press("n")
            assert await page.evaluate("document.activeElement.id") == "compose-text"
            assert await page.is_checked("#mode-note")
            # Letters typed in the box are text, never shortcuts.
            await page.keyboard.type("Checked the invoice jobs queue")
            assert (
                await page.input_value("#compose-text")
                == "Checked the invoice jobs queue"
            )
            assert await page.locator("#held-actions").is_visible()
            await page.keyboard.press("Enter")
            await page.locator(".msg-note", has_text="invoice jobs").wait_for()
            assert await page.input_value("#compose-text") == ""
            await page.evaluate("document.activeElement.blur()")
            await page.keyboard.press("e")
            await page.locator("#chat-banner", has_text="Resolved: Solved").wait_for()
            await receive_until(customer, status_is("resolved"))
        assert problems == []
        await context.close()


#: Whether the top and the bottom of an element are on the screen, not under
#: something else (a header) or outside its scrolled box.
SEEN_TOP_AND_BOTTOM = """(el) => {
  const box = el.getBoundingClientRect();
  const x = box.left + box.width / 2;
  return [box.top + 4, box.bottom - 4].map(
    (y) => el.contains(document.elementFromPoint(x, y)));
}"""


async def test_on_a_phone_the_chat_fits_the_screen_and_signed_out_is_no_error(
    hub_settings: Settings, browser
) -> None:
    """A 390 x 844 phone, on a hub in this process (Rasa down: the hub hands
    the chat over). Signed out, the console shows the sign-in form with no
    error in the browser's console (it asked ``/api/auth/me`` and logged the
    401). Signed in, the header (three rows for an agent) scrolls away with
    the page: the chat, transcript and composer together, fit the screen
    (kept in place, the header left too little room for them); and the empty
    chat pane does not send the agent to a queue "on the left", where there
    is none."""
    async with running_hub(hub_settings) as hub:
        agent = await hub.ctx.auth.create_agent(
            "pia@example.com", "Pia Phone", "agent", AGENT_PASSWORD
        )
        context = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True
        )
        page = await context.new_page()
        problems = watch_problems(page)
        errors: list[str] = []
        page.on(
            "console", lambda m: errors.append(m.text) if m.type == "error" else None
        )
        await page.goto(f"{hub.url}/console")
        await page.locator("#signin-view").wait_for()
        await page.fill("#signin-email", agent.email)
        await page.fill("#signin-password", AGENT_PASSWORD)
        await page.click("#signin-submit")
        await page.locator(".connection.is-live").wait_for()
        assert "left" not in await page.locator("#chat-empty").inner_text()
        conversation_id, token = await hub.new_conversation(user={"name": "Sam Lee"})
        async with hub.socket(conversation_id, token) as customer:
            await say(customer, "My invoice shows the wrong company name")
            await receive_until(customer, status_is("queued"))
            waiting = entry(page, conversation_id)
            await waiting.wait_for()
            await waiting.locator("button.claim").click()
            await page.locator("#composer").wait_for()
            chat = page.locator("#chat")
            await chat.scroll_into_view_if_needed()
            assert await chat.evaluate(SEEN_TOP_AND_BOTTOM) == [True, True]
            await page.screenshot(path=artifact("console-chat-phone.png"))
        assert errors == []
        assert problems == []
        await context.close()


def has_article(frame: dict) -> bool:
    return is_bot(frame) and isinstance((frame.get("meta") or {}).get("article"), str)


@pytest.mark.stack
@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_the_card_tells_what_the_bot_did_in_words(stack, page) -> None:
    await sign_in(page, stack, new_agent(stack, "Cleo Card"))
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as customer:
        await say(customer, "I forgot my password")
        shown = await receive_until(customer, has_article, timeout=60)
        slug = shown[-1]["meta"]["article"]
        await drain(customer, quiet_s=1.0)
        await say(customer, "no")
        await receive_until(customer, is_bot, timeout=60)
        await drain(customer, quiet_s=1.0)
        await ask_for_a_person(customer)

        waiting = entry(page, conversation_id)
        await waiting.wait_for()
        question = await waiting.locator(".entry-question").inner_text()
        assert question == "\u201cI forgot my password\u201d"
        await waiting.locator(".entry-open").click()
        response = await page.request.get(f"{stack.url}/api/kb/articles/{slug}")
        title = (await response.json())["article"]["title"]

        # The article by its title, and what the customer said of it.
        step = page.locator(
            "#card-actions li", has_text=f"the article \u2018{title}\u2019"
        )
        await step.wait_for()
        assert "the customer said it did not help" in await step.inner_text()
        await page.locator(".chip-article", has_text=title).first.wait_for()
        card = await page.locator("#card").inner_text()
        for raw in ("{", "[", "action_", "utter_", "kb_"):
            assert raw not in card, raw

        # The sentiment chart is labelled, with the readings as a table.
        chart = page.locator("#card-sentiment svg[role=img]")
        caption_id = await chart.get_attribute("aria-labelledby")
        caption = await page.locator(f"#{caption_id}").inner_text()
        assert caption.startswith("Frustration of each customer message")
        readings = page.locator("#card-sentiment table tbody tr")
        assert await readings.count() == 3
        await page.click("#card-sentiment summary")
        assert "I forgot my password" in await readings.first.inner_text()
        assert await serious_accessibility_problems(page) == []
        await page.locator("#card").screenshot(path=artifact("console-card.png"))
        await page.screenshot(path=artifact("console-card-desk.png"))
        await phone_shot(page, "console-card-phone.png")
    assert page.problems == []


async def test_a_promised_time_is_shown_in_the_agents_time_zone(
    hub_settings: Settings, browser
) -> None:
    """The follow-up notice names the due time in UTC; the console shows it
    in the agent's zone (Tokyo here), as the queue and the card do."""
    async with running_hub(hub_settings) as hub:
        agent = await hub.ctx.auth.create_agent(
            "tomo@example.com", "Tomo Late", "agent", AGENT_PASSWORD
        )
        # Nobody is signed in: the chat becomes a follow-up with a due time.
        conversation_id, token = await hub.new_conversation()
        async with hub.socket(conversation_id, token) as customer:
            await say(customer, "My invoice shows the wrong company name")
            await receive_until(customer, status_is("follow_up"))
        handoff = await hub.ctx.handoffs.repository.current(conversation_id)
        assert handoff is not None and handoff.due_at is not None
        utc_text = handoff.due_at.strftime("%H:%M")

        context = await browser.new_context(
            viewport={"width": 1280, "height": 800},
            timezone_id="Asia/Tokyo",
            locale="en-US",
        )
        page = await context.new_page()
        await page.goto(f"{hub.url}/console")
        await page.fill("#signin-email", agent.email)
        await page.fill("#signin-password", AGENT_PASSWORD)
        await page.click("#signin-submit")
        await page.locator(".connection.is-live").wait_for()
        await (
            entry(page, conversation_id, "#followup-list")
            .locator(".entry-open")
            .click()
        )
        notice = page.locator(".msg-system .msg-text", has_text="get back to you by")
        await notice.wait_for()
        shown = await notice.inner_text()
        tokyo = await page.evaluate(
            """iso => new Date(iso).toLocaleString([], {month: "short",
            day: "numeric", hour: "2-digit", minute: "2-digit"})""",
            handoff.due_at.isoformat(),
        )
        assert tokyo in shown, shown
        assert utc_text not in shown, shown
        await context.close()


#: The console's red danger tag (the queue's), read from its style sheet.
DANGER_TAG_COLOUR = """() => {
  const tag = document.createElement("span");
  tag.className = "reason-tag reason-danger";
  document.body.appendChild(tag);
  const colour = getComputedStyle(tag).backgroundColor;
  tag.remove();
  return colour;
}"""
NOTICE_LOOK = """(el) => {
  const s = getComputedStyle(el);
  return {style: s.fontStyle, border: s.borderLeftColor,
          width: parseFloat(s.borderLeftWidth), align: s.textAlign};
}"""


async def test_a_chat_where_someone_is_in_danger_is_told_apart_in_the_console(
    hub_settings: Settings, browser
) -> None:
    """On a hub in this process: the customer's words, as the relay keeps
    them when Rasa finds someone in danger, and the handoff it starts. The
    card says why once ("(person in danger); someone may be in danger" under
    a tag saying it too); the notice the customer got stands out in the
    transcript, red like the queue's danger tag (it was grey italic like any
    system line); and no help-center article is suggested (a search with the
    customer's words offered "Share a note or notebook" and "Is Lumen
    down?"): the agent is told why and what the customer was given. On a
    phone there is no "Shortcuts" button, which needs a keyboard."""
    async with running_hub(hub_settings) as hub:
        agent = await hub.ctx.auth.create_agent(
            "dana@example.com", "Dana Desk", "agent", AGENT_PASSWORD
        )
        context = await browser.new_context(viewport={"width": 1366, "height": 800})
        page = await context.new_page()
        problems = watch_problems(page)
        await page.goto(f"{hub.url}/console")
        await page.fill("#signin-email", agent.email)
        await page.fill("#signin-password", AGENT_PASSWORD)
        await page.click("#signin-submit")
        await page.locator(".connection.is-live").wait_for()
        assert await page.locator("#shortcuts-open").is_visible()  # a keyboard

        conversation_id, _ = await hub.new_conversation()
        await hub.ctx.conversations.repository.append(
            conversation_id,
            [
                NewMessage(
                    "customer",
                    DANGER_NOTE,
                    meta={"_nlu": {"intent": "person_in_danger", "confidence": 0.97}},
                )
            ],
        )
        await hub.ctx.handoffs.start(conversation_id, HandoffReason.DANGER)
        waiting = entry(page, conversation_id)
        await waiting.wait_for()
        await waiting.locator("button.claim").click()
        await page.locator("#composer").wait_for()

        why = page.locator("#card-reason")
        await why.wait_for()
        summary = await page.locator("#card-summary").inner_text()
        said = f"{await why.inner_text()} {summary}"
        assert said.lower().count("in danger") == 1, said
        assert DANGER_NOTE in said

        notice = page.locator(".msg-system.msg-danger")
        await notice.wait_for()
        assert await notice.locator(".msg-text").inner_text() == DANGER_QUEUED_TEXT
        tag = notice.locator(".reason-tag.reason-danger")
        assert "Help right now" in await tag.inner_text()
        red = await page.evaluate(DANGER_TAG_COLOUR)
        assert await tag.evaluate("el => getComputedStyle(el).backgroundColor") == red
        look = await notice.locator(".msg-text").evaluate(NOTICE_LOOK)
        assert look["style"] == "normal" and look["align"] == "left", look
        assert look["border"] == red and look["width"] >= 4, look
        # Other system lines stay small and grey.
        plain = page.locator(".msg-system:not(.msg-danger) .msg-text").first
        await plain.wait_for()
        assert (await plain.evaluate(NOTICE_LOOK))["style"] == "italic"

        suggested = page.locator("#kb-results")
        await suggested.locator(
            ".suggestion-note", has_text="someone may be in danger"
        ).wait_for()
        assert "crisis lines" in await suggested.inner_text()
        assert await suggested.locator(".suggestion").count() == 0
        # A search the agent asks for still finds articles.
        await page.fill("#kb-query", "reset my password")
        await page.click("#kb-search button[type=submit]")
        await suggested.locator(".suggestion").first.wait_for()
        await page.fill("#kb-query", "")
        await page.click("#kb-search button[type=submit]")
        await suggested.locator(".suggestion-note").wait_for()

        await page.screenshot(path=artifact("console-danger-desktop.png"))
        assert await serious_accessibility_problems(page) == []
        await context.close()

        phone = await browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True
        )
        page = await phone.new_page()
        on_the_phone = watch_problems(page)
        await page.goto(f"{hub.url}/console")
        await page.fill("#signin-email", agent.email)
        await page.fill("#signin-password", AGENT_PASSWORD)
        await page.click("#signin-submit")
        await page.locator(".connection.is-live").wait_for()
        await page.locator("#mine-list .entry-open").first.click()
        await page.locator(".msg-system.msg-danger").wait_for()
        assert await page.locator("#shortcuts-open").is_hidden()
        await page.screenshot(path=artifact("console-danger-phone.png"), full_page=True)
        await phone.close()
        assert problems == [] and on_the_phone == []

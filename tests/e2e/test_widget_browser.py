"""The demo page's widget in headless Chromium, against the real stack.

One stack (Rasa, action server, hub via ``python -m bot run``) serves the whole
module; each test gets a fresh browser context (empty storage). Screenshots
go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bench.stack import create_agent as create_account
from bench.stack import stack_settings
from tests.conftest import free_port
from tests.e2e.conftest import artifact

pytestmark = [pytest.mark.browser, pytest.mark.stack]

AGENT_PASSWORD = "a long enough password"
BOT_TIMEOUT_MS = 60_000


@pytest.fixture
async def page(browser) -> AsyncIterator[Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def phone(browser) -> AsyncIterator[Any]:
    """A 390 by 844 phone viewport."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = await context.new_page()
    yield page
    await context.close()


IN_VIEW = """(sel) => {
  const root = document.querySelector('baton-chat').shadowRoot;
  const all = root.querySelectorAll(sel);
  const el = all[all.length - 1];
  const log = root.querySelector('.log').getBoundingClientRect();
  const box = el.getBoundingClientRect();
  return box.height > 0 && box.top >= log.top - 1 && box.bottom <= log.bottom + 1;
}"""


async def in_view(page: Any, selector: str) -> bool:
    """Whether the last element matching ``selector`` lies wholly inside the
    transcript's visible area."""
    return await page.evaluate(IN_VIEW, selector)


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


async def serious_accessibility_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now
    (the widget's open shadow root included)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol: the demo page's policy (no inline
        # script) would block a <script> tag, as it should.
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def send(page: Any, text: str) -> None:
    await page.fill("textarea#in", text)
    await page.keyboard.press("Enter")


async def conversation_of(page: Any) -> dict[str, Any]:
    """The widget's stored conversation (id, token, last seq)."""
    raw = await page.evaluate(
        "() => Object.entries(localStorage)"
        ".find(([k]) => k.endsWith(':conversation'))[1]"
    )
    return json.loads(raw)


async def history(stack: Any, conversation: dict[str, Any]) -> dict[str, Any]:
    url = f"{stack.url}/api/conversations/{conversation['conversation_id']}/messages"
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=headers) as response:
            assert response.status == 200
            return await response.json()


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_customer_chats_with_the_bot_on_the_demo_page(stack, page) -> None:
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security" in m.text else None,
    )
    response = await page.goto(stack.url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await page.click("button.launcher")
    await send(page, "I forgot my password")
    answer = page.locator(".msg.bot", has_text="password")
    await answer.first.wait_for(timeout=BOT_TIMEOUT_MS)
    await page.locator(".replies button:not([disabled])").first.wait_for()
    await page.screenshot(path=artifact("widget-answer.png"))
    # The demo page with the chat open, an answer and its quick replies.
    assert await serious_accessibility_problems(page) == []

    # A quick reply: the button's title is sent as the customer's turn, once,
    # and the offered buttons are disabled once used.
    button = page.locator(".replies button:not([disabled])").first
    await button.wait_for(timeout=BOT_TIMEOUT_MS)
    title = (await button.inner_text()).strip()
    handle = await button.element_handle()
    await button.click()
    pressed = page.locator(".msg.customer", has_text=title)
    await pressed.first.wait_for()
    await page.locator(".msg.bot").nth(2).wait_for(timeout=BOT_TIMEOUT_MS)
    assert await pressed.count() == 1
    assert await handle.is_disabled()

    # Markup typed by a customer is shown as text, never run.
    attack = '<img src=x onerror="window.__xss=1">'
    await send(page, attack)
    shown = page.locator(".msg.customer", has_text="<img src=x")
    await shown.wait_for()
    assert await page.locator("baton-chat img").count() == 0
    assert await page.evaluate("window.__xss") is None
    await page.screenshot(path=artifact("widget-xss-as-text.png"))

    # A reload keeps the conversation; nothing is shown twice.
    await page.reload()
    await page.click("button.launcher")
    mine = page.locator(".msg.customer", has_text="I forgot my password")
    await mine.first.wait_for()
    await page.wait_for_timeout(1500)
    assert await mine.count() == 1
    assert await page.locator(".msg.customer", has_text="<img src=x").count() == 1
    await page.screenshot(path=artifact("widget-after-reload.png"))
    assert csp_errors == []


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_keyboard_only_open_send_and_close(stack, page) -> None:
    await page.goto(stack.url)
    focused_launcher = (
        "() => document.activeElement?.tagName === 'BATON-CHAT' && "
        "document.activeElement.shadowRoot.activeElement?.classList"
        ".contains('launcher')"
    )
    for _ in range(60):  # Tab through the page's links to the launcher
        await page.keyboard.press("Tab")
        if await page.evaluate(focused_launcher):
            break
    else:
        pytest.fail("the launcher cannot be reached with Tab")
    await page.keyboard.press("Enter")
    active = "() => document.activeElement.shadowRoot.activeElement?.id"
    assert await page.evaluate(active) == "in"  # focus moved to the message box
    await page.keyboard.type("Hello, I have a question about my plan")
    await page.keyboard.press("Enter")
    await page.locator(".msg.customer", has_text="question about my plan").wait_for()
    await page.locator(".msg.bot").nth(1).wait_for(timeout=BOT_TIMEOUT_MS)
    live = page.locator(".log")
    assert await live.get_attribute("aria-live") == "polite"
    await page.screenshot(path=artifact("widget-keyboard.png"))
    await page.keyboard.press("Escape")
    assert await page.locator(".panel").is_hidden()
    assert await page.evaluate(focused_launcher)


def hub_pid(supervisor: int) -> int:
    """The ``python -m bot serve`` child of the stack's supervisor."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == supervisor and b"serve" in cmdline:
            return int(entry.name)
    raise AssertionError("the stack has no hub process")


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_a_message_sent_while_the_hub_restarts_arrives_once(stack, page) -> None:
    await page.goto(stack.url)
    await page.click("button.launcher")
    await send(page, "hello")
    await page.locator(".msg.bot").nth(1).wait_for(timeout=BOT_TIMEOUT_MS)

    old_hub = hub_pid(stack.pid)
    os.kill(old_hub, signal.SIGKILL)
    # Typed at once: the socket may still look open, so the frame can vanish
    # with the hub; the widget keeps it queued and resends it on reconnect.
    await send(page, "are you still there?")
    pending = page.locator(".msg.customer.pending", has_text="still there")
    await pending.wait_for()
    await page.screenshot(path=artifact("widget-hub-down.png"))
    # The supervisor restarts the hub; the widget reconnects with after=SEQ.
    await page.locator(".msg.customer:not(.pending)", has_text="still there").wait_for(
        timeout=BOT_TIMEOUT_MS
    )
    assert hub_pid(stack.pid) != old_hub
    await page.locator(".msg.bot").nth(2).wait_for(timeout=BOT_TIMEOUT_MS)
    conversation = await conversation_of(page)
    stored = await history(stack, conversation)
    texts = [m["text"] for m in stored["messages"] if m["role"] == "customer"]
    assert texts.count("are you still there?") == 1
    assert await page.locator(".msg.customer", has_text="still there").count() == 1
    # Reloading now shows each message once as well.
    await page.reload()
    await page.click("button.launcher")
    await page.locator(".msg.customer", has_text="still there").wait_for()
    await page.wait_for_timeout(1000)
    assert await page.locator(".msg.customer", has_text="still there").count() == 1
    await page.screenshot(path=artifact("widget-after-hub-restart.png"))


class Agent:
    """A signed-in console session, over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(
            method,
            f"{self.url}{path}",
            json=body,
            headers={"X-CSRF-Token": self.csrf, "Origin": self.url},
        ) as response:
            answer = await response.json()
            assert response.status < 300, answer
            return answer

    async def login(self, email: str) -> None:
        answer = await self.call(
            "POST", "/api/auth/login", {"email": email, "password": AGENT_PASSWORD}
        )
        self.csrf = answer["csrf_token"]


def create_agent(stack: Any, email: str, name: str) -> None:
    env = {**stack_settings(stack), "BATON_NEW_AGENT_PASSWORD": AGENT_PASSWORD}
    create_account(env, email, name)


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_nobody_online_one_notice_in_the_customers_time(stack, browser) -> None:
    """One true notice when nobody can join, its time in the customer's zone
    and language, as in the status line (before any agent exists here)."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 860},
        locale="de-DE",
        timezone_id="Asia/Tokyo",
    )
    page = await context.new_page()
    try:
        await page.goto(stack.url)
        await page.click("button.launcher")
        await send(page, "I want to talk to a person")
        notice = page.locator(".msg.system", has_text="Nobody from our team")
        await notice.wait_for(timeout=BOT_TIMEOUT_MS)
        status = page.locator(".status", has_text="get back to you by")
        await status.wait_for()
        await page.screenshot(path=artifact("widget-follow-up-notice.png"))
        said = await page.locator(".msg.bot, .msg.system").all_inner_texts()
        assert not [text for text in said if "bringing in a person" in text]
        due_at = (await history(stack, await conversation_of(page)))["status"]
        due = dt.datetime.fromisoformat(due_at["due_at"])
        local = due.astimezone(ZoneInfo("Asia/Tokyo"))
        shown = f"{local.hour}:{local.minute:02d}"  # German: 24 hours
        text, line = await notice.inner_text(), await status.inner_text()
        assert shown in text and shown in line, (text, line)
        assert "UTC" not in text
        when = line.split("get back to you by ", 1)[1]
        assert when in text  # one format in both
    finally:
        await context.close()


DANGER_NOTE = (
    "a friend posted in our shared notebook that she plans to end her life tonight"
)
NOTICE_STYLE = """(el) => {
  const s = getComputedStyle(el);
  return {size: parseFloat(s.fontSize), align: s.textAlign, border: s.borderLeftWidth};
}"""


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_someone_in_danger_with_nobody_online_sees_where_to_get_help(
    stack, page, phone
) -> None:
    """Nobody online (no agent exists yet): the crisis notice is a card that
    stands out (left-aligned, readable, a warning border), said at once
    (role=alert), its emergency and crisis numbers tap-to-call links and the
    directory of crisis lines a safe link; the chat waits in the queue and
    leaving it is not offered. The emergency number is in the card only,
    not in the bot's turn before it too. Redrawn after a reload, it is not
    said again."""
    for viewport, view in (("desktop", page), ("phone", phone)):
        await view.goto(stack.url)
        await view.click("button.launcher")
        await send(view, DANGER_NOTE)
        notice = view.locator(".msg.notice.danger")
        await notice.wait_for(timeout=BOT_TIMEOUT_MS)
        await view.locator(".status", has_text="in line").wait_for()
        await view.wait_for_timeout(500)
        await view.screenshot(path=artifact(f"widget-danger-{viewport}.png"))
        # Read from its title, even though the status line that came after it
        # left the transcript too short for all of it on a desktop.
        assert await in_view(view, ".msg.notice .notice-title")
        assert await notice.get_attribute("role") == "alert"
        assert "don't wait for us" in await notice.inner_text()
        # Said once, in the card: the bot's own turn only says sorry.
        transcript = await view.locator(".log").inner_text()
        assert transcript.count("emergency number") == 1, transcript
        style = await notice.evaluate(NOTICE_STYLE)
        assert style["size"] >= 15 and style["align"] == "left", style
        assert float(style["border"].removesuffix("px")) >= 4, style
        calls = notice.locator("a[href^='tel:']")
        assert await calls.evaluate_all("as => as.map((a) => a.href)") == [
            "tel:112",
            "tel:911",
            "tel:988",
            "tel:116123",
        ]
        assert await calls.first.get_attribute("aria-label") == "Call 112"
        site = notice.locator("a[href^='https:']")
        assert await site.get_attribute("href") == "https://findahelpline.com"
        assert await site.get_attribute("target") == "_blank"
        assert "noopener" in (await site.get_attribute("rel") or "")
        assert await view.locator("button.leave").is_hidden()
        assert await serious_accessibility_problems(view) == []
    await page.reload()
    await page.click("button.launcher")
    redrawn = page.locator(".msg.notice.danger")
    await redrawn.wait_for()
    assert await redrawn.get_attribute("role") is None
    assert await redrawn.locator("a[href='tel:112']").count() == 1

    # A person reads both, first in the queue, and closes them (the later
    # tests of this module start from an empty queue).
    create_agent(stack, "dina@example.com", "Dina")
    agent = Agent(stack.url)
    try:
        await agent.login("dina@example.com")
        queue = (await agent.call("GET", "/api/queue"))["queue"]
        assert [h["reason"] for h in queue][:2] == ["danger", "danger"]
        assert "danger" not in [h["reason"] for h in queue[2:]]
        for handoff in queue[:2]:
            await agent.call("POST", f"/api/handoffs/{handoff['id']}/claim")
            await agent.call(
                "POST", f"/api/handoffs/{handoff['id']}/resolve", {"outcome": "solved"}
            )
    finally:
        await agent.session.close()


#: Every number and site of the "Help right now" card, as the widget links them.
CRISIS_LINKS = [
    "tel:112",
    "tel:911",
    "tel:988",
    "tel:116123",
    "https://findahelpline.com/",
]


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_someone_in_danger_in_support_hours_gets_crisis_lines_too(
    stack, page, phone
) -> None:
    """An agent online: the card says a person joins, and gives the crisis
    lines to tap as well as the emergency number (it gave 112 and 911 only,
    while a person who wants to end their life needs a crisis line more than
    a support agent). The emergency number is said once."""
    create_agent(stack, "erin@example.com", "Erin")
    agent = Agent(stack.url)
    try:
        await agent.login("erin@example.com")
        await agent.call("POST", "/api/auth/presence", {"presence": "online"})
        for viewport, view in (("desktop", page), ("phone", phone)):
            await view.goto(stack.url)
            await view.click("button.launcher")
            await send(view, DANGER_NOTE)
            notice = view.locator(".msg.notice.danger")
            await notice.wait_for(timeout=BOT_TIMEOUT_MS)
            await view.locator(".status", has_text="in line").wait_for()
            await view.wait_for_timeout(500)
            await view.screenshot(path=artifact(f"widget-danger-hours-{viewport}.png"))
            text = await notice.inner_text()
            assert "bringing in a person" in text and "findahelpline" in text
            transcript = await view.locator(".log").inner_text()
            assert transcript.count("emergency number") == 1, transcript
            links = notice.locator("a")
            hrefs = await links.evaluate_all("as => as.map((a) => a.href)")
            assert hrefs == CRISIS_LINKS, hrefs
            assert await in_view(view, ".msg.notice .notice-title")
        queue = (await agent.call("GET", "/api/queue"))["queue"]
        for handoff in [h for h in queue if h["reason"] == "danger"]:
            await agent.call("POST", f"/api/handoffs/{handoff['id']}/claim")
            await agent.call(
                "POST", f"/api/handoffs/{handoff['id']}/resolve", {"outcome": "solved"}
            )
        await agent.call("POST", "/api/auth/presence", {"presence": "offline"})
    finally:
        await agent.session.close()


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_handoff_agent_rating_and_recap(stack, page) -> None:
    create_agent(stack, "ann@example.com", "Ann")
    agent = Agent(stack.url)
    try:
        await agent.login("ann@example.com")
        await agent.call("POST", "/api/auth/presence", {"presence": "online"})

        await page.goto(stack.url)
        await page.click("button.launcher")
        await send(page, "I want to talk to a person")
        status = page.locator(".status")
        await status.filter(has_text="in line").wait_for(timeout=BOT_TIMEOUT_MS)
        line = await status.inner_text()
        assert "number 1" in line
        # Without an estimate the line says so rather than leaving it out.
        assert "minute" in line or "can't estimate the wait" in line
        await page.screenshot(path=artifact("widget-queued.png"))

        conversation = await conversation_of(page)
        queue = await agent.call("GET", "/api/queue")
        (handoff,) = [
            h
            for h in queue["queue"]
            if h["conversation_id"] == conversation["conversation_id"]
        ]
        await agent.call("POST", f"/api/handoffs/{handoff['id']}/claim")
        await status.filter(has_text="Ann from support joined").wait_for()
        await agent.call(
            "POST",
            f"/api/conversations/{conversation['conversation_id']}/messages",
            {"text": "Hi, I'm Ann. See https://lumen.example/help <b>now</b>"},
        )
        reply = page.locator(".msg.agent", has_text="I'm Ann")
        await reply.wait_for()
        assert await reply.locator(".who").inner_text() == "Ann"
        assert await reply.locator(".av").inner_text() == "A"  # unlike the bot's
        assert await reply.locator("time.at").get_attribute("datetime")
        link = reply.locator("a")
        assert await link.get_attribute("href") == "https://lumen.example/help"
        assert await link.get_attribute("rel") == "noopener noreferrer nofollow"
        assert await reply.locator("b").count() == 0
        await page.screenshot(path=artifact("widget-agent-joined.png"))

        # The agent sends tall answers: a customer at the end follows them.
        path = f"/api/conversations/{conversation['conversation_id']}/messages"
        steps = "\n".join(f"{n}. Step {n} of the fix" for n in range(1, 9))
        for n in range(3):
            await agent.call("POST", path, {"text": f"Answer {n}:\n{steps}"})
            await page.locator(".msg.agent", has_text=f"Answer {n}:").wait_for()
            assert await in_view(page, ".msg")
        assert await page.locator(".pill").is_hidden()
        # Scrolled up to reread: the next one does not pull them down, a
        # pill says it came, and the pill brings them to it.
        await page.locator(".log").evaluate("e => { e.scrollTop = 0; }")
        await agent.call("POST", path, {"text": "One more thing to check"})
        await page.locator(".msg.agent", has_text="One more thing").wait_for()
        pill = page.locator(".pill")
        await pill.wait_for()
        assert not await in_view(page, ".msg")
        await page.screenshot(path=artifact("widget-new-messages-pill.png"))
        await pill.click()
        assert await in_view(page, ".msg")
        assert await pill.is_hidden()

        await agent.call(
            "POST", f"/api/handoffs/{handoff['id']}/resolve", {"outcome": "solved"}
        )
        await page.locator(".star").nth(3).wait_for()
        # The whole panel shows, down to the recap's button, with nothing to
        # scroll inside it (held to 45 % of the widget, it cut that in half).
        assert await page.locator(".rate").evaluate(
            "(el) => el.scrollHeight <= el.clientHeight"
        )
        await page.locator(".star").nth(3).click()
        await page.fill("textarea#comment", "Ann was quick")
        await page.click("text=Send rating")
        # Once sent, the panel gives the transcript its room back.
        await status.filter(has_text="Thanks for your feedback").wait_for()
        await page.locator(".rate").wait_for(state="hidden")
        await page.click("button.end")
        await page.locator("input#recap-email").wait_for()
        assert await page.locator(".rate .star").count() == 0 or not (
            await page.locator(".rate .star").first.is_visible()
        )

        await page.fill("input#recap-email", "not an email")
        await page.click("text=Send recap")
        await page.locator(".rate", has_text="valid e-mail").wait_for()
        await page.fill("input#recap-email", "ada@example.com")
        await page.click("text=Send recap")
        await page.locator(
            ".rate", has_text="Recap sent to a***@example.com"
        ).wait_for()
        await page.screenshot(path=artifact("widget-rated-recap.png"))

        # Written to after the end: the bot takes the chat back, says so,
        # and answers; the closing panel steps aside.
        await send(page, "I forgot my password")
        await page.locator(".msg.system", has_text="This chat was closed").wait_for(
            timeout=BOT_TIMEOUT_MS
        )
        answer = page.locator(".msg.bot", has_text="password")
        await answer.last.wait_for(timeout=BOT_TIMEOUT_MS)
        await page.locator(".rate").wait_for(state="hidden")
        assert await in_view(page, ".msg")
        await page.screenshot(path=artifact("widget-reopened.png"))

        outbox = await agent.call(
            "GET", f"/api/outbox?conversation_id={conversation['conversation_id']}"
        )
        (mail,) = outbox["mails"]
        assert mail["status"] == "kept" and mail["recipient"] == "ada@example.com"
        assert "I want to talk to a person" in mail["body"]
        assert "I'm Ann" in mail["body"]
    finally:
        await agent.session.close()


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_widget_embedded_on_another_site_with_its_own_styles(stack, page) -> None:
    """One script tag on a foreign page: the hub URL comes from the script's
    src, data-* attributes configure it, and the page's CSS does not leak in."""
    html = f"""<!doctype html><html><head><style>
      * {{ color: rgb(255, 0, 0) !important; font-size: 40px !important; }}
      button {{ display: none !important; }}
    </style></head><body><p>Another shop</p>
    <script src="{stack.url}/widget.js" data-title="Shop help"
      data-color="#0f766e" data-position="left" data-greeting="Welcome to the shop"
      data-strings='{{"send": "Go"}}'></script></body></html>"""

    async def shop_page(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    # The shop is a real server on another port: another origin, on loopback
    # as Chromium lets only local pages load from loopback addresses.
    app = web.Application()
    app.router.add_get("/", shop_page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await page.goto(f"http://127.0.0.1:{port}/")
        await check_foreign_embedding(page)
    finally:
        await runner.cleanup()


async def check_foreign_embedding(page: Any) -> None:
    launcher = page.locator("button.launcher")
    await launcher.wait_for()
    box = await launcher.bounding_box()
    assert box is not None and box["x"] < 100  # data-position="left"
    await launcher.click()
    assert await page.locator(".panel h2").inner_text() == "Shop help"
    assert await page.locator("button.send").inner_text() == "Go"
    greeting = page.locator(".msg.bot", has_text="Welcome to the shop")
    colour = await greeting.evaluate("e => getComputedStyle(e).color")
    assert colour != "rgb(255, 0, 0)"
    # This origin is not in BATON_ALLOWED_ORIGINS: the hub refuses to start a
    # conversation, so the message stays queued in the widget, not lost.
    await send(page, "hi")
    await page.locator(".msg.customer.pending", has_text="hi").wait_for()
    await page.locator(".note", has_text="reconnecting").wait_for()
    await page.screenshot(path=artifact("widget-foreign-site.png"))


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_tall_answer_in_view_on_a_phone(stack, phone) -> None:
    page = phone
    await page.goto(stack.url)
    await page.click("button.launcher")
    panel = page.locator(".panel")
    await panel.evaluate("e => Promise.all(e.getAnimations().map(a => a.finished))")
    # Nothing to rate before anyone answered.
    assert await page.locator("button.end").is_hidden()
    await page.screenshot(path=artifact("widget-phone-open.png"))
    assert await in_view(page, ".msg.bot")  # the greeting, whole
    assert await serious_accessibility_problems(page) == []
    await send(page, "I forgot my password")
    buttons = page.locator(".replies button:not([disabled])")
    await buttons.first.wait_for(timeout=BOT_TIMEOUT_MS)
    await page.wait_for_timeout(500)  # the rest of the answer's frames
    assert await in_view(page, ".replies")
    assert await in_view(page, ".msg")
    await page.screenshot(path=artifact("widget-phone-tall-answer.png"))

    # Tap targets of at least 44 px: quick replies and the header's buttons.
    for target in [
        *await buttons.all(),
        page.locator("button.x"),
        page.locator("button.end"),
    ]:
        box = await target.bounding_box()
        assert box is not None and box["height"] >= 44, await target.inner_text()
    # Every answered message carries its time, in the browser's locale.
    mine = page.locator(".msg.customer", has_text="I forgot my password")
    stamp = mine.locator("time.at")
    assert await stamp.get_attribute("datetime")
    assert await mine.get_attribute("title")
    assert await page.locator(".msg.bot time.at").count() >= 1
    shown = await page.locator("time.at:not(.quiet)").count()
    assert shown >= 1

    await page.click("button.end")
    rate = await page.locator(".rate").bounding_box()
    log = await page.locator(".log").bounding_box()
    assert rate is not None and log is not None and log["height"] >= rate["height"]
    await page.screenshot(path=artifact("widget-phone-rate-panel.png"))

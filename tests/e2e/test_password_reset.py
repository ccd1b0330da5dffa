"""Self-service password reset on the real stack (issue #16).

The trained model, the action server and the hub, with the built-in account
provider and mail to a real aiosmtpd server: a customer who forgot the
password gets the article first, presses "Reset it for me", gives the
e-mail, types the mailed code, says yes to the sentence naming the change,
and sets a new password on the hub's reset page that then signs in. Three
wrong codes hand the chat to a person whose card shows how far the flow got;
a "no" at the consent changes nothing; a client address over its limit of
codes is refused with a way out (a person), and the card shows the refusal.
The chat part also runs in headless Chromium (the widget shows the e-mail
and code masked once the hub has them, and never stores them); its
screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
import websockets
from aiosmtpd.controller import Controller

from bench.accounts.flow import choose_new_password
from bot.db.models import AccountCode, CustomerAccount
from tests.bot.conftest import Inbox
from tests.conftest import free_port
from tests.e2e.conftest import Stack, artifact, ensure_model, started
from tests.e2e.helpers import (
    DEMO_PASSWORD,
    Console,
    handoffs_of,
    stack_rows,
)
from tests.e2e.test_stack import connect, is_bot, start
from tests.hub import drain, receive_until

customer_accounts = CustomerAccount.__table__

pytestmark = pytest.mark.stack

CODE = re.compile(r"\b(\d{6})\b")
NEW_PASSWORD = "correct horse 42 battery"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server for the stack's mail; what it received."""
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield received, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def stack(inbox: tuple[Inbox, int], tmp_path_factory: Any) -> Iterator[Stack]:
    """The stack with the built-in account provider, mail to ``inbox``."""
    ensure_model()
    env = {
        "BATON_ACCOUNTS": "builtin",
        "BATON_SECRET_KEY": secrets.token_hex(24),
        "BATON_SMTP_HOST": "127.0.0.1",
        "BATON_SMTP_PORT": str(inbox[1]),
        "BATON_SMTP_SECURITY": "none",
    }
    yield from started(env, tmp_path_factory.mktemp("stack-reset"), "embedded")


class Chat:
    """A customer in the widget's place, on the conversation's WebSocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.sent = 0

    async def _send(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        self.sent += 1
        await self.ws.send(json.dumps({**frame, "client_id": f"m-{self.sent}"}))
        frames = await receive_until(
            self.ws, lambda f: is_bot(f) or f.get("type") == "status", timeout=60
        )
        return frames + await drain(self.ws, quiet_s=1.5)

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self._send({"type": "message", "text": text})

    async def press(
        self, frames: list[dict[str, Any]], title: str
    ) -> list[dict[str, Any]]:
        [button] = [
            b for f in frames if is_bot(f) for b in f["buttons"] if b["title"] == title
        ]
        return await self._send({"type": "button", "payload": button["payload"]})


@pytest.fixture
async def chat(stack: Stack) -> AsyncIterator[Chat]:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await drain(ws, quiet_s=0.5)
        current = Chat(ws)
        current.conversation_id = conversation_id  # type: ignore[attr-defined]
        yield current


def bot_text(frames: list[dict[str, Any]]) -> str:
    return " ".join(f["text"] for f in frames if is_bot(f))


def handed_over(frames: list[dict[str, Any]]) -> bool:
    return any(
        f.get("type") == "status" and f.get("state") in {"queued", "follow_up"}
        for f in frames
    )


async def mail_to(inbox: tuple[Inbox, int], email: str, count: int) -> str:
    """The body of the ``count``-th mail to ``email`` (waits for it)."""
    for _ in range(100):
        mails = [m for to, m in inbox[0].mails if email in to]
        if len(mails) >= count:
            return str(mails[count - 1].get_payload(decode=True), "utf-8")
        await asyncio.sleep(0.1)
    raise AssertionError(f"no mail #{count} to {email}")


def mails_to(inbox: tuple[Inbox, int], email: str) -> int:
    return sum(email in to for to, _ in inbox[0].mails)


async def new_customer(stack: Stack, **flags: bool) -> str:
    """A customer account on the stack's database; its e-mail."""
    from bot.accounts import BuiltinAccounts
    from bot.config import Smtp
    from bot.db.engine import create_engine
    from bot.mail import Mailer, OutboxRepository

    email = f"pat.{secrets.token_hex(4)}@example.com"
    engine = create_engine(stack.database_url)
    try:
        provider = BuiltinAccounts(engine, Mailer(OutboxRepository(engine), Smtp()), "")
        await provider.create_account(email, "Pat", DEMO_PASSWORD, **flags)
    finally:
        await engine.dispose()
    return email


def account_row(stack: Stack, email: str) -> tuple[Any, ...]:
    [row] = stack_rows(
        stack, sa.select(customer_accounts).where(customer_accounts.c.email == email)
    )
    return tuple(row)


async def up_to_the_code(
    chat: Chat, inbox: tuple[Inbox, int], email: str
) -> tuple[list[dict[str, Any]], str]:
    """Ask, get the article and the offer, take it, give the e-mail."""
    frames = await chat.say("I forgot my password and can't log in")
    answer = [f for f in frames if is_bot(f) and f["meta"].get("article")]
    assert answer and answer[0]["meta"]["article"] == "password-reset", frames
    frames = await chat.press(frames, "Reset it for me")
    # The question alone: nothing about an e-mail or a code not yet typed.
    [asked] = [f["text"] for f in frames if is_bot(f)]
    assert asked.startswith("Sure. What's the e-mail address"), frames
    frames = await chat.say(email)
    said = bot_text(frames)
    assert "If p•••@example.com belongs to a Lumen account" in said, frames
    assert "6-digit code" in said
    # The e-mail is kept and echoed masked; Rasa had it in clear, once.
    assert customer_echo(frames) == "p•••@example.com", frames
    code = CODE.search(await mail_to(inbox, email, 1))
    assert code is not None
    return frames, code.group(1)


def customer_echo(frames: list[dict[str, Any]]) -> str:
    """The customer's last message as the hub stored and echoed it."""
    said = [f["text"] for f in frames if f.get("role") == "customer"]
    assert said, frames
    return str(said[-1])


def tracker_events(stack: Stack, conversation_id: str) -> str:
    """Every event Rasa's tracker store keeps of the conversation, as text."""
    engine = sa.create_engine(f"sqlite:///{stack.data_dir / 'rasa-tracker.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :id"),
                {"id": conversation_id},
            ).all()
    finally:
        engine.dispose()
    # Stored as ASCII-escaped JSON: read back, so "•" reads as itself.
    return "\n".join(
        json.dumps(json.loads(row.data), ensure_ascii=False) for row in rows
    )


def code_addresses(stack: Stack, conversation_id: str) -> list[str | None]:
    """The client address each code of the conversation was asked from."""
    codes = AccountCode.__table__
    rows = stack_rows(
        stack,
        sa.select(codes.c.client_address).where(
            codes.c.conversation_id == conversation_id
        ),
    )
    return [row.client_address for row in rows]


async def test_forgot_password_to_a_new_password_that_signs_in(
    stack: Stack, chat: Chat, inbox: tuple[Inbox, int]
) -> None:
    email = await new_customer(stack, locked=True)
    frames, code = await up_to_the_code(chat, inbox, email)
    frames = await chat.say(code)
    assert bot_text(frames).endswith(
        "I'll unlock your account, send a reset link to p•••@example.com and sign "
        "you out of your other devices — OK?"
    ), frames
    frames = await chat.press(frames, "Yes, go ahead")
    assert "Done: I've unlocked your account, sent a reset link" in bot_text(frames)
    # Rasa itself only ever had them masked: not in its tracker store.
    events = tracker_events(stack, chat.conversation_id)  # type: ignore[attr-defined]
    assert "p•••@example.com" in events and "••••••" in events
    assert email not in events and f'"{code}"' not in events
    link = re.search(
        r"http://\S+/account/reset\?token=[\w-]+", await mail_to(inbox, email, 2)
    )
    assert link is not None
    async with aiohttp.ClientSession() as session:
        await choose_new_password(session, stack.url, link.group(0), NEW_PASSWORD)
        for password, status in ((NEW_PASSWORD, 200), (DEMO_PASSWORD, 401)):
            async with session.post(
                f"{stack.url}/api/account/sign-in",
                json={"email": email, "password": password},
            ) as response:
                assert response.status == status


async def test_three_wrong_codes_hand_over_with_the_progress_on_the_card(
    stack: Stack, chat: Chat, inbox: tuple[Inbox, int], console: Console
) -> None:
    email = await new_customer(stack)
    _, code = await up_to_the_code(chat, inbox, email)
    wrong = "000000" if code != "000000" else "111111"
    assert "2 more tries" in bot_text(await chat.say(wrong))
    assert "1 more try" in bot_text(await chat.say(wrong))
    frames = await chat.say(wrong)
    assert handed_over(frames), frames
    assert customer_echo(frames) == "••••••"
    [(handoff_id, reason, _)] = handoffs_of(stack, chat.conversation_id)  # type: ignore[attr-defined]
    assert reason == "sensitive"
    status, card = await console.call("GET", f"/api/handoffs/{handoff_id}")
    assert status == 200, card
    assert card["reason"] == "sensitive"
    progress = card["slots"]["account_progress"]
    assert "code sent to p•••@example.com" in progress
    assert "three wrong codes: handed to a person" in progress
    # Nowhere on the card in clear: not the slots, transcript, turns or entities.
    shown = json.dumps(card, ensure_ascii=False)
    assert email not in shown and code not in shown and wrong not in shown
    assert [t["text"] for t in card["turns"]][-4:] == ["p•••@example.com"] + [
        "••••••"
    ] * 3
    # The reset desk's audit entries, as the agent sees them.
    assert [step["action"] for step in card["account_steps"]] == [
        "account.code_requested",
        *["account.code_wrong"] * 3,
    ]
    assert card["account_steps"][-1]["text"] == "Wrong code typed (0 tries left)"
    # The hub's client address reached the desk through Rasa and the action.
    assert code_addresses(stack, chat.conversation_id) == ["127.0.0.1"]  # type: ignore[attr-defined]
    # The account is as it was.
    assert mails_to(inbox, email) == 1


async def test_no_at_consent_changes_nothing(
    stack: Stack, chat: Chat, inbox: tuple[Inbox, int]
) -> None:
    email = await new_customer(stack)
    before = account_row(stack, email)
    _, code = await up_to_the_code(chat, inbox, email)
    frames = await chat.say(code)
    assert "— OK?" in bot_text(frames)
    frames = await chat.press(frames, "No")
    assert "I haven't changed anything" in bot_text(frames)
    assert account_row(stack, email) == before
    await asyncio.sleep(1)
    assert mails_to(inbox, email) == 1


async def test_an_unknown_email_gets_the_same_words_and_no_mail(
    stack: Stack, chat: Chat, inbox: tuple[Inbox, int]
) -> None:
    email = f"pat.{secrets.token_hex(4)}@example.com"
    frames = await chat.say("I forgot my password and can't log in")
    frames = await chat.press(frames, "Reset it for me")
    frames = await chat.say(email)
    assert "If p•••@example.com belongs to a Lumen account" in bot_text(frames)
    await asyncio.sleep(1)
    assert mails_to(inbox, email) == 0


async def test_talk_to_a_person_mid_form_hands_over(
    stack: Stack, chat: Chat, inbox: tuple[Inbox, int]
) -> None:
    email = await new_customer(stack)
    frames, _ = await up_to_the_code(chat, inbox, email)
    frames = await chat.press(frames, "Talk to a person")
    assert handed_over(frames), frames


WIDGET = "document.querySelector('baton-chat').shadowRoot"
#: Types into the widget and presses Enter, then reads the widget's storage
#: in the same task: before any answer from the hub can have arrived.
SEND_AND_READ_STORAGE = f"""(text) => {{
  const input = {WIDGET}.querySelector('#in');
  input.value = text;
  input.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true }}));
  return JSON.stringify(Object.entries(localStorage));
}}"""
STORAGE = "() => JSON.stringify(Object.entries(localStorage))"


async def widget_send(page: Any, text: str) -> str:
    """Send ``text`` as the customer; the widget's storage right after."""
    return str(await page.evaluate(SEND_AND_READ_STORAGE, text))


def outbox_in(storage: str) -> list[dict[str, Any]]:
    """The widget's outbox (sends not yet echoed) in a dump of its storage."""
    [raw] = [value for key, value in json.loads(storage) if key.endswith(":outbox")]
    return list(json.loads(raw))


@pytest.mark.browser
async def test_the_widget_shows_the_code_masked_and_never_stores_it(
    stack: Stack, inbox: tuple[Inbox, int], browser: Any
) -> None:
    """The chat part in a real browser, to a new password set on the page."""
    email = await new_customer(stack)
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        await page.goto(stack.url)
        await page.click("button.launcher")
        bot = page.locator(".msg.bot")
        customer = page.locator(".msg.customer")
        await widget_send(page, "I forgot my password")
        offer = page.locator(".replies button:not([disabled])", has_text="Reset it")
        await offer.wait_for(timeout=60_000)
        await offer.click()
        await bot.filter(has_text="What's the e-mail address").wait_for(timeout=60_000)

        stored = await widget_send(page, email)
        # Queued for sending, but kept out of storage: in line, without text.
        assert email not in stored, stored
        [queued] = outbox_in(stored)
        assert queued["secret"] is True and "text" not in queued, queued
        await bot.filter(has_text="type the 6-digit code").wait_for(timeout=60_000)
        # Once the hub has it, shown as the hub stored it.
        await customer.filter(has_text="p•••@example.com").wait_for()
        found = CODE.search(await mail_to(inbox, email, 1))
        assert found is not None
        code = found.group(1)

        stored = await widget_send(page, code)
        assert code not in stored, stored
        [queued] = outbox_in(stored)
        assert queued["secret"] is True and "text" not in queued, queued
        consent = bot.filter(has_text="— OK?")
        await consent.wait_for(timeout=60_000)
        await customer.filter(has_text="••••••").wait_for()
        shown = await customer.all_inner_texts()
        assert not [t for t in shown if email in t or code in t], shown
        assert code not in await page.evaluate(STORAGE)
        await page.screenshot(path=artifact("reset-chat-code-desktop.png"))
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.screenshot(path=artifact("reset-chat-code-phone.png"))
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390

        await widget_send(page, "yes")
        await bot.filter(has_text="Done: I've").wait_for(timeout=60_000)
        await page.screenshot(path=artifact("reset-chat-done-phone.png"))

        # After a reload, the transcript (from storage) still has them masked.
        await page.set_viewport_size({"width": 1280, "height": 860})
        await page.reload()
        await page.click("button.launcher")
        await customer.filter(has_text="••••••").wait_for()
        await page.screenshot(
            path=artifact("reset-chat-reloaded-desktop.png"), animations="disabled"
        )
        shown = await customer.all_inner_texts()
        assert not [t for t in shown if email in t or code in t], shown
        storage = await page.evaluate(STORAGE)
        assert email not in storage and code not in storage

        link = re.search(
            r"http://\S+/account/reset\?token=[\w-]+", await mail_to(inbox, email, 2)
        )
        assert link is not None
        await page.goto(link.group(0))
        await page.fill("#password", NEW_PASSWORD)
        await page.fill("#confirm", NEW_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=Your password is changed")
    finally:
        await context.close()
    assert problems == []
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{stack.url}/api/account/sign-in",
            json={"email": email, "password": NEW_PASSWORD},
        ) as response:
            assert response.status == 200


async def test_the_per_address_limit_refuses_a_code_with_a_way_out(
    stack: Stack, inbox: tuple[Inbox, int], console: Console
) -> None:
    """Another address's customer (127.0.0.2) has asked for every code it may."""
    from bot.accounts import BuiltinAccounts, ResetDesk
    from bot.config import Accounts, Smtp
    from bot.db.engine import create_engine
    from bot.mail import Mailer, OutboxRepository

    address, policy = "127.0.0.2", Accounts(provider="builtin")
    engine = create_engine(stack.database_url)
    try:
        mailer = Mailer(OutboxRepository(engine), Smtp())
        desk = ResetDesk(
            BuiltinAccounts(engine, mailer, ""), engine, mailer, b"t" * 32, policy
        )
        for _ in range(policy.codes_per_address):
            conversation_id, _ = await start(stack)
            await desk.request_code(
                conversation_id,
                f"nobody.{secrets.token_hex(4)}@example.com",
                client_address=address,
            )
    finally:
        await engine.dispose()
    email = await new_customer(stack)
    conversation_id, token = await start(stack)
    async with websockets.connect(
        f"{stack.ws_url}/api/conversations/{conversation_id}/ws?token={token}",
        local_addr=(address, 0),
    ) as ws:
        await drain(ws, quiet_s=0.5)
        chat = Chat(ws)
        frames = await chat.say("I forgot my password and can't log in")
        frames = await chat.press(frames, "Reset it for me")
        frames = await chat.say(email)
        said = bot_text(frames)
        assert "I've sent several codes for your internet connection" in said, frames
        assert "A person from our support team can help you" in said
        frames = await chat.press(frames, "Talk to a person")
        assert handed_over(frames), frames
    await asyncio.sleep(1)
    assert mails_to(inbox, email) == 0
    [(handoff_id, _, _)] = handoffs_of(stack, conversation_id)
    status, card = await console.call("GET", f"/api/handoffs/{handoff_id}")
    assert status == 200, card
    [refused] = card["account_steps"]
    assert refused["action"] == "account.code_refused"
    assert refused["text"].startswith(
        "No code sent to p•••@example.com: too many asked for from this client "
        "address in the last hour"
    )

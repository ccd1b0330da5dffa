"""Recap e-mails: received by a real SMTP server, or kept in the outbox.

Rasa is not running in these tests, so a customer's message is handed to the
queue; the recap holds the transcript and what was done.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

import aiohttp
import pytest

from bot.auth.service import mask_email
from bot.config import Limits, Settings, Smtp
from bot.conversations.recap import build_recap
from bot.conversations.repository import ConversationRecord, MessageRecord
from bot.exceptions import BadRequest
from bot.mail import valid_email
from tests.conftest import free_port, shared_hub
from tests.hub import RunningHub, receive_until, running_hub

PASSWORD = "a long enough password"


# A hub in demo mode (no SMTP server configured), one per database for the
# module: each test recaps conversations of its own. The SMTP tests start hubs of
# their own.
hub = shared_hub(limits=Limits(conversations_per_ip_per_hour=1000))


async def chat(hub: RunningHub, text: str) -> tuple[str, str, Any]:
    """A conversation where the customer said ``text``; with Rasa down, the
    hub hands it on (to the queue, or a follow-up when nobody is online: the
    PostgreSQL database is shared with other tests, whose agents may be)."""
    conversation_id, token = await hub.new_conversation()
    async with hub.socket(conversation_id, token) as ws:
        await ws.send(json.dumps({"type": "message", "text": text}))
        await receive_until(ws, lambda f: f.get("state") in {"queued", "follow_up"})
    conversation = await hub.ctx.conversations.repository.get(conversation_id)
    return conversation_id, token, conversation


def browser_like_client() -> aiohttp.ClientSession:
    """A client that keeps cookies, also for a hub on an IP address."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def ask_recap(hub: RunningHub, conversation_id: str, token: str, email: Any):
    async with hub.socket(conversation_id, token) as ws:
        await ws.send(json.dumps({"type": "recap", "email": email}))
        frames = await receive_until(ws, lambda f: f["type"] in {"recap", "error"})
    return frames[-1]


async def test_recap_is_received_by_a_real_smtp_server(
    hub_settings: Settings, smtp_server
) -> None:
    controller, inbox = smtp_server
    settings = hub_settings.with_changes(
        smtp=Smtp(
            host="127.0.0.1",
            port=controller.port,
            security="none",
            sender="Lumen Support <help@lumen.example>",
        )
    )
    async with running_hub(settings) as hub:
        conversation_id, token, _ = await chat(hub, "my notes are not syncing")
        frame = await ask_recap(hub, conversation_id, token, "ada@example.com")
        assert frame == {
            "type": "recap",
            "status": "sent",
            "email": mask_email("ada@example.com"),
        }
        (stored,) = await hub.ctx.conversations.mailer.repository.recent()
    assert stored.status == "sent" and stored.sent_at is not None
    (recipients, mail) = inbox.mails[0]
    assert recipients == ["ada@example.com"] and len(inbox.mails) == 1
    assert mail["From"] == "Lumen Support <help@lumen.example>"
    assert "support conversation" in mail["Subject"]
    body = mail.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "You:\n  my notes are not syncing" in body
    # What was done: the bot was unavailable, the chat was handed on.
    assert "What was done" in body and "get back to you by" in body


async def test_a_failing_smtp_server_is_recorded_not_raised(hub_settings) -> None:
    settings = hub_settings.with_changes(
        smtp=Smtp(host="127.0.0.1", port=free_port(), security="none", timeout_s=2)
    )
    async with running_hub(settings) as hub:
        conversation_id, token, _ = await chat(hub, "hello")
        frame = await ask_recap(hub, conversation_id, token, "ada@example.com")
        (stored,) = await hub.ctx.conversations.mailer.repository.recent()
    assert frame["status"] == "failed"
    assert stored.status == "failed" and stored.error


async def test_demo_mode_keeps_mail_in_the_outbox_for_agents(hub) -> None:
    conversation_id, token, _ = await chat(hub, "I was charged twice")
    async with browser_like_client() as client:
        async with client.post(
            f"{hub.url}/api/conversations/{conversation_id}/recap",
            json={"email": "bob@example.com"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 202
            assert (await response.json())["status"] == "kept"
        async with client.get(f"{hub.url}/api/outbox") as response:
            assert response.status == 401
        # Its own address: the shared hub's PostgreSQL database is the whole
        # run's, and other modules' tests use ann@example.com.
        email = f"ann-{secrets.token_hex(4)}@example.com"
        await hub.ctx.auth.create_agent(email, "Ann", "agent", PASSWORD)
        async with client.post(
            f"{hub.url}/api/auth/login",
            json={"email": email, "password": PASSWORD},
        ) as response:
            assert response.status == 200
        async with client.get(
            f"{hub.url}/api/outbox?conversation_id={conversation_id}"
        ) as response:
            assert response.status == 200
            listing = await response.json()
    assert listing["demo_mode"] is True
    (mail,) = listing["mails"]
    assert mail["recipient"] == "bob@example.com" and mail["status"] == "kept"
    assert mail["conversation_id"] == conversation_id
    assert "I was charged twice" in mail["body"]


async def test_trainers_may_not_read_the_outbox(hub) -> None:
    await hub.ctx.auth.create_agent("tom@example.com", "Tom", "trainer", PASSWORD)
    async with browser_like_client() as client:
        await client.post(
            f"{hub.url}/api/auth/login",
            json={"email": "tom@example.com", "password": PASSWORD},
        )
        async with client.get(f"{hub.url}/api/outbox") as response:
            assert response.status == 403


@pytest.mark.parametrize(
    "email", ["", "not-an-email", "a@b", "x@example.com\r\nBcc: y@evil.example", 5]
)
async def test_bad_addresses_are_refused(hub, email) -> None:
    conversation_id, token, _ = await chat(hub, "hi")
    frame = await ask_recap(hub, conversation_id, token, email)
    assert (frame["type"], frame["code"]) == ("error", "bad_email")


async def test_an_empty_conversation_has_nothing_to_recap(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    frame = await ask_recap(hub, conversation_id, token, "ada@example.com")
    assert frame["code"] == "nothing_to_recap"


async def test_recaps_are_limited_per_conversation(hub) -> None:
    conversation_id, token, _ = await chat(hub, "hi")
    async with hub.socket(conversation_id, token) as ws:
        frames = []
        for _ in range(4):
            await ws.send(json.dumps({"type": "recap", "email": "ada@example.com"}))
            frames += await receive_until(ws, lambda f: f["type"] in {"recap", "error"})
    answers = [f for f in frames if f["type"] in {"recap", "error"}]
    assert [f["type"] for f in answers] == ["recap", "recap", "recap", "error"]
    assert answers[-1]["code"] == "too_many_recaps"


async def test_a_verified_customer_may_omit_the_address(hub) -> None:
    service = hub.ctx.conversations
    verified = await service.repository.create(
        "v" * 22,
        "not-a-real-token-hash",
        user_id="u1",
        user_email="ada@example.com",
        user_verified=True,
    )
    await service.post_customer_text(verified, "hi", "c1")
    mail = await service.request_recap(verified, None)
    assert mail.recipient == "ada@example.com" and mail.status == "kept"
    unverified = await service.repository.create(
        "w" * 22, "not-a-real-token-hash", user_email="eve@example.com"
    )
    await service.post_customer_text(unverified, "hi", "c1")
    with pytest.raises(BadRequest):
        await service.request_recap(unverified, None)


def test_recap_lists_article_steps_and_actions() -> None:
    now = dt.datetime(2026, 11, 25, 10, 2, tzinfo=dt.timezone.utc)
    conversation = ConversationRecord(
        "c" * 22, "h", "bot", 3, "en", None, None, None, None, False, now
    )
    messages = [
        MessageRecord(
            1,
            conversation.id,
            1,
            "customer",
            "I forgot my password",
            meta={"_nlu": {"actions": ["action_listen", "action_send_reset_link"]}},
            created_at=now,
        ),
        MessageRecord(
            2,
            conversation.id,
            2,
            "bot",
            "Here is how:\n1. Open the sign-in page\n2. Click the link",
            meta={"article": "password-reset"},
            created_at=now,
        ),
    ]
    recap = build_recap(conversation, messages)
    assert recap.subject.startswith("Your support conversation")
    assert 'help article "password reset"' in recap.body
    assert "  1. Open the sign-in page\n  2. Click the link" in recap.body
    assert "The assistant did: send reset link" in recap.body
    assert "action_listen" not in recap.body and "listen" not in recap.body


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("ada@example.com", True),
        ("a.b+c@mail.example.co.uk", True),
        ("ada@example", False),
        ("ada example@x.com", False),
        ("<a@x.com>", False),
        ("a@x.com\n", False),
        (None, False),
        ("x" * 65 + "@example.com", False),
    ],
)
def test_valid_email(value, ok) -> None:
    assert valid_email(value) is ok


def test_smtp_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "BATON_SMTP_HOST": "smtp.example.com",
            "BATON_SMTP_SECURITY": "tls",
            "BATON_SMTP_PASSWORD": "hunter2",
        }
    )
    assert settings.smtp.host == "smtp.example.com" and settings.smtp.port == 465
    assert "hunter2" not in repr(settings)

"""A customer who left is reached: asked for an address, mailed the answer once,
and back in the same conversation through the mail's link — on a served hub
with PostgreSQL, a real SMTP server and a clock the test moves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from bot.bus import AGENTS_CHANNEL
from bot.config import Settings
from bot.db.engine import create_engine
from bot.db.models import Conversation, utcnow
from bot.handoff.hours import SupportHours
from bot.handoff.service import HandoffPolicy
from bot.promises import sign_resume_link
from bot.promises.service import DANGER_STAYS_TEXT
from tests.bot.promises.conftest import Clock, add_agent, emptied, smtp_of
from tests.hub import RunningHub, running_hub

pytestmark = pytest.mark.postgres


@pytest.fixture
async def hub(
    hub_settings: Settings, promises_postgres_url: str, smtp_server: Any
) -> AsyncIterator[RunningHub]:
    """A hub on the promise tests' PostgreSQL database, outside support hours."""
    engine = create_engine(promises_postgres_url)
    await emptied(engine)
    await engine.dispose()
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    tomorrow = days[(utcnow() + dt.timedelta(days=1)).weekday()]
    settings = hub_settings.with_changes(
        database_url=promises_postgres_url,
        support_hours=f"{tomorrow} 09:00-17:00",
        smtp=smtp_of(smtp_server),
        secret_key="k" * 32,
        promises=replace(hub_settings.promises, interval_s=3600.0, lease_s=7200.0),
    )
    async with running_hub(settings) as running:
        # Rounds come from the tests (tick()), not from the hub's own loop:
        # its first round starts with the hub and, on a slow machine, asked
        # the customer before the test looked at the contact state.
        await running.app.ctx.promise_scheduler.stop()
        yield running


def part(mail: Any, content_type: str) -> str:
    [found] = [p for p in mail.walk() if p.get_content_type() == content_type]
    return str(found.get_payload(decode=True).decode(found.get_content_charset()))


async def call(method: str, url: str, **kwargs: Any) -> tuple[int, Any, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, **kwargs) as response:
            if response.content_type == "application/json":
                body: Any = await response.json()
            else:
                body = await response.text()
            return response.status, body, response.headers


async def test_the_customer_gets_the_answer_once_by_mail_and_the_link_reopens_the_chat(
    hub: RunningHub, smtp_server
) -> None:
    _, inbox = smtp_server
    clock = Clock()
    scheduler = hub.app.ctx.promise_scheduler
    scheduler.now = clock
    conversation_id, token = await hub.new_conversation(locale="de-DE")
    bearer = {"Authorization": f"Bearer {token}"}
    agent_id, _ = await add_agent(hub.ctx.engine)
    handoff = await hub.ctx.handoffs.start(conversation_id, "customer_request")
    assert handoff is not None and handoff.state == "follow_up"

    # The customer is to be asked where to reach them (the widget asks).
    contact_url = f"{hub.url}/api/conversations/{conversation_id}/contact"
    status, body, _ = await call("GET", contact_url, headers=bearer)
    assert (status, body) == (200, {"state": "none", "email": None, "suggested": None})
    assert (await scheduler.tick()).asked == 1
    assert (await scheduler.tick()).asked == 0
    status, body, _ = await call("GET", contact_url, headers=bearer)
    assert (status, body) == (200, {"state": "asked", "email": None, "suggested": None})
    status, body, _ = await call("GET", contact_url)
    assert status == 401
    status, body, _ = await call(
        "POST", contact_url, headers=bearer, json={"email": "not an address"}
    )
    assert (status, body["error"]["code"]) == (400, "bad_email")
    status, body, _ = await call(
        "POST", contact_url, headers=bearer, json={"email": "kunde@example.com"}
    )
    assert (status, body["state"], body["email"]) == (200, "given", "kunde@example.com")
    transcript = await hub.ctx.conversations.transcript(conversation_id)
    assert "kunde@example.com" in transcript[-1].text  # agents see it too

    # An agent answers the follow-up: exactly one mail, in German, with a link.
    assert (await scheduler.tick()).replied == 0
    await hub.ctx.handoffs.claim(handoff.id, agent_id, "Ann")
    await hub.ctx.handoffs.reply(
        conversation_id, agent_id, "Ann", "Ihr Konto ist wieder frei.", "c-1"
    )
    done = await scheduler.tick()
    assert (done.replied, done.sent) == (1, 1)
    clock.at(clock.now + dt.timedelta(minutes=5))
    await hub.ctx.handoffs.reply(conversation_id, agent_id, "Ann", "Noch etwas?", "c-2")
    assert (await scheduler.tick()).replied == 0
    mails = [mail for rcpt, mail in inbox.mails if "kunde@example.com" in rcpt]
    assert len(mails) == 1
    [mail] = mails
    assert "hat Ihnen geantwortet" in mail["Subject"]
    text, html = part(mail, "text/plain"), part(mail, "text/html")
    assert "Ihr Konto ist wieder frei." in text and "Ihr Konto ist wieder frei." in html
    [link] = re.findall(r"http://\S+/resume/\S+", text)
    assert link.startswith(hub.url)
    link_token = link.rsplit("/", 1)[1]

    # The link's page opens the conversation; trading the link gives a token.
    status, page, headers = await call("GET", link)
    assert status == 200 and "/static/resume.js" in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    status, body, _ = await call(
        "POST", f"{hub.url}/api/resume", json={"link": link_token}
    )
    assert status == 200 and body["conversation_id"] == conversation_id
    history_url = f"{hub.url}/api/conversations/{conversation_id}/messages"
    status, history, _ = await call(
        "GET", history_url, headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert status == 200
    assert "Ihr Konto ist wieder frei." in [m["text"] for m in history["messages"]]
    assert history["status"]["state"] == "agent"
    status, _, _ = await call("GET", history_url, headers=bearer)
    assert status == 401  # the old token is replaced

    # A changed link, or an expired one, is refused with a page that says so.
    tampered = link_token[:-1] + ("A" if link_token[-1] != "A" else "B")
    status, page, _ = await call("GET", f"{hub.url}/resume/{tampered}")
    assert status == 400 and "This link is not valid" in page
    assert "resume.js" not in page
    status, body, _ = await call(
        "POST", f"{hub.url}/api/resume", json={"link": tampered}
    )
    assert (status, body["error"]["code"]) == (400, "bad_link")
    expired = sign_resume_link(
        hub.settings.link_secret, conversation_id, utcnow() - dt.timedelta(seconds=1)
    )
    status, page, _ = await call("GET", f"{hub.url}/resume/{expired}")
    assert status == 410 and "This link has expired" in page
    status, body, _ = await call(
        "POST", f"{hub.url}/api/resume", json={"link": expired}
    )
    assert (status, body["error"]["code"]) == (400, "link_expired")


async def test_a_verified_customer_confirms_the_address_or_declines(
    hub: RunningHub,
) -> None:
    conversation_id, token = await hub.new_conversation()
    async with hub.ctx.engine.begin() as connection:
        await connection.execute(
            Conversation.__table__.update()
            .where(Conversation.__table__.c.id == conversation_id)
            .values(user_email="dana@example.com", user_verified=True)
        )
    await add_agent(hub.ctx.engine)
    await hub.ctx.handoffs.start(conversation_id, "customer_request")
    await hub.app.ctx.promise_scheduler.tick()
    bearer = {"Authorization": f"Bearer {token}"}
    contact_url = f"{hub.url}/api/conversations/{conversation_id}/contact"
    status, body, _ = await call("GET", contact_url, headers=bearer)
    assert body == {
        "state": "asked",
        "email": "dana@example.com",
        "suggested": "dana@example.com",
    }
    status, body, _ = await call(
        "POST", contact_url, headers=bearer, json={"decline": True}
    )
    assert (status, body["state"], body["email"]) == (200, "declined", None)
    status, body, _ = await call(
        "POST", contact_url, headers=bearer, json={"confirm": True}
    )
    assert (status, body["state"], body["email"]) == (200, "given", "dana@example.com")


async def in_the_queue(hub: RunningHub, count: int) -> list[tuple[str, str]]:
    """``count`` customers waiting in the live queue (an agent is online).

    Returns:
        Each one's conversation id and token.
    """
    hub.ctx.handoffs.policy = HandoffPolicy(
        hours=SupportHours.parse("always", "UTC"),
        follow_up_within=dt.timedelta(hours=4),
    )
    await add_agent(hub.ctx.engine, presence="online")
    waiting = []
    for _ in range(count):
        conversation_id, token = await hub.new_conversation()
        handoff = await hub.ctx.handoffs.start(conversation_id, "customer_request")
        assert handoff is not None and handoff.state == "queued"
        waiting.append((conversation_id, token))
    return waiting


async def test_a_customer_leaving_the_queue_keeps_a_follow_up_or_not_and_agents_see_why(
    hub: RunningHub,
) -> None:
    handoffs = hub.ctx.handoffs
    (leaving, leaving_token), (keeping, keeping_token) = await in_the_queue(hub, 2)

    async with hub.ctx.bus.subscribe(AGENTS_CHANNEL) as events:
        status, body, _ = await call(
            "POST",
            f"{hub.url}/api/conversations/{leaving}/leave",
            headers={"Authorization": f"Bearer {leaving_token}"},
            json={"keep_follow_up": False},
        )
        assert (status, body["state"]) == (200, "bot")
        status, body, _ = await call(
            "POST",
            f"{hub.url}/api/conversations/{keeping}/leave",
            headers={"Authorization": f"Bearer {keeping_token}"},
            json={"keep_follow_up": True},
        )
        assert (status, body["state"]) == (200, "follow_up") and body["due_at"]
        seen = []
        async for event in events:
            if event.get("type") == "queue_left":
                seen.append(event)
            if len(seen) == 2:
                break
    assert [(e["conversation_id"], e["follow_up"], e["reason"]) for e in seen] == [
        (leaving, False, "customer_left"),
        (keeping, True, "customer_left"),
    ]
    queue = await handoffs.queue()
    waiting = {e["conversation_id"]: e["state"] for e in queue["queue"]}
    assert leaving not in waiting and waiting[keeping] == "follow_up"
    transcript = await hub.ctx.conversations.transcript(leaving)
    assert transcript[-1].text.startswith("You left the queue")

    # No longer waiting: leaving again is refused, and the follow-up asks on.
    status, body, _ = await call(
        "POST",
        f"{hub.url}/api/conversations/{leaving}/leave",
        headers={"Authorization": f"Bearer {leaving_token}"},
        json={"keep_follow_up": True},
    )
    assert (status, body["error"]["code"]) == (409, "not_waiting")
    await hub.app.ctx.promise_scheduler.tick()
    status, body, _ = await call(
        "GET",
        f"{hub.url}/api/conversations/{keeping}/contact",
        headers={"Authorization": f"Bearer {keeping_token}"},
    )
    assert body["state"] == "asked"


async def test_leaving_the_queue_when_someone_may_be_in_danger_keeps_it_first_in_line(
    hub: RunningHub,
) -> None:
    """Whatever the customer chooses, a person still reads the chat: it stays
    first in the live queue with no time promised, the customer is told so
    (with the emergency number, as a prominent notice), and the agents that
    the customer left."""
    handoffs = hub.ctx.handoffs
    [(other, _)] = await in_the_queue(hub, 1)
    conversation_id, token = await hub.new_conversation()
    handoff = await handoffs.start(conversation_id, "danger")
    assert handoff is not None and handoff.state == "queued"
    url = f"{hub.url}/api/conversations/{conversation_id}/leave"
    bearer = {"Authorization": f"Bearer {token}"}
    async with hub.ctx.bus.subscribe(AGENTS_CHANNEL) as events:
        for keep in (False, True):
            status, body, _ = await call(
                "POST", url, headers=bearer, json={"keep_follow_up": keep}
            )
            assert (status, body["state"], body["danger"]) == (200, "queued", True)
            assert body["position"] == 1 and "due_at" not in body
            async for event in events:
                if event.get("type") == "queue_left":
                    break
            assert (event["conversation_id"], event["follow_up"]) == (
                conversation_id,
                False,
            )
            assert event["kept_in_queue"] is True
            notice = (await hub.ctx.conversations.transcript(conversation_id))[-1]
            assert (notice.role, notice.text) == ("system", DANGER_STAYS_TEXT)
            assert notice.meta == {
                "notice": "danger",
                "links": [
                    {"text": "112", "href": "tel:112"},
                    {"text": "911", "href": "tel:911"},
                ],
            }
    queue = (await handoffs.queue())["queue"]
    assert [e["conversation_id"] for e in queue][:2] == [conversation_id, other]
    assert queue[0]["state"] == "queued" and queue[0]["follow_up"] is None
    current = await handoffs.current(conversation_id)
    assert current is not None and current.id == handoff.id
    assert current.state == "queued" and current.due_at is None


@pytest.mark.parametrize(
    ("path", "body", "headers", "expected"),
    [
        ("contact", {"email": "ann@exa_mple.com"}, {}, (400, "bad_email")),
        ("contact", {"email": 42}, {}, (400, "bad_email")),
        ("contact", {"phone": "+1 555"}, {}, (400, "bad_contact")),
        ("contact", ["ann@example.com"], {}, (400, "invalid_json")),
        ("contact", {"confirm": True}, {}, (400, "bad_contact")),  # not verified
        (
            "contact",
            {"decline": True},
            {"Origin": "https://evil.example"},
            (403, "bad_origin"),
        ),
        (
            "contact",
            {"decline": True},
            {"Authorization": "Bearer wrong"},
            (401, "unauthorized"),
        ),
        ("leave", {"keep_follow_up": "yes"}, {}, (400, "bad_leave")),
        ("leave", {}, {}, (400, "bad_leave")),
        (
            "leave",
            {"keep_follow_up": True},
            {"Origin": "https://evil.example"},
            (403, "bad_origin"),
        ),
        (
            "leave",
            {"keep_follow_up": True},
            {"Authorization": "Bearer wrong"},
            (401, "unauthorized"),
        ),
    ],
)
async def test_a_bad_answer_gets_a_clear_error_and_changes_nothing(
    hub: RunningHub, path: str, body: Any, headers: dict[str, str], expected: Any
) -> None:
    [(conversation_id, token)] = await in_the_queue(hub, 1)
    status, answer, _ = await call(
        "POST",
        f"{hub.url}/api/conversations/{conversation_id}/{path}",
        headers={"Authorization": f"Bearer {token}", **headers},
        json=body,
    )
    assert (status, answer["error"]["code"]) == expected
    assert answer["error"]["message"]
    # Nothing changed: still waiting, nothing said, no address stored.
    current = await hub.ctx.handoffs.repository.current(conversation_id)
    assert current is not None and current.state == "queued"
    assert await hub.app.ctx.promises.repository.contact(conversation_id) is None
    transcript = await hub.ctx.conversations.transcript(conversation_id)
    assert not [m for m in transcript if "left the queue" in m.text]

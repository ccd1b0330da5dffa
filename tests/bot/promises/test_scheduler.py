"""The scheduler keeps follow-up promises, once, whichever hub runs it.

Real SMTP (aiosmtpd), SQLite and PostgreSQL, and a clock the test moves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import threading
from dataclasses import dataclass
from email.header import decode_header, make_header
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from bot.bus import AGENTS_CHANNEL
from bot.config import Smtp
from bot.conversations.repository import NewMessage
from bot.db.models import Agent, Handoff, MailOutbox, utcnow
from bot.handoff.hours import SupportHours
from bot.handoff.service import EMERGENCY_TEXT, HandoffPolicy, HandoffService
from bot.mail import OutboxRepository
from bot.promises import OVERDUE_EVENT, REMINDER_EVENT, PromiseRepository
from bot.promises.scheduler import (
    DANGER_LONG_WAIT_TEXT,
    DANGER_MAIL,
    FOLLOW_UP_OFFER,
    LONG_WAIT_GRACE,
    OFFER_KEY,
)
from tests.bot.promises.conftest import LEAD, add_agent, new_follow_up
from tests.conftest import free_port

outbox = MailOutbox.__table__


async def mails_of(engine: Any, conversation_id: str, kind: str) -> list[Any]:
    async with engine.connect() as connection:
        return list(
            await connection.execute(
                sa.select(outbox)
                .where(outbox.c.conversation_id == conversation_id)
                .where(outbox.c.kind == kind)
                .order_by(outbox.c.id)
            )
        )


def received_by(inbox: Any, address: str) -> list[Any]:
    return [mail for rcpt, mail in inbox.mails if address in rcpt]


async def test_the_owner_is_reminded_once_shortly_before_the_due_time(
    own_engine, handoffs, make_scheduler, clock, inbox, owned
) -> None:
    scheduler = make_scheduler()
    async with handoffs.conversations.bus.subscribe(AGENTS_CHANNEL) as events:
        clock.at(owned.due - LEAD - dt.timedelta(minutes=1))
        assert (await scheduler.tick()).reminded == 0
        clock.at(owned.due - LEAD + dt.timedelta(seconds=1))
        done = await scheduler.tick()
        assert done.held and done.reminded == 1 and done.sent == 1
        event = await asyncio.wait_for(anext_of(events, REMINDER_EVENT), 5)
    assert event["conversation_id"] == owned.conversation_id
    assert event["agent_id"] == owned.owner
    clock.at(owned.due - dt.timedelta(minutes=1))
    assert (await scheduler.tick()).reminded == 0

    [mail] = received_by(inbox, owned.owner_email)
    assert mail["Subject"].startswith("Follow-up due")
    assert mail.is_multipart()  # plain text and HTML
    parts = {part.get_content_type() for part in mail.walk()}
    assert {"text/plain", "text/html"} <= parts
    [stored] = await mails_of(own_engine, owned.conversation_id, "reminder")
    assert stored.status == "sent" and stored.recipient == owned.owner_email


async def anext_of(events: Any, kind: str) -> dict:
    async for event in events:
        if event.get("type") == kind:
            return dict(event)
    raise AssertionError("the bus closed")


async def test_a_follow_up_given_to_a_new_owner_reminds_the_new_owner(
    own_engine, handoffs, make_scheduler, clock, inbox, owned
) -> None:
    scheduler = make_scheduler()
    clock.at(owned.due - LEAD + dt.timedelta(seconds=1))
    assert (await scheduler.tick()).reminded == 1
    second, second_email = await add_agent(own_engine)
    async with own_engine.begin() as connection:
        await connection.execute(
            Agent.__table__.update()
            .where(Agent.__table__.c.id == owned.owner)
            .values(active=False)
        )
    assert await handoffs.own_follow_ups() == 1  # reassigned (existing sweep)
    clock.at(clock.now + dt.timedelta(seconds=5))
    assert (await scheduler.tick()).reminded == 1
    assert (await scheduler.tick()).reminded == 0
    assert len(received_by(inbox, owned.owner_email)) == 1
    assert len(received_by(inbox, second_email)) == 1
    reminders = await mails_of(own_engine, owned.conversation_id, "reminder")
    assert [m.recipient for m in reminders] == [owned.owner_email, second_email]
    assert second != owned.owner


async def test_an_overdue_follow_up_is_escalated_once_to_the_recipients(
    own_engine, handoffs, make_scheduler, clock, inbox, owned
) -> None:
    conversation_id, due = owned.conversation_id, owned.due
    scheduler = make_scheduler(
        escalation_emails=("lead@example.com", "ops@example.com")
    )
    clock.at(due - dt.timedelta(seconds=1))
    assert (await scheduler.tick()).escalated == 0
    async with handoffs.conversations.bus.subscribe(AGENTS_CHANNEL) as events:
        clock.at(due + dt.timedelta(seconds=1))
        done = await scheduler.tick()
        event = await asyncio.wait_for(anext_of(events, OVERDUE_EVENT), 5)
    assert done.escalated == 1
    assert event["conversation_id"] == conversation_id
    clock.at(due + dt.timedelta(hours=1))
    assert (await scheduler.tick()).escalated == 0
    escalations = await mails_of(own_engine, conversation_id, "escalation")
    assert sorted(m.recipient for m in escalations) == [
        "lead@example.com",
        "ops@example.com",
    ]
    assert all(m.status == "sent" for m in escalations)
    for address in ("lead@example.com", "ops@example.com"):
        [mail] = received_by(inbox, address)
        assert mail["Subject"].startswith("Overdue follow-up")


async def test_without_escalation_recipients_the_admins_are_mailed(
    own_engine, make_scheduler, clock, inbox, owned
) -> None:
    _, admin_email = await add_agent(own_engine, role="admin")
    due = owned.due
    scheduler = make_scheduler(escalation_emails=())
    clock.at(due + dt.timedelta(minutes=1))
    assert (await scheduler.tick()).escalated == 1
    assert len(received_by(inbox, admin_email)) == 1


async def test_an_answered_follow_up_is_neither_reminded_nor_escalated(
    own_engine, handoffs, make_scheduler, clock, owned
) -> None:
    owner, conversation_id, due = owned.owner, owned.conversation_id, owned.due
    handoff = await handoffs.repository.current(conversation_id)
    assert handoff is not None
    await handoffs.claim(handoff.id, owner, "Ann")
    await handoffs.reply(conversation_id, owner, "Ann", "Here is your answer.", "c-1")
    scheduler = make_scheduler()
    clock.at(due + dt.timedelta(minutes=1))
    done = await scheduler.tick()
    assert (done.reminded, done.escalated) == (0, 0)
    [promise] = await PromiseRepository(own_engine).promises_of(conversation_id)
    assert promise.kind == "due" and promise.kept is True


async def test_a_missed_due_time_is_recorded_as_a_broken_promise(
    own_engine, make_scheduler, clock, owned
) -> None:
    conversation_id, due = owned.conversation_id, owned.due
    scheduler = make_scheduler()
    await scheduler.tick()
    [promise] = await PromiseRepository(own_engine).promises_of(conversation_id)
    assert (promise.due_at, promise.kept, promise.settled_at) == (due, None, None)
    clock.at(due + dt.timedelta(seconds=1))
    await scheduler.tick()
    [promise] = await PromiseRepository(own_engine).promises_of(conversation_id)
    assert promise.kept is False and promise.settled_at == clock.now


async def one_owner_of(
    engine: Any, handoffs: Any, count: int
) -> tuple[str, list[tuple[str, int, dt.datetime]], dt.datetime]:
    """One agent owning ``count`` new follow-ups: their address, those, the last due."""
    _, owner_email = await add_agent(engine)
    follow_ups = [await new_follow_up(handoffs) for _ in range(count)]
    return owner_email, follow_ups, max(due for _, _, due in follow_ups)


async def test_two_schedulers_on_one_database_send_each_mail_once(
    own_engine, handoffs, make_scheduler, clock, inbox
) -> None:
    owner_email, conversations, due = await one_owner_of(own_engine, handoffs, 3)
    hub_a, hub_b = make_scheduler("hub-a"), make_scheduler("hub-b")
    rounds = []
    for moment in (due - LEAD + dt.timedelta(seconds=1), due + dt.timedelta(seconds=1)):
        clock.at(moment)
        for _ in range(3):
            rounds += await asyncio.gather(hub_a.tick(), hub_b.tick())
    assert sum(r.held for r in rounds) == len(rounds) // 2  # one hub per round
    assert sum(r.reminded for r in rounds) == 3
    assert sum(r.escalated for r in rounds) == 3
    assert len(received_by(inbox, owner_email)) == 3
    assert len(received_by(inbox, "boss@example.com")) == 3
    for conversation_id, _, _ in conversations:
        assert len(await mails_of(own_engine, conversation_id, "reminder")) == 1
        assert len(await mails_of(own_engine, conversation_id, "escalation")) == 1


async def test_a_hub_killed_holding_the_lease_hands_over_without_loss_or_doubles(
    own_engine, handoffs, make_scheduler, clock, inbox
) -> None:
    owner_email, conversations, due = await one_owner_of(own_engine, handoffs, 2)
    ttl = dt.timedelta(seconds=30)

    # Hub A is killed in the middle of sending: its SMTP server never answers
    # the mails' DATA, and its round is never resumed (as after kill -9): its
    # notices and mails are committed, nothing is sent, its lease still runs.
    arrived, free = asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()

    class NeverAnswers:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            loop.call_soon_threadsafe(arrived.set)
            while not free.is_set():
                await asyncio.sleep(0.01)
            return "451 try again later"

    silent = Controller(NeverAnswers(), hostname="127.0.0.1", port=free_port())
    silent.start()
    dying = make_scheduler(
        "hub-a",
        ttl=ttl,
        smtp=Smtp(host="127.0.0.1", port=silent.port, security="none", timeout_s=60),
    )
    heir = make_scheduler("hub-b", ttl=ttl)
    clock.at(due - LEAD + dt.timedelta(seconds=1))
    running = asyncio.all_tasks()
    dead = asyncio.create_task(dying.tick())
    await asyncio.wait_for(arrived.wait(), 10)
    remains = asyncio.all_tasks() - running  # the dead round and its sends
    try:
        kept = await OutboxRepository(own_engine).kept_of(("reminder",))
        assert len(kept) == 2  # committed with their notices, not sent
        clock.at(clock.now + dt.timedelta(seconds=1))
        assert not (await heir.tick()).held  # the dead hub's lease still runs
        clock.at(clock.now + ttl)
        taken = await heir.tick()
        assert taken.held and taken.reminded == 0 and taken.sent == 2
        assert (await heir.tick()).sent == 0
        assert len(received_by(inbox, owner_email)) == 2
        for conversation_id, _, _ in conversations:
            [mail] = await mails_of(own_engine, conversation_id, "reminder")
            assert mail.status == "sent"
    finally:
        dead.cancel()
        free.set()
        silent.stop()
        await asyncio.wait(remains, timeout=10)


@dataclass(frozen=True)
class Queued:
    """A customer in the live queue, and the agent online."""

    agent: int
    conversation_id: str
    handoff: Any
    #: The wait the customer was shown, in seconds.
    shown: int


@pytest.fixture
async def queued(own_engine: Any, handoffs: HandoffService) -> Queued:
    """A customer queued with an agent online and a history to estimate from."""
    return await queue_customer(own_engine, handoffs, "customer_request")


async def queue_customer(
    own_engine: Any, handoffs: HandoffService, reason: str
) -> Queued:
    """A customer queued for ``reason``, an agent online, a history of claims."""
    agent, _ = await add_agent(own_engine, presence="online")
    handoffs.policy = HandoffPolicy(
        hours=SupportHours.parse("always", "UTC"),
        follow_up_within=dt.timedelta(hours=4),
    )
    # Recent history to estimate from: chats waiting a minute, taken in turn.
    history = secrets.token_urlsafe(16)
    await handoffs.conversations.repository.create(history, "hash")
    start = utcnow() - dt.timedelta(minutes=30)
    async with own_engine.begin() as connection:
        for k in range(6):
            created = start + dt.timedelta(minutes=3 * k)
            await connection.execute(
                Handoff.__table__.insert().values(
                    conversation_id=history,
                    reason="fallback",
                    state="resolved",
                    priority=10,
                    agent_id=agent,
                    created_at=created,
                    claimed_at=created + dt.timedelta(seconds=60),
                    closed_at=created + dt.timedelta(seconds=120),
                )
            )
    conversation_id = secrets.token_urlsafe(16)
    await handoffs.conversations.repository.create(conversation_id, "hash")
    handoff = await handoffs.start(conversation_id, reason)
    assert handoff is not None and handoff.state == "queued"
    conversation = await handoffs.conversations.get(conversation_id)
    assert conversation is not None
    shown = (await handoffs.status(conversation))["eta_s"]
    return Queued(agent, conversation_id, handoff, shown)


async def test_the_wait_estimate_a_queued_customer_is_shown_is_a_promise(
    own_engine, handoffs, make_scheduler, clock, queued
) -> None:
    scheduler = make_scheduler()
    await scheduler.tick()
    await scheduler.tick()
    repository = PromiseRepository(own_engine)
    [wait] = await repository.promises_of(queued.conversation_id)
    assert wait.kind == "wait" and wait.kept is None
    assert wait.due_at - wait.promised_at == dt.timedelta(seconds=queued.shown)
    await handoffs.claim(queued.handoff.id, queued.agent, "Ann")
    await scheduler.tick()
    [wait] = await repository.promises_of(queued.conversation_id)
    assert wait.kept is True  # claimed within the estimate


async def offers_in(handoffs: HandoffService, conversation_id: str) -> list[Any]:
    """The system messages telling the customer the wait runs long."""
    return [
        message
        for message in await handoffs.conversations.messages_after(conversation_id, 0)
        if message.role == "system" and message.meta.get(OFFER_KEY) == FOLLOW_UP_OFFER
    ]


async def test_a_wait_well_past_the_estimate_is_told_once_with_a_follow_up_offer(
    own_engine, handoffs, make_scheduler, clock, queued
) -> None:
    conversation_id, shown = queued.conversation_id, queued.shown
    hub_a, hub_b = make_scheduler("hub-a"), make_scheduler("hub-b")
    await hub_a.tick()
    [wait] = await PromiseRepository(own_engine).promises_of(conversation_id)
    # Past the estimate, but not by the estimate again and the grace: quiet.
    late = max(dt.timedelta(seconds=shown), LONG_WAIT_GRACE)
    clock.at(wait.due_at + late - dt.timedelta(seconds=1))
    assert (await hub_a.tick()).offered == 0
    assert await offers_in(handoffs, conversation_id) == []
    clock.at(wait.due_at + late)
    rounds = await asyncio.gather(hub_a.tick(), hub_b.tick())
    rounds += await asyncio.gather(hub_a.tick(), hub_b.tick())
    assert sum(r.offered for r in rounds) == 1
    [offer] = await offers_in(handoffs, conversation_id)
    minutes = max(1, round(shown / 60))
    assert f"longer than the {minutes} minute" in offer.text
    assert "get back to you" in offer.text


async def test_someone_in_danger_waiting_long_hears_the_emergency_number_not_an_offer(
    own_engine, handoffs, make_scheduler, clock
) -> None:
    """Being answered later is no choice to offer someone who may be in
    danger: the long wait is owned up to, with the emergency number again."""
    in_danger = await queue_customer(own_engine, handoffs, "danger")
    scheduler = make_scheduler()
    await scheduler.tick()
    [wait] = await PromiseRepository(own_engine).promises_of(in_danger.conversation_id)
    late = max(wait.due_at - wait.promised_at, LONG_WAIT_GRACE)
    clock.at(wait.due_at + late)
    assert (await scheduler.tick()).offered == 1
    assert (await scheduler.tick()).offered == 0
    assert await offers_in(handoffs, in_danger.conversation_id) == []
    messages = await handoffs.conversations.messages_after(in_danger.conversation_id, 0)
    assert messages[-1].text == DANGER_LONG_WAIT_TEXT
    assert messages[-1].meta["notice"] == "danger"  # prominent, numbers to tap
    assert EMERGENCY_TEXT in messages[-1].text
    assert "get back to you" not in messages[-1].text


async def test_a_customer_no_longer_waiting_is_not_told_the_wait_runs_long(
    own_engine, handoffs, make_scheduler, clock, queued
) -> None:
    scheduler = make_scheduler()
    await scheduler.tick()
    [wait] = await PromiseRepository(own_engine).promises_of(queued.conversation_id)
    await handoffs.claim(queued.handoff.id, queued.agent, "Ann")
    clock.at(wait.due_at + dt.timedelta(hours=1))
    assert (await scheduler.tick()).offered == 0
    assert await offers_in(handoffs, queued.conversation_id) == []


async def test_an_overdue_follow_up_is_escalated_not_reminded(
    make_scheduler, clock, inbox, owned
) -> None:
    owner_email, due = owned.owner_email, owned.due
    clock.at(due + dt.timedelta(minutes=1))  # the scheduler was down until now
    done = await make_scheduler().tick()
    assert (done.reminded, done.escalated) == (0, 1)
    assert received_by(inbox, owner_email) == []


#: What the customer wrote: never in an alert mail (the console has it).
DANGER_WORDS = "my friend wrote in our notebook that she wants to end her life"


async def someone_in_danger(handoffs: HandoffService) -> str:
    """A customer's chat handed over as ``danger``; its conversation id."""
    conversation_id = secrets.token_urlsafe(16)
    await handoffs.conversations.repository.create(conversation_id, "hash")
    await handoffs.conversations.repository.append(
        conversation_id, [NewMessage(role="customer", text=DANGER_WORDS)]
    )
    handoff = await handoffs.start(conversation_id, "danger")
    assert handoff is not None and handoff.state == "queued"
    return conversation_id


async def test_outside_hours_someone_in_danger_is_mailed_to_the_recipients_at_once(
    own_engine, handoffs, make_scheduler, clock, inbox
) -> None:
    """Nobody sees the console out of hours: the escalation recipients are
    mailed in the next round, once, with the console link and nothing of
    what the customer wrote. An ordinary follow-up is not."""
    await add_agent(own_engine, presence="online")  # online, but out of hours
    ordinary, _, _ = await new_follow_up(handoffs)
    in_danger = await someone_in_danger(handoffs)
    scheduler = make_scheduler(
        escalation_emails=("lead@example.com", "ops@example.com")
    )
    done = await scheduler.tick()
    assert (done.alerted, done.escalated, done.sent) == (1, 0, 2)
    assert (await scheduler.tick()).alerted == 0
    clock.at(clock.now + dt.timedelta(hours=3))
    assert (await scheduler.tick()).alerted == 0
    assert await mails_of(own_engine, ordinary, DANGER_MAIL) == []
    stored = await mails_of(own_engine, in_danger, DANGER_MAIL)
    assert sorted(m.recipient for m in stored) == [
        "lead@example.com",
        "ops@example.com",
    ]
    assert all(m.status == "sent" for m in stored)
    for address in ("lead@example.com", "ops@example.com"):
        [mail] = received_by(inbox, address)
        subject = str(make_header(decode_header(mail["Subject"])))
        assert " ".join(subject.split()) == (
            f"Someone may be in danger — conversation {in_danger} is waiting"
        )
        for content_type in ("text/plain", "text/html"):
            [part] = [p for p in mail.walk() if p.get_content_type() == content_type]
            body = part.get_payload(decode=True).decode(part.get_content_charset())
            assert "http://support.example/console" in body
            assert in_danger in body
            assert "end her life" not in body and "notebook" not in body


async def test_in_hours_with_someone_online_nobody_is_mailed_until_nobody_is(
    own_engine, handoffs, make_scheduler, inbox
) -> None:
    agent, _ = await add_agent(own_engine, presence="online")
    handoffs.policy = HandoffPolicy(
        hours=SupportHours.parse("always", "UTC"),
        follow_up_within=dt.timedelta(hours=4),
    )
    in_danger = await someone_in_danger(handoffs)
    scheduler = make_scheduler()
    assert (await scheduler.tick()).alerted == 0
    # The last agent signs off with the chat still waiting: now someone must
    # be told.
    async with own_engine.begin() as connection:
        await connection.execute(
            Agent.__table__.update()
            .where(Agent.__table__.c.id == agent)
            .values(presence="offline")
        )
    assert (await scheduler.tick()).alerted == 1
    [stored] = await mails_of(own_engine, in_danger, DANGER_MAIL)
    assert stored.recipient == "boss@example.com"
    assert len(received_by(inbox, "boss@example.com")) == 1


async def test_a_claimed_chat_in_danger_is_not_mailed(
    own_engine, handoffs, make_scheduler, inbox
) -> None:
    agent, _ = await add_agent(own_engine, presence="online")
    in_danger = await someone_in_danger(handoffs)
    handoff = await handoffs.repository.current(in_danger)
    assert handoff is not None
    await handoffs.claim(handoff.id, agent, "Ann")
    assert (await make_scheduler().tick()).alerted == 0
    assert await mails_of(own_engine, in_danger, DANGER_MAIL) == []


async def test_with_nobody_to_mail_a_warning_is_logged_once_and_the_chat_waits(
    own_engine, handoffs, make_scheduler, caplog
) -> None:
    in_danger = await someone_in_danger(handoffs)
    scheduler = make_scheduler(escalation_emails=())  # and no admin account
    with caplog.at_level(logging.WARNING, logger="bot.promises.scheduler"):
        rounds = [await scheduler.tick() for _ in range(3)]
    assert [r.alerted for r in rounds] == [0, 0, 0]
    warnings = [r for r in caplog.records if "BATON_ESCALATION_EMAILS" in r.message]
    assert len(warnings) == 1
    assert "someone may be in danger" in warnings[0].message
    assert await mails_of(own_engine, in_danger, DANGER_MAIL) == []
    handoff = await handoffs.repository.current(in_danger)
    assert handoff is not None and handoff.state == "queued"
    # An admin account appears: the chat still waiting is mailed to them.
    _, admin_email = await add_agent(own_engine, role="admin")
    assert (await scheduler.tick()).alerted == 1
    [stored] = await mails_of(own_engine, in_danger, DANGER_MAIL)
    assert stored.recipient == admin_email

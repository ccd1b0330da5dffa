"""Handoff service on SQLite and PostgreSQL: follow-ups, the queue, the card."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from bot.assistant.client import RasaClient
from bot.auth import AuthRepository
from bot.bus import InMemoryEventBus
from bot.config import Limits
from bot.conversations.repository import ConversationRepository, NewMessage
from bot.conversations.service import ConversationService
from bot.db.models import Agent, Feedback, FollowUp, utcnow
from bot.handoff.hours import SupportHours
from bot.handoff.repository import HandoffRepository
from bot.handoff.service import (
    CRISIS_LINES_TEXT,
    DANGER_NO_AGENT_TEXT,
    DANGER_QUEUED_TEXT,
    EMERGENCY_TEXT,
    QUEUED_TEXT,
    REQUEUED_TEXT,
    HandoffPolicy,
    HandoffService,
)
from bot.knowledge import ArticleFeedbackRepository
from tests.bot.agents import add_agent

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def closed_today() -> SupportHours:
    """Support hours that open only tomorrow (UTC), 09:00-17:00."""
    tomorrow = (utcnow() + dt.timedelta(days=1)).weekday()
    return SupportHours.parse(f"{_DAYS[tomorrow]} 09:00-17:00", "UTC")


def service_for(engine, hours: SupportHours) -> HandoffService:
    conversations = ConversationService(
        ConversationRepository(engine), InMemoryEventBus(), Limits()
    )
    # Nothing listens there: pausing the tracker fails quietly, as designed.
    assistant = RasaClient("http://127.0.0.1:9", "http://127.0.0.1:9", "t", 1.0)
    return HandoffService(
        HandoffRepository(engine),
        conversations,
        assistant,
        HandoffPolicy(hours=hours, follow_up_within=dt.timedelta(hours=4)),
        accounts=AuthRepository(engine),
        feedback=ArticleFeedbackRepository(engine),
    )


@pytest.fixture
async def service(engine):
    handoffs = service_for(engine, SupportHours.parse("always", "UTC"))
    yield handoffs
    await handoffs.assistant.close()


async def nobody_online(engine) -> None:
    """Take every agent offline (PostgreSQL is shared by the whole run)."""
    async with engine.begin() as connection:
        await connection.execute(Agent.__table__.update().values(presence="offline"))


async def new_conversation(service: HandoffService, **details) -> str:
    conversation_id = secrets.token_urlsafe(16)
    await service.conversations.repository.create(conversation_id, "hash", **details)
    return conversation_id


def mine(queue: dict, *conversation_ids: str) -> list[dict]:
    """This test's entries (PostgreSQL is shared by the whole run), in order."""
    return [e for e in queue["queue"] if e["conversation_id"] in conversation_ids]


async def test_outside_hours_the_customer_gets_a_follow_up_with_owner_and_due_time(
    engine,
) -> None:
    service = service_for(engine, closed_today())
    await add_agent(engine, presence="online")
    conversation_id = await new_conversation(service)
    handoff = await service.start(conversation_id, "customer_request")
    await service.assistant.close()
    assert handoff is not None and handoff.state == "follow_up"
    tomorrow = (utcnow() + dt.timedelta(days=1)).date()
    expected_due = dt.datetime.combine(tomorrow, dt.time(13, 0), dt.timezone.utc)
    assert handoff.due_at == expected_due  # opening 09:00 + 4 opening hours
    # The owner is the least busy active agent (the database may hold others).
    assert handoff.follow_up_owner_id is not None
    messages = await service.conversations.repository.messages_after(conversation_id, 0)
    assert "13:00 UTC" in messages[-1].text
    [entry] = mine(await service.queue(), conversation_id)
    assert entry["state"] == "follow_up"
    assert entry["follow_up"] == {
        "due_at": expected_due.isoformat(),
        "owner_id": handoff.follow_up_owner_id,
        "unowned": False,
        "overdue": False,
    }
    status = await service.status(
        await service.conversations.repository.get(conversation_id)
    )
    assert (status["state"], status["due_at"]) == (
        "follow_up",
        expected_due.isoformat(),
    )


async def test_with_nobody_online_the_chat_becomes_a_follow_up(service, engine) -> None:
    await nobody_online(engine)
    await add_agent(engine, presence="away")
    conversation_id = await new_conversation(service)
    handoff = await service.start(conversation_id, "fallback")
    assert handoff is not None and handoff.state == "follow_up"
    assert handoff.due_at is not None and handoff.follow_up_owner_id is not None


async def test_a_missed_follow_up_is_flagged_overdue_and_goes_first(
    service, engine
) -> None:
    await nobody_online(engine)
    late = await new_conversation(service)
    await service.start(late, "fallback")
    await add_agent(engine, presence="online")
    fresh = await new_conversation(service)
    await service.start(fresh, "frustration")
    async with engine.begin() as connection:
        await connection.execute(
            FollowUp.__table__.update()
            .where(FollowUp.__table__.c.conversation_id == late)
            .values(due_at=utcnow() - dt.timedelta(minutes=5))
        )
    entries = mine(await service.queue(), late, fresh)
    assert [e["conversation_id"] for e in entries] == [late, fresh]
    assert entries[0]["follow_up"]["overdue"] is True
    assert entries[1]["follow_up"] is None
    assert entries[1]["position"] >= 1  # the customer's place in line


async def follow_ups_of(engine, conversation_id: str) -> list:
    table = FollowUp.__table__
    async with engine.connect() as connection:
        return list(
            await connection.execute(
                sa.select(table).where(table.c.conversation_id == conversation_id)
            )
        )


async def test_outside_hours_someone_in_danger_waits_first_in_line_with_no_promise(
    engine,
) -> None:
    """No "we'll get back to you by 13:00", no e-mail: the emergency number
    and crisis lines again, and the chat first in the live queue for whoever
    comes online first."""
    service = service_for(engine, closed_today())
    await add_agent(engine, presence="online")
    frustrated = await new_conversation(service)
    await service.start(frustrated, "frustration")
    in_danger = await new_conversation(service)
    handoff = await service.start(in_danger, "danger")
    try:
        assert handoff is not None
        assert (handoff.state, handoff.reason, handoff.due_at) == (
            "queued",
            "danger",
            None,
        )
        assert await follow_ups_of(engine, in_danger) == []
        [notice] = await service.conversations.repository.messages_after(in_danger, 0)
        assert (notice.role, notice.text) == ("system", DANGER_NO_AGENT_TEXT)
        # A prominent notice, its numbers and the directory of crisis lines to
        # tap, each where the text says it.
        assert notice.meta == {
            "notice": "danger",
            "links": [
                {"text": "112", "href": "tel:112"},
                {"text": "911", "href": "tel:911"},
                {"text": "988", "href": "tel:988"},
                {"text": "116\u00a0123", "href": "tel:116123"},
                {"text": "findahelpline.com", "href": "https://findahelpline.com"},
            ],
        }
        assert all(link["text"] in notice.text for link in notice.meta["links"])
        assert "112" in notice.text and "911" in notice.text and "988" in notice.text
        assert "get back to you" not in notice.text
        assert "e-mail" not in notice.text and "UTC" not in notice.text
        conversation = await service.conversations.repository.get(in_danger)
        status = await service.status(conversation)
        assert status["state"] == "queued" and "due_at" not in status
        assert "eta_s" not in status  # nobody can say when, so nothing is said
        assert status["danger"] is True  # the widget offers no leaving
        entries = mine(await service.queue(), frustrated, in_danger)
        assert [e["conversation_id"] for e in entries] == [in_danger, frustrated]
        assert entries[0]["reason_text"] == "someone may be in danger"
        assert entries[0]["follow_up"] is None
        assert entries[1]["state"] == "follow_up"  # the others keep the promise
    finally:
        await service.assistant.close()


async def test_with_nobody_online_someone_in_danger_is_queued_not_promised(
    service, engine
) -> None:
    await nobody_online(engine)
    await add_agent(engine, presence="away")
    conversation_id = await new_conversation(service)
    handoff = await service.start(conversation_id, "danger")
    assert handoff is not None and handoff.state == "queued"
    assert handoff.due_at is None
    assert await follow_ups_of(engine, conversation_id) == []
    messages = await service.conversations.repository.messages_after(conversation_id, 0)
    assert messages[-1].text == DANGER_NO_AGENT_TEXT
    # The first agent to come online finds it first, and takes it.
    agent = await add_agent(engine, presence="online")
    # (Only other chats in danger, oldest first, may be ahead: PostgreSQL is
    # shared by the whole run.)
    line = (await service.queue())["queue"]
    ahead = line[: [e["conversation_id"] for e in line].index(conversation_id)]
    assert {e["reason"] for e in ahead} <= {"danger"}
    claimed = await service.claim(handoff.id, agent, "Ann")
    assert claimed.state == "claimed"


async def test_in_hours_someone_in_danger_gets_crisis_lines_too_and_goes_first(
    service, engine
) -> None:
    """A person joins, but a support agent is no counsellor: the crisis lines
    as outside hours. (The notice gave 112 and 911 only, as if a suicidal
    customer needed an ambulance or nothing.)"""
    await add_agent(engine, presence="online")
    waiting = await new_conversation(service)
    await service.start(waiting, "frustration")
    in_danger = await new_conversation(service)
    handoff = await service.start(in_danger, "danger")
    assert handoff is not None and handoff.state == "queued"
    assert handoff.priority == 100
    messages = await service.conversations.repository.messages_after(in_danger, 0)
    # The emergency number first, to tap (the bot's own turn only says
    # sorry), then the crisis lines, then that a person joins.
    assert messages[-1].text == DANGER_QUEUED_TEXT
    assert DANGER_QUEUED_TEXT == f"{EMERGENCY_TEXT} {CRISIS_LINES_TEXT} {QUEUED_TEXT}"
    assert CRISIS_LINES_TEXT in DANGER_NO_AGENT_TEXT  # the same lines out of hours
    assert messages[-1].text.count("emergency number") == 1
    assert messages[-1].meta == {
        "notice": "danger",
        "links": [
            {"text": "112", "href": "tel:112"},
            {"text": "911", "href": "tel:911"},
            {"text": "988", "href": "tel:988"},
            {"text": "116\u00a0123", "href": "tel:116123"},
            {"text": "findahelpline.com", "href": "https://findahelpline.com"},
        ],
    }
    places, statuses = {}, {}
    for conversation_id in (waiting, in_danger):
        conversation = await service.conversations.repository.get(conversation_id)
        statuses[conversation_id] = await service.status(conversation)
        places[conversation_id] = statuses[conversation_id]["position"]
    assert places[in_danger] < places[waiting]
    assert statuses[in_danger]["danger"] is True
    assert "danger" not in statuses[waiting]
    [ordinary] = [
        m
        for m in await service.conversations.repository.messages_after(waiting, 0)
        if m.role == "system"
    ]
    assert (ordinary.text, ordinary.meta) == (QUEUED_TEXT, {})
    entries = mine(await service.queue(), waiting, in_danger)
    assert [e["conversation_id"] for e in entries] == [in_danger, waiting]


async def test_someone_in_danger_hears_the_emergency_number_if_the_bot_could_not_say_it(
    service, engine
) -> None:
    """A turn whose actions failed is not delivered (the relay's lead says so):
    the notice carries the emergency number itself."""
    await add_agent(engine, presence="online")
    conversation_id = await new_conversation(service)
    await service.start(
        conversation_id, "danger", lead="Sorry, our assistant is having trouble."
    )
    messages = await service.conversations.repository.messages_after(conversation_id, 0)
    assert messages[-1].text == (
        f"Sorry, our assistant is having trouble. {DANGER_QUEUED_TEXT}"
    )
    assert messages[-1].text.startswith(
        f"Sorry, our assistant is having trouble. {EMERGENCY_TEXT}"
    )
    assert messages[-1].meta["notice"] == "danger"


def nlu(intent, confidence, *, score=0.0, actions=(), slots=None, entities=()):
    return {
        "_nlu": {
            "intent": intent,
            "confidence": confidence,
            "entities": list(entities),
            "slots": slots or {},
            "actions": list(actions),
            "frustration": {"score": score, "frustrated": score >= 0.6, "signals": []},
        }
    }


async def test_the_card_has_everything_the_bot_saw_and_did(service, engine) -> None:
    await add_agent(engine)
    conversation_id = await new_conversation(
        service,
        locale="en-GB",
        page_url="https://lumen.example/pricing",
        user_id="u-42",
        user_name="Dana",
        user_email="dana@example.com",
        user_verified=True,
    )
    repository = service.conversations.repository
    await repository.append(
        conversation_id,
        [
            NewMessage("customer", "hi", meta=nlu("greet", 0.97)),
            NewMessage("bot", "Hi, how can I help?"),
            NewMessage(
                "customer",
                "my notes are not syncing between my phone and laptop",
                meta=nlu(
                    "sync_problem",
                    0.88,
                    score=0.1,
                    actions=["action_answer_from_kb"],
                    entities=[{"entity": "device", "value": "phone"}],
                ),
            ),
            NewMessage(
                "bot", "Try signing out and in.", meta={"article": "sync-basics"}
            ),
            NewMessage(
                "customer",
                "no",
                meta=nlu(
                    "deny",
                    0.91,
                    score=0.3,
                    slots={"frustrated": None, "topic": "sync"},
                ),
            ),
            NewMessage(
                "bot", "Check the sync status page.", meta={"article": "sync-status"}
            ),
            NewMessage(
                "customer",
                "THIS IS USELESS",
                meta=nlu(
                    "complaint",
                    0.7,
                    score=0.9,
                    actions=["utter_handoff", "action_handoff"],
                    slots={"frustrated": True, "topic": "sync"},
                ),
            ),
        ],
    )
    async with engine.begin() as connection:
        await connection.execute(
            Feedback.__table__.insert().values(
                conversation_id=conversation_id,
                kind="article",
                article_slug="sync-status",
                helped=False,
                created_at=utcnow(),
            )
        )
    handoff = await service.start(conversation_id, "frustration")
    assert handoff is not None
    await service.conversations.repository.append(
        conversation_id, [NewMessage("customer", "hello? anyone?")]
    )
    card = await service.card(handoff.id)

    assert card["customer"] == {
        "conversation_id": conversation_id,
        "verified": True,
        "user_id": "u-42",
        "name": "Dana",
        "email": "dana@example.com",
        "page_url": "https://lumen.example/pricing",
        "locale": "en-GB",
        "started_at": card["customer"]["started_at"],
    }
    texts = [m["text"] for m in card["transcript"]]
    assert texts[0] == "hi" and texts[-1] == "hello? anyone?"
    assert not [m for m in card["transcript"] if "_nlu" in m["meta"]]
    turns = {t["text"]: t for t in card["turns"]}
    assert (turns["hi"]["intent"], turns["hi"]["confidence"]) == ("greet", 0.97)
    assert turns["THIS IS USELESS"]["intent"] == "complaint"
    assert turns["hello? anyone?"]["handled_by"] == "people"
    assert card["slots"] == {"frustrated": True, "topic": "sync"}
    assert card["entities"] == [{"entity": "device", "value": "phone", "seq": 3}]
    assert [(a["slug"], a["helped"], a["source"]) for a in card["articles"]] == [
        ("sync-basics", False, "reply"),
        ("sync-status", False, "feedback"),
    ]
    assert [a["action"] for a in card["actions"]] == [
        "action_answer_from_kb",
        "utter_handoff",
        "action_handoff",
    ]
    assert [s["score"] for s in card["sentiment"]] == [0.0, 0.1, 0.3, 0.9]
    assert card["sentiment"][-1]["frustrated"] is True
    assert card["reason"] == "frustration"
    assert card["summary"].startswith(
        '"my notes are not syncing between my phone and laptop" (sync problem)'
    )
    assert "sync-basics, sync-status" in card["summary"]
    assert card["waited_s"] >= 0
    assert card["handoff"]["state"] == "queued"
    assert card["notes"] == []


async def test_the_summary_is_stored_when_the_handoff_starts(service, engine) -> None:
    await add_agent(engine)
    conversation_id = await new_conversation(service)
    await service.conversations.repository.append(
        conversation_id,
        [NewMessage("customer", "I was charged twice for my subscription")],
    )
    handoff = await service.start(conversation_id, "sensitive")
    assert handoff is not None
    assert handoff.summary == (
        '"I was charged twice for my subscription"; a sensitive topic'
    )
    async with engine.connect() as connection:
        stored = (
            await connection.execute(
                sa.text("SELECT summary FROM handoffs WHERE id = :id"),
                {"id": handoff.id},
            )
        ).scalar_one()
    assert stored == handoff.summary


@pytest.mark.parametrize(
    "change", [{"active": False}, {"role": "trainer"}], ids=["disabled", "trainer"]
)
async def test_a_chat_whose_agent_cannot_keep_it_goes_back_to_the_queue(
    service, engine, change
) -> None:
    leaving = await add_agent(engine, presence="offline")
    colleague = await add_agent(engine, presence="offline")
    conversation_id = await new_conversation(service)
    handoff = await service.start(conversation_id, "customer_request")
    assert handoff is not None
    await service.claim(handoff.id, leaving, "Ann")
    promised = await new_conversation(service)
    async with engine.begin() as connection:
        await connection.execute(
            FollowUp.__table__.insert().values(
                conversation_id=promised,
                owner_id=leaving,
                due_at=utcnow() + dt.timedelta(hours=2),
                channel="email",
                created_at=utcnow(),
            )
        )
        await connection.execute(
            Agent.__table__.update().where(Agent.id == leaving).values(**change)
        )

    assert await service.release_unable_holders() >= 1

    current = await service.repository.current(conversation_id)
    assert current is not None
    assert (current.state, current.agent_id, current.claimed_at) == (
        "queued",
        None,
        None,
    )
    conversation = await service.conversations.repository.get(conversation_id)
    assert conversation is not None and conversation.state == "queued"
    said = await service.conversations.repository.messages_after(conversation_id, 0)
    assert said[-1].role == "system" and said[-1].text == REQUEUED_TEXT
    async with engine.connect() as connection:
        owner = (
            await connection.execute(
                sa.select(FollowUp.owner_id).where(FollowUp.conversation_id == promised)
            )
        ).scalar_one()
    assert owner is not None and owner != leaving
    # Another agent can now claim it; a second sweep changes nothing.
    await service.claim(current.id, colleague, "Bob")
    await service.release_unable_holders()
    reclaimed = await service.repository.current(conversation_id)
    assert reclaimed is not None and reclaimed.agent_id == colleague


async def test_chats_of_agents_who_may_keep_them_stay_where_they_are(
    service, engine
) -> None:
    agent = await add_agent(engine, presence="offline")
    conversation_id = await new_conversation(service)
    handoff = await service.start(conversation_id, "customer_request")
    assert handoff is not None
    await service.claim(handoff.id, agent, "Ann")

    await service.release_unable_holders()

    current = await service.repository.current(conversation_id)
    assert current is not None and (current.state, current.agent_id) == (
        "claimed",
        agent,
    )

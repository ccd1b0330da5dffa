"""The handoff card built from stored conversations, on SQLite and PostgreSQL.

``test_service.py`` covers a card with everything the bot saw and did; these
cover the other shapes a conversation takes: nothing asked yet, messages Rasa
never saw, an answer to an article given in the next reply, notes of the agent
who holds it, an unverified customer, and a promised follow-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.auth import AuditRecord
from bot.conversations.repository import NewMessage
from bot.handoff.card import SUMMARY_QUOTE_CHARS, account_steps
from bot.handoff.hours import SupportHours
from tests.bot.handoff.test_service import (
    add_agent,
    closed_today,
    mine,
    new_conversation,
    nlu,
    service_for,
)


@pytest.fixture
async def service(engine):
    handoffs = service_for(engine, SupportHours.parse("always", "UTC"))
    yield handoffs
    await handoffs.assistant.close()


async def test_a_card_with_only_small_talk_says_no_question_was_asked(
    service, engine
) -> None:
    await add_agent(engine)
    conversation_id = await new_conversation(service)
    await service.conversations.repository.append(
        conversation_id,
        [
            NewMessage("customer", "hi", meta=nlu("greet", 0.98)),
            NewMessage("bot", "Hi, how can I help?"),
            NewMessage("customer", "a person please", meta=nlu("request_human", 0.9)),
        ],
    )
    handoff = await service.start(conversation_id, "customer_request")
    assert handoff is not None
    card = await service.card(handoff.id)
    assert card["summary"] == ("No question asked yet; the customer asked for a person")
    assert [turn["handled_by"] for turn in card["turns"]] == ["bot", "bot"]
    assert (card["articles"], card["actions"], card["entities"]) == ([], [], [])
    assert card["notes"] == []


async def test_messages_rasa_never_saw_are_handled_by_people(service, engine) -> None:
    await add_agent(engine)
    conversation_id = await new_conversation(
        service, user_name="Sam", user_email="sam@example.com"
    )
    long_text = "my invoice shows the wrong company name " * 10
    await service.conversations.repository.append(
        conversation_id, [NewMessage("customer", long_text)]
    )
    handoff = await service.start(conversation_id, "bot_unavailable")
    assert handoff is not None
    card = await service.card(handoff.id)
    [turn] = card["turns"]
    assert turn["handled_by"] == "people"
    assert "intent" not in turn and "frustration" not in turn
    assert card["sentiment"] == [] and card["slots"] == {}
    quote = card["summary"].split('"')[1]
    assert len(quote) == SUMMARY_QUOTE_CHARS and quote.endswith("…")
    assert card["summary"].endswith("; the assistant was unavailable")
    # Details the customer typed are shown, but marked as not verified.
    assert card["customer"]["verified"] is False
    assert (card["customer"]["name"], card["customer"]["email"]) == (
        "Sam",
        "sam@example.com",
    )


async def test_the_next_reply_tells_whether_an_article_helped(service, engine) -> None:
    await add_agent(engine)
    conversation_id = await new_conversation(service)
    await service.conversations.repository.append(
        conversation_id,
        [
            NewMessage(
                "customer",
                "how do I export my notes",
                meta=nlu("export_notes", 0.9, actions=["action_answer_from_kb"]),
            ),
            NewMessage("bot", "Use File, Export.", meta={"article": "export"}),
            NewMessage("customer", "yes thanks", meta=nlu("affirm", 0.95)),
            NewMessage(
                "customer", "and how do I print them", meta=nlu("print_notes", 0.8)
            ),
            NewMessage("bot", "Use File, Print.", meta={"article": "print"}),
            NewMessage("customer", "ok", meta=nlu("out_of_scope", 0.4)),
        ],
    )
    handoff = await service.start(conversation_id, "kb_rejected")
    assert handoff is not None
    card = await service.card(handoff.id)
    assert [(a["slug"], a["helped"], a["source"]) for a in card["articles"]] == [
        ("export", True, "reply"),
        ("print", None, None),
    ]
    [action] = card["actions"]
    # The action is dated by the bot's answer that followed it.
    assert (action["action"], action["after_seq"]) == ("action_answer_from_kb", 1)
    assert action["at"] == card["transcript"][1]["at"]
    assert card["summary"].startswith('"how do I export my notes" (export notes)')
    assert "bot showed export, print" in card["summary"]


@pytest.mark.parametrize(
    ("intent", "reason", "summary"),
    [
        # The intent is the reason: said once.
        (
            "person_in_danger",
            "danger",
            '"my friend wrote she will end her life tonight"; someone may be in danger',
        ),
        # A topic beside the reason is kept.
        (
            "share_note",
            "danger",
            '"my friend wrote she will end her life tonight" (share note); '
            "someone may be in danger",
        ),
        (
            "person_in_danger",
            "sensitive",
            '"my friend wrote she will end her life tonight" (person in danger); '
            "a sensitive topic",
        ),
    ],
)
async def test_the_summary_says_the_reason_once(
    service, engine, intent: str, reason: str, summary: str
) -> None:
    """It read "(person in danger); someone may be in danger"."""
    await add_agent(engine)
    conversation_id = await new_conversation(service)
    await service.conversations.repository.append(
        conversation_id,
        [
            NewMessage(
                "customer",
                "my friend wrote she will end her life tonight",
                meta=nlu(intent, 0.97),
            )
        ],
    )
    handoff = await service.start(conversation_id, reason)
    assert handoff is not None
    assert handoff.summary == summary
    assert (await service.card(handoff.id))["summary"] == summary


async def test_the_card_shows_the_notes_of_the_agent_holding_it(
    service, engine
) -> None:
    agent_id = await add_agent(engine)
    conversation_id = await new_conversation(service)
    await service.conversations.repository.append(
        conversation_id, [NewMessage("customer", "my account is locked")]
    )
    handoff = await service.start(conversation_id, "sensitive")
    assert handoff is not None
    await service.claim(handoff.id, agent_id, "Ann")
    note = await service.add_note(conversation_id, agent_id, "checked the logs")
    card = await service.card(handoff.id)
    assert card["notes"] == [note.public()]
    assert card["notes"][0]["agent"] == {"id": agent_id, "name": "Ann"}
    assert card["handoff"]["state"] == "claimed"
    assert card["handoff"]["agent"] == {"id": agent_id, "name": "Ann"}
    # Notes are never part of what the customer sees.
    assert "checked the logs" not in [m["text"] for m in card["transcript"]]


async def test_a_follow_up_card_shows_the_promise(engine) -> None:
    service = service_for(engine, closed_today())
    try:
        await add_agent(engine)
        conversation_id = await new_conversation(service)
        handoff = await service.start(conversation_id, "fallback")
        assert handoff is not None and handoff.due_at is not None
        card = await service.card(handoff.id)
    finally:
        await service.assistant.close()
    assert card["handoff"]["state"] == "follow_up"
    assert card["handoff"]["follow_up"] == {
        "due_at": handoff.due_at.isoformat(),
        "owner_id": handoff.follow_up_owner_id,
        "unowned": handoff.follow_up_owner_id is None,
        "overdue": False,
    }
    assert card["reason"] == "fallback"


async def test_queue_entries_tell_chats_apart_by_who_asks_what_from_where(
    service, engine
) -> None:
    """Name or e-mail, page and the first real question, also when it comes late."""
    agent_id = await add_agent(engine)
    sam = await new_conversation(
        service,
        user_name="Sam",
        user_email="sam@example.com",
        page_url="https://example.com/billing",
    )
    await service.conversations.repository.append(
        sam,
        [
            NewMessage("customer", "hi", meta=nlu("greet", 0.98)),
            NewMessage("customer", "this is useless", meta=nlu("complaint", 0.7)),
            NewMessage(
                "customer", "I forgot my password", meta=nlu("password_reset", 0.9)
            ),
            NewMessage("customer", "a person please", meta=nlu("request_human", 0.9)),
        ],
    )
    quiet = await new_conversation(service, user_email="kim@example.com")
    await service.conversations.repository.append(
        quiet,
        [NewMessage("customer", "a person please", meta=nlu("request_human", 0.9))],
    )
    for conversation_id in (sam, quiet):
        assert await service.start(conversation_id, "customer_request") is not None

    entries = {e["conversation_id"]: e for e in mine(await service.queue(), sam, quiet)}
    assert entries[sam]["question"] == "I forgot my password"
    assert entries[sam]["customer"] == {
        "name": "Sam",
        "email": "sam@example.com",
        "verified": False,
        "page_url": "https://example.com/billing",
        "locale": None,
    }
    # Nothing asked yet: no question, rather than "No question asked yet".
    assert entries[quiet]["question"] is None
    assert entries[quiet]["customer"]["email"] == "kim@example.com"

    # What the customer writes while waiting (never seen by the bot) counts,
    # and the chat keeps its question once an agent holds it.
    await service.conversations.repository.append(
        quiet,
        [
            NewMessage("customer", "hello?"),
            NewMessage("customer", "My invoice shows the wrong company name"),
        ],
    )
    [waiting] = mine(await service.queue(), quiet)
    assert waiting["question"] == "My invoice shows the wrong company name"
    await service.claim(waiting["id"], agent_id, "Ann")
    [held] = [
        e for e in (await service.queue())["claimed"] if e["conversation_id"] == quiet
    ]
    assert held["question"] == "My invoice shows the wrong company name"
    assert held["customer"]["email"] == "kim@example.com"


def test_account_steps_say_what_was_done_and_what_failed() -> None:
    at = dt.datetime(2026, 12, 3, 10, 2, tzinfo=dt.timezone.utc)

    def entry(id_: int, action: str, **detail: Any) -> AuditRecord:
        return AuditRecord(id_, "assistant", action, "c1", detail, at)

    steps = account_steps(
        [
            entry(
                3,
                "account.reset",
                email="p•••@example.com",
                provider="webhook",
                done=["unlock"],
                result="failed",
            ),
            entry(
                2,
                "account.consent",
                email="p•••@example.com",
                given=True,
                changes=["unlock", "send_link", "sign_out"],
            ),
            entry(1, "account.code_verified", email="p•••@example.com"),
            entry(4, "auth.login_failed", email="x"),
        ]
    )
    assert [step["text"] for step in steps] == [
        "Code verified: the customer reads the mail of p•••@example.com",
        "Consent: the customer said yes to: unlock the account, send a reset "
        "link, sign out other devices",
        "FAILED in the company's account system; done before it failed: unlock "
        "the account",
    ]
    assert steps[0]["at"] == at.isoformat()
    assert account_steps([entry(5, "account.consent", given=False)])[0]["text"] == (
        "Consent: the customer said no; nothing was changed"
    )
    refused = entry(
        6,
        "account.code_refused",
        email="p•••@example.com",
        limit="address",
        retry_after_s=3420,
    )
    assert account_steps([refused])[0]["text"] == (
        "No code sent to p•••@example.com: too many asked for from this client "
        "address in the last hour (again in about 57 min)"
    )

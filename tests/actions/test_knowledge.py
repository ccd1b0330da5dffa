"""The knowledge-base actions with real trackers and a real database."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge
from actions.knowledge import (
    ARTICLE_SLOT,
    QUERY_SLOT,
    REJECTED_SLOT,
    ActionAnswerFromKnowledgeBase,
    ActionKnowledgeFeedback,
)
from bot.config import Settings
from bot.db.models import Conversation
from bot.knowledge import KnowledgeRepository, SharedKnowledgeBase, load_seed
from bot.knowledge.repository import kb_articles, kb_state, kb_versions

DOMAIN_PATH = Path(__file__).resolve().parents[2] / "domain.yml"
DOMAIN: dict[str, Any] = {}


@pytest.fixture
async def knowledge(
    engine: Any, database_url: str, tmp_path: Path
) -> AsyncIterator[SharedKnowledgeBase]:
    """The action server's knowledge base on a freshly seeded database."""
    async with engine.begin() as connection:
        await connection.execute(kb_versions.delete())
        await connection.execute(kb_articles.delete())
        await connection.execute(kb_state.update().values(seeded=False))
    await KnowledgeRepository(engine).seed_if_new(load_seed())
    shared = SharedKnowledgeBase(
        lambda: Settings(data_dir=tmp_path, database_url=database_url)
    )
    yield shared
    await shared.close()


@pytest.fixture
async def conversation_id(engine: Any) -> str:
    """A conversation the hub knows (feedback rows refer to it)."""
    conversation_id = secrets.token_hex(8)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(Conversation.__table__).values(
                id=conversation_id, token_hash="0" * 64, state="bot", last_seq=0
            )
        )
    return conversation_id


def tracker(
    text: str,
    intent: str | None,
    confidence: float = 0.9,
    sender_id: str = "c-1",
    **slots: Any,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
    }
    return Tracker(
        sender_id=sender_id,
        slots={"frustrated": None, **slots},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def run(action: Any, current: Tracker) -> tuple[list[dict[str, Any]], Any]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, current, DOMAIN)
    return dispatcher.messages, events


async def feedback_rows(engine: Any, conversation_id: str) -> list[tuple[str, bool]]:
    feedback = await KnowledgeRepository(engine).feedback_for(conversation_id)
    return [(item.slug, item.helped) for item in feedback]


def test_importing_the_module_does_no_io() -> None:
    assert actions.knowledge.shared_knowledge._knowledge is None


@pytest.mark.parametrize(
    ("text", "intent", "slug"),
    [
        ("I forgot my password and can't sign in", "password_reset", "password-reset"),
        ("how do I get my money back", "refund_request", "refund-request"),
        ("/sync_problem", "sync_problem", "sync-not-working"),
        ("how do I change the email address of my account", "out_of_scope", None),
    ],
)
async def test_answers_with_the_article_and_asks_if_it_helped(
    knowledge: SharedKnowledgeBase, text: str, intent: str, slug: str | None
) -> None:
    messages, events = await run(
        ActionAnswerFromKnowledgeBase(knowledge), tracker(text, intent)
    )
    answer, question = messages
    shown = answer["custom"]["article"]
    if slug is not None:
        assert shown == slug
    article = (await (await knowledge.get()).repository.get(shown)).article
    assert answer["text"].startswith(article.summary.strip())
    assert article.steps[0] in answer["text"]
    assert question["response"] == "utter_did_that_help"
    assert slots(events) == {ARTICLE_SLOT: shown, QUERY_SLOT: text}


@pytest.mark.parametrize(
    ("intent", "response"),
    [("out_of_scope", "utter_out_of_scope"), (None, "utter_kb_not_sure")],
)
async def test_does_not_guess_below_the_threshold(
    knowledge: SharedKnowledgeBase, intent: str | None, response: str
) -> None:
    text = "what is the capital of australia"
    messages, events = await run(
        ActionAnswerFromKnowledgeBase(knowledge), tracker(text, intent, 0.6)
    )
    assert [m["response"] for m in messages] == [response]
    assert slots(events) == {ARTICLE_SLOT: None, QUERY_SLOT: text}


async def test_rejected_articles_are_not_shown_again(
    knowledge: SharedKnowledgeBase,
) -> None:
    current = tracker(
        "I forgot my password",
        "password_reset",
        **{REJECTED_SLOT: ["password-reset"]},
    )
    messages, _ = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    assert all(m.get("custom", {}).get("article") != "password-reset" for m in messages)


async def test_yes_is_recorded_and_resets_the_rejections(
    knowledge: SharedKnowledgeBase, engine: Any, conversation_id: str
) -> None:
    current = tracker(
        "/affirm",
        "affirm",
        sender_id=conversation_id,
        **{ARTICLE_SLOT: "refund-request", REJECTED_SLOT: ["billing-invoice"]},
    )
    messages, events = await run(ActionKnowledgeFeedback(knowledge), current)
    assert [m["response"] for m in messages] == ["utter_glad_to_help"]
    assert slots(events) == {ARTICLE_SLOT: None, REJECTED_SLOT: None}
    assert await feedback_rows(engine, conversation_id) == [("refund-request", True)]


async def test_first_no_offers_the_next_article(
    knowledge: SharedKnowledgeBase, engine: Any, conversation_id: str
) -> None:
    question = "my notes are not syncing"
    first, _ = await run(
        ActionAnswerFromKnowledgeBase(knowledge), tracker(question, None)
    )
    shown = first[0]["custom"]["article"]
    current = tracker(
        "/deny",
        "deny",
        sender_id=conversation_id,
        **{ARTICLE_SLOT: shown, QUERY_SLOT: question},
    )
    messages, events = await run(ActionKnowledgeFeedback(knowledge), current)
    assert await feedback_rows(engine, conversation_id) == [(shown, False)]
    assert messages[0]["response"] == "utter_kb_next_article"
    following = messages[1]["custom"]["article"]
    assert following != shown
    assert messages[2]["response"] == "utter_did_that_help"
    assert slots(events) == {ARTICLE_SLOT: following, REJECTED_SLOT: [shown]}


async def test_first_no_asks_a_clarifying_question_without_another_article(
    knowledge: SharedKnowledgeBase, conversation_id: str
) -> None:
    current = tracker(
        "/deny",
        "deny",
        sender_id=conversation_id,
        **{ARTICLE_SLOT: "service-status", QUERY_SLOT: "zzz qqq"},
    )
    messages, events = await run(ActionKnowledgeFeedback(knowledge), current)
    assert [m["response"] for m in messages] == ["utter_kb_clarify"]
    assert slots(events) == {ARTICLE_SLOT: None, REJECTED_SLOT: ["service-status"]}


async def test_second_no_hands_over_to_a_person(
    knowledge: SharedKnowledgeBase, engine: Any, conversation_id: str
) -> None:
    current = tracker(
        "no",
        "deny",
        sender_id=conversation_id,
        **{
            ARTICLE_SLOT: "account-locked",
            QUERY_SLOT: "can't sign in",
            REJECTED_SLOT: ["password-reset"],
        },
    )
    messages, events = await run(ActionKnowledgeFeedback(knowledge), current)
    assert messages[0]["response"] == "utter_handoff"
    assert messages[1]["custom"] == {"handoff": {"reason": "kb_rejected"}}
    assert slots(events) == {ARTICLE_SLOT: None, REJECTED_SLOT: None}
    assert await feedback_rows(engine, conversation_id) == [("account-locked", False)]


@pytest.mark.parametrize(
    ("intent", "article"),
    [("affirm", None), ("deny", None), ("greet", "password-reset")],
)
async def test_nothing_to_rate(
    knowledge: SharedKnowledgeBase, intent: str, article: str | None
) -> None:
    current = tracker("yes", intent, **{ARTICLE_SLOT: article})
    messages, events = await run(ActionKnowledgeFeedback(knowledge), current)
    assert [m["response"] for m in messages] == ["utter_anything_else"]
    assert events == []


async def test_a_broken_database_hands_over(tmp_path: Path) -> None:
    # A database without Baton's tables: every query fails.
    broken = SharedKnowledgeBase(
        lambda: Settings(
            data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'empty.db'}"
        )
    )
    try:
        messages, _ = await run(
            ActionAnswerFromKnowledgeBase(broken),
            tracker("I forgot my password", "password_reset"),
        )
    finally:
        await broken.close()
    assert messages[0]["response"] == "utter_handoff"
    assert messages[1]["custom"] == {"handoff": {"reason": "bot_unavailable"}}


async def test_feedback_for_an_unknown_conversation_does_not_stop_the_chat(
    knowledge: SharedKnowledgeBase,
) -> None:
    current = tracker(
        "/affirm", "affirm", sender_id="not-a-hub-conversation", kb_article="x"
    )
    messages, _ = await run(ActionKnowledgeFeedback(knowledge), current)
    assert [m["response"] for m in messages] == ["utter_glad_to_help"]


def test_the_domain_declares_what_the_actions_use() -> None:
    domain = yaml.safe_load(DOMAIN_PATH.read_text(encoding="utf-8"))
    assert {"action_answer_from_kb", "action_kb_feedback"} <= set(domain["actions"])
    assert {ARTICLE_SLOT, QUERY_SLOT, REJECTED_SLOT} <= set(domain["slots"])
    assert {
        "utter_did_that_help",
        "utter_glad_to_help",
        "utter_kb_not_sure",
        "utter_kb_next_article",
        "utter_kb_clarify",
        "utter_out_of_scope",
        "utter_handoff",
        "utter_anything_else",
    } <= set(domain["responses"])
    names = {
        ActionAnswerFromKnowledgeBase().name(),
        ActionKnowledgeFeedback().name(),
    }
    assert names == {"action_answer_from_kb", "action_kb_feedback"}

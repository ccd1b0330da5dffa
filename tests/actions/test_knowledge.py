"""The knowledge-base actions with real trackers and a real database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge
from actions.knowledge import (
    ARTICLE_SLOT,
    OFFER_EXITS,
    OFFERED_SLOT,
    QUERY_SLOT,
    REJECTED_SLOT,
    ActionAnswerFromKnowledgeBase,
    ActionAnswerIfKnown,
    ActionChooseArticle,
    ActionKnowledgeFeedback,
    choice_payload,
)
from bot.config import Settings
from bot.knowledge import (
    ArticleFeedbackRepository,
    KnowledgeRepository,
    SharedKnowledgeBase,
    answer_text,
)
from tests.bot.knowledge.test_repository import new_conversation

DOMAIN_PATH = Path(__file__).resolve().parents[2] / "domain.yml"
DOMAIN: dict[str, Any] = {}
DOMAIN_RESPONSES: dict[str, Any] = yaml.safe_load(DOMAIN_PATH.read_text())["responses"]
#: Matches the two two-factor articles about as well as each other.
AMBIGUOUS = "a question about my two factor codes"


@pytest.fixture
async def conversation_id(engine: Any) -> str:
    """A conversation the hub knows (feedback rows refer to it)."""
    return await new_conversation(engine)


def tracker(
    text: str,
    intent: str | None,
    confidence: float = 0.9,
    sender_id: str = "c-1",
    entities: list[dict[str, Any]] | None = None,
    **slots: Any,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "entities": entities or [],
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
    feedback = await ArticleFeedbackRepository(engine).for_conversation(conversation_id)
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
    assert slots(events) == {ARTICLE_SLOT: shown, QUERY_SLOT: text, OFFERED_SLOT: None}


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
    assert slots(events) == {ARTICLE_SLOT: None, QUERY_SLOT: text, OFFERED_SLOT: None}


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
    confident: SharedKnowledgeBase, engine: Any, conversation_id: str
) -> None:
    # Whether the next article is confident enough depends on the tuning;
    # here it always is (the offer instead: test_a_rejected_choice_...).
    knowledge = confident
    question = "my notes are not syncing"
    first, _ = await run(
        ActionAnswerFromKnowledgeBase(knowledge), tracker(question, "sync_problem")
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


@pytest.mark.parametrize(
    ("shown", "query"),
    [
        ("service-status", "zzz qqq"),
        # The only other articles sharing words with a forgotten password are
        # far behind it (a refund among them): none is offered.
        ("password-reset", "I forgot my password"),
    ],
)
async def test_first_no_asks_to_say_more_and_offers_nothing_unrelated(
    knowledge: SharedKnowledgeBase, conversation_id: str, shown: str, query: str
) -> None:
    """The customer is asked to say more, with a person one tap away."""
    current = tracker(
        "/deny",
        "deny",
        sender_id=conversation_id,
        **{ARTICLE_SLOT: shown, QUERY_SLOT: query},
    )
    messages, events = await run(ActionKnowledgeFeedback(knowledge), current)
    assert [m["response"] for m in messages] == ["utter_kb_clarify"]
    assert not [m for m in messages if m.get("buttons")]  # none but the domain's
    assert slots(events) == {ARTICLE_SLOT: None, REJECTED_SLOT: [shown]}


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
    names = {
        ActionAnswerFromKnowledgeBase().name(),
        ActionChooseArticle().name(),
        ActionKnowledgeFeedback().name(),
    }
    assert names == {
        "action_answer_from_kb",
        "action_kb_choose_article",
        "action_kb_feedback",
    }
    assert names <= set(domain["actions"])
    assert {ARTICLE_SLOT, QUERY_SLOT, REJECTED_SLOT, OFFERED_SLOT} <= set(
        domain["slots"]
    )
    assert {"choose_article", "none_of_these", "request_human"} <= set(
        domain["intents"]
    )
    assert {"utter_did_that_help", "utter_kb_offer", "utter_kb_next_offer"} <= set(
        domain["responses"]
    )
    assert {
        "utter_glad_to_help",
        "utter_kb_not_sure",
        "utter_kb_next_article",
        "utter_kb_clarify",
        "utter_kb_which_one",
        "utter_kb_article_gone",
        "utter_kb_describe",
        "utter_out_of_scope",
        "utter_handoff",
        "utter_anything_else",
    } <= set(domain["responses"])
    # The offers' buttons come from the action alone, articles first.
    assert "buttons" not in domain["responses"]["utter_kb_offer"][0]
    assert "buttons" not in domain["responses"]["utter_kb_next_offer"][0]


@pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed")
def test_an_article_button_is_understood_by_rasa() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import (
        YAMLStoryReader,
    )
    from rasa.shared.nlu.training_data.message import Message

    payload = choice_payload("two-factor-reset")
    assert payload == '/choose_article{"article":"two-factor-reset"}'
    parsed = YAMLStoryReader.unpack_regex_message(
        Message(data={"text": payload}), Domain.load(str(DOMAIN_PATH))
    )
    assert parsed.get("intent")["name"] == "choose_article"
    assert [(e["entity"], e["value"]) for e in parsed.get("entities")] == [
        ("article", "two-factor-reset")
    ]


async def test_offers_the_plausible_articles_as_buttons(
    unsure: SharedKnowledgeBase,
) -> None:
    messages, events = await run(
        ActionAnswerFromKnowledgeBase(unsure), tracker(AMBIGUOUS, "two_factor_problem")
    )
    [offer] = messages
    assert offer["response"] == "utter_kb_offer"
    offered = slots(events)[OFFERED_SLOT]
    assert {"two-factor-reset", "two-factor-setup"} <= set(offered)
    assert len(offered) <= 3
    repository = (await unsure.get()).repository
    articles = [(await repository.get(slug)).article for slug in offered]
    assert offer["buttons"] == [
        *(
            {"title": article.title, "payload": choice_payload(article.slug)}
            for article in articles
        ),
        {"title": "Something else", "payload": "/none_of_these"},
        {"title": "Talk to a person", "payload": "/request_human"},
    ]
    assert list(OFFER_EXITS) == offer["buttons"][-2:]
    assert slots(events) == {
        ARTICLE_SLOT: None,
        QUERY_SLOT: AMBIGUOUS,
        OFFERED_SLOT: offered,
    }


async def test_rejected_articles_are_not_offered(unsure: SharedKnowledgeBase) -> None:
    current = tracker(
        AMBIGUOUS, "two_factor_problem", **{REJECTED_SLOT: ["two-factor-reset"]}
    )
    _, events = await run(ActionAnswerFromKnowledgeBase(unsure), current)
    offered = slots(events)[OFFERED_SLOT]
    assert "two-factor-setup" in offered
    assert "two-factor-reset" not in offered


@pytest.mark.parametrize(
    ("text", "intent", "response"),
    [
        # Out of scope: articles sharing a word would be noise, as before.
        (AMBIGUOUS, "out_of_scope", "utter_out_of_scope"),
        ("recommend a good pizza recipe", None, "utter_kb_not_sure"),
    ],
)
async def test_no_offer(
    unsure: SharedKnowledgeBase, text: str, intent: str | None, response: str
) -> None:
    messages, events = await run(
        ActionAnswerFromKnowledgeBase(unsure), tracker(text, intent)
    )
    assert [m["response"] for m in messages] == [response]
    assert slots(events) == {ARTICLE_SLOT: None, QUERY_SLOT: text, OFFERED_SLOT: None}


OFFERED = ["two-factor-reset", "two-factor-setup", "password-reset"]


def choosing(text: str, **extra: Any) -> Tracker:
    return tracker(
        text,
        "choose_article",
        **{OFFERED_SLOT: OFFERED, QUERY_SLOT: AMBIGUOUS, **extra},
    )


async def assert_answered_with(
    knowledge: SharedKnowledgeBase, messages: list[dict[str, Any]], slug: str
) -> None:
    answer, question = messages
    article = (await (await knowledge.get()).repository.get(slug)).article
    assert answer["custom"] == {"article": slug}
    assert answer["text"] == answer_text(article)
    assert question["response"] == "utter_did_that_help"


async def test_a_button_shows_the_chosen_article(
    unsure: SharedKnowledgeBase,
) -> None:
    slug = "two-factor-setup"
    current = choosing(
        choice_payload(slug), entities=[{"entity": "article", "value": slug}]
    )
    messages, events = await run(ActionChooseArticle(unsure), current)
    await assert_answered_with(unsure, messages, slug)
    assert slots(events) == {ARTICLE_SLOT: slug}


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("the second one please", "two-factor-setup"),
        ("option 1", "two-factor-reset"),
        ("the last one", "password-reset"),
    ],
)
async def test_a_position_shows_the_offered_article(
    unsure: SharedKnowledgeBase, text: str, slug: str
) -> None:
    messages, events = await run(ActionChooseArticle(unsure), choosing(text))
    await assert_answered_with(unsure, messages, slug)
    assert slots(events) == {ARTICLE_SLOT: slug}


@pytest.mark.parametrize(
    ("text", "offered", "response"),
    [
        ("the fourth one", OFFERED, "utter_kb_which_one"),
        ("that one", OFFERED, "utter_kb_which_one"),
        ("the second one", None, "utter_kb_not_sure"),
    ],
)
async def test_an_unclear_choice_changes_nothing(
    unsure: SharedKnowledgeBase, text: str, offered: Any, response: str
) -> None:
    messages, events = await run(
        ActionChooseArticle(unsure), choosing(text, **{OFFERED_SLOT: offered})
    )
    assert [m["response"] for m in messages] == [response]
    assert events == []


async def test_an_unpublished_choice_is_not_shown(
    unsure: SharedKnowledgeBase,
) -> None:
    await KnowledgeRepository((await unsure.get()).repository.engine).update(
        "two-factor-setup", {"status": "draft"}, author=None
    )
    messages, events = await run(ActionChooseArticle(unsure), choosing("option 2"))
    assert [m["response"] for m in messages] == ["utter_kb_article_gone"]
    assert slots(events) == {ARTICLE_SLOT: None, OFFERED_SLOT: None}


async def test_a_rejected_choice_brings_the_others_then_a_person(
    unsure: SharedKnowledgeBase, engine: Any, conversation_id: str
) -> None:
    def turn(text: str, intent: str, **state: Any) -> Tracker:
        return tracker(text, intent, sender_id=conversation_id, **state)

    _, events = await run(
        ActionAnswerFromKnowledgeBase(unsure), turn(AMBIGUOUS, "two_factor_problem")
    )
    state = slots(events)
    first = state[OFFERED_SLOT][0]
    messages, events = await run(
        ActionChooseArticle(unsure), turn("the first one", "choose_article", **state)
    )
    assert messages[0]["custom"] == {"article": first}
    state.update(slots(events))

    messages, events = await run(
        ActionKnowledgeFeedback(unsure), turn("/deny", "deny", **state)
    )
    [offer] = messages
    assert offer["response"] == "utter_kb_next_offer"
    state.update(slots(events))
    assert state[REJECTED_SLOT] == [first]
    assert state[ARTICLE_SLOT] is None
    others = state[OFFERED_SLOT]
    assert others and first not in others
    assert offer["buttons"][0]["payload"] == choice_payload(others[0])

    second = others[0]
    messages, events = await run(
        ActionChooseArticle(unsure),
        turn(
            choice_payload(second),
            "choose_article",
            entities=[{"entity": "article", "value": second}],
            **state,
        ),
    )
    await assert_answered_with(unsure, messages, second)
    state.update(slots(events))

    messages, events = await run(
        ActionKnowledgeFeedback(unsure), turn("no", "deny", **state)
    )
    assert messages[0]["response"] == "utter_handoff"
    assert messages[1]["custom"] == {"handoff": {"reason": "kb_rejected"}}
    assert await feedback_rows(engine, conversation_id) == [
        (first, False),
        (second, False),
    ]


def decided(text: str, intent: str, slug: str | None, **slots: Any) -> Tracker:
    """A tracker whose message the NLU's knowledge search answered with ``slug``."""
    current = tracker(text, intent, 0.6, **slots)
    current.latest_message["knowledge"] = {"article": slug, "confidence": 0.97}
    return current


async def test_the_article_the_nlu_decided_on_is_the_answer(
    knowledge: SharedKnowledgeBase,
) -> None:
    # The action's own search would not answer this with two-factor-setup;
    # the customer gets the article the intent was decided on.
    current = decided("a question for you", "out_of_scope", "two-factor-setup")
    messages, events = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    assert messages[0]["custom"]["article"] == "two-factor-setup"
    assert messages[1]["response"] == "utter_did_that_help"
    assert slots(events)[ARTICLE_SLOT] == "two-factor-setup"


async def test_an_acknowledged_article_says_sorry_and_offers_a_person(
    knowledge: SharedKnowledgeBase,
) -> None:
    # "wtf how do I turn off these notifications" (bot/nlu/decision.py: soften).
    current = decided("wtf how do I turn off these notifications", "out_of_scope", None)
    current.latest_message["knowledge"] = {
        "article": "notifications",
        "acknowledge": True,
    }
    messages, events = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    sorry, answer, question = messages
    assert sorry["response"] == "utter_kb_acknowledge"
    assert answer["custom"]["article"] == "notifications"
    assert question["response"] == "utter_did_that_help_or_person"
    buttons = DOMAIN_RESPONSES["utter_did_that_help_or_person"][0]["buttons"]
    assert {"title": "Talk to a person", "payload": "/request_human"} in buttons
    assert slots(events)[ARTICLE_SLOT] == "notifications"


async def test_an_article_for_a_message_half_taken_for_danger_gives_the_numbers(
    knowledge: SharedKnowledgeBase,
) -> None:
    # "i deleted a note by accident yesterday is it gone forever"
    # (bot/nlu/decision.py: danger_intents): the article, then where to get
    # help right now, then a person one click away.
    text = "i deleted a note by accident yesterday is it gone forever"
    current = decided(text, "out_of_scope", None)
    current.latest_message["knowledge"] = {
        "article": "restore-deleted-note",
        "safety": True,
    }
    messages, events = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    answer, safety, question = messages
    assert answer["custom"]["article"] == "restore-deleted-note"
    assert safety["response"] == "utter_kb_safety"
    line = DOMAIN_RESPONSES["utter_kb_safety"][0]["text"]
    assert "112" in line and "911" in line and "Talk to a person" in line
    assert question["response"] == "utter_did_that_help_or_person"
    assert slots(events)[ARTICLE_SLOT] == "restore-deleted-note"


async def test_a_question_about_another_product_gets_no_article(
    knowledge: SharedKnowledgeBase,
) -> None:
    current = tracker("dropbox not syncing", "out_of_scope", 0.97)
    current.latest_message["knowledge"] = {
        "article": None,
        "other_product": "dropbox",
    }
    messages, events = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    assert messages == [
        {
            **messages[0],
            "response": "utter_other_product",
            "product": "Dropbox",
        }
    ]
    assert "custom" not in messages[0] or not messages[0]["custom"]
    assert slots(events) == {
        ARTICLE_SLOT: None,
        QUERY_SLOT: "dropbox not syncing",
        OFFERED_SLOT: None,
    }
    assert "{product}" in DOMAIN_RESPONSES["utter_other_product"][0]["text"]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("icloud", "iCloud"),
        ("ONEDRIVE", "OneDrive"),
        ("google  drive", "Google Drive"),
        ("whatsapp", "WhatsApp"),
        # Not in the lookup table: as typed, capitalised if all lower case.
        ("frobnicator", "Frobnicator"),
        ("FrobNicator", "FrobNicator"),
    ],
)
async def test_another_product_is_named_as_its_maker_spells_it(
    knowledge: SharedKnowledgeBase, typed: str, shown: str
) -> None:
    current = tracker(f"{typed} not syncing", "out_of_scope", 0.97)
    current.latest_message["knowledge"] = {"article": None, "other_product": typed}
    messages, _ = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    assert messages[0]["response"] == "utter_other_product"
    assert messages[0]["product"] == shown


async def test_a_decided_article_the_customer_rejected_is_not_shown(
    knowledge: SharedKnowledgeBase,
) -> None:
    current = decided(
        "I forgot my password",
        "password_reset",
        "password-reset",
        **{REJECTED_SLOT: ["password-reset"]},
    )
    messages, _ = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    assert all(m.get("custom", {}).get("article") != "password-reset" for m in messages)


async def test_the_article_still_waiting_for_feedback_is_not_repeated(
    knowledge: SharedKnowledgeBase,
) -> None:
    # "Did that solve it?" was answered with the same problem again.
    current = decided(
        "no, my notes still don't sync",
        "sync_problem",
        "sync-not-working",
        **{ARTICLE_SLOT: "sync-not-working"},
    )
    messages, _ = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    shown = [m.get("custom", {}).get("article") for m in messages]
    assert "sync-not-working" not in shown


async def test_a_decided_article_unpublished_since_is_searched_again(
    knowledge: SharedKnowledgeBase,
) -> None:
    current = decided("I forgot my password", "password_reset", "no-such-article")
    messages, _ = await run(ActionAnswerFromKnowledgeBase(knowledge), current)
    assert messages[0]["custom"]["article"] == "password-reset"


@pytest.mark.parametrize(
    ("intent", "response"),
    [
        ("affirm", "utter_anything_else"),
        ("deny", "utter_anything_else"),
        ("none_of_these", "utter_kb_describe"),
    ],
)
async def test_out_of_context_answers_keep_their_reply_without_an_article(
    knowledge: SharedKnowledgeBase, intent: str, response: str
) -> None:
    messages, events = await run(
        ActionAnswerIfKnown(knowledge), decided("no", intent, None)
    )
    assert [m["response"] for m in messages] == [response]
    assert events == []


async def test_a_question_taken_for_a_no_gets_its_article(
    knowledge: SharedKnowledgeBase,
) -> None:
    current = decided("can i use the web app with no wifi", "deny", "offline-mode")
    messages, events = await run(ActionAnswerIfKnown(knowledge), current)
    assert messages[0]["custom"]["article"] == "offline-mode"
    assert messages[1]["response"] == "utter_did_that_help"
    assert slots(events) == {
        ARTICLE_SLOT: "offline-mode",
        QUERY_SLOT: "can i use the web app with no wifi",
        OFFERED_SLOT: None,
    }

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import (
    INTENT_PHRASES,
    NOT_SUGGESTED,
    ActionDefaultAskAffirmation,
    ActionDefaultAskRephrase,
    ActionDefaultFallback,
    describe_intent,
    intent_to_suggest,
)
from actions.knowledge import choice_payload
from bot.config import Settings
from bot.knowledge import SharedKnowledgeBase

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"


def ranking(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "confidence": round(0.9 - 0.1 * i, 2)}
        for i, name in enumerate(names)
    ]


def parse_data(*names: str) -> dict[str, Any]:
    ranked = ranking(*names)
    return {
        "text": "purple monkey dishwasher",
        "intent": ranked[0] if ranked else {},
        "intent_ranking": ranked,
    }


def tracker_with(
    latest_message: dict[str, Any], active_loop: str | None = None
) -> Tracker:
    return Tracker(
        sender_id="c-1",
        slots={},
        latest_message=latest_message,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("nlu_fallback", "sync_problem", "greet"), "sync_problem"),
        (
            ("nlu_fallback", "out_of_scope", "affirm", "refund_request"),
            "refund_request",
        ),
        (("billing_question", "refund_request"), "billing_question"),
        (("nlu_fallback", "deny"), None),
        ((), None),
    ],
)
def test_intent_to_suggest_skips_what_cannot_be_confirmed(
    names: tuple[str, ...], expected: str | None
) -> None:
    assert intent_to_suggest(parse_data(*names)) == expected


def test_every_suggestable_domain_intent_has_a_phrase() -> None:
    intents = set(yaml.safe_load(DOMAIN.read_text())["intents"])

    assert intents - NOT_SUGGESTED == set(INTENT_PHRASES)


def test_describe_intent_words_an_intent_without_a_phrase() -> None:
    assert describe_intent("password_reset") == INTENT_PHRASES["password_reset"]
    assert describe_intent("export_notes") == "'export notes'"


async def test_ask_affirmation_offers_yes_no_and_a_person(
    knowledge: SharedKnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_with(parse_data("nlu_fallback", "sync_problem"))

    events = await ActionDefaultAskAffirmation(knowledge).run(dispatcher, tracker, {})

    assert events == []
    [message] = dispatcher.messages
    assert message["text"] == (
        "Sorry, I'm not sure I understood. Did you mean that your notes aren't "
        "syncing between devices?"
    )
    assert "sync_problem" not in message["text"]
    assert message["buttons"] == [
        {"title": "Yes", "payload": "/sync_problem"},
        {"title": "No", "payload": "/out_of_scope"},
        {"title": "Talk to a person", "payload": "/request_human"},
    ]


async def test_ask_affirmation_without_a_candidate_asks_to_rephrase(
    knowledge: SharedKnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_with(parse_data("nlu_fallback"))

    await ActionDefaultAskAffirmation(knowledge).run(dispatcher, tracker, {})

    [message] = dispatcher.messages
    assert "Did you mean" not in message["text"]
    assert message["buttons"] == [
        {"title": "Talk to a person", "payload": "/request_human"}
    ]


def unsure_about(text: str) -> dict[str, Any]:
    """What the NLU gives a message it is not sure about."""
    return {**parse_data("nlu_fallback", "account_locked"), "text": text}


async def test_ask_affirmation_names_the_article_the_knowledge_base_is_sure_of(
    knowledge: SharedKnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    text = "I lost my phone and the authenticator app with my 2fa codes"
    tracker = tracker_with(unsure_about(text))

    events = await ActionDefaultAskAffirmation(knowledge).run(dispatcher, tracker, {})

    assert events == []
    [message] = dispatcher.messages
    assert message["text"] == (
        "Sorry, I'm not sure I understood. Is your question about "
        "\u201cLost access to two-factor authentication\u201d?"
    )
    assert message["buttons"] == [
        {"title": "Yes", "payload": choice_payload("two-factor-reset")},
        {"title": "No", "payload": "/out_of_scope"},
        {"title": "Talk to a person", "payload": "/request_human"},
    ]


async def test_ask_affirmation_names_the_article_the_nlu_search_was_sure_of(
    unsure: SharedKnowledgeBase,
) -> None:
    # A confident request for a person that the knowledge search found a
    # how-to question in (bot.nlu.knowledge asks instead of handing over):
    # the article it found is named, even when the text alone is not enough.
    dispatcher = CollectingDispatcher()
    latest = {
        **unsure_about("how do I get my colleague into our workspace"),
        "knowledge": {"article": "team-invite", "confidence": 0.995},
    }
    await ActionDefaultAskAffirmation(unsure).run(dispatcher, tracker_with(latest), {})
    [message] = dispatcher.messages
    assert message["text"].endswith("\u201cInvite people to your team\u201d?")
    assert message["buttons"][0] == {
        "title": "Yes",
        "payload": choice_payload("team-invite"),
    }
    assert message["buttons"][2] == {
        "title": "Talk to a person",
        "payload": "/request_human",
    }


async def test_ask_affirmation_suggests_the_intent_when_no_article_is_sure(
    unsure: SharedKnowledgeBase,
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_with(unsure_about("I lost my phone and my 2fa codes"))

    await ActionDefaultAskAffirmation(unsure).run(dispatcher, tracker, {})

    [message] = dispatcher.messages
    assert message["text"].endswith("Did you mean that your account is locked?")
    assert message["buttons"][0] == {"title": "Yes", "payload": "/account_locked"}


async def test_ask_affirmation_without_a_knowledge_base_still_suggests_the_intent(
    tmp_path: Path,
) -> None:
    unreachable = SharedKnowledgeBase(
        lambda: Settings(
            data_dir=tmp_path, database_url="postgresql://baton@127.0.0.1:9/none"
        )
    )
    dispatcher = CollectingDispatcher()
    tracker = tracker_with(unsure_about("I lost my phone and my 2fa codes"))
    try:
        await ActionDefaultAskAffirmation(unreachable).run(dispatcher, tracker, {})
    finally:
        await unreachable.close()

    [message] = dispatcher.messages
    assert message["text"].endswith("Did you mean that your account is locked?")


async def test_ask_rephrase_offers_topics_and_a_person() -> None:
    dispatcher = CollectingDispatcher()

    await ActionDefaultAskRephrase().run(
        dispatcher, tracker_with(parse_data("out_of_scope")), {}
    )

    [message] = dispatcher.messages
    payloads = [button["payload"] for button in message["buttons"]]
    assert "/request_human" in payloads
    assert all(payload.startswith("/") for payload in payloads)


@pytest.mark.parametrize(
    ("active_loop", "events"),
    [
        ("action_two_stage_fallback", []),
        (None, [{"event": "rewind", "timestamp": None}]),
    ],
)
async def test_default_fallback_hands_over(
    active_loop: str | None, events: list[dict[str, Any]]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_with(parse_data("out_of_scope"), active_loop)

    assert await ActionDefaultFallback().run(dispatcher, tracker, {}) == events
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff"
    assert message["custom"] == {"handoff": {"reason": "fallback"}}


def test_action_names_replace_rasa_defaults() -> None:
    assert ActionDefaultAskAffirmation().name() == "action_default_ask_affirmation"
    assert ActionDefaultAskRephrase().name() == "action_default_ask_rephrase"
    assert ActionDefaultFallback().name() == "action_default_fallback"

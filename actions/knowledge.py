"""Answering support questions from the knowledge base (``bot.knowledge``).

``action_answer_from_kb`` answers a support question with the best article,
its text and steps, and asks "Did that solve your problem?". The article's
slug travels in the message's custom payload, which the hub puts on the wire
as ``meta.article``. Below the score threshold the bot does not guess: it asks
the customer to say more, or offers a person.

``action_kb_feedback`` handles the answer to "Did that solve your problem?":
it records it (``feedback`` table, for trainers and the handoff card); after
a "no" it tries the next best article, or asks a clarifying question; after
the second "no" it hands the conversation to a person (reason
``kb_rejected``).

The knowledge base and its database engine are created on the first run,
from the ``BATON_`` settings the action server shares with the hub; the
index follows every edit of the articles without a restart.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import HandoffReason, handoff_message
from bot.knowledge import MAX_REJECTIONS, Answer, SharedKnowledgeBase

logger = logging.getLogger(__name__)

ARTICLE_SLOT = "kb_article"
QUERY_SLOT = "kb_query"
REJECTED_SLOT = "kb_rejected"
#: Handoff reason when the customer said twice that an answer did not help.
KB_REJECTED = HandoffReason.KB_REJECTED
#: Handoff reason when the knowledge base cannot be read.
UNAVAILABLE = HandoffReason.BOT_UNAVAILABLE

#: The knowledge base of this action server process, created on first use.
shared_knowledge = SharedKnowledgeBase()


def article_payload(answer: Answer) -> dict[str, Any]:
    """The custom payload of an answer message: the article's slug."""
    return {"article": answer.slug}


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    confidence = intent.get("confidence")
    return intent.get("name"), float(confidence) if confidence is not None else 0.0


def _rejected(tracker: Tracker) -> list[str]:
    value = tracker.get_slot(REJECTED_SLOT)
    return [str(slug) for slug in value] if isinstance(value, list) else []


def _send_answer(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    dispatcher.utter_message(text=answer.text, json_message=article_payload(answer))
    dispatcher.utter_message(response="utter_did_that_help")


def _hand_over(
    dispatcher: CollectingDispatcher, reason: HandoffReason
) -> list[dict[str, Any]]:
    dispatcher.utter_message(response="utter_handoff")
    dispatcher.utter_message(json_message=handoff_message(reason))
    return [SlotSet(ARTICLE_SLOT, None), SlotSet(REJECTED_SLOT, None)]


class KnowledgeAction(Action, abc.ABC):
    """An action that uses the knowledge base (not registered itself).

    Args:
        knowledge: Where the knowledge base comes from; the process's shared
            one by default.
    """

    def __init__(self, knowledge: SharedKnowledgeBase | None = None) -> None:
        self.knowledge = knowledge or shared_knowledge

    @abc.abstractmethod
    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""


class ActionAnswerFromKnowledgeBase(KnowledgeAction):
    """Answers a support question with the best knowledge-base article."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_answer_from_kb"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Answer the latest message from the knowledge base, or ask for more.

        Articles the customer already rejected (since the last one that
        helped) are not offered again.

        Returns:
            The slots remembering the article shown and the question asked.
        """
        query = tracker.latest_message.get("text") or ""
        intent, confidence = _intent(tracker)
        try:
            knowledge = await self.knowledge.get()
            answer = await knowledge.answer(
                query,
                intent=intent,
                intent_confidence=confidence,
                exclude=_rejected(tracker),
            )
        except Exception:
            # The edge of the action: never leave the customer without an owner.
            logger.exception("knowledge base unavailable")
            return _hand_over(dispatcher, UNAVAILABLE)
        if answer is None:
            out_of_scope = intent == "out_of_scope"
            response = "utter_out_of_scope" if out_of_scope else "utter_kb_not_sure"
            dispatcher.utter_message(response=response)
            return [SlotSet(ARTICLE_SLOT, None), SlotSet(QUERY_SLOT, query)]
        _send_answer(dispatcher, answer)
        return [SlotSet(ARTICLE_SLOT, answer.slug), SlotSet(QUERY_SLOT, query)]


class ActionKnowledgeFeedback(KnowledgeAction):
    """Records "Did that solve your problem?" and acts on the answer."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_kb_feedback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Act on a yes or no to the article last shown.

        - yes: record it, say so, forget the rejected articles;
        - no: record it; after :data:`MAX_REJECTIONS` "no"s hand over to a
          person, else offer the next best article for the same question, or
          ask a clarifying question when no other article is good enough.

        Returns:
            The updated knowledge-base slots.
        """
        slug = tracker.get_slot(ARTICLE_SLOT)
        intent, _ = _intent(tracker)
        if not isinstance(slug, str) or intent not in {"affirm", "deny"}:
            dispatcher.utter_message(response="utter_anything_else")
            return []
        helped = intent == "affirm"
        try:
            knowledge = await self.knowledge.get()
            await knowledge.record_feedback(tracker.sender_id, slug, helped=helped)
        except Exception:
            # Losing one feedback row must not stop the conversation.
            logger.exception("could not record article feedback")
            knowledge = None
        if helped:
            dispatcher.utter_message(response="utter_glad_to_help")
            return [SlotSet(ARTICLE_SLOT, None), SlotSet(REJECTED_SLOT, None)]
        rejected = [*_rejected(tracker), slug]
        if len(rejected) >= MAX_REJECTIONS:
            return _hand_over(dispatcher, KB_REJECTED)
        if knowledge is None:
            return _hand_over(dispatcher, UNAVAILABLE)
        query = tracker.get_slot(QUERY_SLOT)
        answer = None
        if isinstance(query, str) and query:
            try:
                answer = await knowledge.answer(query, exclude=rejected)
            except Exception:
                logger.exception("knowledge base unavailable")
                return _hand_over(dispatcher, UNAVAILABLE)
        if answer is None:
            dispatcher.utter_message(response="utter_kb_clarify")
            return [SlotSet(ARTICLE_SLOT, None), SlotSet(REJECTED_SLOT, rejected)]
        dispatcher.utter_message(response="utter_kb_next_article")
        _send_answer(dispatcher, answer)
        return [SlotSet(ARTICLE_SLOT, answer.slug), SlotSet(REJECTED_SLOT, rejected)]

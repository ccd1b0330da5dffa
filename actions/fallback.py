"""Wording of Rasa's two-stage fallback, and giving up to a person.

Rasa runs the loop (rasa/core/actions/two_stage_fallback.py); these actions
replace its defaults:

1. ``action_default_ask_affirmation`` asks "Did you mean ...?" in words rather
   than intent names. When the knowledge base is confident about the message
   on its own words (the NLU was not sure of the intent, the text search
   is), it names that article instead, and "Yes" sends the article's
   ``/choose_article{"article": ...}`` payload, which the loop replays and
   ``action_kb_choose_article`` answers. Otherwise "Yes" sends ``/<intent>``.
   "No" sends ``/out_of_scope``, the intent the loop takes as a rejected
   suggestion.
2. ``action_default_ask_rephrase`` asks the customer to say it differently.
3. ``action_default_fallback`` runs when Rasa gives up: the loop runs it when the
   customer is still not understood, and RulePolicy predicts it when no rule
   fits the conversation. Either way a person takes over (reason ``fallback``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import HandoffReason, handoff_message
from actions.knowledge import KnowledgeAction, choice_payload
from bot.knowledge import Answer
from bot.nlu.decision import decided_article

TWO_STAGE_FALLBACK = "action_two_stage_fallback"
logger = logging.getLogger(__name__)

NLU_FALLBACK_INTENT = "nlu_fallback"
# The loop treats this intent as "No, that's not what I meant".
REJECTION_INTENT = "out_of_scope"
# Never offered as "Did you mean ...?": the fallback and rejection intents would
# make "Yes" meaningless, "Did you mean yes?" helps nobody, and choosing among
# offered articles only makes sense right after an offer.
NOT_SUGGESTED = frozenset(
    {
        NLU_FALLBACK_INTENT,
        REJECTION_INTENT,
        "affirm",
        "deny",
        "choose_article",
        "none_of_these",
    }
)

# How to say each intent in "Did you mean ...?".
INTENT_PHRASES: Mapping[str, str] = {
    "greet": "to say hello",
    "goodbye": "to say goodbye",
    "thank": "to say thanks",
    "bot_challenge": "to ask who you're talking to",
    "request_human": "that you'd like to talk to a person",
    "password_reset": "that you forgot your password or want to reset it",
    "account_locked": "that your account is locked",
    "two_factor_problem": "a problem with two-factor (2FA) codes",
    "billing_question": "a question about billing, invoices or plans",
    "refund_request": "that you'd like a refund",
    "cancel_subscription": "that you want to cancel your subscription",
    "update_payment": "changing your card or payment method",
    "sync_problem": "that your notes aren't syncing between devices",
    "install_problem": "a problem installing or opening the Lumen app",
    "service_status": "whether Lumen is down or having problems",
    "contact_support": "how to reach our support team (e-mail, hours)",
    "data_privacy": "how we keep your notes private and secure",
    "complaint": "that you want to make a complaint",
    "account_compromised": "that someone else got into your account",
    "payment_dispute": "that you don't recognise a charge",
    "legal_request": "a legal matter",
    "person_in_danger": "that someone may be in danger",
    "account_reset_start": "that you'd like me to reset your password for you",
    "account_no_access": "that you can't get into the e-mail address of your account",
}

ASK_REPHRASE_TEXT = (
    "Sorry, I still didn't get that. Could you tell me in other words what "
    "you need? You can also pick a topic below."
)
NOT_UNDERSTOOD_TEXT = (
    "Sorry, I didn't quite understand. Could you tell me in other words what you need?"
)
TALK_TO_PERSON_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}
TOPIC_BUTTONS: list[dict[str, str]] = [
    {"title": "Signing in", "payload": "/password_reset"},
    {"title": "Billing", "payload": "/billing_question"},
    {"title": "Syncing notes", "payload": "/sync_problem"},
    {"title": "Installing the app", "payload": "/install_problem"},
    TALK_TO_PERSON_BUTTON,
]


def intent_to_suggest(parse_data: Mapping[str, Any]) -> str | None:
    """Pick the intent to offer in "Did you mean ...?".

    Args:
        parse_data: The latest user message as Rasa parsed it (``intent`` and
            ``intent_ranking``).

    Returns:
        The best-ranked intent not in :data:`NOT_SUGGESTED`, or ``None`` if
        there is no such intent.
    """
    ranking = parse_data.get("intent_ranking") or [parse_data.get("intent") or {}]
    for candidate in ranking:
        name = candidate.get("name")
        if name and name not in NOT_SUGGESTED:
            return str(name)
    return None


def describe_intent(intent: str) -> str:
    """Return the phrase that completes "Did you mean ...?" for an intent.

    Args:
        intent: An intent name from the domain.

    Returns:
        The phrase from :data:`INTENT_PHRASES`; for an intent added since, its
        name in words, quoted.
    """
    phrase = INTENT_PHRASES.get(intent)
    if phrase is not None:
        return phrase
    return "'" + intent.replace("_", " ") + "'"


class ActionDefaultAskAffirmation(KnowledgeAction):
    """First stage: asks whether the customer meant an article, or an intent."""

    def name(self) -> str:
        """Return the name that replaces Rasa's default affirmation action."""
        return "action_default_ask_affirmation"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Ask "Did you mean ...?" with Yes / No / Talk to a person buttons.

        Args:
            dispatcher: Collects the messages for the customer.
            tracker: The conversation so far.
            domain: The assistant's domain.

        Returns:
            No events.
        """
        article = await self._confident_article(tracker)
        if article is not None:
            dispatcher.utter_message(
                text=f"Sorry, I'm not sure I understood. Is your question about "
                f"\u201c{article.article.title}\u201d?",
                buttons=[
                    {"title": "Yes", "payload": choice_payload(article.slug)},
                    {"title": "No", "payload": f"/{REJECTION_INTENT}"},
                    TALK_TO_PERSON_BUTTON,
                ],
            )
            return []
        intent = intent_to_suggest(tracker.latest_message or {})
        if intent is None:
            dispatcher.utter_message(
                text=NOT_UNDERSTOOD_TEXT, buttons=[TALK_TO_PERSON_BUTTON]
            )
            return []
        dispatcher.utter_message(
            text=f"Sorry, I'm not sure I understood. Did you mean "
            f"{describe_intent(intent)}?",
            buttons=[
                {"title": "Yes", "payload": f"/{intent}"},
                {"title": "No", "payload": f"/{REJECTION_INTENT}"},
                TALK_TO_PERSON_BUTTON,
            ],
        )
        return []

    async def _confident_article(self, tracker: Tracker) -> Answer | None:
        """The article the knowledge base would answer the message with, if any.

        The article the NLU's knowledge search found, else a search of the
        text alone.

        A failing knowledge base is no reason to skip the question: it is
        logged and the intent is suggested instead.
        """
        text = (tracker.latest_message or {}).get("text") or ""
        if not text.strip() or text.startswith("/"):
            return None
        decided = decided_article(tracker.latest_message or {})
        try:
            knowledge = await self.knowledge.get()
            if decided is not None:
                # The NLU's knowledge search was sure of it, yet asked
                # (bot.nlu.knowledge: a confident request for a person).
                answer = await knowledge.answer_with(decided)
                if answer is not None:
                    return answer
            return await knowledge.answer(text)
        except Exception:
            logger.exception("knowledge base unavailable for the fallback")
            return None


class ActionDefaultAskRephrase(Action):
    """Second stage: asks the customer to say it differently."""

    def name(self) -> str:
        """Return the name that replaces Rasa's default rephrase action."""
        return "action_default_ask_rephrase"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Ask for a rephrasing and offer the main topics as buttons.

        Args:
            dispatcher: Collects the messages for the customer.
            tracker: The conversation so far.
            domain: The assistant's domain.

        Returns:
            No events.
        """
        dispatcher.utter_message(text=ASK_REPHRASE_TEXT, buttons=TOPIC_BUTTONS)
        return []


class ActionDefaultFallback(Action):
    """Rasa gives up: a person from the support team takes over."""

    def name(self) -> str:
        """Return the name that replaces Rasa's default fallback action."""
        return "action_default_fallback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Hand over to a person with the reason ``fallback``.

        Args:
            dispatcher: Collects the messages for the customer and the hub.
            tracker: The conversation so far.
            domain: The assistant's domain.

        Returns:
            Inside the two-stage fallback, no events: the loop deactivates itself
            right after. Otherwise a ``UserUtteranceReverted``, as Rasa's own
            fallback does, so the message that no rule fitted does not steer the
            next predictions.
        """
        dispatcher.utter_message(
            response="utter_handoff",
            json_message=handoff_message(HandoffReason.FALLBACK),
        )
        if tracker.active_loop_name == TWO_STAGE_FALLBACK:
            return []
        return [UserUtteranceReverted()]

"""Answering support questions from the knowledge base (``bot.knowledge``).

``action_answer_from_kb`` answers a support question with the best article,
its text and steps, and asks "Did that solve your problem?". The article's
slug travels in the message's custom payload, which the hub puts on the wire
as ``meta.article``. Below the score threshold the bot does not guess: when
some articles are plausible it offers them as buttons ("I'm not sure which
of these you mean:", then "Something else" and "Talk to a person"), else it
asks the customer to say more, or offers a person. A message the NLU finds out of
scope gets no offer: articles that merely share a word with it would be
noise.

``action_kb_choose_article`` answers with the article the customer picked
among those offered: by button (``/choose_article{"article": "<slug>"}``) or
by position ("the second one", matched against the ``kb_offered`` slot); then
"Did that solve your problem?" as for any answer. An article unpublished
since it was offered is not shown: the bot says so and asks for more.
"Something else" (``/none_of_these``) needs no action: a rule asks the
customer to describe the problem (``utter_kb_describe``).

``action_kb_feedback`` handles the answer to "Did that solve your problem?":
it records it (``feedback`` table, for trainers and the handoff card); after
a "no" it tries the next best article, or offers the plausible ones, or asks
a clarifying question; after the second "no" it hands the conversation to a
person (reason ``kb_rejected``).

The knowledge base and its database engine are created on the first run,
from the ``BATON_`` settings the action server shares with the hub; the
index follows every edit of the articles without a restart.
"""

from __future__ import annotations

import abc
import functools
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import reset_offer_response
from actions.handoff import HandoffReason, handoff_message
from bot.knowledge import (
    MAX_REJECTIONS,
    NO_OFFER_INTENT,
    Answer,
    SharedKnowledgeBase,
    Suggestions,
    offered_choice,
)
from bot.knowledge.embedding import PARSE_KEY as EMBEDDING_KEY
from bot.knowledge.embedding import vector_from_parse_data
from bot.nlu.decision import (
    acknowledged,
    decided_article,
    decided_other_product,
    safety_line,
)

logger = logging.getLogger(__name__)

ARTICLE_SLOT = "kb_article"
QUERY_SLOT = "kb_query"
REJECTED_SLOT = "kb_rejected"
#: The slugs last offered as choices, in the order shown ("the second one").
OFFERED_SLOT = "kb_offered"
#: The intent and entity of a chosen article's button payload.
CHOOSE_ARTICLE_INTENT = "choose_article"
ARTICLE_ENTITY = "article"
#: The buttons under the offered articles: type again, or a person.
OFFER_EXITS = (
    {"title": "Something else", "payload": "/none_of_these"},
    {"title": "Talk to a person", "payload": "/request_human"},
)
#: Handoff reason when the customer said twice that an answer did not help.
KB_REJECTED = HandoffReason.KB_REJECTED
#: Handoff reason when the knowledge base cannot be read.
UNAVAILABLE = HandoffReason.BOT_UNAVAILABLE

#: The knowledge base of this action server process, created on first use.
shared_knowledge = SharedKnowledgeBase()


def article_payload(answer: Answer) -> dict[str, Any]:
    """The custom payload of an answer message: the article's slug."""
    return {"article": answer.slug}


def choice_payload(slug: str) -> str:
    """The payload of the button that picks an offered article."""
    entities = json.dumps({ARTICLE_ENTITY: slug}, separators=(",", ":"))
    return f"/{CHOOSE_ARTICLE_INTENT}{entities}"


def _intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    confidence = intent.get("confidence")
    return intent.get("name"), float(confidence) if confidence is not None else 0.0


def _vector(tracker: Tracker) -> np.ndarray | None:
    """The latest message's embedding from the NLU pipeline, if usable."""
    return vector_from_parse_data(tracker.latest_message.get(EMBEDDING_KEY))


def _rejected(tracker: Tracker) -> list[str]:
    value = tracker.get_slot(REJECTED_SLOT)
    return [str(slug) for slug in value] if isinstance(value, list) else []


def _offered(tracker: Tracker) -> list[str]:
    value = tracker.get_slot(OFFERED_SLOT)
    return [str(slug) for slug in value] if isinstance(value, list) else []


def _send_answer(
    dispatcher: CollectingDispatcher,
    answer: Answer,
    *,
    acknowledge: bool = False,
    safety: bool = False,
) -> None:
    if acknowledge:
        # An unhappy customer (bot/nlu/decision.py): sorry first, and a
        # person one click away under the article.
        dispatcher.utter_message(response="utter_kb_acknowledge")
    dispatcher.utter_message(text=answer.text, json_message=article_payload(answer))
    if safety:
        # The intent model half thought someone may be in danger
        # (bot/nlu/decision.py, Override.safety): where to get help now.
        dispatcher.utter_message(response="utter_kb_safety")
    if acknowledge or safety:
        question = "utter_did_that_help_or_person"
    else:
        # Under a sign-in article, "Reset it for me" when the bot can (#16).
        question = reset_offer_response(answer) or "utter_did_that_help"
    dispatcher.utter_message(response=question)


#: The lookup table of other companies' products the NLU finds them with.
PRODUCTS_LOOKUP = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "nlu"
    / "lookups"
    / "other_products.yml"
)


@functools.lru_cache(maxsize=1)
def _spellings() -> dict[str, str]:
    """Other products' names as the lookup table spells them, by lower case."""
    try:
        data = yaml.safe_load(PRODUCTS_LOOKUP.read_text(encoding="utf-8")) or {}
    except OSError:
        logger.warning(
            "No lookup table at %s: product names shown as typed", PRODUCTS_LOOKUP
        )
        return {}
    names: dict[str, str] = {}
    for entry in data.get("nlu") or []:
        if entry.get("lookup") != "product":
            continue
        for line in str(entry.get("examples") or "").splitlines():
            name = line.strip().removeprefix("- ").strip()
            if name:
                names.setdefault(" ".join(name.split()).casefold(), name)
    return names


def _display(product: str) -> str:
    """A product's name as its maker spells it ("icloud" → "iCloud").

    The entity is the text the customer typed; a name the lookup table does
    not know is shown as typed, capitalised if all lower case.
    """
    known = _spellings().get(" ".join(product.split()).casefold())
    if known is not None:
        return known
    return product[:1].upper() + product[1:] if product.islower() else product


def _send_offer(
    dispatcher: CollectingDispatcher, suggestions: Suggestions, response: str
) -> None:
    # One message: the widget disables a message's buttons once another comes.
    buttons = [
        {"title": hit.title, "payload": choice_payload(hit.slug)}
        for hit in suggestions.hits
    ]
    dispatcher.utter_message(response=response, buttons=[*buttons, *OFFER_EXITS])


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
        """Answer the latest message from the knowledge base, offer, or ask.

        Articles the customer already rejected (since the last one that
        helped) are not offered again.

        Returns:
            The slots remembering the article shown, the question asked and
            the articles offered.
        """
        query = tracker.latest_message.get("text") or ""
        product = decided_other_product(tracker.latest_message)
        if product is not None:
            # Another company's product (bot/nlu/decision.py): none of our
            # articles is the answer, whatever words they share.
            dispatcher.utter_message(
                response="utter_other_product", product=_display(product)
            )
            return [
                SlotSet(ARTICLE_SLOT, None),
                SlotSet(QUERY_SLOT, query),
                SlotSet(OFFERED_SLOT, None),
            ]
        intent, confidence = _intent(tracker)
        out_of_scope = intent == NO_OFFER_INTENT
        rejected = _rejected(tracker)
        shown = tracker.get_slot(ARTICLE_SLOT)
        if isinstance(shown, str) and shown and shown not in rejected:
            # Still waiting for "Did that solve it?": a message that leads to
            # the same article again ("my notes still don't sync") means it
            # did not; the next best one is worth more than a repeat.
            rejected = [*rejected, shown]
        decided = decided_article(tracker.latest_message)
        try:
            knowledge = await self.knowledge.get()
            reply: Answer | Suggestions | None = None
            if decided is not None and decided not in rejected:
                # None when it was unpublished since: then search as usual.
                reply = await knowledge.answer_with(decided)
            if reply is None:
                reply = await knowledge.answer_or_suggest(
                    query,
                    intent=intent,
                    intent_confidence=confidence,
                    exclude=rejected,
                    vector=_vector(tracker),
                )
        except Exception:
            # The edge of the action: never leave the customer without an owner.
            logger.exception("knowledge base unavailable")
            return _hand_over(dispatcher, UNAVAILABLE)
        asked = SlotSet(QUERY_SLOT, query)
        if isinstance(reply, Answer):
            _send_answer(
                dispatcher,
                reply,
                acknowledge=reply.slug == decided
                and acknowledged(tracker.latest_message),
                safety=reply.slug == decided and safety_line(tracker.latest_message),
            )
            return [
                SlotSet(ARTICLE_SLOT, reply.slug),
                asked,
                SlotSet(OFFERED_SLOT, None),
            ]
        if isinstance(reply, Suggestions):
            _send_offer(dispatcher, reply, "utter_kb_offer")
            offered = SlotSet(OFFERED_SLOT, reply.slugs)
            return [SlotSet(ARTICLE_SLOT, None), asked, offered]
        response = "utter_out_of_scope" if out_of_scope else "utter_kb_not_sure"
        dispatcher.utter_message(response=response)
        return [SlotSet(ARTICLE_SLOT, None), asked, SlotSet(OFFERED_SLOT, None)]


#: The usual reply to an intent that means something only in context, when
#: it comes out of context and the knowledge search found no article.
OUT_OF_CONTEXT_REPLIES = {
    "affirm": "utter_anything_else",
    "deny": "utter_anything_else",
    "none_of_these": "utter_kb_describe",
}


class ActionAnswerIfKnown(KnowledgeAction):
    """Answers a yes, no or "something else" out of context, if it is a question.

    Such intents only mean something after one of the bot's questions, where
    their own rules handle them. Out of context, the intent model sometimes
    gives them to a real question ("can I use the web app with no wifi" as a
    "no"); when the NLU's knowledge search found a confident article for the
    message (:func:`bot.nlu.decision.decided_article`) the customer gets it,
    else the intent's usual reply (:data:`OUT_OF_CONTEXT_REPLIES`).
    """

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_answer_if_known"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Answer with the decided article, or give the intent's usual reply.

        Returns:
            The article slots when an article was shown, else none.
        """
        decided = decided_article(tracker.latest_message)
        answer = None
        if decided is not None:
            try:
                knowledge = await self.knowledge.get()
                answer = await knowledge.answer_with(decided)
            except Exception:
                # The edge of the action: the usual reply still answers.
                logger.exception("knowledge base unavailable")
        if answer is not None:
            _send_answer(dispatcher, answer)
            query = tracker.latest_message.get("text") or ""
            return [
                SlotSet(ARTICLE_SLOT, answer.slug),
                SlotSet(QUERY_SLOT, query),
                SlotSet(OFFERED_SLOT, None),
            ]
        intent, _ = _intent(tracker)
        reply = OUT_OF_CONTEXT_REPLIES.get(intent or "", "utter_anything_else")
        dispatcher.utter_message(response=reply)
        return []


class ActionChooseArticle(KnowledgeAction):
    """Answers with the article the customer picked among those offered."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_kb_choose_article"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Show the chosen article and ask whether it helped.

        The choice is the ``article`` entity of a button's payload, else the
        position the message names among the articles last offered.

        Returns:
            The article shown (for ``action_kb_feedback``); no change when the
            choice is unclear (the offer stands).
        """
        chosen = next(tracker.get_latest_entity_values(ARTICLE_ENTITY), None)
        offered = _offered(tracker)
        if not isinstance(chosen, str) or not chosen:
            chosen = offered_choice(tracker.latest_message.get("text") or "", offered)
        if chosen is None:
            unclear = "utter_kb_which_one" if offered else "utter_kb_not_sure"
            dispatcher.utter_message(response=unclear)
            return []
        try:
            knowledge = await self.knowledge.get()
            answer = await knowledge.answer_with(chosen)
        except Exception:
            logger.exception("knowledge base unavailable")
            return _hand_over(dispatcher, UNAVAILABLE)
        if answer is None:
            dispatcher.utter_message(response="utter_kb_article_gone")
            return [SlotSet(ARTICLE_SLOT, None), SlotSet(OFFERED_SLOT, None)]
        _send_answer(dispatcher, answer)
        return [SlotSet(ARTICLE_SLOT, answer.slug)]


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
          person, else show the next best article for the same question, or
          offer the plausible ones, or ask a clarifying question when no
          other article is plausible.

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
        reply = None
        if isinstance(query, str) and query:
            try:
                reply = await knowledge.answer_or_suggest(query, exclude=rejected)
            except Exception:
                logger.exception("knowledge base unavailable")
                return _hand_over(dispatcher, UNAVAILABLE)
        remembered = SlotSet(REJECTED_SLOT, rejected)
        if isinstance(reply, Answer):
            dispatcher.utter_message(response="utter_kb_next_article")
            _send_answer(dispatcher, reply)
            return [SlotSet(ARTICLE_SLOT, reply.slug), remembered]
        if isinstance(reply, Suggestions):
            _send_offer(dispatcher, reply, "utter_kb_next_offer")
            offered = SlotSet(OFFERED_SLOT, reply.slugs)
            return [SlotSet(ARTICLE_SLOT, None), remembered, offered]
        dispatcher.utter_message(response="utter_kb_clarify")
        return [SlotSet(ARTICLE_SLOT, None), remembered]

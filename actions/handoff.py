"""Handing the conversation over to a person from the support team.

The action does not touch the database: it tells the hub, through a custom JSON
message (``{"handoff": {"reason": ...}}``), and the hub queues the conversation
for an agent. The text the customer sees comes from the ``utter_handoff``
response, which the rules run just before ``action_handoff``.

Frustration is one of the triggers: the NLU pipeline scores every message
(``bot/nlu/frustration.py``), ``action_check_frustration`` copies the verdict
into the ``frustrated`` slot after each message, and the rules hand over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.contract import HandoffMessage, HandoffReason
from bot.nlu.decision import acknowledged

FRUSTRATED_SLOT = "frustrated"
# Key of the NLU frustration detector's result in the parse data
# (bot.nlu.frustration.FRUSTRATION; not imported, to keep Rasa out of the
# action server's imports).
FRUSTRATION_KEY = "frustration"


_REASON_BY_INTENT: Mapping[str, HandoffReason] = {
    "request_human": HandoffReason.CUSTOMER_REQUEST,
    # "Yes" to the bot's offer of a person (utter_offer_human) is a request too.
    "affirm": HandoffReason.CUSTOMER_REQUEST,
    # Sensitive topics: the bot does not try to settle them itself.
    "complaint": HandoffReason.SENSITIVE,
    "account_compromised": HandoffReason.SENSITIVE,
    "payment_dispute": HandoffReason.SENSITIVE,
    "legal_request": HandoffReason.SENSITIVE,
    # Someone may be in danger: first in the queue, never a follow-up for later.
    "person_in_danger": HandoffReason.DANGER,
}

#: Intents whose own rules hand over at once (data/rules/handoff.yml).
SENSITIVE_INTENTS = frozenset(
    intent
    for intent, reason in _REASON_BY_INTENT.items()
    if reason in {HandoffReason.SENSITIVE, HandoffReason.DANGER}
)


def handoff_reason(intent: str | None, frustrated: bool = False) -> HandoffReason:
    """Return the reason for a handoff triggered by the customer's last message.

    Args:
        intent: Intent of the latest user message, or ``None`` if there is none.
        frustrated: Whether that message sounded frustrated (the ``frustrated``
            slot).

    Returns:
        ``DANGER`` when someone may be in danger, frustrated or not (a message
        about self-harm often sounds upset, and ``DANGER`` goes before
        everything in the agents' queue). ``FRUSTRATION`` for any other
        frustrated message, whatever its intent: the intent stays on the
        handoff card. Otherwise ``CUSTOMER_REQUEST`` when the customer asked
        for (or accepted) a person, ``SENSITIVE`` for a complaint, a
        compromised account, a disputed payment or a legal matter, and
        ``FALLBACK`` for the rest: the remaining ways into a handoff are
        messages the bot could not understand.
    """
    reason = _REASON_BY_INTENT.get(intent or "", HandoffReason.FALLBACK)
    if frustrated and reason is not HandoffReason.DANGER:
        return HandoffReason.FRUSTRATION
    return reason


def is_frustrated(parse_data: Mapping[str, Any]) -> bool:
    """Tell whether the NLU pipeline found a message frustrated.

    Args:
        parse_data: The message as Rasa parsed it.

    Returns:
        The ``frustrated`` verdict of the frustration detector, ``False`` when
        the message was not scored (e.g. a button payload such as ``/deny``).
    """
    result = parse_data.get(FRUSTRATION_KEY)
    return isinstance(result, Mapping) and result.get("frustrated") is True


def handoff_message(reason: HandoffReason) -> HandoffMessage:
    """Return the custom JSON message that tells the hub to hand over.

    Args:
        reason: Why the conversation goes to a person.

    Returns:
        The ``json_message`` payload the hub reads, e.g.
        ``{"handoff": {"reason": "customer_request"}}``.
    """
    return {"handoff": {"reason": reason.value}}


class ActionHandoff(Action):
    """Asks the hub to give the conversation to a person, with the reason."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_handoff"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Send the handoff message for the reason found in the latest message.

        Args:
            dispatcher: Collects the messages for the customer and the hub.
            tracker: The conversation so far.
            domain: The assistant's domain.

        Returns:
            No events: the hub, not Rasa, owns who answers the conversation next.
        """
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        frustrated = tracker.get_slot(FRUSTRATED_SLOT) is True
        reason = handoff_reason(intent, frustrated)
        dispatcher.utter_message(json_message=dict(handoff_message(reason)))
        return []


class ActionCheckFrustration(Action):
    """Fills the ``frustrated`` slot from the latest message's frustration score.

    Rasa runs it after every user message, as the custom mapping of the slot
    (``domain.yml``), before predicting what to do next.
    """

    def name(self) -> str:
        """Return the action's name as used in the domain's slot mapping."""
        return "action_check_frustration"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[dict[str, Any]]:
        """Set the slot for a frustrated message, clear it for a calm one.

        Args:
            dispatcher: Unused: the action says nothing.
            tracker: The conversation, ending with the message to check.
            domain: The assistant's domain.

        Returns:
            ``SlotSet("frustrated", True)`` for a frustrated message (unless
            the knowledge base answers it, acknowledging the frustration),
            ``SlotSet("frustrated", None)`` for a calm one after a frustrated
            one (a conversation handed back to the bot starts calm again), and
            no events when nothing changes.
        """
        latest = tracker.latest_message or {}
        # A frustrated how-to question that an article answers gets it, with
        # a sorry and a person one click away (bot/nlu/decision.py: soften),
        # rather than the frustration rule's handoff.
        frustrated = is_frustrated(latest) and not acknowledged(latest)
        current = tracker.get_slot(FRUSTRATED_SLOT) is True
        if frustrated == current:
            return []
        return [SlotSet(FRUSTRATED_SLOT, True if frustrated else None)]

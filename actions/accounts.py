"""Self-service password reset and unlock in the chat (``bot.accounts``).

Answer first: the sign-in articles are shown as always; when ``BATON_ACCOUNTS``
connects an account system, :func:`reset_offer_response` makes the question
under them carry a "Reset it for me" button (``/account_reset_start``).

- ``action_account_reset_start`` clears what an earlier attempt left, and for
  a verified customer (signed identity from the widget) sends the code at
  once, skipping the e-mail question; then it starts the form (a follow-up
  action), unless that code could not be sent.
- ``account_reset_form`` takes the e-mail and the code; the hub sends Rasa
  both masked (``a•••@example.com``, ``••••••``) and keeps the clear text
  with the pending message for that turn, which ``validate_account_reset_form``
  reads (:func:`_typed`) to ask the reset desk to send the code (the same
  answer whether or not the address has an account) and to check it. The
  e-mail slot then holds its masked form, the code slot "verified": neither
  stays anywhere in clear, not even in Rasa's tracker store. "Never mind",
  "talk to a person", "I can't get to that e-mail", three wrong codes, an
  account only a person may change, or the account system failing end the
  form with ``account_reset_outcome`` "handoff" and a person takes over;
  too many codes asked for ends it with "limited", a clear message and a
  way to a person.
- ``action_account_consent_ask`` names every change and asks;
  ``action_account_reset_act`` acts on the yes, ``action_account_reset_decline``
  records the no and changes nothing.

``account_progress`` keeps how far the flow got, in words, for the handoff
card (the hub shows the latest slots there).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import handoff_message
from bot.accounts import (
    CodeStatus,
    ProviderUnavailable,
    ResetDesk,
    ResetLimited,
    SharedResetDesk,
    consent_text,
    mask_email,
    planned_changes,
)
from bot.contract import HUB_CHANNEL, HandoffReason, SecretAnswer
from bot.knowledge import Answer

logger = logging.getLogger(__name__)

FORM = "account_reset_form"
EMAIL_SLOT = SecretAnswer.EMAIL.value
CODE_SLOT = SecretAnswer.CODE.value
PROGRESS_SLOT = "account_progress"
OUTCOME_SLOT = "account_reset_outcome"
#: What the code slot holds once the code is right (never the code).
VERIFIED = "verified"
#: The articles whose answer carries the offer, by their intents.
RESET_INTENTS = frozenset({"password_reset", "account_locked"})
OFFER_RESPONSE = "utter_did_that_help_or_reset"
#: Intents that stop the flow for a person, and the reason each gives.
_STOPS = {
    "request_human": HandoffReason.CUSTOMER_REQUEST,
    "account_no_access": HandoffReason.CUSTOMER_REQUEST,
    "deny": HandoffReason.CUSTOMER_REQUEST,
    "goodbye": HandoffReason.CUSTOMER_REQUEST,
    "account_compromised": HandoffReason.SENSITIVE,
    # Someone may be in danger: first in the queue; the hub's notice gives the
    # emergency number (bot.handoff.service.DANGER_QUEUED_TEXT).
    "person_in_danger": HandoffReason.DANGER,
}
#: Typed ways of stopping the NLU may not place (matched whole).
_STOP_WORDS = frozenset(
    {"never mind", "nevermind", "stop", "cancel", "forget it", "no thanks"}
)
#: The button that offers a person.
_PERSON_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}
_EMAIL = re.compile(r"^[^@\s,;<>\"]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}$")

#: The reset desk of this action server process, made on first use.
shared_reset_desk = SharedResetDesk()


def reset_offer_response(answer: Answer) -> str | None:
    """The "did that help?" response to use under ``answer``, if not the usual.

    The one with "Reset it for me" under the sign-in articles when the bot can
    reset passwords itself; ``None`` otherwise.
    """
    if not shared_reset_desk.enabled:
        return None
    if RESET_INTENTS.isdisjoint(answer.article.intents):
        return None
    return OFFER_RESPONSE


def _progress(tracker: Tracker, step: str) -> str:
    earlier = tracker.get_slot(PROGRESS_SLOT)
    return f"{earlier}; {step}" if isinstance(earlier, str) and earlier else step


def _stop_reason(tracker: Tracker) -> tuple[HandoffReason, str] | None:
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    text = " ".join((tracker.latest_message.get("text") or "").lower().split())
    if intent == "account_no_access":
        return _STOPS[intent], "the customer cannot get to that e-mail"
    if intent in _STOPS:
        return _STOPS[intent], "the customer stopped the reset"
    if text.strip(".!") in _STOP_WORDS:
        return HandoffReason.CUSTOMER_REQUEST, "the customer stopped the reset"
    return None


def _hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: HandoffReason,
    step: str,
    text: str | None = None,
) -> dict[str, Any]:
    """Tell the customer, ask the hub for a person; the slots ending the form."""
    if text:
        dispatcher.utter_message(text=text)
    dispatcher.utter_message(response="utter_handoff")
    dispatcher.utter_message(json_message=dict(handoff_message(reason)))
    return {
        CODE_SLOT: None,
        OUTCOME_SLOT: "handoff",
        PROGRESS_SLOT: _progress(tracker, f"{step}: handed to a person"),
    }


def _unreachable(dispatcher: CollectingDispatcher, tracker: Tracker) -> dict[str, Any]:
    """Hand over because the account system did not answer."""
    return _hand_over(
        dispatcher,
        tracker,
        HandoffReason.BOT_UNAVAILABLE,
        "the account system did not answer",
        "Sorry, I can't reach our account system right now.",
    )


async def _desk() -> ResetDesk:
    desk = await shared_reset_desk.get()
    if desk is None:
        raise ProviderUnavailable("password reset is not configured")
    return desk


def _hub_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata of the latest message, if the hub set it.

    Only a message that came through the hub's own channel carries metadata
    the hub alone sets (:class:`bot.contract.TurnMetadata`).
    """
    if tracker.get_latest_input_channel() != HUB_CHANNEL:
        return {}
    metadata = tracker.latest_message.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def client_address(tracker: Tracker) -> str | None:
    """The customer's client address, as the hub sent it with the message.

    The per-address limit of the codes counts it.
    """
    address = _hub_metadata(tracker).get("client_address")
    return address if isinstance(address, str) and address else None


async def _typed(tracker: Tracker, value: Any) -> str:
    """What the customer typed as the e-mail or the code.

    The hub stores and sends Rasa these answers masked (so Rasa's tracker
    store never holds them), keeping the clear text with the pending message
    for this turn only: it is read here by the message's ``seq``. Without
    one (another channel), the slot's value as Rasa filled it.
    """
    seq = _hub_metadata(tracker).get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool):
        typed = await (await _desk()).typed_answer(tracker.sender_id, seq)
        if typed is not None:
            return typed
    return str(value or "")


async def _send_code(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    email: str,
    locale: str | None,
) -> dict[str, Any]:
    """Ask the desk for a code; the slots to set (the e-mail masked)."""
    try:
        sent = await (await _desk()).request_code(
            tracker.sender_id,
            email,
            client_address=client_address(tracker),
            locale=locale,
        )
    except ResetLimited as limited:
        minutes = max(1, round(limited.retry_after_s / 60))
        dispatcher.utter_message(
            text=(
                f"I've sent several codes for {limited.scope} in a short time, so "
                "I can't send another one right now (you can try again in about "
                f"{minutes} minutes). A person from our support team can help you "
                "straight away."
            ),
            buttons=[_PERSON_BUTTON],
        )
        return {
            EMAIL_SLOT: None,
            CODE_SLOT: None,
            OUTCOME_SLOT: "limited",
            PROGRESS_SLOT: _progress(
                tracker, f"no code sent: rate limit for {limited.scope}"
            ),
        }
    except ProviderUnavailable:
        logger.warning("account system unavailable for %s", tracker.sender_id)
        return {EMAIL_SLOT: None, **_unreachable(dispatcher, tracker)}
    dispatcher.utter_message(
        text=(
            f"If {sent.masked_email} belongs to a Lumen account, I've just sent it "
            f"a 6-digit code. It works for {sent.minutes} minutes."
        )
    )
    return {
        EMAIL_SLOT: sent.masked_email,
        PROGRESS_SLOT: _progress(tracker, f"code sent to {sent.masked_email}"),
    }


class ActionAccountResetStart(Action):
    """Starts a reset: clears an earlier attempt; a verified customer gets a code."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_account_reset_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reset the flow's slots; send the verified customer's code at once."""
        slots: dict[str, Any] = {
            EMAIL_SLOT: None,
            CODE_SLOT: None,
            OUTCOME_SLOT: None,
            PROGRESS_SLOT: None,
        }
        if not shared_reset_desk.enabled:
            dispatcher.utter_message(
                text="I can't change accounts from the chat here, but a person "
                "from our support team can."
            )
            slots.update(
                _hand_over(
                    dispatcher,
                    tracker,
                    HandoffReason.CUSTOMER_REQUEST,
                    "reset asked for",
                )
            )
            return [SlotSet(key, value) for key, value in slots.items()]
        try:
            email, locale = await (await _desk()).customer(tracker.sender_id)
        except Exception:
            logger.exception("could not read the customer of %s", tracker.sender_id)
            email, locale = None, None
        if email is not None:
            tracker.slots[PROGRESS_SLOT] = "verified customer"
            slots.update(await _send_code(dispatcher, tracker, email, locale))
        events = [SlotSet(key, value) for key, value in slots.items()]
        if slots[OUTCOME_SLOT] is None:
            # The form only when there is something to ask: a limit or a
            # handoff at the start ends the turn here.
            events.append(FollowupAction(FORM))
        return events


class ValidateAccountResetForm(FormValidationAction):
    """Checks the e-mail and the code as the customer types them."""

    def name(self) -> str:
        """Return the action's name as Rasa calls it for the form."""
        return "validate_account_reset_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing more to ask once the flow went to a person or hit a limit."""
        if tracker.get_slot(OUTCOME_SLOT) in ("handoff", "limited"):
            return []
        return domain_slots

    async def _typed_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> str | dict[str, Any]:
        """What the customer typed, or the slots that end the turn here.

        A person takes over when the customer asked for one or the account
        system is unreachable. A ``None`` value is not an answer: the start
        action cleared the slot, and the form's activation validates it again
        (Rasa passes on the slots set just before); nothing is checked or said
        (``{}``).
        """
        if value is None:
            return {}
        stop = _stop_reason(tracker)
        if stop is not None:
            return _hand_over(dispatcher, tracker, *stop)
        try:
            return await _typed(tracker, value)
        except ProviderUnavailable:
            return _unreachable(dispatcher, tracker)

    async def validate_account_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Send the code for a plausible address; ask again for anything else."""
        answer = await self._typed_answer(value, dispatcher, tracker)
        if isinstance(answer, dict):
            return {EMAIL_SLOT: None, **answer} if answer else {}
        email = answer.strip()
        if "•••" in email:
            # Already masked: the start action sent a verified customer's code.
            return {EMAIL_SLOT: email}
        if not _EMAIL.fullmatch(email):
            dispatcher.utter_message(
                text="That doesn't look like an e-mail address. Please type the "
                "whole address, like name@example.com."
            )
            return {EMAIL_SLOT: None}
        try:
            _, locale = await (await _desk()).customer(tracker.sender_id)
        except ProviderUnavailable:
            locale = None
        return await _send_code(dispatcher, tracker, email, locale)

    async def validate_account_code(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Check the code; a person after the last wrong one."""
        answer = await self._typed_answer(value, dispatcher, tracker)
        if isinstance(answer, dict):
            return answer
        try:
            check = await (await _desk()).check_code(tracker.sender_id, answer)
        except ProviderUnavailable:
            return _unreachable(dispatcher, tracker)
        if check.status is CodeStatus.WRONG:
            tries = "try" if check.attempts_left == 1 else "tries"
            dispatcher.utter_message(
                text=f"That code isn't right. You have {check.attempts_left} more "
                f"{tries}."
            )
            return {
                CODE_SLOT: None,
                PROGRESS_SLOT: _progress(tracker, "a wrong code"),
            }
        if check.status is CodeStatus.EXHAUSTED:
            return _hand_over(
                dispatcher,
                tracker,
                HandoffReason.SENSITIVE,
                "three wrong codes",
                "That code isn't right either, so I'll stop here to keep the "
                "account safe.",
            )
        if check.status is not CodeStatus.VERIFIED or check.account is None:
            dispatcher.utter_message(
                text="That code has expired. Let's send a new one."
            )
            return {
                EMAIL_SLOT: None,
                CODE_SLOT: None,
                PROGRESS_SLOT: _progress(tracker, "the code expired"),
            }
        account = check.account
        if account.needs_person:
            flag = "compromised" if account.compromised else "two-factor device lost"
            return _hand_over(
                dispatcher,
                tracker,
                HandoffReason.SENSITIVE,
                f"code right; account flagged {flag}",
                "Thanks, that's the right code. This account needs a person from "
                "our team to check it with you, so I won't change it myself.",
            )
        changes = ",".join(planned_changes(account))
        return {
            CODE_SLOT: VERIFIED,
            OUTCOME_SLOT: "ready",
            PROGRESS_SLOT: _progress(tracker, f"code right; to do: {changes}"),
        }


def _planned(tracker: Tracker) -> tuple[str, ...]:
    progress = str(tracker.get_slot(PROGRESS_SLOT) or "")
    found = re.search(r"to do: ([a-z_,]+)", progress)
    return tuple(found.group(1).split(",")) if found else ("send_link", "sign_out")


class ActionAccountConsentAsk(Action):
    """Names every change and asks for a yes."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_account_consent_ask"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask "I'll ... — OK?" with Yes and No buttons."""
        masked = str(tracker.get_slot(EMAIL_SLOT) or mask_email(""))
        dispatcher.utter_message(
            text=consent_text(_planned(tracker), masked),
            buttons=[
                {"title": "Yes, go ahead", "payload": "/affirm"},
                {"title": "No", "payload": "/deny"},
            ],
        )
        return [SlotSet(PROGRESS_SLOT, _progress(tracker, "consent asked"))]


def _finished(tracker: Tracker, step: str) -> list[dict[str, Any]]:
    return [
        SlotSet(EMAIL_SLOT, None),
        SlotSet(CODE_SLOT, None),
        SlotSet(OUTCOME_SLOT, None),
        SlotSet(PROGRESS_SLOT, _progress(tracker, step)),
    ]


class ActionAccountResetAct(Action):
    """After the yes: unlocks if locked, sends the link, signs devices out."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_account_reset_act"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Act through the desk and say what was done."""
        try:
            desk = await _desk()
            _, locale = await desk.customer(tracker.sender_id)
            done = await desk.consent(tracker.sender_id, given=True, locale=locale)
        except ProviderUnavailable:
            events = _finished(tracker, "yes; the account system failed")
            _hand_over(
                dispatcher,
                tracker,
                HandoffReason.BOT_UNAVAILABLE,
                "yes; the account system failed",
                "Sorry, our account system didn't accept the change, so nothing "
                "has been changed.",
            )
            return events
        if done is None:
            dispatcher.utter_message(
                text="Sorry, too much time has passed since the code, so I haven't "
                "changed anything. You can start again, or talk to a person.",
                buttons=[
                    {"title": "Reset it for me", "payload": "/account_reset_start"},
                    _PERSON_BUTTON,
                ],
            )
            return _finished(tracker, "yes, but the code had expired: nothing done")
        said = []
        if "unlock" in done.changes:
            said.append("unlocked your account")
        said.append(f"sent a reset link to {done.masked_email}")
        said.append("signed you out of your other devices")
        listed = ", ".join(said[:-1]) + " and " + said[-1]
        dispatcher.utter_message(
            text=f"Done: I've {listed}. Open the link to choose a new password; "
            "it works once, for a short time. Is there anything else I can help "
            "you with?"
        )
        return _finished(tracker, f"yes; done: {','.join(done.changes)}")


class ActionAccountResetDecline(Action):
    """After the no: records it, changes nothing."""

    def name(self) -> str:
        """Return the action's name as used in the domain and rules."""
        return "action_account_reset_decline"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Say nothing changed, and offer a person."""
        try:
            await (await _desk()).consent(tracker.sender_id, given=False)
        except ProviderUnavailable:
            logger.warning("could not record a no for %s", tracker.sender_id)
        dispatcher.utter_message(
            text="All right, I haven't changed anything on your account. Is there "
            "anything else I can help you with?",
            buttons=[_PERSON_BUTTON],
        )
        return _finished(tracker, "no at consent: nothing changed")

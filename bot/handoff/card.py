"""The handoff card: everything the bot saw and did, on one screen.

An agent who takes a conversation must never have to ask the customer to
repeat themselves (DESIGN.md, lesson 1). The card is built from what the hub
already keeps: the transcript, and for each customer turn the bot answered,
what Rasa understood (``meta["_nlu"]``, written by the relay: intent,
confidence, entities, slots, actions, frustration); knowledge-base articles
shown (``meta["article"]`` on bot messages) and the customer's "did this
help?" answers (the ``feedback`` table, else their next reply to the article);
the reason for the handoff, an extractive summary, and the wait so far;
and what the assistant did about the customer's account (the ``account.``
entries of the audit log about the conversation: codes, consent, changes and
their result), with e-mails only ever masked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from bot.accounts.desk import CodeLimit
from bot.auth import AuditRecord
from bot.contract import HandoffReason
from bot.conversations.repository import ConversationRecord, MessageRecord
from bot.conversations.service import message_frame
from bot.handoff.repository import HandoffRecord, NoteRecord
from bot.knowledge import ArticleFeedback

#: Intents that say nothing about the problem itself.
_SMALL_TALK = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "bot_challenge",
        "request_human",
        "nlu_fallback",
    }
)
#: Intents that name no support topic: the customer vents or is off topic.
_NOT_A_TOPIC = frozenset({"complaint", "out_of_scope"})
_STOPWORDS = frozenset(
    """a an and are as at be but by can do does for from have hi hello how i i'm
    if in is it it's me my no not of on or please so that the there this to too
    want was we what when why with would yes you your""".split()
)
_WORD = re.compile(r"[a-z0-9']+")
#: Longest quote of the customer in the one-line summary.
SUMMARY_QUOTE_CHARS = 140

REASON_TEXT: dict[str, str] = {
    HandoffReason.DANGER: "someone may be in danger",
    HandoffReason.CUSTOMER_REQUEST: "the customer asked for a person",
    HandoffReason.FALLBACK: "the bot did not understand, twice",
    HandoffReason.KB_REJECTED: "knowledge-base answers did not help, twice",
    HandoffReason.SENSITIVE: "a sensitive topic",
    HandoffReason.FRUSTRATION: "the customer sounded frustrated",
    HandoffReason.BOT_UNAVAILABLE: "the assistant was unavailable",
}

#: Intents that say no more than the reason they lead to: the summary gives
#: the reason once, not the intent too ("(person in danger); someone may be
#: in danger").
_SAID_BY_REASON: dict[str, frozenset[str]] = {
    HandoffReason.DANGER: frozenset({"person_in_danger"}),
}


def understood(message: MessageRecord) -> dict[str, Any]:
    """What Rasa understood of a customer message (empty if it never saw it)."""
    nlu = message.meta.get("_nlu")
    return nlu if isinstance(nlu, dict) else {}


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_QUOTE_CHARS:
        return text
    return text[: SUMMARY_QUOTE_CHARS - 1].rstrip() + "…"


def problem_statement(transcript: Sequence[MessageRecord]) -> MessageRecord | None:
    """The customer message that best states the problem.

    Extractive, not generated: the customer's own words. Small talk ("hi",
    "yes", "a person please") never counts; a message the bot understood as
    a support topic beats one that only vents or that it did not place
    (complaint, out of scope, not seen by the bot); then the message with
    the most distinct content words; the earliest wins a tie, as people
    usually state their problem first.
    """
    best: tuple[tuple[bool, int], MessageRecord] | None = None
    for message in transcript:
        if message.role != "customer" or message.payload:
            continue
        intent = understood(message).get("intent")
        if intent in _SMALL_TALK:
            continue
        words = len(_content_words(message.text))
        if not words:
            continue
        rank = (intent is not None and intent not in _NOT_A_TOPIC, words)
        if best is None or rank > best[0]:
            best = (rank, message)
    return best[1] if best else None


def first_question(transcript: Sequence[MessageRecord]) -> MessageRecord | None:
    """The customer's first real question, to tell chats apart in the queue.

    The earliest typed message the bot placed as a support topic; failing
    that (the customer asked for a person straight away, or wrote only while
    waiting, which the bot never reads) the earliest typed message with
    content words that is not small talk. ``None`` until there is one.
    """
    fallback = None
    for message in transcript:
        if message.role != "customer" or message.payload:
            continue
        intent = understood(message).get("intent")
        if intent in _SMALL_TALK or not _content_words(message.text):
            continue
        if intent is not None and intent not in _NOT_A_TOPIC:
            return message
        if fallback is None:
            fallback = message
    return fallback


def queue_context(
    conversation: ConversationRecord, transcript: Sequence[MessageRecord]
) -> dict[str, Any]:
    """What a queue entry shows of its chat: who, from which page, asking what.

    Args:
        conversation: The conversation.
        transcript: Its customer messages (others are ignored), in order.

    Returns:
        ``customer`` (name, e-mail, page, locale, whether verified) and
        ``question`` (the first real question, shortened, or ``None``).
    """
    question = first_question(transcript)
    return {
        "customer": {
            "name": conversation.user_name,
            "email": conversation.user_email,
            "verified": conversation.user_verified,
            "page_url": conversation.page_url,
            "locale": conversation.locale,
        },
        "question": _quote(question.text) if question is not None else None,
    }


def summarize(transcript: Sequence[MessageRecord], reason: str) -> str:
    """A one-line summary for the queue and the card.

    The problem in the customer's words (with the topic the bot understood,
    unless the reason says it), the articles the bot showed, and why it
    handed over.
    """
    parts = []
    problem = problem_statement(transcript)
    if problem is not None:
        topic = understood(problem).get("intent")
        if topic in _SAID_BY_REASON.get(reason, frozenset()):
            topic = None
        quote = f'"{_quote(problem.text)}"'
        parts.append(f"{quote} ({topic.replace('_', ' ')})" if topic else quote)
    else:
        parts.append("No question asked yet")
    shown = [
        str(m.meta["article"])
        for m in transcript
        if m.role == "bot" and isinstance(m.meta.get("article"), str)
    ]
    if shown:
        parts.append("bot showed " + ", ".join(dict.fromkeys(shown)))
    parts.append(REASON_TEXT.get(reason, reason.replace("_", " ")))
    return "; ".join(parts)


def _turns(transcript: Sequence[MessageRecord]) -> list[dict[str, Any]]:
    turns = []
    for message in transcript:
        if message.role != "customer":
            continue
        nlu = understood(message)
        turn: dict[str, Any] = {
            "seq": message.seq,
            "text": message.text,
            "at": message.created_at.isoformat(),
            "handled_by": "bot" if nlu else "people",
        }
        if nlu:
            turn.update(
                intent=nlu.get("intent"),
                confidence=nlu.get("confidence"),
                entities=list(nlu.get("entities") or []),
            )
            frustration = nlu.get("frustration")
            if isinstance(frustration, dict):
                turn["frustration"] = frustration
        turns.append(turn)
    return turns


def _next_after(
    transcript: Sequence[MessageRecord], index: int, role: str
) -> MessageRecord | None:
    for message in transcript[index + 1 :]:
        if message.role == role:
            return message
    return None


def _articles(
    transcript: Sequence[MessageRecord], answers: Sequence[ArticleFeedback]
) -> list[dict[str, Any]]:
    recorded: dict[str, bool] = {}
    for answer in answers:
        recorded[answer.slug] = answer.helped
    shown = []
    for index, message in enumerate(transcript):
        slug = message.meta.get("article") if message.role == "bot" else None
        if not isinstance(slug, str):
            continue
        entry: dict[str, Any] = {
            "slug": slug,
            "seq": message.seq,
            "shown_at": message.created_at.isoformat(),
            "helped": None,
            "source": None,
        }
        if slug in recorded:
            entry.update(helped=recorded[slug], source="feedback")
        else:
            reply = _next_after(transcript, index, "customer")
            intent = understood(reply).get("intent") if reply else None
            if intent in {"affirm", "deny"}:
                entry.update(helped=intent == "affirm", source="reply")
        shown.append(entry)
    return shown


def _actions(transcript: Sequence[MessageRecord]) -> list[dict[str, Any]]:
    taken = []
    for index, message in enumerate(transcript):
        if message.role != "customer":
            continue
        actions = understood(message).get("actions") or []
        if not actions:
            continue
        answer = _next_after(transcript, index, "bot")
        at = (answer or message).created_at
        for action in actions:
            taken.append(
                {"action": str(action), "after_seq": message.seq, "at": at.isoformat()}
            )
    return taken


def _latest_slots(transcript: Sequence[MessageRecord]) -> dict[str, Any]:
    for message in reversed(transcript):
        slots = understood(message).get("slots")
        if isinstance(slots, dict):
            return slots
    return {}


def _entities(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for turn in turns:
        for entity in turn.get("entities") or []:
            found.append({**entity, "seq": turn["seq"]})
    return found


#: The audit actions of the reset desk (``bot.accounts``) the card lists.
ACCOUNT_AUDIT_PREFIX = "account."
_CHANGE_WORDS = {
    "unlock": "unlock the account",
    "send_link": "send a reset link",
    "sign_out": "sign out other devices",
}


_LIMIT_WORDS: dict[str, str] = {
    CodeLimit.CONVERSATION: "in this chat",
    CodeLimit.EMAIL: "for this e-mail",
    CodeLimit.ADDRESS: "from this client address",
}


_PROVIDER_WORDS = {
    "builtin": "the built-in account system",
    "webhook": "the company's account system",
}


def _changes(detail: dict[str, Any], key: str) -> str:
    names = detail.get(key)
    listed = [_CHANGE_WORDS.get(str(n), str(n)) for n in names or []]
    return ", ".join(listed) if listed else "nothing"


def _account_step_text(action: str, detail: dict[str, Any]) -> str:
    """One account step in the agent's words."""
    email = str(detail.get("email") or "an address")
    if action == "account.code_requested":
        return f"One-time code asked for {email}"
    if action == "account.code_refused":
        minutes = max(1, round(int(detail.get("retry_after_s") or 0) / 60))
        limit = _LIMIT_WORDS.get(str(detail.get("limit")), "a limit")
        return (
            f"No code sent to {email}: too many asked for {limit} in the last "
            f"hour (again in about {minutes} min)"
        )
    if action == "account.code_wrong":
        return f"Wrong code typed ({detail.get('attempts_left', 0)} tries left)"
    if action == "account.code_verified":
        return f"Code verified: the customer reads the mail of {email}"
    if action == "account.consent":
        if detail.get("given"):
            return f"Consent: the customer said yes to: {_changes(detail, 'changes')}"
        return "Consent: the customer said no; nothing was changed"
    if action == "account.reset":
        provider = _PROVIDER_WORDS.get(
            str(detail.get("provider")), "the account system"
        )
        if detail.get("result") == "ok":
            return f"Done by {provider}: {_changes(detail, 'done')}"
        return (
            f"FAILED in {provider}; done before it failed: {_changes(detail, 'done')}"
        )
    return action.removeprefix(ACCOUNT_AUDIT_PREFIX).replace("_", " ")


def account_steps(entries: Sequence[AuditRecord]) -> list[dict[str, Any]]:
    """The account steps of the conversation, oldest first, for the card.

    Args:
        entries: Its ``account.`` audit entries, in any order.

    Returns:
        For each: ``action``, ``at``, ``text`` (for the agent) and
        ``detail`` (as logged: masked e-mail, changes, result).
    """
    return [
        {
            "action": entry.action,
            "at": entry.created_at.isoformat(),
            "text": _account_step_text(entry.action, entry.detail),
            "detail": entry.detail,
        }
        for entry in sorted(entries, key=lambda e: e.id)
        if entry.action.startswith(ACCOUNT_AUDIT_PREFIX)
    ]


def customer_identity(conversation: ConversationRecord) -> dict[str, Any]:
    """Who the customer is; unverified details are marked as such."""
    return {
        "conversation_id": conversation.id,
        "verified": conversation.user_verified,
        "user_id": conversation.user_id,
        "name": conversation.user_name,
        "email": conversation.user_email,
        "page_url": conversation.page_url,
        "locale": conversation.locale,
        "started_at": conversation.created_at.isoformat(),
    }


def handoff_view(handoff: HandoffRecord, now: dt.datetime) -> dict[str, Any]:
    """The handoff's state, owner, wait and promise, as the API shows it."""
    view: dict[str, Any] = {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "state": handoff.state,
        "reason": handoff.reason,
        "reason_text": REASON_TEXT.get(handoff.reason, handoff.reason),
        "priority": handoff.priority,
        "summary": handoff.summary,
        "created_at": handoff.created_at.isoformat(),
        "waited_s": round(handoff.waited_s(now)),
        "agent": (
            {"id": handoff.agent_id, "name": handoff.agent_name}
            if handoff.agent_id is not None
            else None
        ),
        "claimed_at": handoff.claimed_at.isoformat() if handoff.claimed_at else None,
        "outcome": handoff.outcome,
        "follow_up": None,
    }
    if handoff.due_at is not None:
        view["follow_up"] = {
            "due_at": handoff.due_at.isoformat(),
            "owner_id": handoff.follow_up_owner_id,
            "unowned": handoff.follow_up_owner_id is None,
            "overdue": now > handoff.due_at,
        }
    return view


def build_card(
    conversation: ConversationRecord,
    handoff: HandoffRecord,
    transcript: Sequence[MessageRecord],
    article_answers: Sequence[ArticleFeedback],
    notes: Sequence[NoteRecord],
    now: dt.datetime,
    account_audit: Sequence[AuditRecord] = (),
) -> dict[str, Any]:
    """Assemble the handoff card (DESIGN.md, "handoff card").

    Args:
        conversation: The conversation.
        handoff: Its current (or latest) handoff.
        transcript: Every message, in order.
        article_answers: "Did this help?" answers recorded in ``feedback``.
        notes: Internal notes of agents.
        now: The current time (for the wait and overdue promises).
        account_audit: The conversation's ``account.`` audit entries (what
            the assistant did about the customer's account).

    Returns:
        The card as JSON-ready data.
    """
    turns = _turns(transcript)
    return {
        "handoff": handoff_view(handoff, now),
        "customer": customer_identity(conversation),
        "reason": handoff.reason,
        "summary": handoff.summary or summarize(transcript, handoff.reason),
        "waited_s": round(handoff.waited_s(now)),
        "transcript": [message_frame(m) for m in transcript],
        "turns": turns,
        "slots": _latest_slots(transcript),
        "entities": _entities(turns),
        "articles": _articles(transcript, article_answers),
        "actions": _actions(transcript),
        "account_steps": account_steps(account_audit),
        "sentiment": [
            {
                "seq": turn["seq"],
                "at": turn["at"],
                "score": turn["frustration"].get("score"),
                "frustrated": turn["frustration"].get("frustrated"),
            }
            for turn in turns
            if "frustration" in turn
        ],
        "notes": [note.public() for note in notes],
    }

"""Handing conversations to people: the queue, honest waits, no dead ends.

``start`` moves a conversation from the bot to the live queue — or, when
nobody can take it (outside support hours, no agent online), to a follow-up
with an owner and a due time. Not when someone may be in danger: no answer
by e-mail tomorrow is right then, so the customer is pointed to emergency
services and crisis lines, and the chat waits first in the live queue for
whoever comes online first. Agents claim (exactly one wins), transfer, hand
back to the bot, or resolve. Each change is announced to the customer's
conversation channel and to every agent console on the bus.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from bot.assistant.client import RasaClient
from bot.auth import AuthRepository
from bot.bus import AGENTS_CHANNEL, conversation_channel
from bot.contract import (
    NOTICE_LINKS_META,
    NOTICE_META,
    ConversationState,
    HandoffReason,
    HandoffState,
    NoticeKind,
    NoticeLink,
    StatusFrame,
)
from bot.conversations.repository import (
    ConversationRecord,
    MessageRecord,
    NewMessage,
)
from bot.conversations.service import ConversationService
from bot.db.models import utcnow
from bot.exceptions import BadRequest, Conflict, DependencyUnavailable, NotFound
from bot.handoff.card import (
    ACCOUNT_AUDIT_PREFIX,
    build_card,
    handoff_view,
    summarize,
)
from bot.handoff.hours import SupportHours
from bot.handoff.queue import (
    CLAIM_WINDOW,
    REASON_PRIORITY,
    claim_intervals,
    console_priority,
    console_queue,
    estimate_wait_s,
    queue_order,
)
from bot.handoff.queue_customers import queue_customers
from bot.handoff.repository import HandoffRecord, HandoffRepository, NoteRecord
from bot.knowledge import ArticleFeedbackRepository
from bot.periodic import Periodic

logger = logging.getLogger(__name__)

#: What a customer is told when their agent can no longer take the chat.
REQUEUED_TEXT = (
    "The person who was helping you is no longer available. You're back in "
    "line for the next person from our team, who will see everything so far."
)
#: The one handoff notice, decided where the outcome is known (:meth:`start`):
#: a person joins here, or one gets back by a promised time.
QUEUED_TEXT = (
    "I'm bringing in a person from our support team. They'll see everything "
    "we talked about, so you won't need to repeat yourself."
)
FOLLOW_UP_TEXT = (
    "Nobody from our team can join right now. Someone will get back to you by "
    "{due}; you can keep writing here and they will see everything."
)
#: The emergency number: first in the notice of a danger handoff a person will
#: join, and again when the wait runs long. The bot's own turn
#: (``utter_person_in_danger``) only says sorry, so that the customer reads
#: the number once, in the notice the widget shows as a card with numbers to
#: tap.
EMERGENCY_TEXT = (
    "If you or anyone else is in immediate danger, please call your local "
    "emergency number now (112 in Europe, 911 in the US and Canada)."
)
#: Crisis lines, in every danger notice that starts a handoff: a person from
#: the support team is no counsellor, in support hours or out of them.
CRISIS_LINES_TEXT = (
    "If you or someone close to you is thinking about suicide or self-harm, a "
    "crisis line can talk with you now, day or night: call or text 988 in the "
    "US and Canada, call 116\u00a0123 in the UK and Ireland, or find a free "
    "line in your country at findahelpline.com."
)
#: Someone may be in danger and a person will join: the emergency number
#: first, then the crisis lines, then the person.
DANGER_QUEUED_TEXT = f"{EMERGENCY_TEXT} {CRISIS_LINES_TEXT} {QUEUED_TEXT}"
#: ... and nobody from the team can join now: no promise of a time or of an
#: e-mail; the emergency number, crisis lines, and the truth about the queue.
DANGER_NO_AGENT_TEXT = (
    "If anyone is in immediate danger, please call your local emergency "
    "number now (112 in Europe, 911 in the US and Canada): don't wait for us, "
    "as nobody from our team is online right now. "
    f"{CRISIS_LINES_TEXT} "
    "Your message is at the top of our queue, and the first person from our "
    "team to come online will read it here."
)
#: The numbers and sites the danger notices give, as the widget links them
#: (``meta.links``): tap to call, or open the directory of crisis lines.
DANGER_LINKS: tuple[NoticeLink, ...] = (
    {"text": "112", "href": "tel:112"},
    {"text": "911", "href": "tel:911"},
    {"text": "988", "href": "tel:988"},
    {"text": "116\u00a0123", "href": "tel:116123"},
    {"text": "findahelpline.com", "href": "https://findahelpline.com"},
)


def danger_meta(text: str) -> dict[str, Any]:
    """The ``meta`` of a notice telling someone in danger where to get help.

    The widget shows it as a prominent notice, its numbers and sites as links.

    Args:
        text: The message's text; only the links it contains are listed.
    """
    links = [dict(link) for link in DANGER_LINKS if link["text"] in text]
    return {NOTICE_META: NoticeKind.DANGER.value, NOTICE_LINKS_META: links}


#: How the promised time is written in the stored notice (agents, recaps);
#: the widget rewrites it in the customer's time zone and language from
#: ``meta.due_at`` (the ISO time) and ``meta.due_text`` (this wording).
DUE_FORMAT = "%H:%M UTC on %A %d %B"
#: A queue entry whose conversation could not be read (never expected).
NO_CUSTOMER: dict[str, Any] = {"customer": None, "question": None}
OUTCOMES = ("solved", "not_solved", "duplicate", "spam", "follow_up_sent")
#: Longest internal note.
MAX_NOTE_CHARS = 4000


@dataclass(frozen=True)
class HandoffPolicy:
    """When people work and how much time a follow-up promise allows."""

    hours: SupportHours
    follow_up_within: dt.timedelta


class HandoffService:
    """What the bot, the customer and the agents do with handoffs."""

    def __init__(
        self,
        repository: HandoffRepository,
        conversations: ConversationService,
        assistant: RasaClient,
        policy: HandoffPolicy,
        *,
        accounts: AuthRepository,
        feedback: ArticleFeedbackRepository,
    ) -> None:
        """Wire the service to its neighbours.

        Args:
            repository: The handoffs' own store.
            conversations: The owner of conversations and their messages.
            assistant: The Rasa client (to pause and resume the bot).
            policy: Support hours and the follow-up promise.
            accounts: Who can take chats, and who is online.
            feedback: The customers' "did this help?" answers, for the card.
        """
        self.repository = repository
        self.conversations = conversations
        self.assistant = assistant
        self.policy = policy
        self.accounts = accounts
        self.feedback = feedback

    @property
    def bus(self) -> Any:
        """The event bus."""
        return self.conversations.bus

    async def start(
        self, conversation_id: str, reason: str, *, lead: str = ""
    ) -> HandoffRecord | None:
        """Hand the conversation from the bot to people, and tell the customer.

        The customer gets one notice, written here where the outcome is
        known: a person will join (:data:`QUEUED_TEXT`), or nobody can now and
        someone gets back by the promised time (:data:`FOLLOW_UP_TEXT`). When
        someone may be in danger (reason ``danger``) no time is promised: the
        chat waits first in the live queue, and the notice (a prominent one,
        ``meta.notice``, its numbers to tap, :func:`danger_meta`) gives the
        emergency number, the only time the customer reads it in this turn,
        and crisis lines (:data:`DANGER_QUEUED_TEXT`), or, when nobody can
        join, says so too (:data:`DANGER_NO_AGENT_TEXT`); the escalation
        recipients are mailed then (the promise scheduler).

        Args:
            conversation_id: The conversation.
            reason: Why (a :class:`~bot.contract.HandoffReason`).
            lead: A sentence to put before the notice (why the bot stops).

        Returns:
            The handoff, or ``None`` when the bot did not own the conversation.
        """
        now = utcnow()
        follow_up = None
        danger = reason == HandoffReason.DANGER
        nobody_can_join = await self.nobody_can_join(now)
        if nobody_can_join and not danger:
            due = self.policy.hours.add_open_time(now, self.policy.follow_up_within)
            follow_up = (due, await self.accounts.least_busy_agent())
        text, meta = QUEUED_TEXT, {}
        if danger:
            text = DANGER_NO_AGENT_TEXT if nobody_can_join else DANGER_QUEUED_TEXT
            meta = danger_meta(text)
        if follow_up is not None:
            promised = follow_up[0].strftime(DUE_FORMAT)
            text = FOLLOW_UP_TEXT.format(due=promised)
            meta = {"due_at": follow_up[0].isoformat(), "due_text": promised}
        summary = summarize(
            await self.conversations.transcript(conversation_id), reason
        )
        # The handoff and the customer's notice are stored together (a hub
        # dying in between stores neither), and before the assistant is
        # paused (a call to Rasa): a hub dying then loses the pause only.
        started = await self.repository.start(
            conversation_id,
            reason,
            REASON_PRIORITY.get(reason, 10),
            follow_up=follow_up,
            summary=summary,
            notice=NewMessage(role="system", text=f"{lead} {text}".strip(), meta=meta),
        )
        if started is None:
            return None
        handoff, notice = started
        logger.info("handoff %s started (reason: %s)", handoff.id, reason)
        if danger and nobody_can_join:
            logger.warning(
                "handoff %s: someone may be in danger and nobody can join now; "
                "it waits first in the queue for the first agent online",
                handoff.id,
            )
        if follow_up is not None and follow_up[1] is None:
            logger.warning(
                "handoff %s: the follow-up has no owner, as no account can take "
                "chats; it is shown as unowned until one can",
                handoff.id,
            )
        await self.conversations.announce(conversation_id, notice)
        await self._pause_assistant(conversation_id)
        await self.announce(conversation_id)
        return handoff

    async def status(self, conversation: ConversationRecord) -> dict[str, Any]:
        """The customer's status frame: state, place in line, wait, agent, due."""
        fresh = await self.conversations.get(conversation.id) or conversation
        frame: StatusFrame = {"type": "status", "state": fresh.state}
        if fresh.state not in {
            ConversationState.QUEUED,
            ConversationState.AGENT,
            ConversationState.FOLLOW_UP,
        }:
            return dict(frame)
        handoff = await self.repository.current(fresh.id)
        if handoff is None:
            return dict(frame)
        if fresh.state == ConversationState.QUEUED:
            now = utcnow()
            line = queue_order(await self.repository.open_handoffs(), now)
            position = next(
                (i + 1 for i, h in enumerate(line) if h.id == handoff.id), None
            )
            if position is not None:
                frame["position"] = position
                eta = estimate_wait_s(
                    position,
                    await self._agents_at_work(now),
                    await self._claim_intervals(now),
                )
                if eta is not None:
                    frame["eta_s"] = eta
        if handoff.reason == HandoffReason.DANGER:
            frame["danger"] = True
        if fresh.state == ConversationState.AGENT and handoff.agent_name:
            frame["agent"] = {"name": handoff.agent_name}
        if handoff.due_at is not None:
            frame["due_at"] = handoff.due_at.isoformat()
        return dict(frame)

    async def announce(self, conversation_id: str) -> None:
        """Publish the new status to the customer and the queue to agents."""
        conversation = await self.conversations.get(conversation_id)
        if conversation is not None:
            await self.bus.publish(
                conversation_channel(conversation_id), await self.status(conversation)
            )
        await self.bus.publish(
            AGENTS_CHANNEL, {"type": "queue", "conversation_id": conversation_id}
        )

    async def require(self, handoff_id: int) -> HandoffRecord:
        """Return the handoff or raise :class:`NotFound`."""
        handoff = await self.repository.get(handoff_id)
        if handoff is None:
            raise NotFound("no such handoff")
        return handoff

    async def claim(
        self, handoff_id: int, agent_id: int, agent_name: str
    ) -> HandoffRecord:
        """Take a waiting conversation; exactly one of many agents wins.

        Raises:
            Conflict: Someone else has it (the message names them).
        """
        await self.require(handoff_id)
        if not await self.repository.claim(handoff_id, agent_id):
            current = await self.require(handoff_id)
            if current.state != HandoffState.CLAIMED:
                raise Conflict(
                    f"this conversation is {current.state.replace('_', ' ')}",
                    code="not_waiting",
                )
            message = f"{current.agent_name or 'someone else'} already has this"
            if current.agent_id == agent_id:
                message = "you already have this"
            raise Conflict(f"{message} conversation", code="already_claimed")
        handoff = await self.require(handoff_id)
        await self.conversations.post_system(
            handoff.conversation_id, f"{agent_name} from support joined the chat."
        )
        await self.announce(handoff.conversation_id)
        return handoff

    async def transfer(
        self, handoff_id: int, from_agent_id: int | None, to_agent_id: int
    ) -> HandoffRecord:
        """Give a claimed conversation to a colleague.

        Raises:
            BadRequest: The colleague does not exist, cannot take chats, or is
                the agent who already has it.
            Conflict: The caller does not hold the conversation.
        """
        if to_agent_id == from_agent_id:
            raise BadRequest("you already have this conversation", code="same_agent")
        if not await self.accounts.can_take_chats(to_agent_id):
            raise BadRequest("no active agent has that id", code="unknown_agent")
        if not await self.repository.transfer(handoff_id, from_agent_id, to_agent_id):
            raise Conflict("only the agent who has the chat can transfer it")
        handoff = await self.require(handoff_id)
        await self.conversations.post_system(
            handoff.conversation_id,
            f"{handoff.agent_name or 'A colleague'} from support took over the chat.",
        )
        await self.announce(handoff.conversation_id)
        return handoff

    async def hand_back(self, handoff_id: int, agent_id: int | None) -> HandoffRecord:
        """Return the conversation to the bot, telling the bot about it."""
        if not await self.repository.close(
            handoff_id,
            agent_id,
            handoff_state=HandoffState.HANDED_BACK,
            conversation_state=ConversationState.BOT,
        ):
            raise Conflict("only the agent who has the chat can hand it back")
        handoff = await self.require(handoff_id)
        await self._resume_assistant(handoff.conversation_id)
        await self.conversations.post_system(
            handoff.conversation_id,
            "You're back with our virtual assistant. Ask anything else any time.",
        )
        await self.announce(handoff.conversation_id)
        return handoff

    async def resolve(
        self, handoff_id: int, agent_id: int | None, outcome: str
    ) -> HandoffRecord:
        """Close the conversation with an outcome; the customer is asked to rate."""
        if outcome not in OUTCOMES:
            raise BadRequest(
                f"outcome must be one of {', '.join(OUTCOMES)}", code="bad_outcome"
            )
        if not await self.repository.close(
            handoff_id,
            agent_id,
            handoff_state=HandoffState.RESOLVED,
            conversation_state=ConversationState.RESOLVED,
            outcome=outcome,
        ):
            raise Conflict("only the agent who has the chat can resolve it")
        handoff = await self.require(handoff_id)
        await self.announce(handoff.conversation_id)
        return handoff

    async def release_unable_holders(self) -> int:
        """Requeue chats held by accounts that can no longer take them.

        Disabling an account, or giving it a role that does not take chats,
        must not leave its customers without an owner: their chats go back to
        the queue (the customer is told) and its follow-ups to a colleague
        (:meth:`own_follow_ups`, which also owns the promises nobody could).

        Returns:
            How many chats went back to the queue.
        """
        released = await self.repository.release_unable_holders()
        for conversation_id in released:
            logger.info("conversation back in the queue: its agent was disabled")
            await self.conversations.post_system(conversation_id, REQUEUED_TEXT)
            await self.announce(conversation_id)
        await self.own_follow_ups()
        return len(released)

    async def own_follow_ups(self) -> int:
        """Give unowned promises an owner as soon as an account can take them.

        Returns:
            How many follow-ups changed owner (consoles are told).
        """
        changed = 0
        for follow_up_id, owner_id in await self.repository.orphaned_follow_ups():
            owner = await self.accounts.least_busy_agent()
            if owner is None and owner_id is None:
                continue  # nobody can own it yet
            changed += await self.repository.give_follow_up(follow_up_id, owner)
        if changed:
            await self.bus.publish(AGENTS_CHANNEL, {"type": "queue"})
        return changed

    async def current(self, conversation_id: str) -> HandoffRecord | None:
        """The conversation's open handoff, if it has one."""
        return await self.repository.current(conversation_id)

    async def keep_as_follow_up(
        self, handoff_id: int, now: dt.datetime
    ) -> dt.datetime | None:
        """A queued customer leaves but keeps the promise: a follow-up instead.

        It is due within the policy's follow-up time (counted in support
        hours) and owned by the least busy agent.

        Returns:
            The due time, or ``None`` if the handoff was no longer queued.
        """
        due = self.policy.hours.add_open_time(now, self.policy.follow_up_within)
        owner = await self.accounts.least_busy_agent()
        if not await self.repository.keep_as_follow_up(handoff_id, due, owner):
            return None
        return due

    async def notes_of(self, conversation_id: str) -> list[NoteRecord]:
        """The agents' internal notes on the conversation, oldest first."""
        return await self.repository.notes_of(conversation_id)

    async def cancel(self, conversation_id: str) -> bool:
        """The customer no longer waits: the bot owns the conversation again."""
        handoff = await self.repository.current(conversation_id)
        if handoff is None or handoff.state not in {
            HandoffState.QUEUED,
            HandoffState.FOLLOW_UP,
        }:
            return False
        if not await self.repository.close(
            handoff.id,
            None,
            handoff_state=HandoffState.CANCELLED,
            conversation_state=ConversationState.BOT,
            expected=(HandoffState.QUEUED, HandoffState.FOLLOW_UP),
        ):
            return False
        await self._resume_assistant(conversation_id)
        await self.announce(conversation_id)
        return True

    async def queue(self) -> dict[str, Any]:
        """The agents' view: what waits (most urgent first), who holds what."""
        now = utcnow()
        open_handoffs = await self.repository.open_handoffs()
        live = queue_order(open_handoffs, now)
        agents_online = await self.accounts.agents_online()
        agents_at_work = await self._agents_at_work(now)
        intervals = await self._claim_intervals(now)
        entries = []
        for handoff in console_queue(open_handoffs, now):
            entry = handoff_view(handoff, now)
            entry["effective_priority"] = round(console_priority(handoff, now), 1)
            if handoff.state == HandoffState.QUEUED:
                position = live.index(handoff) + 1
                entry["position"] = position
                entry["eta_s"] = estimate_wait_s(position, agents_at_work, intervals)
            entries.append(entry)
        held = [
            handoff_view(h, now)
            for h in open_handoffs
            if h.state == HandoffState.CLAIMED
        ]
        # Who asks what, from where: to tell the chats apart at a glance.
        customers = await queue_customers(
            self.repository.engine, [h.conversation_id for h in open_handoffs]
        )
        for entry in [*entries, *held]:
            entry.update(customers.get(entry["conversation_id"], NO_CUSTOMER))
        unowned = [
            h
            for h in open_handoffs
            if h.due_at is not None and h.follow_up_owner_id is None
        ]
        return {
            "queue": entries,
            "claimed": held,
            "agents_online": agents_online,
            "unowned_follow_ups": len(unowned),
            "at": now.isoformat(),
        }

    async def card(self, handoff_id: int) -> dict[str, Any]:
        """The handoff card of a handoff (DESIGN.md)."""
        handoff = await self.require(handoff_id)
        conversation = await self.conversations.get(handoff.conversation_id)
        if conversation is None:
            raise NotFound("no such conversation")
        return build_card(
            conversation,
            handoff,
            await self.conversations.transcript(conversation.id),
            await self.feedback.for_conversation(conversation.id),
            await self.repository.notes_of(conversation.id),
            utcnow(),
            await self.accounts.audit_entries(
                limit=200, action=ACCOUNT_AUDIT_PREFIX, subject=conversation.id
            ),
        )

    async def holding(self, conversation_id: str, agent_id: int) -> HandoffRecord:
        """The open handoff of a conversation the agent holds.

        Raises:
            NotFound: No such conversation.
            Conflict: ``not_owner``: the agent does not hold it (the message
                says who does, or that nobody does).
        """
        if await self.conversations.get(conversation_id) is None:
            raise NotFound("no such conversation")
        handoff = await self.repository.current(conversation_id)
        if handoff is None or handoff.state != HandoffState.CLAIMED:
            raise Conflict(
                "no agent holds this conversation; claim it first", code="not_owner"
            )
        if handoff.agent_id != agent_id:
            raise Conflict(
                f"{handoff.agent_name or 'another agent'} has this conversation",
                code="not_owner",
            )
        return handoff

    async def reply(
        self,
        conversation_id: str,
        agent_id: int,
        agent_name: str,
        text: Any,
        client_id: Any,
    ) -> tuple[MessageRecord, bool]:
        """Send an agent's reply to the customer, once per ``client_id``.

        Raises:
            BadRequest, PayloadTooLarge: The text or client id is invalid.
            NotFound: No such conversation.
            Conflict: ``not_owner``: the agent does not hold the conversation.
        """
        text = self.conversations.validate_text(text)
        client_id = self.conversations.validate_client_id(client_id)
        await self.holding(conversation_id, agent_id)
        meta = {"agent": {"name": agent_name}}
        result = await self.conversations.post_agent_reply(
            conversation_id, agent_id, text, client_id, meta
        )
        if result is None:
            # Lost the conversation between the check and the write.
            await self.holding(conversation_id, agent_id)
            raise Conflict("you no longer hold this conversation", code="not_owner")
        return result

    async def add_note(
        self,
        conversation_id: str,
        agent_id: int,
        text: Any,
        *,
        require_owner: bool = True,
    ) -> NoteRecord:
        """Keep an internal note on a conversation; never sent to the customer.

        Notes are for colleagues: they go to the agents' channel only, never
        to the conversation's channel.

        Args:
            conversation_id: The conversation.
            agent_id: The author.
            text: The note.
            require_owner: Only the agent who holds the conversation may note
                it (admins are exempt).

        Raises:
            BadRequest: The text is missing or too long.
            NotFound: No such conversation.
            Conflict: ``not_owner``.
        """
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("a note needs some text", code="empty_note")
        if len(text) > MAX_NOTE_CHARS:
            raise BadRequest(f"notes are limited to {MAX_NOTE_CHARS} characters")
        if require_owner:
            await self.holding(conversation_id, agent_id)
        elif await self.conversations.get(conversation_id) is None:
            raise NotFound("no such conversation")
        note = await self.repository.add_note(conversation_id, agent_id, text.strip())
        await self.bus.publish(AGENTS_CHANNEL, {"type": "note", **note.public()})
        return note

    async def nobody_can_join(self, now: dt.datetime) -> bool:
        """Whether nobody can take a chat now (outside hours, or nobody online)."""
        return (
            not self.policy.hours.is_open(now)
            or await self.accounts.agents_online() == 0
        )

    async def _agents_at_work(self, now: dt.datetime) -> int:
        """Agents online, or none outside support hours.

        Outside hours only a chat where someone may be in danger joins the
        live queue; an agent who happens to be signed in says nothing about
        when it will be taken, so no wait is estimated.
        """
        if not self.policy.hours.is_open(now):
            return 0
        return await self.accounts.agents_online()

    async def _claim_intervals(self, now: dt.datetime) -> list[float]:
        claims = await self.repository.recent_claims(now - CLAIM_WINDOW)
        return claim_intervals(claims)

    async def _pause_assistant(self, conversation_id: str) -> None:
        # The hub already never relays while people own the chat; pausing the
        # tracker makes Rasa agree, should anything else reach it.
        try:
            await self.assistant.append_events(conversation_id, [{"event": "pause"}])
        except DependencyUnavailable as error:
            logger.warning("could not pause the assistant: %s", error.message)

    async def _resume_assistant(self, conversation_id: str) -> None:
        events: list[dict[str, Any]] = [
            {"event": "resume"},
            {"event": "slot", "name": "handed_back", "value": True},
            {"event": "action", "name": "action_listen"},
        ]
        try:
            await self.assistant.append_events(conversation_id, events)
        except DependencyUnavailable as error:
            logger.warning("could not resume the assistant: %s", error.message)


class OwnershipSweep:
    """Periodically gives an owner back to chats and promises that lack one.

    An account disabled from the command line or by another hub instance, or
    the first account able to take chats, is noticed here within
    ``interval_s``; the admin API also acts at once.
    """

    def __init__(self, handoffs: HandoffService, interval_s: float = 5.0) -> None:
        self.handoffs = handoffs
        self.interval_s = interval_s
        self._loop = Periodic(
            "ownership sweep",
            handoffs.release_unable_holders,
            interval_s,
            logger=logger,
        )

    def start(self) -> None:
        """Start sweeping in the background."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop after the current sweep (never cancelled mid-query)."""
        await self._loop.stop()

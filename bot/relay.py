"""Relaying customer messages to the assistant, in order, one at a time.

Customer messages are stored with ``relay_state='pending'`` before they are
acknowledged. A per-conversation worker sends them to Rasa in sequence order,
so Rasa's lock for the conversation is never contended and nobody waits on
its once-a-second lock polling. Across hub instances a database lease
(``conversations.relay_owner``) makes one instance the relay of a
conversation at a time; a periodic sweep picks up messages left pending by a
crashed instance. When Rasa fails or times out, or a custom action of the
turn failed (the action server down, hung or failing; Rasa carries on without
it, see :mod:`bot.assistant.channel`), the conversation goes to a person with
the reason ``bot_unavailable`` (or the reason the bot gave): the customer is
never stranded.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.assistant.client import RasaClient, Turn
from bot.contract import ConversationState, HandoffReason, SecretAnswer, TurnMetadata
from bot.conversations.inbox_flags import EMBEDDING, KEEP_VECTOR, keeps_vector
from bot.conversations.repository import (
    EXPECTS,
    RELAY_ONLY,
    ConversationRecord,
    MessageRecord,
    NewMessage,
)
from bot.conversations.service import ConversationService, text_for_assistant
from bot.exceptions import DependencyUnavailable
from bot.handoff.service import HandoffService
from bot.periodic import Periodic

logger = logging.getLogger(__name__)

#: What the customer is told, before the handoff's own notice (a person
#: joins, or one gets back by a time: :meth:`HandoffService.start`), when the
#: assistant cannot answer.
UNAVAILABLE_TEXT = "Sorry, our assistant is having trouble."
#: Why the hub hands over when the assistant cannot answer.
BOT_UNAVAILABLE = HandoffReason.BOT_UNAVAILABLE
NO_ANSWER_TEXT = "I'm not able to help with that myself."
#: The domain response a turn that hands over announces a person with. Its
#: promise is the handoff's to make: the hub says whether a person joins now
#: or gets back later, once, when it knows (a follow-up outside hours).
HANDOFF_RESPONSE = "utter_handoff"


class _Worker:
    def __init__(self) -> None:
        self.dirty = True
        self.task: asyncio.Task[None] | None = None


class Relay:
    """Runs the per-conversation relay workers of one hub instance."""

    def __init__(
        self,
        service: ConversationService,
        handoffs: HandoffService,
        assistant: RasaClient,
        *,
        owner: str,
        lease_s: float,
        sweep_interval_s: float = 5.0,
    ) -> None:
        self.service = service
        self.handoffs = handoffs
        self.assistant = assistant
        self.owner = owner
        self.lease_s = lease_s
        self.sweep_interval_s = sweep_interval_s
        self._workers: dict[str, _Worker] = {}
        self._sweeper = Periodic(
            "relay sweep", self._sweep, sweep_interval_s, logger=logger
        )

    @property
    def repository(self) -> Any:
        """The conversation repository."""
        return self.service.repository

    def start(self) -> None:
        """Start the sweep that recovers messages left pending by a crash."""
        self._sweeper.start()

    async def stop(self) -> None:
        """Stop the sweep and wait for running workers to finish their turn.

        Nothing is cancelled in the middle of a query: a cancelled database
        call would leave its connection open.
        """
        await self._sweeper.stop()
        tasks = [w.task for w in self._workers.values() if w.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=self.lease_s)

    async def idle(self) -> None:
        """Wait until no worker is running (tests and graceful shutdown)."""
        while self._workers:
            tasks = [w.task for w in self._workers.values() if w.task is not None]
            await asyncio.wait(tasks)

    def kick(self, conversation_id: str) -> None:
        """Make sure pending messages of the conversation get relayed."""
        worker = self._workers.get(conversation_id)
        if worker is not None:
            worker.dirty = True
            return
        worker = _Worker()
        self._workers[conversation_id] = worker
        worker.task = asyncio.get_running_loop().create_task(
            self._run(conversation_id, worker)
        )

    async def _run(self, conversation_id: str, worker: _Worker) -> None:
        try:
            while worker.dirty:
                worker.dirty = False
                if not await self.repository.acquire_relay_lease(
                    conversation_id, self.owner, self.lease_s
                ):
                    # Another instance relays it; it re-checks for pending
                    # messages after releasing its lease.
                    return
                try:
                    await self._drain(conversation_id)
                finally:
                    await self.repository.release_relay_lease(
                        conversation_id, self.owner
                    )
                if await self.repository.next_pending(conversation_id) is not None:
                    worker.dirty = True
        except Exception:
            logger.exception("relay failed; the sweep will retry")
        finally:
            self._workers.pop(conversation_id, None)

    async def _drain(self, conversation_id: str) -> None:
        while True:
            message = await self.repository.next_pending(conversation_id)
            if message is None:
                return
            await self._relay(conversation_id, message)
            await self.repository.acquire_relay_lease(
                conversation_id, self.owner, self.lease_s
            )

    async def _relay(self, conversation_id: str, message: MessageRecord) -> None:
        conversation = await self.repository.get(conversation_id)
        if (
            conversation is not None
            and conversation.state == ConversationState.RESOLVED
        ):
            conversation = await self._reopen(conversation_id)
        if conversation is None or conversation.state != ConversationState.BOT:
            await self.repository.set_relay_state(message.id, "skipped")
            return
        await self.service.announce_typing(conversation_id, "bot")
        # A masked answer goes to Rasa masked: the actions read the clear
        # text the hub keeps with the pending message, by its seq.
        text = message.payload or text_for_assistant(message.text)
        metadata: TurnMetadata = {
            "seq": message.seq,
            "locale": conversation.locale,
            "client_address": _relay_only(message).get("client_address"),
        }
        try:
            turn = await self.assistant.send(conversation_id, text, dict(metadata))
        except DependencyUnavailable as error:
            logger.warning("assistant unavailable: %s", error.message)
            # Handed over first: a hub dying between the two leaves the
            # message pending, and the next relay skips it (the conversation
            # is no longer the bot's); marked first, it was stranded.
            await self._hand_off(conversation_id, BOT_UNAVAILABLE, UNAVAILABLE_TEXT)
            await self.repository.set_relay_state(message.id, "failed")
            return
        await self._store_turn(conversation_id, message, turn)

    async def _reopen(self, conversation_id: str) -> ConversationRecord | None:
        """Give a resolved conversation back to the bot, starting afresh.

        The assistant's tracker was paused at the handoff; it restarts, so
        the closed topic's slots (an article waiting for "did that help?", a
        frustrated mood) do not steer the new question. The customer is told
        in the transcript, and every watcher gets the new status.
        """
        if await self.service.reopen(conversation_id):
            logger.info("a resolved conversation got a message: reopened to the bot")
            try:
                await self.assistant.append_events(
                    conversation_id, [{"event": "restart"}]
                )
            except DependencyUnavailable as error:
                # The turn that follows fails the same way and hands over.
                logger.warning("could not restart the assistant: %s", error.message)
            await self.handoffs.announce(conversation_id)
        return await self.repository.get(conversation_id)

    async def _store_turn(
        self, conversation_id: str, message: MessageRecord, turn: Turn
    ) -> None:
        # Kept for the agent's handoff card; "_" keys never go on the wire.
        understood: dict[str, Any] = {
            "_nlu": {
                "intent": turn.intent,
                "confidence": turn.confidence,
                "entities": turn.entities,
                "slots": turn.slots,
                "actions": turn.actions,
                "frustration": turn.frustration,
                "failed_actions": turn.failed_actions,
            }
        }
        if turn.embedding is not None:
            # Not stored in meta: the repository keeps it as the message's
            # inbox vector when the message is flagged, or may be flagged
            # later by a handoff or a rejected article (this turn hands over
            # or answers with an article), so the inbox never embeds it.
            understood[EMBEDDING] = turn.embedding
            if keeps_vector(
                handed_over=bool(turn.failed_actions or turn.handoff_reason),
                article_shown=any(
                    reply.custom.get("article") for reply in turn.messages
                ),
                answered=any(reply.text or reply.buttons for reply in turn.messages),
            ):
                understood[KEEP_VECTOR] = True
        if turn.failed_actions:
            # Whatever the turn said was said without its actions: it may
            # promise a person that action_handoff never asked for, or an
            # answer that never came. None of it is sent; the customer gets
            # one message, from the hub, and a person.
            logger.warning(
                "actions failed in a turn: %s", ", ".join(turn.failed_actions)
            )
            await self._hand_off(
                conversation_id,
                turn.handoff_reason or BOT_UNAVAILABLE,
                UNAVAILABLE_TEXT,
            )
            await self.repository.set_relay_state(message.id, "failed", understood)
            return
        reason = turn.handoff_reason
        expects = _secret_question(turn)
        replies = [
            NewMessage(
                role="bot",
                text=reply.text,
                buttons=reply.buttons,
                meta={
                    **_public_meta(reply.custom),
                    **({EXPECTS: expects} if expects else {}),
                },
            )
            for reply in turn.messages
            if (reply.text or reply.buttons)
            and not (reason and reply.response == HANDOFF_RESPONSE)
        ]
        if not replies and not reason:
            # A turn with nothing to say is a dead end: hand over instead.
            await self.repository.set_relay_state(message.id, "failed", understood)
            await self._hand_off(conversation_id, BOT_UNAVAILABLE, NO_ANSWER_TEXT)
            return
        if replies:
            if not await self.service.post_bot_turn(
                conversation_id, message, replies, understood
            ):
                return
        else:
            await self.repository.set_relay_state(
                message.id, "done", {**message.meta, **understood}
            )
        if reason:
            await self.handoffs.start(conversation_id, reason)

    async def _hand_off(self, conversation_id: str, reason: str, lead: str) -> None:
        await self.handoffs.start(conversation_id, reason, lead=lead)

    async def _sweep(self) -> None:
        for conversation_id in await self.repository.conversations_with_pending():
            self.kick(conversation_id)


def _relay_only(message: MessageRecord) -> dict[str, str]:
    """What the hub kept for the relay alone (clear text, client address)."""
    hidden = message.meta.get(RELAY_ONLY)
    if not isinstance(hidden, dict):
        return {}
    return {str(k): str(v) for k, v in hidden.items() if isinstance(v, str)}


def _secret_question(turn: Turn) -> str | None:
    """The form question of the turn whose answer is kept masked, if any."""
    requested = turn.slots.get("requested_slot")
    if requested in {answer.value for answer in SecretAnswer}:
        return str(requested)
    return None


def _public_meta(custom: dict[str, Any]) -> dict[str, Any]:
    """The parts of a bot message's custom payload that go on the wire."""
    meta: dict[str, Any] = {}
    article = custom.get("article")
    if isinstance(article, str):
        meta["article"] = article
    return meta

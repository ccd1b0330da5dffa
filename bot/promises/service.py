"""What customers do with promises: say where to reach them, come back.

The scheduler (:mod:`bot.promises.scheduler`) asks the customer of a new
follow-up where to reach them; :meth:`PromiseDesk.set_contact` stores the
answer (an address, the verified address confirmed, or no). A reply mail
carries a resume link; :meth:`PromiseDesk.resume` checks it and gives the
browser that opened it the conversation again. A customer who stops waiting
in the live queue leaves it, keeping a follow-up or not
(:meth:`PromiseDesk.leave_queue`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from bot.bus import AGENTS_CHANNEL
from bot.contract import HandoffReason, HandoffState
from bot.conversations.repository import ConversationRecord
from bot.conversations.service import ConversationService
from bot.db.models import utcnow
from bot.exceptions import BadRequest, Conflict
from bot.handoff.service import EMERGENCY_TEXT, HandoffService, danger_meta
from bot.mail import valid_email
from bot.promises.links import LinkRefused, verify_resume_link
from bot.promises.repository import PromiseRepository
from bot.promises.scheduler import when

logger = logging.getLogger(__name__)

GIVEN_TEXT = "Thanks — we'll e-mail the answer to {email}, with a link back here."
DECLINED_TEXT = "All right — the answer will be here in this chat when you come back."
LEFT_QUEUE_TEXT = (
    "You left the queue. The assistant is here if you need anything else, and "
    "you can ask for a person again any time."
)
KEPT_FOLLOW_UP_TEXT = (
    "You left the queue, and we kept your question: someone from our team will "
    "get back to you by {due}."
)
#: Someone may be in danger: leaving does not take the chat out of the queue.
DANGER_STAYS_TEXT = (
    "Your message stays at the top of our queue, because someone may be in "
    "danger: a person from our team will read it and reply here, even if you "
    f"close this chat. {EMERGENCY_TEXT}"
)
#: The agents' frame when a customer leaves the live queue (and why).
QUEUE_LEFT_EVENT = "queue_left"


class PromiseDesk:
    """The customer's side of promises: contact address and resume links."""

    def __init__(
        self,
        repository: PromiseRepository,
        conversations: ConversationService,
        link_secret: bytes,
        *,
        handoffs: HandoffService,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.repository = repository
        self.conversations = conversations
        self.handoffs = handoffs
        self.link_secret = link_secret
        self.now = now

    async def contact(self, conversation: ConversationRecord) -> dict[str, Any]:
        """Where the customer said they may be reached, and what to suggest.

        ``state`` is ``none`` until the customer is asked.
        """
        found = await self.repository.contact(conversation.id)
        suggested = conversation.user_email if conversation.user_verified else None
        return {
            "state": found.state if found else "none",
            "email": found.email if found else None,
            "suggested": suggested,
        }

    async def set_contact(
        self, conversation: ConversationRecord, body: Any
    ) -> dict[str, Any]:
        """Store the customer's answer to "Where can we reach you?".

        Args:
            conversation: The customer's (authenticated) conversation.
            body: ``{"email": "..."}``, ``{"confirm": true}`` (the verified
                address) or ``{"decline": true}``.

        Raises:
            BadRequest: Not one of those, or not a valid address.
        """
        if not isinstance(body, dict):
            raise BadRequest("send a JSON object", code="bad_contact")
        if body.get("decline") is True:
            state, email = "declined", None
        elif body.get("confirm") is True:
            if not (conversation.user_verified and conversation.user_email):
                raise BadRequest(
                    "there is no verified address to confirm; send an email",
                    code="bad_contact",
                )
            state, email = "given", conversation.user_email
        elif "email" in body:
            email = body["email"].strip() if isinstance(body["email"], str) else None
            if not valid_email(email):
                raise BadRequest(
                    "that does not look like an e-mail address", code="bad_email"
                )
            state = "given"
        else:
            raise BadRequest(
                'send {"email": ...}, {"confirm": true} or {"decline": true}',
                code="bad_contact",
            )
        await self.repository.set_contact(conversation.id, state, email, self.now())
        text = GIVEN_TEXT.format(email=email) if email else DECLINED_TEXT
        await self.conversations.post_system(conversation.id, text)
        return await self.contact(conversation)

    async def resume(self, token: str) -> tuple[str, str]:
        """Open the conversation of a resume link in the browser that has it.

        The conversation gets a new token (the link's holder is its owner
        now); a browser still holding the old one starts afresh.

        Returns:
            ``(conversation id, new conversation token)``.

        Raises:
            LinkRefused: The link is malformed, tampered with or expired, or
                its conversation is gone.
        """
        link = verify_resume_link(self.link_secret, token, self.now())
        new_token = await self.conversations.issue_token(link.conversation_id)
        if new_token is None:
            raise LinkRefused("this conversation no longer exists", code="bad_link")
        logger.info("a resume link reopened a conversation")
        return link.conversation_id, new_token

    async def leave_queue(
        self, conversation: ConversationRecord, body: Any
    ) -> dict[str, Any]:
        """The customer stops waiting in the live queue ("never mind", or closed).

        When someone may be in danger (reason ``danger``) a person must still
        read the chat, and no time is promised for it: it stays first in the
        live queue whatever the customer chose, the customer is told so
        (:data:`DANGER_STAYS_TEXT`, with the emergency number) and the agents
        that the customer left (``kept_in_queue``). The widget does not offer
        to leave then (the status frame's ``danger``); this is for clients
        that do.

        Args:
            conversation: The customer's (authenticated) conversation.
            body: ``{"keep_follow_up": true}`` to be answered later instead
                (a follow-up with an owner and a due time), ``false`` to go
                back to the assistant.

        Returns:
            The new status frame.

        Raises:
            BadRequest: ``keep_follow_up`` is not a boolean.
            Conflict: ``not_waiting``: the chat is not in the live queue (an
                agent took it first, or it never was).
        """
        keep = body.get("keep_follow_up") if isinstance(body, dict) else None
        if not isinstance(keep, bool):
            raise BadRequest(
                'send {"keep_follow_up": true} or {"keep_follow_up": false}',
                code="bad_leave",
            )
        handoffs = self.handoffs
        left_at = self.now()
        handoff = await handoffs.current(conversation.id)
        if handoff is None or handoff.state != HandoffState.QUEUED:
            raise Conflict("you are not waiting in the queue", code="not_waiting")
        danger = handoff.reason == HandoffReason.DANGER
        meta = None
        if danger:
            text, meta = DANGER_STAYS_TEXT, danger_meta(DANGER_STAYS_TEXT)
        elif keep:
            due = await handoffs.keep_as_follow_up(handoff.id, left_at)
            if due is None:
                raise Conflict("you are not waiting in the queue", code="not_waiting")
            text = KEPT_FOLLOW_UP_TEXT.format(due=when(due))
        else:
            if not await handoffs.cancel(conversation.id):
                raise Conflict("you are not waiting in the queue", code="not_waiting")
            text = LEFT_QUEUE_TEXT
        logger.info(
            "a customer left the queue (follow-up kept: %s, kept in the queue: %s)",
            keep and not danger,
            danger,
        )
        await self.conversations.post_system(conversation.id, text, meta)
        await handoffs.announce(conversation.id)
        await handoffs.bus.publish(
            AGENTS_CHANNEL,
            {
                "type": QUEUE_LEFT_EVENT,
                "conversation_id": conversation.id,
                "handoff_id": handoff.id,
                "reason": "customer_left",
                "follow_up": keep and not danger,
                "kept_in_queue": danger,
                "summary": handoff.summary,
                "at": left_at.isoformat(),
            },
        )
        return await handoffs.status(conversation)

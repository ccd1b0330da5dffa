"""Customer conversations: creation, authentication, messages and status.

Every message is persisted before it is announced on the bus, and the bus
event carries the whole message so a connected client needs no extra query;
a client that missed events catches up with ``after=SEQ`` from the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from bot.bus import EventBus, conversation_channel
from bot.config import Limits
from bot.contract import SECRET_ANSWER_META
from bot.conversations.identity import verify_identity
from bot.conversations.recap import build_recap
from bot.conversations.repository import (
    EXPECTS,
    RELAY_ONLY,
    ConversationRecord,
    ConversationRepository,
    MessageRecord,
    NewMessage,
)
from bot.db.models import utcnow
from bot.exceptions import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
)
from bot.mail import Mailer, OutboxRecord, valid_email

logger = logging.getLogger(__name__)

_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# Rasa reads a message that starts with "/" (after white space) as an intent
# with entities: typed text must never reach it in that form.
_INTENT_PREFIX = re.compile(r"^[\s/]+")


#: What the customer is told when a message reopens a resolved conversation.
REOPENED_TEXT = (
    "This chat was closed — the assistant is back to help with your new "
    "message. Ask for a person any time and someone from our team will join "
    "again."
)

#: Recap e-mails a conversation may ask for per hour.
RECAPS_PER_HOUR = 3

#: Masks a customer's answer to a question whose answer is secret: given
#: what was asked (a :class:`~bot.contract.SecretAnswer` value) and the typed
#: text, the text to keep, or ``None`` when it holds nothing secret (a
#: customer who types "talk to a person" instead of the code).
AnswerMasker = Callable[[str, str], "str | None"]


def hash_token(token: str) -> str:
    """Return the stored form of a conversation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def text_for_assistant(text: str) -> str:
    """Make customer text safe to give Rasa: never a ``/intent`` command."""
    safe = _INTENT_PREFIX.sub("", text)
    return safe or "?"


def message_frame(message: MessageRecord) -> dict[str, Any]:
    """The wire form of a message (DESIGN.md, public contract)."""
    meta = {k: v for k, v in message.meta.items() if not k.startswith("_")}
    expects = message.meta.get(EXPECTS)
    if isinstance(expects, str):
        meta[SECRET_ANSWER_META] = expects
    frame: dict[str, Any] = {
        "type": "message",
        "seq": message.seq,
        "role": message.role,
        "text": message.text,
        "buttons": message.buttons,
        "meta": meta,
        "at": message.created_at.isoformat(),
    }
    if message.client_id:
        frame["client_id"] = message.client_id
    return frame


def _optional_text(body: dict[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string")
    if len(value) > limit:
        raise BadRequest(f"{key} is longer than {limit} characters")
    return value.strip() or None


class ConversationService:
    """What customers can do with their conversations."""

    def __init__(
        self,
        repository: ConversationRepository,
        bus: EventBus,
        limits: Limits,
        *,
        identity_secret: str | None = None,
        identity_max_hours: float = 24.0,
        mailer: Mailer | None = None,
        mask_answer: AnswerMasker | None = None,
    ) -> None:
        self.repository = repository
        self.mask_answer = mask_answer
        self.bus = bus
        self.limits = limits
        self.identity_secret = identity_secret
        self.identity_max_s = identity_max_hours * 3600
        self.mailer = mailer

    async def create(self, body: dict[str, Any]) -> tuple[ConversationRecord, str]:
        """Start a conversation owned by the bot.

        Args:
            body: The optional request body: ``locale``, ``page_url``, a
                ``user`` (``id``, ``name``, ``email``), and to have that user
                marked verified, ``user_hash`` and ``user_expires`` (see
                :func:`~bot.conversations.identity.sign_identity`; a former
                id-only signature verifies only a user sent without name and
                e-mail).

        Returns:
            The conversation and its bearer token (shown once, stored hashed).

        Raises:
            BadRequest: A field has the wrong type or is too long, or
                ``user_hash`` is sent to a server without an identity secret
                (``identity_unavailable``).
            Unauthorized: The identity signature is forged
                (``identity_invalid``), expired (``identity_expired``) or
                lives past the cap (``identity_too_long``).
        """
        user = body.get("user") or {}
        if not isinstance(user, dict):
            raise BadRequest("user must be an object")
        user_id = _optional_text(user, "id", 255)
        verified = False
        if body.get("user_hash") is not None:
            if not self.identity_secret:
                raise BadRequest(
                    "identity verification is not enabled on this server",
                    code="identity_unavailable",
                )
            if user_id is None:
                raise BadRequest("a signed identity needs user.id", code="bad_identity")
            verified = verify_identity(
                self.identity_secret,
                user,
                body.get("user_expires"),
                body.get("user_hash"),
                time.time(),
                self.identity_max_s,
            )
        token = secrets.token_urlsafe(32)
        conversation = await self.repository.create(
            secrets.token_urlsafe(16),
            hash_token(token),
            locale=_optional_text(body, "locale", 35),
            page_url=_optional_text(body, "page_url", 2048),
            user_id=user_id,
            user_name=_optional_text(user, "name", 255),
            user_email=_optional_text(user, "email", 320),
            user_verified=verified,
        )
        return conversation, token

    async def authenticate(
        self, conversation_id: str, token: str | None
    ) -> ConversationRecord:
        """Return the conversation if ``token`` is its token.

        Raises:
            NotFound: There is no such conversation.
            Unauthorized: The token is missing or wrong.
        """
        if not _CONVERSATION_ID.match(conversation_id):
            raise NotFound("no such conversation")
        conversation = await self.repository.get(conversation_id)
        if conversation is None:
            raise NotFound("no such conversation")
        if not token or not hmac.compare_digest(
            hash_token(token), conversation.token_hash
        ):
            raise Unauthorized("wrong or missing conversation token")
        return conversation

    async def issue_token(self, conversation_id: str) -> str | None:
        """Give the conversation a new token, e.g. for a signed resume link.

        The old token stops working: whoever holds the new one owns the
        conversation on the customer side.

        Returns:
            The new token, or ``None`` if there is no such conversation.
        """
        token = secrets.token_urlsafe(32)
        if not await self.repository.replace_token_hash(
            conversation_id, hash_token(token)
        ):
            return None
        return token

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        """The conversation, or ``None`` if there is none."""
        return await self.repository.get(conversation_id)

    async def messages_after(
        self, conversation_id: str, after: int
    ) -> list[MessageRecord]:
        """Messages with ``seq > after``, in order."""
        return await self.repository.messages_after(conversation_id, after)

    async def transcript(self, conversation_id: str) -> list[MessageRecord]:
        """Every message of the conversation, in order."""
        return await self.repository.transcript(conversation_id)

    async def history(self, conversation_id: str, after: int) -> list[dict[str, Any]]:
        """All messages after ``after``, as wire frames."""
        return [
            message_frame(m)
            for m in await self.repository.messages_after(conversation_id, after)
        ]

    def validate_text(self, text: Any) -> str:
        """Check a customer's text against the limits.

        Raises:
            BadRequest: Not a string, or empty.
            PayloadTooLarge: Over the size limit.
        """
        if not isinstance(text, str):
            raise BadRequest("text must be a string")
        text = text.strip()
        if not text:
            raise BadRequest("the message is empty", code="empty_message")
        if len(text.encode()) > self.limits.max_text_bytes:
            raise PayloadTooLarge(
                f"the message is longer than {self.limits.max_text_bytes} bytes"
            )
        return text

    @staticmethod
    def validate_client_id(client_id: Any) -> str:
        """Return a valid client id; the sender's idempotency key."""
        if client_id is None:
            return str(uuid.uuid4())
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            raise BadRequest(
                "client_id must be 1-64 letters, digits or -_.:", code="bad_client_id"
            )
        return client_id

    async def post_customer_text(
        self,
        conversation: ConversationRecord,
        text: Any,
        client_id: Any,
        *,
        client_address: str | None = None,
    ) -> tuple[MessageRecord, bool]:
        """Store a typed customer message once; announce it when new.

        An answer to a question whose answer is secret (the bot's latest
        message asked for the account's e-mail or the one-time code) is
        stored masked, and goes to the assistant masked; the clear text is
        kept with the pending message for the assistant's actions to read
        (:meth:`ConversationRepository.kept_for_relay`) and erased when the
        message is relayed.

        Args:
            conversation: The customer's conversation.
            text: What they typed.
            client_id: Their idempotency key (one is made if ``None``).
            client_address: Where the message came from, for the assistant's
                per-address limits; kept only until the message is relayed.
        """
        clear = self.validate_text(text)
        shown, relay_only = clear, self._relay_only(client_address)
        masked = await self._masked(conversation.id, clear)
        if masked is not None and masked != clear:
            shown = masked
            relay_only["text"] = clear
        message = NewMessage(
            role="customer",
            text=shown,
            meta={RELAY_ONLY: relay_only} if relay_only else {},
            client_id=self.validate_client_id(client_id),
            relay_state="pending",
        )
        return await self._post_customer(conversation.id, message)

    async def _masked(self, conversation_id: str, text: str) -> str | None:
        """The text masked, if it answers a secret question (``None``: keep it)."""
        if self.mask_answer is None:
            return None
        expects = await self.repository.expected_answer(conversation_id)
        return self.mask_answer(expects, text) if expects else None

    @staticmethod
    def _relay_only(client_address: str | None) -> dict[str, str]:
        return {"client_address": client_address} if client_address else {}

    async def post_customer_button(
        self,
        conversation: ConversationRecord,
        payload: Any,
        client_id: Any,
        *,
        client_address: str | None = None,
    ) -> tuple[MessageRecord, bool]:
        """Store a button press, if the bot offered that button in this chat.

        Args:
            conversation: The customer's conversation.
            payload: The button's payload.
            client_id: Their idempotency key (one is made if ``None``).
            client_address: As for :meth:`post_customer_text`.

        Raises:
            BadRequest: The payload was never offered here.
        """
        if not isinstance(payload, str) or not payload:
            raise BadRequest("payload must be a non-empty string")
        client_id = self.validate_client_id(client_id)
        existing = await self.repository.find_by_client_id(conversation.id, client_id)
        if existing is not None:
            return existing, False
        title = await self._offered_button_title(conversation.id, payload)
        if title is None:
            raise BadRequest(
                "that button was not offered in this conversation",
                code="unknown_button",
            )
        relay_only = self._relay_only(client_address)
        message = NewMessage(
            role="customer",
            text=title,
            meta={RELAY_ONLY: relay_only} if relay_only else {},
            client_id=client_id,
            payload=payload,
            relay_state="pending",
        )
        return await self._post_customer(conversation.id, message)

    async def _offered_button_title(
        self, conversation_id: str, payload: str
    ) -> str | None:
        for message in reversed(
            await self.repository.messages_after(conversation_id, 0, limit=10_000)
        ):
            if message.role != "bot":
                continue
            for button in message.buttons:
                if button.get("payload") == payload:
                    return button.get("title") or payload
        return None

    async def _post_customer(
        self, conversation_id: str, message: NewMessage
    ) -> tuple[MessageRecord, bool]:
        stored, created = await self.repository.append(conversation_id, [message])
        if created:
            await self.announce(conversation_id, stored)
        return stored[0], created

    async def rate(
        self, conversation: ConversationRecord, score: Any, comment: Any
    ) -> None:
        """Store the customer's 1-5 rating."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise BadRequest("score must be a whole number from 1 to 5")
        if comment is not None and not isinstance(comment, str):
            raise BadRequest("comment must be a string")
        if comment and len(comment.encode()) > self.limits.max_text_bytes:
            raise PayloadTooLarge("the comment is too long")
        await self.repository.add_rating(conversation.id, score, comment or None)

    async def request_recap(
        self, conversation: ConversationRecord, email: Any
    ) -> OutboxRecord:
        """Mail the customer the transcript and the steps taken.

        Args:
            conversation: The conversation.
            email: Where to send it; a verified customer's own address when
                omitted.

        Returns:
            The outbox entry: ``sent``, ``kept`` (demo mode) or ``failed``.

        Raises:
            BadRequest: ``bad_email``.
            Conflict: ``nothing_to_recap`` (no message yet) or
                ``mail_unavailable``.
            RateLimited: ``too_many_recaps`` in the last hour.
        """
        if email in (None, "") and conversation.user_verified:
            email = conversation.user_email
        if not valid_email(email):
            raise BadRequest("that is not a valid e-mail address", code="bad_email")
        if self.mailer is None:
            raise Conflict("e-mail is not available here", code="mail_unavailable")
        hour_ago = utcnow() - dt.timedelta(hours=1)
        outbox = self.mailer.repository
        if (
            await outbox.count_for_conversation(conversation.id, "recap", hour_ago)
            >= RECAPS_PER_HOUR
        ):
            raise RateLimited(
                f"at most {RECAPS_PER_HOUR} recaps per hour",
                retry_after_s=3600.0,
                code="too_many_recaps",
            )
        messages = await self.repository.messages_after(conversation.id, 0, 10_000)
        if not any(m.role != "system" for m in messages):
            raise Conflict("there is nothing to recap yet", code="nothing_to_recap")
        recap = build_recap(conversation, messages)
        return await self.mailer.deliver(
            recipient=str(email),
            subject=recap.subject,
            body=recap.body,
            kind="recap",
            conversation_id=conversation.id,
        )

    async def post_bot_turn(
        self,
        conversation_id: str,
        answered: MessageRecord,
        new_messages: list[NewMessage],
        understood: dict[str, Any],
    ) -> list[MessageRecord]:
        """Store the bot's answer to ``answered`` unless a human took over.

        Returns:
            The stored messages; empty when the conversation left the bot.
        """
        meta = {**answered.meta, **understood}
        stored, _ = await self.repository.append(
            conversation_id,
            new_messages,
            require_state="bot",
            mark_relayed=(answered.id, "done", meta),
        )
        if not stored:
            await self.repository.set_relay_state(answered.id, "skipped", meta)
            logger.info("dropped a bot reply: the conversation left the bot")
            return []
        await self.announce(conversation_id, stored)
        return stored

    async def post_agent_reply(
        self,
        conversation_id: str,
        agent_id: int,
        text: str,
        client_id: str,
        meta: dict[str, Any],
    ) -> tuple[MessageRecord, bool] | None:
        """Store an agent's reply once per ``client_id``, if the agent holds it.

        Returns:
            The message and whether it was stored just now (then announced),
            or ``None`` when the agent does not hold the conversation.
        """
        stored, created = await self.repository.append(
            conversation_id,
            [
                NewMessage(
                    role="agent",
                    text=text,
                    meta=meta,
                    client_id=client_id,
                    author_id=agent_id,
                )
            ],
            require_state="agent",
            held_by=agent_id,
        )
        if not stored:
            return None
        if created:
            await self.announce(conversation_id, stored)
        return stored[0], created

    async def reopen(self, conversation_id: str) -> bool:
        """Give a resolved conversation back to the bot and tell the customer.

        Returns:
            Whether it was resolved; ``False`` leaves everything as it was.
        """
        if not await self.repository.reopen(conversation_id):
            return False
        await self.post_system(conversation_id, REOPENED_TEXT)
        return True

    async def post_system(
        self, conversation_id: str, text: str, meta: dict[str, Any] | None = None
    ) -> MessageRecord:
        """Store and announce a system message (``meta`` goes on the wire)."""
        stored, _ = await self.repository.append(
            conversation_id, [NewMessage(role="system", text=text, meta=meta or {})]
        )
        await self.announce(conversation_id, stored)
        return stored[0]

    async def announce(self, conversation_id: str, stored: list[MessageRecord]) -> None:
        """Publish stored messages to everyone watching the conversation."""
        channel = conversation_channel(conversation_id)
        for message in stored:
            await self.bus.publish(channel, message_frame(message))

    async def announce_typing(self, conversation_id: str, role: str) -> None:
        """Tell watchers that ``role`` is typing."""
        await self.bus.publish(
            conversation_channel(conversation_id), {"type": "typing", "role": role}
        )


def dumps(frame: dict[str, Any]) -> str:
    """Serialise a frame compactly for the wire."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)

"""The reset desk: what the chat may do about an account, step by step.

1. :meth:`ResetDesk.request_code`: the customer names an e-mail (or the
   widget's verified identity does). Whether or not an account has it, a
   code row is stored and the customer is told a code was sent: the words
   and the work done before answering are the same, and the mail itself
   goes out in the background. Only an account's own address gets a code.
2. :meth:`ResetDesk.check_code`: the typed code against the newest one, in
   constant time; wrong codes are counted, and after the last allowed one a
   person takes over. An expired or used code is refused.
3. :meth:`ResetDesk.consent`: nothing changes on the account before the
   customer says yes to a sentence naming the change (:func:`consent_text`);
   then the provider unlocks the account if it is locked, mails a reset link
   and signs the other devices out. The consent, each action and its result
   go to the audit log.

Rate limits count the code rows of the last hour: per conversation, per
e-mail (an HMAC of it) and per client address.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.provider import Account, AccountProvider
from bot.accounts.tokens import (
    code_hash,
    code_matches,
    email_key,
    mask_email,
    new_code,
    new_salt,
    normalize_code,
    normalize_email,
)
from bot.auth.repository import AuthRepository
from bot.config import Accounts
from bot.conversations.repository import ConversationRepository
from bot.db.models import AccountCode, aware, utcnow
from bot.exceptions import RateLimited
from bot.mail import Mailer
from bot.mail.templates import render

account_codes = AccountCode.__table__

logger = logging.getLogger(__name__)

#: Who the audit log names for what the assistant does.
AUDIT_ACTOR = "assistant"
_HOUR = dt.timedelta(hours=1)


class CodeLimit(str, Enum):
    """What a code request is counted by, each with its own limit per hour."""

    CONVERSATION = "conversation"
    EMAIL = "email"
    ADDRESS = "address"


#: Each limit as the customer is told it ("for ...").
LIMIT_WORDS = {
    CodeLimit.CONVERSATION: "this conversation",
    CodeLimit.EMAIL: "this e-mail",
    CodeLimit.ADDRESS: "your internet connection",
}


class ResetLimited(RateLimited):
    """Too many codes asked for: by this chat, for this e-mail or this address.

    Attributes:
        limit: The limit reached.
        scope: It in the customer's words (:data:`LIMIT_WORDS`).
    """

    code = "reset_rate_limited"

    def __init__(self, limit: CodeLimit, retry_after_s: float) -> None:
        scope = LIMIT_WORDS[limit]
        super().__init__(
            f"too many codes asked for ({scope}); please try again later",
            retry_after_s=retry_after_s,
        )
        self.limit = limit
        self.scope = scope


class CodeStatus(str, Enum):
    """What became of a typed code."""

    VERIFIED = "verified"
    WRONG = "wrong"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    NO_CODE = "no_code"


@dataclass(frozen=True)
class CodeSent:
    """What the customer is told after asking for a code (always the same)."""

    masked_email: str
    minutes: int


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on a typed code.

    Attributes:
        status: See :class:`CodeStatus`.
        attempts_left: Wrong codes still allowed (``WRONG``).
        account: The account, once the code is ``VERIFIED``.
        masked_email: The address the code went to.
    """

    status: CodeStatus
    attempts_left: int = 0
    account: Account | None = None
    masked_email: str = ""


@dataclass(frozen=True)
class ResetDone:
    """What the desk changed after a yes (empty after a no)."""

    changes: tuple[str, ...] = ()
    masked_email: str = ""


def planned_changes(account: Account) -> tuple[str, ...]:
    """What a yes will do to ``account``, in the order it is done."""
    return (("unlock",) if account.locked else ()) + ("send_link", "sign_out")


def consent_text(changes: tuple[str, ...], masked_email: str) -> str:
    """The sentence the customer says yes or no to, naming every change."""
    parts = []
    if "unlock" in changes:
        parts.append("unlock your account")
    parts.append(f"send a reset link to {masked_email}")
    parts.append("sign you out of your other devices")
    listed = ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"I'll {listed} — OK?"


@dataclass
class ResetDesk:
    """Codes, consent and account changes for the chat.

    Args:
        provider: The account system.
        engine: The hub database (codes, conversations, audit log).
        mailer: Sends the codes.
        secret: Keys the code and e-mail HMACs (the hub's link secret).
        policy: Expiry, attempts and rate limits (``BATON_ACCOUNTS_*``).
    """

    provider: AccountProvider
    engine: AsyncEngine
    mailer: Mailer
    secret: bytes
    policy: Accounts
    _background: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def audit(self) -> AuthRepository:
        """The audit log's owner."""
        return AuthRepository(self.engine)

    @property
    def conversations(self) -> ConversationRepository:
        """The conversations' owner (the desk only reads them)."""
        return ConversationRepository(self.engine)

    async def customer(self, conversation_id: str) -> tuple[str | None, str | None]:
        """The conversation's verified e-mail (else ``None``) and locale."""
        found = await self.conversations.get(conversation_id)
        if found is None:
            return None, None
        email = found.user_email if found.user_verified and found.user_email else None
        return email, found.locale

    async def typed_answer(self, conversation_id: str, seq: int) -> str | None:
        """The clear text of a masked answer during its turn (else ``None``).

        The hub stores the e-mail or code a customer typed masked and keeps
        the clear text with the pending message for its turn only
        (:meth:`ConversationRepository.kept_for_relay`).
        """
        kept = await self.conversations.kept_for_relay(conversation_id, seq)
        return kept.get("text")

    async def _check_limits(
        self, conversation_id: str, key: str, client_address: str | None
    ) -> None:
        since = utcnow() - _HOUR
        limits: list[tuple[CodeLimit, Any, int]] = [
            (
                CodeLimit.CONVERSATION,
                account_codes.c.conversation_id == conversation_id,
                self.policy.codes_per_conversation,
            ),
            (
                CodeLimit.EMAIL,
                account_codes.c.email_key == key,
                self.policy.codes_per_email,
            ),
        ]
        if client_address:
            limits.append(
                (
                    CodeLimit.ADDRESS,
                    account_codes.c.client_address == client_address,
                    self.policy.codes_per_address,
                )
            )
        async with self.engine.connect() as connection:
            for which, condition, limit in limits:
                oldest, count = (
                    await connection.execute(
                        sa.select(
                            sa.func.min(account_codes.c.created_at), sa.func.count()
                        ).where(condition, account_codes.c.created_at > since)
                    )
                ).one()
                if count >= limit:
                    retry = (aware(oldest) + _HOUR - utcnow()).total_seconds()
                    raise ResetLimited(which, max(retry, 1.0))

    async def request_code(
        self,
        conversation_id: str,
        email: str,
        *,
        client_address: str | None = None,
        locale: str | None = None,
    ) -> CodeSent:
        """Store a code for ``email`` and mail it if an account has the address.

        Raises:
            ResetLimited: Over a limit; nothing was stored or sent, and the
                refusal is in the audit log.
            ProviderUnavailable: The account system failed.
        """
        key = email_key(self.secret, email)
        masked = mask_email(normalize_email(email))
        try:
            await self._check_limits(conversation_id, key, client_address)
        except ResetLimited as limited:
            await self.audit.record_audit(
                AUDIT_ACTOR,
                "account.code_refused",
                conversation_id,
                {
                    "email": masked,
                    "limit": limited.limit.value,
                    "retry_after_s": round(limited.retry_after_s),
                },
            )
            raise
        account = await self.provider.lookup(email)
        code, salt = new_code(), new_salt()
        now = utcnow()
        expires_at = now + dt.timedelta(minutes=self.policy.code_minutes)
        async with self.engine.begin() as connection:
            await connection.execute(
                account_codes.insert().values(
                    conversation_id=conversation_id,
                    email_key=key,
                    account_ref=account.ref if account else None,
                    masked_email=masked,
                    salt=salt,
                    # Without an account the row holds a code nobody is told,
                    # so every guess is wrong on the same path.
                    code_hash=code_hash(self.secret, salt, code),
                    client_address=client_address,
                    attempts=0,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        await self.audit.record_audit(
            AUDIT_ACTOR, "account.code_requested", conversation_id, {"email": masked}
        )
        if account is not None:
            self._in_background(
                self._mail_code(account.email, code, conversation_id, locale)
            )
        return CodeSent(masked, self.policy.code_minutes)

    def _in_background(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _mail_code(
        self, recipient: str, code: str, conversation_id: str, locale: str | None
    ) -> None:
        letter = render(
            "account_code",
            locale,
            {"code": code, "minutes": str(self.policy.code_minutes)},
        )
        try:
            await self.mailer.deliver(
                recipient=recipient,
                subject=letter.subject,
                body=letter.text,
                kind="account_code",
                conversation_id=conversation_id,
            )
        except Exception:
            logger.exception("could not store the code mail of %s", conversation_id)

    async def drain(self) -> None:
        """Wait for mails still being sent (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _latest_code(self, conversation_id: str) -> Any:
        query = (
            sa.select(account_codes)
            .where(account_codes.c.conversation_id == conversation_id)
            .order_by(account_codes.c.id.desc())
            .limit(1)
        )
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).first()

    async def check_code(self, conversation_id: str, typed: str) -> CodeCheck:
        """Check the code the customer typed against the conversation's newest.

        Raises:
            ProviderUnavailable: The account system failed (code verified).
        """
        row = await self._latest_code(conversation_id)
        if row is None or row.used_at is not None or row.verified_at is not None:
            return CodeCheck(CodeStatus.NO_CODE)
        masked = row.masked_email
        limit = self.policy.max_code_attempts
        if row.attempts >= limit:
            return CodeCheck(CodeStatus.EXHAUSTED, masked_email=masked)
        if utcnow() >= aware(row.expires_at):
            return CodeCheck(CodeStatus.EXPIRED, masked_email=masked)
        digits = normalize_code(typed) or ""
        matches = code_matches(self.secret, row.salt, row.code_hash, digits)
        now = utcnow()
        async with self.engine.begin() as connection:
            if matches and row.account_ref is not None:
                # Conditional, so two messages at once cannot both verify it.
                result = await connection.execute(
                    account_codes.update()
                    .where(
                        account_codes.c.id == row.id,
                        account_codes.c.verified_at.is_(None),
                        account_codes.c.attempts < limit,
                    )
                    .values(verified_at=now)
                )
                matches = result.rowcount == 1
            if not matches or row.account_ref is None:
                await connection.execute(
                    account_codes.update()
                    .where(account_codes.c.id == row.id)
                    .values(attempts=account_codes.c.attempts + 1)
                )
        if not matches or row.account_ref is None:
            left = limit - row.attempts - 1
            await self.audit.record_audit(
                AUDIT_ACTOR,
                "account.code_wrong",
                conversation_id,
                {"email": masked, "attempts_left": max(left, 0)},
            )
            status = CodeStatus.WRONG if left > 0 else CodeStatus.EXHAUSTED
            return CodeCheck(status, attempts_left=max(left, 0), masked_email=masked)
        account = await self.provider.get(row.account_ref)
        await self.audit.record_audit(
            AUDIT_ACTOR, "account.code_verified", conversation_id, {"email": masked}
        )
        if account is None:
            return CodeCheck(CodeStatus.NO_CODE, masked_email=masked)
        return CodeCheck(CodeStatus.VERIFIED, account=account, masked_email=masked)

    async def _verified_code(self, conversation_id: str) -> Any:
        row = await self._latest_code(conversation_id)
        window = dt.timedelta(minutes=self.policy.code_minutes)
        if (
            row is None
            or row.verified_at is None
            or row.used_at is not None
            or row.account_ref is None
            or utcnow() >= aware(row.verified_at) + window
        ):
            return None
        return row

    async def _use(self, row_id: int) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                account_codes.update()
                .where(account_codes.c.id == row_id, account_codes.c.used_at.is_(None))
                .values(used_at=utcnow())
            )
        return result.rowcount == 1

    async def consent(
        self, conversation_id: str, *, given: bool, locale: str | None = None
    ) -> ResetDone | None:
        """Act on the customer's yes (or record their no).

        Returns:
            What was changed (nothing after a no); ``None`` when there is no
            verified, unused code to act on (expired, used, or never verified).

        Raises:
            ProviderUnavailable: The account system failed; the code is used
                up, and a person takes over.
        """
        row = await self._verified_code(conversation_id)
        if row is None or not await self._use(row.id):
            return None
        masked = row.masked_email
        account = await self.provider.get(row.account_ref)
        if account is None or account.needs_person:
            return None
        changes = planned_changes(account)
        await self.audit.record_audit(
            AUDIT_ACTOR,
            "account.consent",
            conversation_id,
            {"email": masked, "given": given, "changes": list(changes)},
        )
        if not given:
            return ResetDone((), masked)
        done: list[str] = []
        try:
            if "unlock" in changes:
                await self.provider.unlock(account)
                done.append("unlock")
            await self.provider.send_reset(
                account, conversation_id=conversation_id, locale=locale
            )
            done.extend(("send_link", "sign_out"))
        finally:
            await self.audit.record_audit(
                AUDIT_ACTOR,
                "account.reset",
                conversation_id,
                {
                    "email": masked,
                    "provider": self.provider.name,
                    "done": done,
                    "result": "ok" if len(done) == len(changes) else "failed",
                },
            )
        return ResetDone(tuple(done), masked)

"""The built-in account provider: customer accounts in the hub's database.

For companies without an identity system of their own to connect, and for
``make run``, whose demo customers can finish a reset end to end. A reset
link (``/account/reset?token=...``) opens the hub's reset page
(:mod:`bot.web.account_reset`); the token is kept as its SHA-256, works once
and expires. Sending a reset signs the account's other devices out (its
session version goes up); setting the new password unlocks it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.provider import Account, AccountProvider
from bot.accounts.tokens import new_token, normalize_email, token_hash
from bot.auth.passwords import Passwords, validate_new_password
from bot.db.models import AccountResetLink, CustomerAccount, aware, utcnow
from bot.exceptions import BadRequest, Conflict
from bot.mail import Mailer
from bot.mail.templates import render

account_reset_links = AccountResetLink.__table__
customer_accounts = CustomerAccount.__table__

#: Path of the reset page; the token travels in the query string, which the
#: hub's access log leaves out.
RESET_PATH = "/account/reset"


class LinkRefused(BadRequest):
    """A reset link that is unknown, used already, or expired."""

    code = "bad_link"


@dataclass(frozen=True)
class LinkStatus:
    """A valid reset link: whose account, and until when."""

    account_id: int
    email: str
    expires_at: dt.datetime


def _account(row: sa.Row) -> Account:
    return Account(
        ref=str(row.id),
        email=row.email,
        locked=bool(row.locked),
        compromised=bool(row.compromised),
        two_factor_lost=bool(row.two_factor_lost),
    )


def check_strength(password: str, email: str) -> None:
    """Refuse a new password that is easy to guess.

    At least 10 characters (:func:`bot.auth.passwords.validate_new_password`),
    of at least two kinds (letters, digits, other) unless 16 or longer, not
    one character repeated, and not containing the e-mail's name part.

    Raises:
        BadRequest: ``weak_password`` with what to change, or ``bad_password``.
    """
    validate_new_password(password)
    kinds = sum(
        (
            any(ch.isalpha() for ch in password),
            any(ch.isdigit() for ch in password),
            any(not ch.isalnum() for ch in password),
        )
    )
    local = normalize_email(email).partition("@")[0]
    if len(set(password)) < 4:
        raise BadRequest("use more different characters", code="weak_password")
    if kinds < 2 and len(password) < 16:
        raise BadRequest(
            "mix letters with digits or symbols, or use 16 characters or more",
            code="weak_password",
        )
    if len(local) >= 3 and local in password.lower():
        raise BadRequest(
            "a password must not contain your e-mail address", code="weak_password"
        )


class BuiltinAccounts(AccountProvider):
    """Customer accounts kept in the ``customer_accounts`` table.

    Args:
        engine: The hub database.
        mailer: Sends the reset links (the outbox; kept in demo mode).
        base_url: The hub's public URL, which the links start with.
        link_minutes: How long a reset link works.
        passwords: The password hasher (argon2id).
    """

    name = "builtin"

    def __init__(
        self,
        engine: AsyncEngine,
        mailer: Mailer,
        base_url: str,
        *,
        link_minutes: int = 30,
        passwords: Passwords | None = None,
    ) -> None:
        self.engine = engine
        self.mailer = mailer
        self.base_url = base_url.rstrip("/")
        self.link_minutes = link_minutes
        self.passwords = passwords or Passwords()

    async def create_account(
        self,
        email: str,
        name: str,
        password: str,
        *,
        locked: bool = False,
        compromised: bool = False,
        two_factor_lost: bool = False,
    ) -> Account:
        """Add a customer account (demo seeding, tests, an operator's import).

        Raises:
            Conflict: An account has this e-mail already.
        """
        password_hash = await asyncio.to_thread(self.passwords.hash, password)
        try:
            async with self.engine.begin() as connection:
                result = await connection.execute(
                    customer_accounts.insert().values(
                        email=normalize_email(email),
                        name=name,
                        password_hash=password_hash,
                        locked=locked,
                        compromised=compromised,
                        two_factor_lost=two_factor_lost,
                        session_version=0,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError as error:
            raise Conflict(f"an account with {email} exists") from error
        found = await self.get(str(result.inserted_primary_key[0]))
        assert found is not None
        return found

    async def lookup(self, email: str) -> Account | None:
        """The account with ``email`` (any case), or ``None``."""
        query = sa.select(customer_accounts).where(
            customer_accounts.c.email == normalize_email(email)
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _account(row) if row is not None else None

    async def get(self, ref: str) -> Account | None:
        """The account with id ``ref``, or ``None``."""
        if not ref.isdigit():
            return None
        query = sa.select(customer_accounts).where(customer_accounts.c.id == int(ref))
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _account(row) if row is not None else None

    async def session_version(self, ref: str) -> int:
        """The account's session version; older sessions are signed out."""
        query = sa.select(customer_accounts.c.session_version).where(
            customer_accounts.c.id == int(ref)
        )
        async with self.engine.connect() as connection:
            return int((await connection.execute(query)).scalar_one())

    async def send_reset(
        self, account: Account, *, conversation_id: str, locale: str | None
    ) -> None:
        """Store a new single-use link, sign other devices out, mail the link."""
        token = new_token()
        now = utcnow()
        async with self.engine.begin() as connection:
            await connection.execute(
                account_reset_links.insert().values(
                    account_id=int(account.ref),
                    token_hash=token_hash(token),
                    conversation_id=conversation_id,
                    created_at=now,
                    expires_at=now + dt.timedelta(minutes=self.link_minutes),
                )
            )
            await connection.execute(
                customer_accounts.update()
                .where(customer_accounts.c.id == int(account.ref))
                .values(session_version=customer_accounts.c.session_version + 1)
            )
        letter = render(
            "account_reset",
            locale,
            {
                "link": f"{self.base_url}{RESET_PATH}?token={token}",
                "minutes": str(self.link_minutes),
            },
        )
        await self.mailer.deliver(
            recipient=account.email,
            subject=letter.subject,
            body=letter.text,
            kind="account_reset",
            conversation_id=conversation_id,
        )

    async def unlock(self, account: Account) -> None:
        """Clear the account's lock."""
        async with self.engine.begin() as connection:
            await connection.execute(
                customer_accounts.update()
                .where(customer_accounts.c.id == int(account.ref))
                .values(locked=False)
            )

    async def check_link(self, token: str) -> LinkStatus:
        """What a reset link grants, without using it.

        Raises:
            LinkRefused: ``bad_link`` (unknown), ``link_used`` or
                ``link_expired``.
        """
        query = (
            sa.select(
                account_reset_links.c.account_id,
                account_reset_links.c.expires_at,
                account_reset_links.c.used_at,
                customer_accounts.c.email,
            )
            .join(
                customer_accounts,
                customer_accounts.c.id == account_reset_links.c.account_id,
            )
            .where(account_reset_links.c.token_hash == token_hash(token or ""))
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise LinkRefused("this link is not valid", code="bad_link")
        if row.used_at is not None:
            raise LinkRefused("this link has been used already", code="link_used")
        expires_at = aware(row.expires_at)
        if utcnow() >= expires_at:
            raise LinkRefused("this link has expired", code="link_expired")
        return LinkStatus(row.account_id, row.email, expires_at)

    async def set_password(self, token: str, password: str) -> Account:
        """Use a reset link: set the new password, unlock, sign devices out.

        The link is claimed with one conditional update, so of two
        submissions at once exactly one sets the password.

        Raises:
            LinkRefused: As :meth:`check_link`.
            BadRequest: ``weak_password`` (the link stays usable).
        """
        link = await self.check_link(token)
        check_strength(password, link.email)
        password_hash = await asyncio.to_thread(self.passwords.hash, password)
        now = utcnow()
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                account_reset_links.update()
                .where(
                    account_reset_links.c.token_hash == token_hash(token),
                    account_reset_links.c.used_at.is_(None),
                    account_reset_links.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if claimed.rowcount != 1:
                raise LinkRefused("this link has been used already", code="link_used")
            await connection.execute(
                customer_accounts.update()
                .where(customer_accounts.c.id == link.account_id)
                .values(
                    password_hash=password_hash,
                    locked=False,
                    password_changed_at=now,
                    session_version=customer_accounts.c.session_version + 1,
                )
            )
        found = await self.get(str(link.account_id))
        assert found is not None
        return found

    async def sign_in(self, email: str, password: str) -> Account | None:
        """The account when ``password`` is its password and it is not locked.

        An unknown e-mail costs the same hash check as a wrong password.
        """
        query = sa.select(
            customer_accounts.c.id, customer_accounts.c.password_hash
        ).where(customer_accounts.c.email == normalize_email(email))
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        check = await asyncio.to_thread(
            self.passwords.verify, row.password_hash if row else None, password
        )
        if row is None or not check.ok:
            return None
        account = await self.get(str(row.id))
        if account is None or account.locked:
            return None
        return account

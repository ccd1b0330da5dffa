"""Fixtures of the account tests: a built-in provider and a desk on real mail."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.accounts import BuiltinAccounts, ResetDesk
from bot.config import Accounts, Smtp
from bot.conversations.repository import ConversationRepository
from bot.mail import Mailer, OutboxRepository

CODE = re.compile(r"\b(\d{6})\b")
SECRET = b"test secret for account codes, 32+ bytes"
PASSWORD = "old-password-42"


def smtp_of(smtp_server: Any) -> Smtp:
    """Settings that send to the test's aiosmtpd server."""
    controller, _ = smtp_server
    return Smtp(host="127.0.0.1", port=controller.port, security="none", timeout_s=5)


def mailed_code(smtp_server: Any, recipient: str) -> str:
    """The code in the newest mail to ``recipient``."""
    _, inbox = smtp_server
    mails = [mail for to, mail in inbox.mails if recipient in to]
    assert mails, f"no mail to {recipient}"
    found = CODE.search(str(mails[-1].get_payload(decode=True), "utf-8"))
    assert found is not None
    return found.group(1)


def unique_email(name: str = "alice") -> str:
    """An address no other test (on the shared PostgreSQL) uses."""
    return f"{name}.{secrets.token_hex(4)}@example.com"


@pytest.fixture
def mailer(engine: Any, smtp_server: Any) -> Mailer:
    """Mail to the real local SMTP server, kept in the outbox too."""
    return Mailer(OutboxRepository(engine), smtp_of(smtp_server))


@pytest.fixture
def builtin(engine: Any, mailer: Mailer) -> BuiltinAccounts:
    """The built-in provider on the test's database."""
    return BuiltinAccounts(engine, mailer, "https://support.example.com")


@pytest.fixture
def policy() -> Accounts:
    """The default expiry, attempts and limits."""
    return Accounts(provider="builtin")


@pytest.fixture
async def desk(
    engine: Any, mailer: Mailer, builtin: BuiltinAccounts, policy: Accounts
) -> AsyncIterator[ResetDesk]:
    """A desk over the built-in provider."""
    desk = ResetDesk(builtin, engine, mailer, SECRET, policy)
    yield desk
    await desk.drain()


async def new_conversation(
    engine: Any, *, email: str | None = None, verified: bool = False
) -> str:
    """A conversation row (mail to the customer refers to one); its id."""
    made = await ConversationRepository(engine).create(
        secrets.token_hex(16), "0" * 64, user_email=email, user_verified=verified
    )
    return made.id

"""The built-in provider: accounts, single-use reset links, signing in."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa

from bot.accounts import BuiltinAccounts, LinkRefused, check_strength
from bot.db.models import AccountResetLink
from bot.exceptions import BadRequest, Conflict
from tests.bot.accounts.conftest import PASSWORD, new_conversation, unique_email

account_reset_links = AccountResetLink.__table__

LINK = re.compile(r"https://support\.example\.com/account/reset\?token=([\w-]+)")
NEW_PASSWORD = "correct horse 42 battery"


async def reset_link(builtin: BuiltinAccounts, smtp_server: Any, email: str) -> str:
    """Send a reset to ``email``'s account; the token from the mail."""
    account = await builtin.lookup(email)
    assert account is not None
    chat = await new_conversation(builtin.engine)
    await builtin.send_reset(account, conversation_id=chat, locale=None)
    _, inbox = smtp_server
    body = str(inbox.mails[-1][1].get_payload(decode=True), "utf-8")
    found = LINK.search(body)
    assert found is not None, body
    return found.group(1)


async def test_accounts_are_found_by_email_in_any_case(
    builtin: BuiltinAccounts,
) -> None:
    email = unique_email()
    created = await builtin.create_account(email.upper(), "Alice", PASSWORD)
    assert created.email == email
    assert await builtin.lookup(f" {email.upper()} ") == created
    assert await builtin.get(created.ref) == created
    assert await builtin.lookup(unique_email()) is None
    assert await builtin.get("not-a-number") is None
    with pytest.raises(Conflict):
        await builtin.create_account(email, "Alice again", PASSWORD)


async def test_a_reset_link_sets_a_new_password_that_signs_in(
    builtin: BuiltinAccounts, smtp_server: Any
) -> None:
    email = unique_email()
    account = await builtin.create_account(email, "Alice", PASSWORD, locked=True)
    assert await builtin.sign_in(email, PASSWORD) is None  # locked
    token = await reset_link(builtin, smtp_server, email)
    status = await builtin.check_link(token)
    assert status.email == email
    changed = await builtin.set_password(token, NEW_PASSWORD)
    assert changed.ref == account.ref and not changed.locked
    assert await builtin.sign_in(email, NEW_PASSWORD) == changed
    assert await builtin.sign_in(email, PASSWORD) is None
    assert await builtin.sign_in(unique_email(), NEW_PASSWORD) is None


async def test_a_link_works_once(builtin: BuiltinAccounts, smtp_server: Any) -> None:
    email = unique_email()
    await builtin.create_account(email, "Alice", PASSWORD)
    token = await reset_link(builtin, smtp_server, email)
    await builtin.set_password(token, NEW_PASSWORD)
    with pytest.raises(LinkRefused) as refused:
        await builtin.set_password(token, "another good pass 77")
    assert refused.value.code == "link_used"
    assert await builtin.sign_in(email, NEW_PASSWORD) is not None


async def test_an_expired_or_unknown_link_is_refused(
    builtin: BuiltinAccounts, smtp_server: Any
) -> None:
    email = unique_email()
    await builtin.create_account(email, "Alice", PASSWORD)
    token = await reset_link(builtin, smtp_server, email)
    async with builtin.engine.begin() as connection:
        await connection.execute(
            account_reset_links.update().values(
                expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
            )
        )
    for bad, code in (
        (token, "link_expired"),
        ("x" * 43, "bad_link"),
        ("", "bad_link"),
    ):
        with pytest.raises(LinkRefused) as refused:
            await builtin.set_password(bad, NEW_PASSWORD)
        assert refused.value.code == code
    assert await builtin.sign_in(email, PASSWORD) is not None


async def test_a_weak_password_is_refused_and_the_link_stays_usable(
    builtin: BuiltinAccounts, smtp_server: Any
) -> None:
    email = unique_email()
    await builtin.create_account(email, "Alice", PASSWORD)
    token = await reset_link(builtin, smtp_server, email)
    with pytest.raises(BadRequest) as refused:
        await builtin.set_password(token, "short")
    assert refused.value.code == "weak_password"
    await builtin.set_password(token, NEW_PASSWORD)


async def test_the_link_is_stored_only_as_its_hash(
    builtin: BuiltinAccounts, smtp_server: Any
) -> None:
    email = unique_email()
    await builtin.create_account(email, "Alice", PASSWORD)
    token = await reset_link(builtin, smtp_server, email)
    async with builtin.engine.connect() as connection:
        rows = (await connection.execute(sa.select(account_reset_links))).all()
    assert all(token not in str(tuple(row)) for row in rows)


async def test_sending_a_reset_signs_other_devices_out(
    builtin: BuiltinAccounts, smtp_server: Any
) -> None:
    email = unique_email()
    account = await builtin.create_account(email, "Alice", PASSWORD)
    before = await builtin.session_version(account.ref)
    await reset_link(builtin, smtp_server, email)
    assert await builtin.session_version(account.ref) == before + 1


@pytest.mark.parametrize(
    "password",
    [
        "short1",
        "aaaaaaaaaaaaaaaa1",
        "onlyletterss",
        "1234567890",
        "alice.smith-2024!",
    ],
)
def test_weak_passwords(password: str) -> None:
    with pytest.raises(BadRequest) as refused:
        check_strength(password, "alice.smith@example.com")
    assert refused.value.code == "weak_password"


@pytest.mark.parametrize(
    "password", ["correct horse 42", "a long passphrase only letters", "Tr1cky-pw!"]
)
def test_strong_enough_passwords(password: str) -> None:
    check_strength(password, "alice@example.com")

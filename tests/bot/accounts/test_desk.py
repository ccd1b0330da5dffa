"""The reset desk on SQLite and PostgreSQL, with mail to a real SMTP server."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from bot.accounts import (
    BuiltinAccounts,
    CodeLimit,
    CodeStatus,
    ResetDesk,
    ResetLimited,
    consent_text,
)
from bot.auth.repository import AuthRepository
from bot.config import Accounts
from bot.db.models import AccountCode, AuditEntry, CustomerAccount
from tests.bot.accounts.conftest import (
    PASSWORD,
    mailed_code,
    new_conversation,
    unique_email,
)

account_codes = AccountCode.__table__
customer_accounts = CustomerAccount.__table__


def mails_to(smtp_server: Any, recipient: str) -> int:
    _, inbox = smtp_server
    return sum(recipient in to for to, _ in inbox.mails)


async def audit_of(engine: Any, chat: str) -> list[tuple[str, dict[str, Any]]]:
    table = AuditEntry.__table__
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(table.c.action, table.c.detail)
                .where(table.c.subject == chat)
                .order_by(table.c.id)
            )
        ).all()
    return [(row.action, row.detail) for row in rows]


async def account_row(engine: Any, email: str) -> Any:
    async with engine.connect() as connection:
        return (
            await connection.execute(
                sa.select(customer_accounts).where(customer_accounts.c.email == email)
            )
        ).one()


async def test_a_known_email_gets_a_code_that_verifies(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, engine: Any
) -> None:
    email = unique_email()
    await builtin.create_account(email, "Alice", PASSWORD)
    chat = await new_conversation(engine)
    sent = await desk.request_code(chat, email.upper())
    await desk.drain()
    assert sent.masked_email == "a•••@example.com"
    code = mailed_code(smtp_server, email)
    async with engine.connect() as connection:
        row = (await connection.execute(sa.select(account_codes))).all()[-1]
    assert code not in row.code_hash and email not in str(tuple(row))

    wrong = await desk.check_code(chat, "000000" if code != "000000" else "111111")
    assert wrong.status is CodeStatus.WRONG and wrong.attempts_left == 2
    verified = await desk.check_code(chat, f"{code[:3]} {code[3:]}")
    assert verified.status is CodeStatus.VERIFIED
    assert verified.account is not None and verified.account.email == email
    # A code works once.
    assert (await desk.check_code(chat, code)).status is CodeStatus.NO_CODE
    actions = [action for action, _ in await audit_of(engine, chat)]
    assert actions == [
        "account.code_requested",
        "account.code_wrong",
        "account.code_verified",
    ]
    assert all(email not in str(detail) for _, detail in await audit_of(engine, chat))


async def test_an_unknown_email_is_answered_the_same_and_gets_no_mail(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, engine: Any
) -> None:
    known, unknown = unique_email("bob"), unique_email("bea")
    await builtin.create_account(known, "Bob", PASSWORD)
    for_known = await desk.request_code(await new_conversation(engine), known)
    chat = await new_conversation(engine)
    for_unknown = await desk.request_code(chat, unknown)
    await desk.drain()
    assert for_known.masked_email == for_unknown.masked_email == "b•••@example.com"
    assert for_known.minutes == for_unknown.minutes
    assert mails_to(smtp_server, known) == 1
    assert mails_to(smtp_server, unknown) == 0
    # No code matches; the third wrong one hands over, as for an account.
    statuses = [(await desk.check_code(chat, f"{n:06d}")).status for n in range(3)]
    assert statuses == [CodeStatus.WRONG, CodeStatus.WRONG, CodeStatus.EXHAUSTED]


async def code_mailed(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, **flags: bool
) -> tuple[str, str, str]:
    """An account's e-mail was given: (conversation, e-mail, mailed code)."""
    email = unique_email()
    await builtin.create_account(email, "Alice", PASSWORD, **flags)
    chat = await new_conversation(desk.engine)
    await desk.request_code(chat, email)
    await desk.drain()
    return chat, email, mailed_code(smtp_server, email)


async def test_three_wrong_codes_exhaust_even_the_right_one(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, engine: Any
) -> None:
    chat, _, code = await code_mailed(desk, builtin, smtp_server)
    wrong = "999999" if code != "999999" else "888888"
    results = [await desk.check_code(chat, wrong) for _ in range(3)]
    assert [r.attempts_left for r in results] == [2, 1, 0]
    assert results[-1].status is CodeStatus.EXHAUSTED
    assert (await desk.check_code(chat, code)).status is CodeStatus.EXHAUSTED


async def test_an_expired_code_is_refused(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, engine: Any
) -> None:
    chat, _, code = await code_mailed(desk, builtin, smtp_server)
    async with engine.begin() as connection:
        await connection.execute(
            account_codes.update()
            .where(account_codes.c.conversation_id == chat)
            .values(expires_at=dt.datetime.now(dt.timezone.utc))
        )
    check = await desk.check_code(chat, code)
    assert check.status is CodeStatus.EXPIRED


async def verified_chat(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, **flags: bool
) -> tuple[str, str]:
    chat, email, code = await code_mailed(desk, builtin, smtp_server, **flags)
    check = await desk.check_code(chat, code)
    assert check.status is CodeStatus.VERIFIED
    return chat, email


async def test_no_at_consent_changes_nothing(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, engine: Any
) -> None:
    chat, email = await verified_chat(desk, builtin, smtp_server, locked=True)
    before = await account_row(engine, email)
    done = await desk.consent(chat, given=False)
    assert done is not None and done.changes == ()
    after = await account_row(engine, email)
    assert tuple(after) == tuple(before)
    assert mails_to(smtp_server, email) == 1  # the code only
    # The code is used up: a later yes does nothing either.
    assert await desk.consent(chat, given=True) is None
    assert tuple(await account_row(engine, email)) == tuple(before)
    consent = [d for a, d in await audit_of(engine, chat) if a == "account.consent"]
    assert consent == [
        {
            "email": "a•••@example.com",
            "given": False,
            "changes": ["unlock", "send_link", "sign_out"],
        }
    ]


async def test_yes_unlocks_mails_a_link_and_signs_other_devices_out(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, engine: Any
) -> None:
    chat, email = await verified_chat(desk, builtin, smtp_server, locked=True)
    before = await account_row(engine, email)
    done = await desk.consent(chat, given=True)
    assert done is not None
    assert done.changes == ("unlock", "send_link", "sign_out")
    after = await account_row(engine, email)
    assert not after.locked
    assert after.session_version == before.session_version + 1
    assert mails_to(smtp_server, email) == 2
    actions = [a for a, _ in await audit_of(engine, chat)]
    assert actions[-2:] == ["account.consent", "account.reset"]
    reset = (await audit_of(engine, chat))[-1][1]
    assert reset["result"] == "ok" and reset["provider"] == "builtin"
    # Acting twice on one code is refused.
    assert await desk.consent(chat, given=True) is None


async def test_a_flagged_account_is_not_changed_by_the_bot(
    desk: ResetDesk, builtin: BuiltinAccounts, smtp_server: Any, engine: Any
) -> None:
    for flag in ("compromised", "two_factor_lost"):
        chat, email, code = await code_mailed(
            desk, builtin, smtp_server, **{flag: True}
        )
        check = await desk.check_code(chat, code)
        assert check.account is not None and check.account.needs_person
        before = await account_row(engine, email)
        assert await desk.consent(chat, given=True) is None
        assert tuple(await account_row(engine, email)) == tuple(before)


def test_the_consent_sentence_names_every_change() -> None:
    assert consent_text(("send_link", "sign_out"), "a•••@example.com") == (
        "I'll send a reset link to a•••@example.com and sign you out of your "
        "other devices — OK?"
    )
    assert consent_text(("unlock", "send_link", "sign_out"), "a•••@x.org") == (
        "I'll unlock your account, send a reset link to a•••@x.org and sign you "
        "out of your other devices — OK?"
    )


@pytest.mark.parametrize("limit", list(CodeLimit))
async def test_rate_limits_refuse_with_their_scope_send_nothing_and_are_audited(
    engine: Any,
    mailer: Any,
    builtin: BuiltinAccounts,
    smtp_server: Any,
    limit: CodeLimit,
) -> None:
    policy = Accounts(
        provider="builtin",
        codes_per_conversation=2,
        codes_per_email=3,
        codes_per_address=4,
    )
    desk = ResetDesk(builtin, engine, mailer, b"s" * 32, policy)
    email = unique_email()
    await builtin.create_account(email, "Alice", PASSWORD)
    chat, address = await new_conversation(engine), f"203.0.113.{id(limit) % 250}"

    async def ask(n: int) -> tuple[str, str, str | None]:
        if limit is CodeLimit.CONVERSATION:
            return chat, email, None
        if limit is CodeLimit.EMAIL:
            return await new_conversation(engine), email, None
        return await new_conversation(engine), unique_email(f"x{n}"), address

    allowed = {CodeLimit.CONVERSATION: 2, CodeLimit.EMAIL: 3, CodeLimit.ADDRESS: 4}
    for n in range(allowed[limit]):
        where, to, client = await ask(n)
        await desk.request_code(where, to, client_address=client)
    await desk.drain()
    sent = mails_to(smtp_server, email)
    where, to, client = await ask(allowed[limit])
    with pytest.raises(ResetLimited) as refused:
        await desk.request_code(where, to, client_address=client)
    await desk.drain()
    assert refused.value.limit is limit
    assert (
        refused.value.scope
        == {
            CodeLimit.CONVERSATION: "this conversation",
            CodeLimit.EMAIL: "this e-mail",
            CodeLimit.ADDRESS: "your internet connection",
        }[limit]
    )
    assert 0 < refused.value.retry_after_s <= 3600
    assert mails_to(smtp_server, email) == sent
    # The refusal is an account step of the chat, like the others.
    action, detail = (await audit_of(engine, where))[-1]
    assert action == "account.code_refused"
    assert detail["email"].endswith("•••@example.com") and to not in str(detail)
    assert detail["limit"] == limit.value
    assert 0 < detail["retry_after_s"] <= 3600


async def test_the_audit_log_is_the_auth_repository_s(engine: Any) -> None:
    # The desk writes through the audit log's owner, readable by admins.
    entries = await AuthRepository(engine).audit_entries(limit=5)
    assert isinstance(entries, list)

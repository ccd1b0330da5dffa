"""The demo customers ``make run`` creates."""

from __future__ import annotations

from typing import Any

from bot.accounts import BuiltinAccounts
from bot.accounts.demo import DEMO_CUSTOMERS, seed_demo_customers


async def test_demo_customers_are_created_once_with_their_flags(
    engine: Any, builtin: BuiltinAccounts
) -> None:
    password = "baton-demo-pass"
    await seed_demo_customers(engine, password)
    second = await seed_demo_customers(engine, password)
    for email, _, flags in DEMO_CUSTOMERS:
        assert f"{email} exists" in second
        account = await builtin.lookup(email)
        assert account is not None
        assert account.locked == flags.get("locked", False)
        assert account.needs_person == bool(
            flags.get("compromised") or flags.get("two_factor_lost")
        )
    assert await builtin.sign_in("alice@demo.baton", password) is not None

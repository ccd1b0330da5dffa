"""Demo customer accounts for ``make run`` (``baton seed-demo``).

Each shows one path of the reset flow: an ordinary account, a locked one
(the bot unlocks it), and two that only a person may change.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.builtin import BuiltinAccounts
from bot.config import Smtp
from bot.exceptions import Conflict
from bot.mail import Mailer, OutboxRepository

#: ``(email, name, flags)`` of the demo customers.
DEMO_CUSTOMERS: tuple[tuple[str, str, dict[str, bool]], ...] = (
    ("alice@demo.baton", "Alice Demo", {}),
    ("lee@demo.baton", "Lee Locked", {"locked": True}),
    ("casey@demo.baton", "Casey Compromised", {"compromised": True}),
    ("tess@demo.baton", "Tess Lost-Phone", {"two_factor_lost": True}),
)


async def seed_demo_customers(engine: AsyncEngine, password: str) -> list[str]:
    """Create the demo customers that do not exist yet; what was done, per line."""
    accounts = BuiltinAccounts(engine, Mailer(OutboxRepository(engine), Smtp()), "")
    done = []
    for email, name, flags in DEMO_CUSTOMERS:
        if await accounts.lookup(email) is not None:
            done.append(f"{email} exists")
            continue
        try:
            await accounts.create_account(email, name, password, **flags)
        except Conflict:
            done.append(f"{email} exists")  # created meanwhile by another process
            continue
        what = ", ".join(flag.replace("_", " ") for flag in flags) or "ordinary"
        done.append(f"created customer account {email} ({what}, password {password})")
    return done

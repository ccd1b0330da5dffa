"""Console accounts: create-agent, set-role, enable/disable-agent, seed-demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.cli.common import fail
from bot.config import Settings
from bot.exceptions import BadRequest, Conflict, NotFound

if TYPE_CHECKING:
    from bot.auth import AuthService

#: The password of the demo accounts ``baton seed-demo`` creates for
#: ``make run``; never seed a deployment that others can reach.
DEMO_PASSWORD = "baton-demo-pass"
DEMO_ACCOUNTS = (
    ("agent@demo.baton", "Demo Agent", "agent"),
    ("trainer@demo.baton", "Demo Trainer", "trainer"),
    ("admin@demo.baton", "Demo Admin", "admin"),
)
#: Where ``create-agent`` takes the password from (else it asks twice). It is
#: a one-off input to that command, not configuration, so it is not a setting.
NEW_PASSWORD_VARIABLE = "BATON_NEW_AGENT_PASSWORD"


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the account commands to the ``baton`` commands."""
    create = commands.add_parser(
        "create-agent",
        help=f"create a console account (password from {NEW_PASSWORD_VARIABLE} "
        "or asked twice)",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, help="agent, trainer or admin")
    role = commands.add_parser("set-role", help="change an account's role")
    role.add_argument("--email", required=True)
    role.add_argument("--role", required=True, help="agent, trainer or admin")
    for command, verb in (("enable-agent", "enable"), ("disable-agent", "disable")):
        toggle = commands.add_parser(
            command, help=f"{verb} a console account (disabling signs it out)"
        )
        toggle.add_argument("--email", required=True)
    commands.add_parser(
        "seed-demo",
        help=f"create the demo accounts (*@demo.baton, password {DEMO_PASSWORD})",
    )


def _with_accounts(
    settings: Settings, work: Callable[[AuthService], Awaitable[int]]
) -> int:
    from bot.auth import AuthRepository, AuthService
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_database

    async def session() -> int:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
            return await work(AuthService(AuthRepository(engine)))
        finally:
            await engine.dispose()

    return asyncio.run(session())


def _new_password(settings: Settings) -> str | None:
    password = settings.new_agent_password
    if password:
        return password
    try:
        first = getpass.getpass("Password for the new account: ")
        second = getpass.getpass("The same password again: ")
    except EOFError:
        return None
    return first if first == second else None


def create_agent(settings: Settings, args: argparse.Namespace) -> int:
    """``baton create-agent --email --name --role``."""
    from bot.auth import ROLES

    if args.role not in ROLES:
        return fail(f"unknown role {args.role!r}; use one of {', '.join(ROLES)}", 2)
    password = _new_password(settings)
    if password is None:
        return fail(
            f"no password: set {NEW_PASSWORD_VARIABLE} or type the same password twice",
            2,
        )

    async def create(auth: AuthService) -> int:
        try:
            agent = await auth.create_agent(args.email, args.name, args.role, password)
        except BadRequest as error:
            return fail(error.message, 2)
        except Conflict as error:
            return fail(error.message, 1)
        print(f"created {agent.role} account {agent.email} (id {agent.id})")
        return 0

    return _with_accounts(settings, create)


def set_role(settings: Settings, args: argparse.Namespace) -> int:
    """``baton set-role --email --role``."""

    async def change(auth: AuthService) -> int:
        try:
            agent = await auth.set_role(args.email, args.role)
        except BadRequest as error:
            return fail(error.message, 2)
        except NotFound as error:
            return fail(error.message, 1)
        print(f"{agent.email} is now {agent.role}")
        return 0

    return _with_accounts(settings, change)


def set_active(settings: Settings, args: argparse.Namespace) -> int:
    """``baton enable-agent`` / ``baton disable-agent --email``."""
    active = args.command == "enable-agent"

    async def change(auth: AuthService) -> int:
        try:
            agent = await auth.set_active(args.email, active)
        except NotFound as error:
            return fail(error.message, 1)
        print(f"{agent.email} is now {'enabled' if active else 'disabled'}")
        return 0

    return _with_accounts(settings, change)


def seed_demo(settings: Settings) -> int:
    """``baton seed-demo``: the demo console accounts and demo customers."""

    async def seed(auth: AuthService) -> int:
        for email, name, role in DEMO_ACCOUNTS:
            if await auth.repository.get_agent_by_email(email) is not None:
                print(f"{email} exists")
                continue
            try:
                await auth.create_agent(email, name, role, DEMO_PASSWORD)
            except Conflict:
                print(f"{email} exists")  # created meanwhile by another process
                continue
            print(f"created {role} account {email} (password {DEMO_PASSWORD})")
        from bot.accounts.demo import seed_demo_customers

        for line in await seed_demo_customers(auth.repository.engine, DEMO_PASSWORD):
            print(line)
        return 0

    return _with_accounts(settings, seed)

"""``baton run``, ``baton serve`` and ``baton migrate``."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from bot.config import Settings


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run``, ``serve`` and ``migrate`` to the ``baton`` commands."""
    run_command = commands.add_parser(
        "run", help="run Rasa, the action server and the hub"
    )
    run_command.add_argument(
        "--demo",
        action="store_true",
        help="create the demo accounts first and print their sign-in",
    )
    commands.add_parser("serve", help="run the hub only")
    commands.add_parser("migrate", help="apply database migrations")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run the whole stack; with ``--demo`` seed the demo accounts first."""
    from bot.runner import run as run_stack

    demo_logins: list[tuple[str, str]] = []
    env = dict(settings.environment)
    if args.demo:
        # The demo customers reset their passwords in the chat (issue #16).
        env.setdefault("BATON_ACCOUNTS", "builtin")
        settings = Settings.from_env(env)
        if seed_demo(settings) != 0:
            return 1
        demo_logins = [(email, role) for email, _, role in DEMO_ACCOUNTS]
    return run_stack(settings, env, demo_logins, DEMO_PASSWORD)


def serve(settings: Settings) -> int:
    """Run the hub only, in this process."""
    from bot.web.app import create_app

    app = create_app(settings, name="baton_hub")
    app.run(
        host=settings.host,
        port=settings.port,
        access_log=False,
        motd=False,
        workers=1,
    )
    return 0


def migrate(settings: Settings) -> int:
    """Bring the database up to the newest migration."""
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_database

    async def upgrade() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    print("database is up to date")
    return 0

"""Trainers' data: ``baton inbox`` and ``baton nlu export|import``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.cli.common import fail
from bot.config import Settings


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``inbox`` and ``nlu`` to the ``baton`` commands."""
    inbox_command = commands.add_parser(
        "inbox", help="the messages the bot struggled with, grouped (trainers)"
    )
    inbox_command.add_argument(
        "--reason",
        choices=("fallback", "low_confidence", "handoff", "kb_rejected", "low_rating"),
    )
    inbox_command.add_argument(
        "--sort", choices=("newest", "frequent"), default="frequent"
    )
    inbox_command.add_argument("--limit", type=int, default=50, help="most groups")
    nlu_command = commands.add_parser(
        "nlu",
        help="training data between the database and Rasa YAML (trainers)",
    )
    nlu_commands = nlu_command.add_subparsers(dest="nlu_command", required=True)
    nlu_export = nlu_commands.add_parser(
        "export",
        help="write config.yml, domain.yml and data/ with trainers' changes "
        "(rasa train on it gives the same model)",
    )
    nlu_export.add_argument("path", help="the folder to write to")
    nlu_import = nlu_commands.add_parser(
        "import",
        help="store the difference between a folder's data/nlu and the "
        "committed data/nlu as the trainers' changes (replacing them)",
    )
    nlu_import.add_argument("path", help="a project folder or its data/nlu")


def inbox(settings: Settings, args: argparse.Namespace) -> int:
    """Print the training inbox's groups: count, reasons, top article, text."""
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_database
    from bot.knowledge import KnowledgeBase, KnowledgeRepository
    from bot.training import Inbox, InboxFilter, Reason
    from bot.training.repository import TrainingRepository

    async def work() -> int:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
            knowledge = KnowledgeBase(
                KnowledgeRepository(engine), project_dir=settings.project_dir
            )
            inbox = Inbox(TrainingRepository(engine, knowledge.repository), knowledge)
            groups = await inbox.groups(
                InboxFilter(
                    reason=Reason(args.reason) if args.reason else None,
                    sort=args.sort,
                    limit=args.limit,
                )
            )
        finally:
            await engine.dispose()
        if not groups:
            print("the inbox is empty")
        for group in groups:
            reasons = ", ".join(f"{r} x{n}" for r, n in group["reasons"].items())
            article = group["articles"][0]["slug"] if group["articles"] else "-"
            print(f"{group['count']:>4}  {reasons:<32} {article:<26} {group['text']}")
        return 0

    return asyncio.run(work())


def nlu(settings: Settings, args: argparse.Namespace) -> int:
    """``baton nlu export DIR`` / ``baton nlu import DIR``."""
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_database
    from bot.exceptions import BatonError
    from bot.training.intents import NluRepository
    from bot.training.nlu_files import export_files, import_folder, write_files

    folder = Path(args.path)

    async def work() -> int:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
            repository = NluRepository(engine, settings.project_dir)
            if args.nlu_command == "export":
                data = await repository.data()
                written = write_files(export_files(data, settings.project_dir), folder)
                changed = sorted(name for name in data.examples if data.changed(name))
                print(
                    f"exported {len(written)} files to {folder} "
                    f"({len(data.examples)} intents, "
                    f"changed by trainers: {', '.join(changed) or 'none'})"
                )
                return 0
            report = await import_folder(repository, folder, author="import")
            print(
                f"imported {folder}: {report.added} examples added and "
                f"{report.removed} removed against data/nlu; intents created: "
                f"{', '.join(report.created) or 'none'}; deleted: "
                f"{', '.join(report.deleted) or 'none'}"
            )
            return 0
        finally:
            await engine.dispose()

    try:
        return asyncio.run(work())
    except BatonError as error:
        return fail(error.message, 2)

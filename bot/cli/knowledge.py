"""``baton kb import|export``: knowledge-base articles as YAML or Markdown."""

from __future__ import annotations

import argparse
import asyncio

from bot.cli.common import fail
from bot.config import Settings


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kb`` and its ``import`` / ``export`` to the ``baton`` commands."""
    knowledge = commands.add_parser(
        "kb", help="import or export knowledge-base articles (YAML or Markdown)"
    )
    kb_commands = knowledge.add_subparsers(dest="kb_command", required=True)
    kb_import = kb_commands.add_parser(
        "import",
        help="create new articles and save a new version of changed ones",
    )
    kb_import.add_argument("path", help="an article file (.yml, .md) or a folder")
    kb_export = kb_commands.add_parser(
        "export", help="write every article to a folder, one file per slug"
    )
    kb_export.add_argument("path", help="the folder to write to")
    kb_export.add_argument(
        "--format", choices=("yaml", "markdown"), default="yaml", help="file format"
    )


def knowledge_base(settings: Settings, args: argparse.Namespace) -> int:
    """``baton kb import PATH`` / ``baton kb export PATH [--format]``."""
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_database
    from bot.knowledge import (
        KnowledgeError,
        KnowledgeRepository,
        dump_directory,
        load_path,
        load_seed,
    )

    async def work() -> int:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
            repository = KnowledgeRepository(engine)
            # An import into a fresh database comes on top of the seed, as
            # the hub would have it after its first start.
            await repository.seed_if_new(load_seed())
            if args.kb_command == "import":
                report = await repository.import_articles(
                    load_path(args.path), author="import"
                )
                print(
                    f"imported {args.path}: {len(report.created)} created, "
                    f"{len(report.updated)} updated (new version), "
                    f"{len(report.unchanged)} unchanged"
                )
                return 0
            articles = [stored.article for stored in await repository.list_articles()]
            written = dump_directory(articles, args.path, file_format=args.format)
            print(f"exported {len(written)} articles to {args.path} ({args.format})")
            return 0
        finally:
            await engine.dispose()

    try:
        return asyncio.run(work())
    except KnowledgeError as error:
        return fail(error.message, 2)

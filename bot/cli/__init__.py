"""The ``baton`` command line (also ``python -m bot``)."""

# One module per command group, each adding its parsers and running its
# commands: server (run, serve, migrate), training (train), accounts
# (create-agent, set-role, enable/disable-agent, seed-demo), knowledge (kb),
# nlu (inbox, nlu), models (models, deploy, evaluate, rollback), bench.

from __future__ import annotations

import argparse
import sys

from bot.cli import accounts, bench, knowledge, models, nlu, server, training
from bot.cli.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, NEW_PASSWORD_VARIABLE
from bot.cli.common import CHATTY_LOGGERS, configure_logging
from bot.config import Settings
from bot.exceptions import ConfigurationError

__all__ = [
    "CHATTY_LOGGERS",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "NEW_PASSWORD_VARIABLE",
    "configure_logging",
    "main",
]


def main(argv: list[str] | None = None) -> int:
    """Run a ``baton`` command; return the exit status."""
    parser = argparse.ArgumentParser(prog="baton", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    # In this order in ``baton --help``.
    server.add_parsers(commands)
    training.add_parsers(commands)
    accounts.add_parsers(commands)
    knowledge.add_parsers(commands)
    nlu.add_parsers(commands)
    models.add_parsers(commands)
    bench_nlu = bench.add_parsers(commands)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        print(f"baton: configuration error: {error.message}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "run":
        return server.run(settings, args)
    if args.command == "serve":
        return server.serve(settings)
    if args.command == "migrate":
        return server.migrate(settings)
    if args.command == "create-agent":
        return accounts.create_agent(settings, args)
    if args.command == "set-role":
        return accounts.set_role(settings, args)
    if args.command in {"enable-agent", "disable-agent"}:
        return accounts.set_active(settings, args)
    if args.command == "seed-demo":
        return accounts.seed_demo(settings)
    if args.command == "kb":
        return knowledge.knowledge_base(settings, args)
    if args.command == "inbox":
        return nlu.inbox(settings, args)
    if args.command == "nlu":
        return nlu.nlu(settings, args)
    if args.command == "evaluate":
        return models.evaluate(settings, args.version)
    if args.command == "bench" and bench_nlu is not None:
        return int(bench_nlu.run(args))
    if args.command in {"models", "deploy", "rollback"}:
        return models.models(settings, args)
    if args.job:
        return training.train_job(settings, args.by or settings.operator)
    return training.train(settings)

"""The ``baton`` command line (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.exceptions import BadRequest, ConfigurationError, Conflict, NotFound

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


def _serve(settings: Settings) -> int:
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


def _migrate(settings: Settings) -> int:
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


def _train_job(settings: Settings, requested_by: str) -> int:
    """Run a training job (the console's "Train") and print its progress."""
    import time

    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_database
    from bot.training.jobs import JobRepository, JobRunning, worker_environment

    async def start() -> int:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
            return (await JobRepository(engine).start(requested_by)).id
        finally:
            await engine.dispose()

    async def state(job_id: int) -> dict[str, Any]:
        engine = create_engine(settings.database_url)
        try:
            return (await JobRepository(engine).get(job_id)).public()
        finally:
            await engine.dispose()

    try:
        job_id = asyncio.run(start())
    except JobRunning as error:
        return _fail(error.message, 1)
    print(f"training job {job_id} started")
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.training.worker", str(job_id)],
        cwd=settings.project_dir,
        env=worker_environment(settings),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    shown = None
    while True:
        finished = worker.poll() is not None
        job = asyncio.run(state(job_id))
        progress = job["progress"]
        line = f"{job['state']}: {job['stage']}" + (
            f", epoch {progress['epoch']}/{progress['epochs']}"
            if progress["epoch"] is not None
            else ""
        )
        if line != shown:
            print(line, flush=True)
            shown = line
        if job["state"] in ("succeeded", "failed") or finished:
            break
        time.sleep(2)
    if job["state"] != "succeeded":
        print(job["log_tail"], file=sys.stderr)
        return _fail(job["error"] or "the training job did not finish", 1)
    print(f"model {job['model_version']} trained (deploy it with baton deploy)")
    return 0


def _models(settings: Settings, args: argparse.Namespace) -> int:
    """``baton models``, ``baton deploy VERSION``, ``baton rollback [VERSION]``."""
    from bot.db.engine import create_engine
    from bot.db.migrate import upgrade_database
    from bot.exceptions import BatonError
    from bot.training.models import ModelRegistry, override_reason

    by = args.by or settings.operator

    async def work() -> int:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
            registry = ModelRegistry(engine, settings.model_dir)
            if args.command == "deploy":
                deployed = await registry.deploy(
                    args.version,
                    by=by,
                    margin=settings.regression_margin,
                    override_reason=override_reason(args.reason),
                )
                live: str | None = deployed.model.version
            elif args.command == "rollback":
                live = await registry.rollback(args.version, by=by)
            else:
                listing = await registry.listing()
                if not listing["models"]:
                    print("no trained models (baton train --job trains one)")
                for model in listing["models"]:
                    mark = "*" if model["live"] else " "
                    accuracy = model["metrics"].get("training", {}).get("i_acc")
                    print(
                        f"{mark} {model['version']:<28} trained by "
                        f"{model['trained_by']} at {model['trained_at'][:19]}"
                        + (f", training accuracy {accuracy}" if accuracy else "")
                    )
                live = listing["live"]
                print(f"live: {live or 'the shipped model (models/)'}")
                return 0
        finally:
            await engine.dispose()
        print(
            f"live: {live or 'the shipped model (models/)'}; every Rasa server "
            f"loads it within {settings.model_pull_s} s"
        )
        return 0

    try:
        return asyncio.run(work())
    except BatonError as error:
        return _fail(error.message, 1 if error.status in (404, 409) else 2)


def _evaluate(settings: Settings, version: str | None) -> int:
    """``baton evaluate [VERSION]``: a model against the live one, side by side."""
    import json

    from bot.training.evaluation import regressions
    from bot.training.jobs import worker_environment

    # In the worker, at low priority like a training job.
    print("evaluating (a minute or two) ...", flush=True)
    worker = subprocess.run(
        [sys.executable, "-m", "bot.training.worker", "--evaluate"]
        + ([version] if version else []),
        cwd=settings.project_dir,
        env=worker_environment(settings),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if worker.returncode != 0:
        lines = worker.stderr.strip().splitlines()
        failed = [line for line in lines if line.startswith("baton: ")]
        return _fail(failed[-1][7:] if failed else "\n".join(lines[-20:]), 1)
    result = json.loads(worker.stdout.strip().splitlines()[-1])
    evaluation = result["evaluation"]
    candidate, live = evaluation["candidate"], evaluation["live"] or {}
    held_out = evaluation["held_out"]
    print(
        f"held-out set: {held_out['messages']} messages"
        + (f" and the stories of {held_out['stories']}" if held_out["stories"] else "")
    )
    name = (live.get("version") or "shipped") if live else "none"
    print(f"{'':<28}{result['version'][:26]:>28}{'live: ' + name[:20]:>28}")
    for label, key in (("accuracy", "accuracy"), ("macro F1", "macro_f1")):
        shown = f"{live[key]:.3f}" if live else "-"
        print(f"{label:<28}{candidate[key]:>28.3f}{shown:>28}")
    passed = len(candidate["stories"]["passed"])
    stories = passed + len(candidate["stories"]["failed"])
    live_passed = f"{len(live['stories']['passed'])}/{stories}" if live else "-"
    print(f"{'test stories passed':<28}{f'{passed}/{stories}':>28}{live_passed:>28}")
    for intent, figures in candidate["per_intent"].items():
        other = live.get("per_intent", {}).get(intent) if live else None
        shown = f"{other['f1']:.3f}" if other else "-"
        print(f"{'F1 ' + intent:<28}{figures['f1']:>28.3f}{shown:>28}")
    for pair in candidate["confused"]:
        print(
            f"confused: {pair['intent']} taken for {pair['predicted']} x{pair['count']}"
        )
    found = regressions(evaluation, settings.regression_margin)
    for reason in found:
        print(f"regression: {reason}")
    print("the evaluation is recorded with the model")
    return 1 if found else 0


def _train(settings: Settings) -> int:
    # Rasa skips training when the newest model already matches the data.
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--fixed-model-name",
        "baton",
        "--out",
        str(settings.model_dir),
    ]
    return subprocess.call(
        command, cwd=settings.project_dir, env=settings.child_environment()
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


def _fail(message: str, status: int) -> int:
    print(f"baton: {message}", file=sys.stderr)
    return status


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


def _create_agent(settings: Settings, args: argparse.Namespace) -> int:
    from bot.auth import ROLES

    if args.role not in ROLES:
        return _fail(f"unknown role {args.role!r}; use one of {', '.join(ROLES)}", 2)
    password = _new_password(settings)
    if password is None:
        return _fail(
            f"no password: set {NEW_PASSWORD_VARIABLE} or type the same password twice",
            2,
        )

    async def create(auth: AuthService) -> int:
        try:
            agent = await auth.create_agent(args.email, args.name, args.role, password)
        except BadRequest as error:
            return _fail(error.message, 2)
        except Conflict as error:
            return _fail(error.message, 1)
        print(f"created {agent.role} account {agent.email} (id {agent.id})")
        return 0

    return _with_accounts(settings, create)


def _set_role(settings: Settings, args: argparse.Namespace) -> int:
    async def change(auth: AuthService) -> int:
        try:
            agent = await auth.set_role(args.email, args.role)
        except BadRequest as error:
            return _fail(error.message, 2)
        except NotFound as error:
            return _fail(error.message, 1)
        print(f"{agent.email} is now {agent.role}")
        return 0

    return _with_accounts(settings, change)


def _set_active(settings: Settings, args: argparse.Namespace) -> int:
    active = args.command == "enable-agent"

    async def change(auth: AuthService) -> int:
        try:
            agent = await auth.set_active(args.email, active)
        except NotFound as error:
            return _fail(error.message, 1)
        print(f"{agent.email} is now {'enabled' if active else 'disabled'}")
        return 0

    return _with_accounts(settings, change)


def _seed_demo(settings: Settings) -> int:
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


def _knowledge_base(settings: Settings, args: argparse.Namespace) -> int:
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
        return _fail(error.message, 2)


def _inbox(settings: Settings, args: argparse.Namespace) -> int:
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


def _nlu(settings: Settings, args: argparse.Namespace) -> int:
    """``baton nlu export DIR`` / ``baton nlu import DIR``."""
    from pathlib import Path

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
        return _fail(error.message, 2)


def _bench_nlu() -> ModuleType | None:
    """``bench.nlu.run`` of the project checkout (``bench/`` beside ``bot/``).

    The benchmarks are not part of the installed package: ``baton bench``
    exists only in a checkout of the project.
    """
    root = Path(__file__).resolve().parents[1]
    if not (root / "bench" / "nlu" / "run.py").is_file():
        return None
    if str(root) not in sys.path:
        sys.path.append(str(root))
    import importlib

    return importlib.import_module("bench.nlu.run")


#: Libraries that log what they carry at DEBUG (aiosqlite every query's
#: parameters: CSRF tokens, e-mail addresses, mail bodies with reset links;
#: websockets every frame): kept at INFO whatever BATON_LOG_LEVEL says.
CHATTY_LOGGERS = ("aiosqlite", "websockets")


def configure_logging(level: str) -> None:
    """Log at ``level`` (``BATON_LOG_LEVEL``), never below INFO for chatty libraries.

    Args:
        level: A level name, DEBUG to ERROR.
    """
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger().setLevel(level)
    floor = max(logging.INFO, logging.getLevelName(level))
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(floor)


def main(argv: list[str] | None = None) -> int:
    """Run a ``baton`` command; return the exit status."""
    parser = argparse.ArgumentParser(prog="baton", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
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
    train = commands.add_parser(
        "train",
        help="train models/baton.tar.gz from the project's files if they "
        "changed; --job: train the data with trainers' changes as a training "
        "job (as the console's Train), into var/models",
    )
    train.add_argument(
        "--job",
        action="store_true",
        help="run a training job: validate, train, record the model",
    )
    train.add_argument(
        "--by", help="who trains, recorded on the model (default: your user name)"
    )
    create_agent = commands.add_parser(
        "create-agent",
        help=f"create a console account (password from {NEW_PASSWORD_VARIABLE} "
        "or asked twice)",
    )
    create_agent.add_argument("--email", required=True)
    create_agent.add_argument("--name", required=True)
    create_agent.add_argument("--role", required=True, help="agent, trainer or admin")
    set_role = commands.add_parser("set-role", help="change an account's role")
    set_role.add_argument("--email", required=True)
    set_role.add_argument("--role", required=True, help="agent, trainer or admin")
    for command, verb in (("enable-agent", "enable"), ("disable-agent", "disable")):
        toggle = commands.add_parser(
            command, help=f"{verb} a console account (disabling signs it out)"
        )
        toggle.add_argument("--email", required=True)
    commands.add_parser(
        "seed-demo",
        help=f"create the demo accounts (*@demo.baton, password {DEMO_PASSWORD})",
    )
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
    inbox = commands.add_parser(
        "inbox", help="the messages the bot struggled with, grouped (trainers)"
    )
    inbox.add_argument(
        "--reason",
        choices=("fallback", "low_confidence", "handoff", "kb_rejected", "low_rating"),
    )
    inbox.add_argument("--sort", choices=("newest", "frequent"), default="frequent")
    inbox.add_argument("--limit", type=int, default=50, help="most groups")
    nlu = commands.add_parser(
        "nlu",
        help="training data between the database and Rasa YAML (trainers)",
    )
    nlu_commands = nlu.add_subparsers(dest="nlu_command", required=True)
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
    commands.add_parser(
        "models", help="the trained models and which one is live (trainers)"
    )
    deploy = commands.add_parser(
        "deploy", help="make a trained model live on every Rasa server"
    )
    deploy.add_argument("version", help="the model's version (baton models)")
    deploy.add_argument("--reason", help="an override reason, recorded")
    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a trained model and the live one on the held-out set, "
        "side by side, and record it (exit 1 when the regression guard would "
        "refuse it)",
    )
    evaluate.add_argument(
        "version", nargs="?", help="the model (default: the newest trained)"
    )
    rollback = commands.add_parser(
        "rollback",
        help="take the live model out (the one live before it is live again), "
        "or bring an earlier live VERSION back",
    )
    rollback.add_argument("version", nargs="?", help="an earlier live model")
    for recorded in (deploy, rollback, commands.choices["models"]):
        recorded.add_argument(
            "--by", help="who does it, recorded (default: your user name)"
        )
    bench_nlu = _bench_nlu()
    if bench_nlu is not None:
        bench = commands.add_parser("bench", help="measure the assistant")
        bench_commands = bench.add_subparsers(dest="bench_command", required=True)
        bench_nlu.add_arguments(
            bench_commands.add_parser(
                "nlu",
                help="train a Rasa NLU config on CSV data (text,label); report "
                "accuracy, out-of-scope recall at the config's fallback "
                "threshold, training time, parse speed and memory",
            )
        )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigurationError as error:
        print(f"baton: configuration error: {error.message}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if args.command == "run":
        from bot.runner import run

        demo_logins: list[tuple[str, str]] = []
        env = dict(settings.environment)
        if args.demo:
            # The demo customers reset their passwords in the chat (issue #16).
            env.setdefault("BATON_ACCOUNTS", "builtin")
            settings = Settings.from_env(env)
            if _seed_demo(settings) != 0:
                return 1
            demo_logins = [(email, role) for email, _, role in DEMO_ACCOUNTS]
        return run(settings, env, demo_logins, DEMO_PASSWORD)
    if args.command == "serve":
        return _serve(settings)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "create-agent":
        return _create_agent(settings, args)
    if args.command == "set-role":
        return _set_role(settings, args)
    if args.command in {"enable-agent", "disable-agent"}:
        return _set_active(settings, args)
    if args.command == "seed-demo":
        return _seed_demo(settings)
    if args.command == "kb":
        return _knowledge_base(settings, args)
    if args.command == "inbox":
        return _inbox(settings, args)
    if args.command == "nlu":
        return _nlu(settings, args)
    if args.command == "evaluate":
        return _evaluate(settings, args.version)
    if args.command == "bench" and bench_nlu is not None:
        return int(bench_nlu.run(args))
    if args.command in {"models", "deploy", "rollback"}:
        return _models(settings, args)
    if args.job:
        return _train_job(settings, args.by or settings.operator)
    return _train(settings)

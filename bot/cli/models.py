"""Trained models: ``baton models``, ``deploy``, ``evaluate`` and ``rollback``."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys

from bot.cli.common import fail
from bot.config import Settings


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``models``, ``deploy``, ``evaluate`` and ``rollback``."""
    listing = commands.add_parser(
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
    for recorded in (deploy, rollback, listing):
        recorded.add_argument(
            "--by", help="who does it, recorded (default: your user name)"
        )


def models(settings: Settings, args: argparse.Namespace) -> int:
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
        return fail(error.message, 1 if error.status in (404, 409) else 2)


def evaluate(settings: Settings, version: str | None) -> int:
    """``baton evaluate [VERSION]``: a model against the live one, side by side."""
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
        return fail(failed[-1][7:] if failed else "\n".join(lines[-20:]), 1)
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

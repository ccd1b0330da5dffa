"""``baton train``: the shipped model from the project's files, or a training job."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from typing import Any

from bot.cli.common import fail
from bot.config import Settings


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``train`` to the ``baton`` commands."""
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


def train(settings: Settings) -> int:
    """Train ``models/baton.tar.gz`` with Rasa from the project's files."""
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


def train_job(settings: Settings, requested_by: str) -> int:
    """Run a training job (the console's "Train") and print its progress."""
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
        return fail(error.message, 1)
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
        line = f"{job['state']}: {job['stage']}"
        if progress["steps"] and job["stage"] in ("train", "evaluate"):
            line += f", {progress['step']} of {progress['steps']} steps done" + (
                f", now {progress['step_name']}" if progress["step_name"] else ""
            )
        if progress["epoch"] is not None:
            line += f", epoch {progress['epoch']}/{progress['epochs']}"
        if line != shown:
            print(line, flush=True)
            shown = line
        if job["state"] in ("succeeded", "failed") or finished:
            break
        time.sleep(2)
    if job["state"] != "succeeded":
        print(job["log_tail"], file=sys.stderr)
        return fail(job["error"] or "the training job did not finish", 1)
    print(f"model {job['model_version']} trained (deploy it with baton deploy)")
    return 0

"""Training jobs: one at a time across hubs, progress from Rasa's output, failures.

The job that runs here fails at ``rasa data validate`` (a rule names an action
the domain does not have): it shows why and records no model. Training that
succeeds is in the stack test of the whole loop (tests/e2e).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from bot.config import Settings
from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, upgrade_database
from bot.db.models import ModelDeployment, NluModel, TrainingJob
from bot.training.jobs import (
    STALE_AFTER,
    STEP_NAME_CHARS,
    JobNotFound,
    JobRepository,
    JobRunning,
)
from bot.training.rasa_train import (
    COMPONENTS,
    EVALUATING,
    EVALUATION_STEP,
    VALIDATED,
    components_line,
)
from bot.training.worker import RasaOutput, Steps
from tests.bot.auth.test_auth_api import call, login, new_account
from tests.bot.training.helpers import clear_training_data
from tests.conftest import PROJECT_DIR
from tests.hub import RunningHub, running_hub

JOBS = "/api/training/jobs"


async def clear_jobs(engine: Any) -> None:
    """Remove every job, model and deployment (PostgreSQL is shared by a run)."""
    async with engine.begin() as connection:
        await connection.execute(sa.delete(ModelDeployment.__table__))
        await connection.execute(sa.delete(NluModel.__table__))
        await connection.execute(sa.delete(TrainingJob.__table__))


@pytest.fixture
async def jobs(engine: Any) -> AsyncIterator[JobRepository]:
    await clear_jobs(engine)
    yield JobRepository(engine)
    await clear_jobs(engine)


async def test_one_job_at_a_time(jobs: JobRepository) -> None:
    first = await jobs.start("t@x")
    assert (first.state, first.stage) == ("queued", "queued")
    with pytest.raises(JobRunning) as running:
        await jobs.start("u@x")
    assert f"job {first.id}" in running.value.message
    await jobs.report(
        first.id,
        state="running",
        stage="train",
        started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=42),
        step=2,
        steps=6,
        step_name="DIETClassifier",
        epoch=3,
        epochs=100,
    )
    shown = (await jobs.get(first.id)).public()
    assert (shown["state"], shown["progress"]) == (
        "running",
        {
            "epoch": 3,
            "epochs": 100,
            "step": 2,
            "steps": 6,
            "step_name": "DIETClassifier",
        },
    )
    assert 42 <= shown["elapsed_s"] < 100
    assert "step" not in shown and "epoch" not in shown
    await jobs.finish(first.id, error="rasa train failed", log_tail="the end")
    failed = await jobs.get(first.id)
    assert (failed.state, failed.stage, failed.error) == (
        "failed",
        "train",
        "rasa train failed",
    )
    # How long it ran, no longer growing.
    assert failed.finished_at is not None and failed.started_at is not None
    took = int((failed.finished_at - failed.started_at).total_seconds())
    assert took >= 42 and failed.public()["elapsed_s"] == took
    second = await jobs.start("u@x")
    assert second.id != first.id and (await jobs.active()) == second
    assert second.public()["elapsed_s"] is None
    assert second.public()["progress"]["steps"] is None
    await jobs.report(second.id, step_name="x" * 300)
    assert (await jobs.get(second.id)).step_name == "x" * STEP_NAME_CHARS
    with pytest.raises(JobNotFound):
        await jobs.get(2_000_000_000)


async def test_a_silent_worker_does_not_block_training_forever(
    jobs: JobRepository,
) -> None:
    stuck = await jobs.start("t@x")
    async with jobs.engine.begin() as connection:
        await connection.execute(
            TrainingJob.__table__.update().values(
                state="running",
                heartbeat_at=dt.datetime.now(dt.timezone.utc) - STALE_AFTER * 2,
            )
        )
    failed = await jobs.get(stuck.id)
    assert failed.state == "failed" and "stopped reporting" in (failed.error or "")
    assert (await jobs.start("u@x")).state == "queued"


def test_rasas_output_gives_the_epoch_and_a_short_log() -> None:
    output = RasaOutput()
    output.feed("Starting to train component 'DIETClassifier'\n")
    for epoch in range(1, 101):
        output.feed(
            f"Epochs: {epoch:3d}%|#| {epoch}/100 [00:01<00:30, "
            f"t_loss={3 - epoch / 50:.2f}, i_acc={epoch / 100:.3f}]\r"
        )
    output.feed("\nYour Rasa model is trained")
    assert (output.epoch, output.epochs) == (100, 100)
    assert output.metrics == {"t_loss": 1.0, "i_acc": 1.0}
    lines = output.tail().splitlines()
    assert len(lines) == 3 and lines[1].startswith("Epochs: 100%")
    assert lines[2] == "Your Rasa model is trained"


def test_rasas_output_tells_when_validation_passed_and_evaluation_started() -> None:
    output = RasaOutput()
    output.feed("Started validating domain and training data...\n")
    assert not output.validated
    output.feed(f"{VALIDATED}\nEpochs:  50%|#| 50/100 [00:01<00:01, i_acc=0.9]\r")
    assert output.validated and (output.epoch, output.epochs) == (50, 100)
    assert not output.evaluating
    output.feed(f"\nYour Rasa model is trained\n{EVALUATING}\n")
    assert output.evaluating


def log(message: str) -> str:
    """A line as Rasa's logging writes it."""
    return f"2026-12-04 23:45:06 INFO     rasa.engine.training.hooks  - {message}\n"


def test_rasas_output_gives_the_component_training_of_all_in_the_graph() -> None:
    output = RasaOutput()
    output.feed(f"{VALIDATED}\n")
    assert output.progress()["steps"] is None
    output.feed(components_line(6, 2) + "\n")
    assert output.progress() == {
        "step": 0,
        "steps": 6,
        "step_name": None,
        "epoch": None,
        "epochs": None,
    }
    output.feed(log("Starting to train component 'RegexEntityExtractor'."))
    assert output.step() == (0, 6, "RegexEntityExtractor")
    output.feed(log("Finished training component 'RegexEntityExtractor'."))
    assert output.step() == (1, 6, None)
    output.feed(log("Restored component 'MemoizationPolicy' from cache."))
    output.feed(log("Starting to train component 'DIETClassifier'."))
    output.feed("Epochs:  40%|####  | 40/100 [00:04<00:06, t_loss=1.2, i_acc=0.8]\r")
    assert output.progress() == {
        "step": 2,
        "steps": 6,
        "step_name": "DIETClassifier",
        "epoch": 40,
        "epochs": 100,
    }
    output.feed("Epochs: 100%|######| 100/100 [00:10<00:00, t_loss=0.5, i_acc=1.0]\n")
    output.feed(log("Finished training component 'DIETClassifier'."))
    output.feed(log("Starting to train component 'DenseLogisticRegressionClassifier'."))
    # The bar was DIET's: this component draws none.
    assert output.progress() == {
        "step": 3,
        "steps": 6,
        "step_name": "DenseLogisticRegressionClassifier",
        "epoch": None,
        "epochs": None,
    }
    # The last bar's figures stay for the model's metrics.
    assert (output.epoch, output.epochs) == (100, 100)
    for name in ("DenseLogisticRegressionClassifier", "NoKnownWordFallback"):
        output.feed(log(f"Finished training component '{name}'."))
    output.feed(log("Restored component 'RulePolicy' from cache."))
    assert output.step() == (6, 6, None)
    # A line more than the graph has (none should come) does not pass 6 of 6.
    output.feed(log("Restored component 'RulePolicy' from cache."))
    assert output.step() == (6, 6, None)


def test_without_component_lines_the_epoch_bar_still_shows() -> None:
    output = RasaOutput()
    output.feed("Epochs:  10%|#| 10/100 [00:01<00:09, i_acc=0.1]\r")
    assert output.progress() == {
        "step": None,
        "steps": None,
        "step_name": None,
        "epoch": 10,
        "epochs": 100,
    }


def test_once_evaluating_the_progress_is_the_evaluations_steps() -> None:
    output = RasaOutput()
    output.evaluation = Steps(models=2)
    output.feed(components_line(1, 0) + "\n")
    output.feed(log("Finished training component 'RulePolicy'."))
    output.feed(f"{EVALUATING}\n")
    assert output.step() == (0, 6, None)
    output.feed(f"{EVALUATION_STEP}loading new.tar.gz\n")
    output.feed(f"{EVALUATION_STEP}new.tar.gz: parsing 40 held-out messages\n")
    assert output.step() == (1, 6, "new.tar.gz: parsing 40 held-out messages")
    assert output.evaluation.progress(done=True)["step"] == 6
    # The live model's report reused: one step for it, not three.
    reused = Steps(models=2, reused=True)
    for line in ("loading", "parsing", "stories", "reused", "one more"):
        reused(line)
    assert reused.progress() == {
        "step": 3,
        "steps": 4,
        "step_name": "one more",
        "epoch": None,
        "epochs": None,
    }
    # Only after EVALUATING: such a line while training is Rasa's, not a step.
    early = RasaOutput()
    early.evaluation = Steps(models=1)
    early.feed(f"{EVALUATION_STEP}loading x\n")
    assert early.progress()["steps"] is None and early.evaluation.started == 0


TINY_CONFIG = """recipe: default.v1
assistant_id: tiny
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
policies:
  - name: RulePolicy
"""
TINY_DOMAIN = """version: "3.1"
intents: [greet, goodbye]
responses:
  utter_greet: [{text: "Hi"}]
  utter_goodbye: [{text: "Bye"}]
"""
TINY_RULES = """version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
"""


def tiny_nlu(goodbyes: list[str]) -> str:
    """Two intents' examples, in Rasa's YAML."""
    examples = {"greet": ["hello", "hi there", "good morning"], "goodbye": goodbyes}
    return 'version: "3.1"\nnlu:\n' + "".join(
        f"- intent: {intent}\n  examples: |\n"
        + "".join(f"    - {text}\n" for text in texts)
        for intent, texts in examples.items()
    )


def train_tiny(folder: Path, name: str) -> tuple[RasaOutput, list[str]]:
    """``bot.training.rasa_train`` on the project in ``folder``.

    Returns:
        Its output as a job reads it, and the components' lines of Rasa's log.
    """
    done = subprocess.run(
        [sys.executable, "-m", "bot.training.rasa_train", "--domain", "domain.yml",
         "--data", "data", "--config", "config.yml", "--out", "models",
         "--fixed-model-name", name],
        cwd=folder, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )  # fmt: skip
    text = done.stdout + done.stderr
    assert done.returncode == 0, text[-5000:]
    output = RasaOutput()
    output.feed(text)
    components = [
        line.split(" - ", 1)[1] if " - " in line else line
        for line in text.splitlines()
        if "component '" in line or line.startswith(COMPONENTS)
    ]
    return output, components


# Two real trainings of a small config (about 7 CPU s each).
@pytest.mark.timeout(1200)
def test_a_training_counts_every_component_of_rasas_graph(tmp_path: Path) -> None:
    """The count is Rasa's own, whether a component trains or is restored.

    Of this config's train graph, the count features, the classifier and
    the rule policy train (the tokenizer and the domain, data and story
    providers do not). Its cache is the folder's own (``.rasa/cache``).
    """
    (tmp_path / "data").mkdir()
    (tmp_path / "config.yml").write_text(TINY_CONFIG)
    (tmp_path / "domain.yml").write_text(TINY_DOMAIN)
    (tmp_path / "data" / "rules.yml").write_text(TINY_RULES)
    (tmp_path / "data" / "nlu.yml").write_text(tiny_nlu(["bye", "see you later"]))
    first, lines = train_tiny(tmp_path, "first")
    assert lines == [components_line(3, 0)] + [
        line
        for name in (
            "CountVectorsFeaturizer",
            "LogisticRegressionClassifier",
            "RulePolicy",
        )
        for line in (
            f"Starting to train component '{name}'.",
            f"Finished training component '{name}'.",
        )
    ]
    assert first.step() == (3, 3, None)
    # Only an example changed: the rule policy comes from the cache.
    (tmp_path / "data" / "nlu.yml").write_text(tiny_nlu(["bye", "good night"]))
    second, lines = train_tiny(tmp_path, "second")
    assert lines[0] == components_line(3, 1)
    assert "Restored component 'RulePolicy' from cache." in lines
    assert "Starting to train component 'RulePolicy'." not in lines
    assert len(lines) == 1 + 2 * 2 + 1
    assert second.step() == (3, 3, None)


#: The hub's situation: uvloop, and a thread in numpy's matrix products (with
#: the inbox's one-thread BLAS limit) while the hub starts workers.
SPAWNING_WHILE_BLAS_WORKS = """
import asyncio, sys, threading
import numpy as np
import uvloop
from threadpoolctl import ThreadpoolController
from bot.training.jobs import start_detached

blas = ThreadpoolController()

def products():
    while True:
        with blas.limit(limits=1, user_api="blas"):
            matrix = np.random.rand(200, 200)
            (matrix @ matrix).sum()
        matrix = np.random.rand(200, 200)
        (matrix @ matrix).sum()

async def spawn():
    for _ in range(60):
        process = start_detached(["true"], cwd="/", env={})
        assert await asyncio.to_thread(process.wait) == 0

threading.Thread(target=products, daemon=True).start()
uvloop.install()
asyncio.run(spawn())
print("started 60")
"""


def test_starting_workers_never_hangs_while_blas_works() -> None:
    """uvloop's subprocess hung here (OpenBLAS's fork handler) within 30 starts."""
    done = subprocess.run(
        [sys.executable, "-c", SPAWNING_WHILE_BLAS_WORKS],
        capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "started 60"), done.stderr


@pytest.fixture
def broken_project(tmp_path: Path) -> Path:
    """The project with a rule that names an action the domain lacks."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml", "endpoints.yml", "credentials.yml"):
        shutil.copy(PROJECT_DIR / name, project / name)
    shutil.copytree(PROJECT_DIR / "data", project / "data")
    (project / "data" / "rules" / "broken.yml").write_text(
        'version: "3.1"\nrules:\n- rule: Broken\n  steps:\n  - intent: greet\n'
        "  - action: action_nobody_wrote\n"
    )
    return project


@pytest.fixture
async def hub(
    hub_settings: Settings, broken_project: Path
) -> AsyncIterator[RunningHub]:
    settings = hub_settings.with_changes(project_dir=broken_project)
    async with running_hub(settings) as running:
        await clear_jobs(running.ctx.engine)
        await clear_training_data(running.ctx.engine)
        yield running
        await clear_jobs(running.ctx.engine)


async def test_a_job_that_fails_validation_shows_why_and_trains_nothing(
    hub: RunningHub,
) -> None:
    agent = await login(hub, await new_account(hub, "agent"))
    for method, path in (("POST", JOBS), ("GET", JOBS), ("GET", f"{JOBS}/1")):
        status, body, _ = await call(hub, method, path, session=agent[0], csrf=agent[1])
        assert (status, body["error"]["code"]) == (403, "forbidden"), path
        status, body, _ = await call(hub, method, path)
        assert status == 401, path
    session, csrf = await login(hub, await new_account(hub, "trainer"))
    status, body, _ = await call(hub, "POST", JOBS, session=session)
    assert (status, body["error"]["code"]) == (403, "csrf_failed")
    status, body, _ = await call(hub, "POST", JOBS, session=session, csrf=csrf)
    assert status == 202, body
    job_id = body["job_id"]
    status, body, _ = await call(hub, "POST", JOBS, session=session, csrf=csrf)
    assert (status, body["error"]["code"]) == (409, "job_running")
    while True:
        status, body, _ = await call(hub, "GET", f"{JOBS}/{job_id}", session=session)
        assert status == 200
        if body["job"]["state"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(1)
    job = body["job"]
    assert (job["state"], job["stage"], job["model_version"]) == (
        "failed",
        "validate",
        None,
    )
    assert "rasa data validate" in job["error"]
    assert "action_nobody_wrote" in job["log_tail"]
    async with hub.ctx.engine.connect() as connection:
        models = await connection.scalar(
            sa.select(sa.func.count()).select_from(NluModel.__table__)
        )
    assert models == 0
    assert not (hub.settings.data_dir / "models").exists() or not list(
        (hub.settings.data_dir / "models").iterdir()
    )
    status, body, _ = await call(hub, "GET", JOBS, session=session)
    assert [listed["id"] for listed in body["jobs"]] == [job_id]
    status, body, _ = await call(hub, "GET", f"{JOBS}/x", session=session)
    assert status == 400
    status, body, _ = await call(hub, "GET", f"{JOBS}/999999", session=session)
    assert (status, body["error"]["code"]) == (404, "job_not_found")


def downgrade(connection: sa.engine.Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_migration_0018_keeps_the_jobs_before_it(fresh_url: str) -> None:
    engine = create_engine(fresh_url)
    try:
        await upgrade_database(engine, "0017")
        now = dt.datetime.now(dt.timezone.utc)
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO training_jobs (id, kind, state, stage, epoch, "
                    "epochs, nlu_only, log_tail, requested_by, created_at, "
                    "started_at, finished_at) VALUES (7, 'train', 'succeeded', "
                    "'done', 100, 100, false, '', 't@x', :now, :now, :end)"
                ),
                {"now": now, "end": now + dt.timedelta(seconds=65)},
            )
        await upgrade_database(engine)
        old = (await JobRepository(engine).get(7)).public()
        assert old["progress"] == {
            "epoch": 100,
            "epochs": 100,
            "step": None,
            "steps": None,
            "step_name": None,
        }
        assert old["elapsed_s"] == 65
        # Down and up again: the downgrade drops what the upgrade added.
        async with engine.begin() as connection:
            await connection.run_sync(downgrade, "0017")
            columns = await connection.run_sync(
                lambda sync: {
                    column["name"]
                    for column in sa.inspect(sync).get_columns("training_jobs")
                }
            )
        assert "epoch" in columns and not {"step", "steps", "step_name"} & columns
        await upgrade_database(engine)
    finally:
        await engine.dispose()

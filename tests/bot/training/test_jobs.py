"""Training jobs: one at a time across hubs, progress from Rasa's output, failures.

The job that runs here fails at ``rasa data validate`` (a rule names an action
the domain does not have): it shows why and records no model. Training that
succeeds is in the stack test of the whole loop (tests/e2e).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Settings
from bot.db.models import ModelDeployment, NluModel, TrainingJob
from bot.training.jobs import STALE_AFTER, JobNotFound, JobRepository, JobRunning
from bot.training.rasa_train import EVALUATING, VALIDATED
from bot.training.worker import RasaOutput
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
    await jobs.report(first.id, state="running", stage="train", epoch=3, epochs=100)
    shown = (await jobs.get(first.id)).public()
    assert (shown["state"], shown["progress"]) == (
        "running",
        {"epoch": 3, "epochs": 100},
    )
    await jobs.finish(first.id, error="rasa train failed", log_tail="the end")
    failed = await jobs.get(first.id)
    assert (failed.state, failed.stage, failed.error) == (
        "failed",
        "train",
        "rasa train failed",
    )
    second = await jobs.start("u@x")
    assert second.id != first.id and (await jobs.active()) == second
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

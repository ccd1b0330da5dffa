"""Training jobs: one at a time across hubs, run by a separate low-priority process.

A job is a row of ``training_jobs``; :class:`JobRepository` is its one writer
(and the writer of ``nlu_models``, the models jobs produce). Starting a job
inserts it with ``active`` set; the unique index on ``active`` makes a second
start fail in every hub while one is queued or running. The work itself is
done by ``python -m bot.training.worker JOB_ID`` (:mod:`bot.training.worker`),
started by the hub or ``baton train --job``, under ``nice``: it exports the
training data, runs ``rasa train`` (which validates the data as ``rasa data
validate`` does first), evaluates, and reports its stage, step (a component of
Rasa's training graph, a step of the evaluation), epoch and the tail of
Rasa's output here as it goes. A worker that
stops reporting (killed, machine restarted) is declared failed after
:data:`STALE_AFTER`, so it cannot block training forever.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db.models import NluModel, TrainingJob, utcnow
from bot.exceptions import Conflict, NotFound
from bot.training.records import from_row, to_json

job_rows = TrainingJob.__table__
model_rows = NluModel.__table__

#: What a job does: train a model, or evaluate a trained one again.
KINDS = ("train", "evaluate")
#: Job states; ``queued`` and ``running`` are active.
STATES = ("queued", "running", "succeeded", "failed")
#: What a running job is doing, in order.
STAGES = ("queued", "export", "validate", "train", "evaluate", "record", "done")
#: A running job that has not reported for this long is declared failed.
STALE_AFTER = dt.timedelta(seconds=120)
#: Lines of Rasa's output kept with the job.
LOG_LINES = 40
#: ``nice`` increment of the worker: customer replies come first.
NICENESS = 15
#: Characters of a step's name kept (its column's size).
STEP_NAME_CHARS = 200


class JobNotFound(NotFound):
    """No training job has this id."""

    code = "job_not_found"


class JobRunning(Conflict):
    """A training job is queued or running already."""

    code = "job_running"


@dataclass(frozen=True)
class JobRecord:
    """A training job as stored."""

    id: int
    kind: str
    state: str
    stage: str
    epoch: int | None
    epochs: int | None
    step: int | None
    steps: int | None
    step_name: str | None
    nlu_only: bool
    fingerprint: str | None
    model_version: str | None
    log_tail: str
    error: str | None
    requested_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    def public(self) -> dict[str, Any]:
        """The JSON shape of the job in API answers.

        ``progress``: ``step`` of ``steps`` finished and ``step_name`` under
        way (components of Rasa's training graph, or an evaluation's
        steps), and the epoch bar of the component training now (``epoch``
        of ``epochs``); ``elapsed_s``: whole seconds since it started, until
        it finished.
        """
        progress = ("epoch", "epochs", "step", "steps", "step_name")
        shape = to_json(self, leave_out=progress)
        return {
            **shape,
            "progress": {name: getattr(self, name) for name in progress},
            "elapsed_s": self.elapsed_s(),
        }

    def elapsed_s(self) -> int | None:
        """Whole seconds since the job started, until it finished (or now)."""
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max(int((end - self.started_at).total_seconds()), 0)


def _job(row: Any) -> JobRecord:
    return from_row(JobRecord, row)


class JobRepository:
    """The one writer of ``training_jobs`` and ``nlu_models``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def start(
        self, requested_by: str, *, evaluate: str | None = None
    ) -> JobRecord:
        """Queue a new job, unless one is active.

        Args:
            requested_by: Who asked.
            evaluate: A trained model's version: the job evaluates it again
                against the live model (``kind`` ``evaluate``) instead of
                training one.

        Raises:
            JobRunning: A job is queued or running (its id is in the message).
        """
        await self.expire_stale()
        now = utcnow()
        try:
            async with self.engine.begin() as connection:
                result = await connection.execute(
                    job_rows.insert().values(
                        kind="train" if evaluate is None else "evaluate",
                        model_version=evaluate,
                        state="queued",
                        active=True,
                        stage="queued",
                        nlu_only=False,
                        log_tail="",
                        requested_by=requested_by,
                        created_at=now,
                        heartbeat_at=now,
                    )
                )
                (job_id,) = result.inserted_primary_key
        except IntegrityError as error:
            active = await self.active()
            which = f" (job {active.id}, {active.stage})" if active else ""
            raise JobRunning(
                f"a training or evaluation job is running already{which}: wait "
                "for it to finish"
            ) from error
        return await self.get(int(job_id))

    async def active(self) -> JobRecord | None:
        """The queued or running job, if any."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(job_rows).where(job_rows.c.active.is_(True))
                )
            ).first()
        return _job(row) if row else None

    async def expire_stale(self) -> None:
        """Fail the active job if its worker stopped reporting."""
        cutoff = utcnow() - STALE_AFTER
        async with self.engine.begin() as connection:
            await connection.execute(
                job_rows.update()
                .where(
                    job_rows.c.active.is_(True),
                    job_rows.c.heartbeat_at < cutoff,
                )
                .values(
                    state="failed",
                    active=None,
                    error="the training process stopped reporting (killed or "
                    "crashed); the live model is unchanged",
                    finished_at=utcnow(),
                )
            )

    async def get(self, job_id: int) -> JobRecord:
        """Return one job (a silent worker's job is failed first).

        Raises:
            JobNotFound: No job has this id.
        """
        await self.expire_stale()
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(job_rows).where(job_rows.c.id == job_id)
                )
            ).first()
        if row is None:
            raise JobNotFound(f"no training job {job_id}")
        return _job(row)

    async def recent(self, limit: int = 20) -> list[JobRecord]:
        """The newest jobs first."""
        await self.expire_stale()
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(job_rows).order_by(job_rows.c.id.desc()).limit(limit)
                )
            ).all()
        return [_job(row) for row in rows]

    async def report(self, job_id: int, **values: Any) -> None:
        """Record a running job's progress (and that its worker is alive)."""
        if values.get("step_name"):
            values["step_name"] = values["step_name"][:STEP_NAME_CHARS]
        async with self.engine.begin() as connection:
            await connection.execute(
                job_rows.update()
                .where(job_rows.c.id == job_id, job_rows.c.active.is_(True))
                .values(heartbeat_at=utcnow(), **values)
            )

    async def finish(
        self,
        job_id: int,
        *,
        error: str | None,
        log_tail: str,
        model: dict[str, Any] | None = None,
    ) -> None:
        """End a job: succeeded (with the model it trained), or failed with why.

        An evaluation job keeps the version of the model it evaluated.
        """
        now = utcnow()
        async with self.engine.begin() as connection:
            if model is not None:
                await connection.execute(model_rows.insert().values(**model))
            await connection.execute(
                job_rows.update()
                .where(job_rows.c.id == job_id)
                .values(
                    state="failed" if error else "succeeded",
                    stage="done" if error is None else sa.literal_column("stage"),
                    active=None,
                    error=error,
                    log_tail=log_tail,
                    model_version=(
                        model["version"] if model else job_rows.c.model_version
                    ),
                    finished_at=now,
                    heartbeat_at=now,
                )
            )

    async def record_evaluation(self, version: str, evaluation: dict[str, Any]) -> None:
        """Replace a model's evaluation (``baton evaluate``)."""
        async with self.engine.begin() as connection:
            metrics = await connection.scalar(
                sa.select(model_rows.c.metrics).where(model_rows.c.version == version)
            )
            await connection.execute(
                model_rows.update()
                .where(model_rows.c.version == version)
                .values(metrics={**(metrics or {}), "evaluation": evaluation})
            )


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment of a worker for the hub's ``settings``."""
    env = {
        **settings.child_environment(),
        "BATON_DATABASE_URL": settings.database_url,
        "BATON_PROJECT_DIR": str(settings.project_dir),
        "BATON_DATA_DIR": str(settings.data_dir),
        "BATON_MODEL_DIR": str(settings.model_dir),
        "BATON_LOG_LEVEL": settings.log_level,
    }
    if settings.embedding_model is not None:
        env["BATON_EMBEDDING_MODEL"] = str(settings.embedding_model)
    return env


def start_detached(
    command: list[str], *, cwd: str, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, with no input or output.

    With :class:`subprocess.Popen`, which starts it without running the
    process's fork handlers (CPython's vfork), not with the event loop's
    subprocess: uvloop's forks, and OpenBLAS's fork handler (it stops
    numpy's BLAS threads) then waits forever when another thread of the hub
    is in a matrix product (the inbox's grouping, the knowledge search): the
    hub hung on the Train button (issue #14). Reap it with
    ``asyncio.to_thread(process.wait)``.
    """
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def spawn_worker(settings: Settings, job_id: int) -> subprocess.Popen[bytes]:
    """Start ``python -m bot.training.worker JOB_ID`` (:func:`start_detached`)."""
    return start_detached(
        [sys.executable, "-m", "bot.training.worker", str(job_id)],
        cwd=str(settings.project_dir),
        env=worker_environment(settings),
    )


__all__ = [
    "KINDS",
    "NICENESS",
    "STAGES",
    "STATES",
    "JobNotFound",
    "JobRecord",
    "JobRepository",
    "JobRunning",
    "spawn_worker",
    "start_detached",
    "worker_environment",
]

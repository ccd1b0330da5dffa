"""Training jobs over HTTP (trainers and admins).

``POST /api/training/jobs`` queues a job and starts its worker, a separate
process at low priority (:mod:`bot.training.worker`); ``GET
/api/training/jobs/{id}`` says its state, stage, epoch and the tail of
Rasa's output, and ``GET /api/training/jobs`` lists the newest. One job at a
time across every hub: a second start answers ``409 job_running``. Every
route checks the role (agents get 403); a start needs the session's CSRF
token and is written to the audit log.
"""

from __future__ import annotations

import asyncio

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.training.jobs import JobRepository, spawn_worker
from bot.web.auth_api import require_agent
from bot.web.bodies import whole_number
from bot.web.context import hub_of

#: Roles that may train (admins always may).
TRAINER_ROLES = ("trainer",)

jobs_api = Blueprint("jobs_api", url_prefix="/api/training/jobs")


def _jobs(request: Request) -> JobRepository:
    return JobRepository(hub_of(request).engine)


async def _reap(process: asyncio.subprocess.Process) -> None:
    await process.wait()


@jobs_api.post("")
async def start_job(request: Request) -> HTTPResponse:
    """Queue a training job and start its worker."""
    agent = await require_agent(request, *TRAINER_ROLES)
    hub = hub_of(request)
    job = await _jobs(request).start(agent.email)
    process = await spawn_worker(hub.settings, job.id)
    # Keep the task referenced until the worker ends (no zombie, no GC).
    workers: set[asyncio.Task[None]] | None = getattr(
        request.app.ctx, "training_workers", None
    )
    if workers is None:
        workers = request.app.ctx.training_workers = set()
    task = asyncio.get_running_loop().create_task(_reap(process))
    workers.add(task)
    task.add_done_callback(workers.discard)
    await hub.auth.repository.record_audit(
        agent.email, "training.job_start", str(job.id), {}
    )
    return json_response({"job_id": job.id, "job": job.public()}, status=202)


@jobs_api.get("")
async def list_jobs(request: Request) -> HTTPResponse:
    """The newest training jobs first."""
    await require_agent(request, *TRAINER_ROLES)
    jobs = await _jobs(request).recent()
    return json_response({"jobs": [job.public() for job in jobs]})


@jobs_api.get("/<job_id:str>")
async def get_job(request: Request, job_id: str) -> HTTPResponse:
    """One job: state, stage, progress and the tail of Rasa's output."""
    await require_agent(request, *TRAINER_ROLES)
    number = whole_number(job_id, "job_id", minimum=1) or 0
    return json_response({"job": (await _jobs(request).get(number)).public()})

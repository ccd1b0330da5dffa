"""Training jobs and models over HTTP (trainers and admins), and Rasa's model server.

``POST /api/training/jobs`` queues a job and starts its worker, a separate
process at low priority (:mod:`bot.training.worker`); ``GET
/api/training/jobs/{id}`` says its state, stage, epoch and the tail of
Rasa's output, and ``GET /api/training/jobs`` lists the newest. One job at a
time across every hub: a second start answers ``409 job_running``. Every
route checks the role (agents get 403); a start needs the session's CSRF
token and is written to the audit log.

``GET /api/models`` lists the trained models (each with its evaluation
against the model live when it was trained) and which is live; ``POST
/api/models/{version}/evaluate`` evaluates one again against the model live
now, as a job (one at a time with training, followed the same way); ``POST
/api/models/{version}/deploy`` and ``.../rollback`` change the live model
(audit log). A deploy passes the regression guard
(:meth:`~bot.training.models.ModelRegistry.guard`: ``409 regression`` or
``409 not_evaluated``) unless an admin gives an ``override_reason``, which is
recorded with the deploy and in the audit log. ``GET /api/models/live`` is
where every Rasa server pulls the live model from (``models:`` in ``endpoints.yml``, see
:mod:`bot.training.models`).
"""

from __future__ import annotations

import asyncio
import hmac
import re
import subprocess

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, empty, file
from sanic.response import json as json_response

from bot.exceptions import BadRequest, Forbidden, NotFound
from bot.training.jobs import JobRecord, JobRepository, spawn_worker
from bot.training.models import ModelRegistry, override_reason
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object, whole_number
from bot.web.context import hub_of

#: Roles that may train (admins always may).
TRAINER_ROLES = ("trainer",)

jobs_api = Blueprint("jobs_api", url_prefix="/api/training/jobs")


def _jobs(request: Request) -> JobRepository:
    return JobRepository(hub_of(request).engine)


async def _reap(process: subprocess.Popen[bytes]) -> None:
    await asyncio.to_thread(process.wait)


async def _launch(request: Request, job: JobRecord) -> None:
    """Start the worker of a queued job."""
    process = spawn_worker(hub_of(request).settings, job.id)
    # Keep the task referenced until the worker ends (no zombie, no GC).
    workers: set[asyncio.Task[None]] | None = getattr(
        request.app.ctx, "training_workers", None
    )
    if workers is None:
        workers = request.app.ctx.training_workers = set()
    task = asyncio.get_running_loop().create_task(_reap(process))
    workers.add(task)
    task.add_done_callback(workers.discard)


@jobs_api.post("")
async def start_job(request: Request) -> HTTPResponse:
    """Queue a training job and start its worker."""
    agent = await require_agent(request, *TRAINER_ROLES)
    hub = hub_of(request)
    job = await _jobs(request).start(agent.email)
    await _launch(request, job)
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
    """One job: state, stage, progress, the tail of Rasa's output, evaluation."""
    await require_agent(request, *TRAINER_ROLES)
    number = whole_number(job_id, "job_id", minimum=1) or 0
    job = (await _jobs(request).get(number)).public()
    job["evaluation"] = None
    # An evaluation job names its model from the start: its evaluation is
    # the new one only once the job has succeeded.
    if job["model_version"] and job["state"] == "succeeded":
        model = await _registry(request).get(job["model_version"])
        job["evaluation"] = model.metrics.get("evaluation")
    return json_response({"job": job})


models_api = Blueprint("models_api", url_prefix="/api/models")
#: What a model version looks like (a job names its model by time and job).
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _registry(request: Request) -> ModelRegistry:
    hub = hub_of(request)
    return ModelRegistry(hub.engine, hub.settings.model_dir)


def _version(value: str) -> str:
    if not VERSION_PATTERN.match(value):
        raise BadRequest("not a model version", code="bad_version")
    return value


@models_api.get("")
async def list_models(request: Request) -> HTTPResponse:
    """Every trained model (newest first), which is live, deploys and rollbacks."""
    await require_agent(request, *TRAINER_ROLES)
    return json_response(await _registry(request).listing())


@models_api.post("/<version:str>/deploy")
async def deploy(request: Request, version: str) -> HTTPResponse:
    """Make a trained model the live one; every Rasa server pulls it."""
    agent = await require_agent(request, *TRAINER_ROLES)
    body = json_object(request, 8 * 1024) if request.body else {}
    unknown = sorted(set(body) - {"override_reason"})
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(unknown)}", code="unknown_field"
        )
    reason = override_reason(body.get("override_reason"))
    if reason is not None and agent.role != "admin":
        raise Forbidden("only an admin may give an override reason")
    hub = hub_of(request)
    deployed = await _registry(request).deploy(
        _version(version),
        by=agent.email,
        margin=hub.settings.regression_margin,
        override_reason=reason,
    )
    record = deployed.model
    await hub.auth.repository.record_audit(
        agent.email,
        "model.deploy",
        record.version,
        {"override_reason": reason, "overridden": deployed.overridden},
    )
    return json_response(
        {
            "live": record.version,
            "model": record.public(),
            "overridden": deployed.overridden,
            "reaches_rasa_within_s": hub.settings.model_pull_s,
        }
    )


@models_api.post("/<version:str>/evaluate")
async def evaluate(request: Request, version: str) -> HTTPResponse:
    """Evaluate a trained model again against the live one, as a job.

    On the held-out set as the training data stands now (a trainer's new
    examples move into it), against the model live now: what the regression
    guard needs when the live model changed since it was trained.
    """
    agent = await require_agent(request, *TRAINER_ROLES)
    hub = hub_of(request)
    record = await _registry(request).usable(_version(version))
    job = await _jobs(request).start(agent.email, evaluate=record.version)
    await _launch(request, job)
    await hub.auth.repository.record_audit(
        agent.email, "model.evaluate", record.version, {"job": job.id}
    )
    return json_response({"job_id": job.id, "job": job.public()}, status=202)


@models_api.post("/<version:str>/rollback")
async def rollback(request: Request, version: str) -> HTTPResponse:
    """Take the live model out, or bring an earlier live model back."""
    agent = await require_agent(request, *TRAINER_ROLES)
    live = await _registry(request).rollback(_version(version), by=agent.email)
    hub = hub_of(request)
    await hub.auth.repository.record_audit(
        agent.email, "model.rollback", live or "shipped", {}
    )
    return json_response(
        {"live": live, "reaches_rasa_within_s": hub.settings.model_pull_s}
    )


@models_api.get("/live")
async def live_model(request: Request) -> HTTPResponse:
    """Rasa's model server: the live model, or 304 while Rasa has it already.

    Only for Rasa (the shared ``X-Baton-Token``): a model holds the training
    data it learnt from.
    """
    token = hub_of(request).settings.rasa_token
    sent = request.headers.get("X-Baton-Token", "")
    if not token or not hmac.compare_digest(sent.encode(), token.encode()):
        raise Forbidden("only Rasa may pull the model (X-Baton-Token)")
    live = await _registry(request).live()
    if live is None:
        raise NotFound(
            "no model file on this hub: train one (make model), or share "
            "var/models between hubs",
            code="no_model",
        )
    etag = live.etag
    wanted = request.headers.get("If-None-Match", "").strip().strip('"')
    if wanted == etag:
        return empty(status=304, headers={"ETag": etag})
    return await file(
        live.path,
        headers={"ETag": etag, "filename": f"{live.version or 'shipped'}.tar.gz"},
        mime_type="application/gzip",
    )

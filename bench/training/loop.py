"""'Train' pressed → the new model answering, and customer replies meanwhile.

``python -m bench.training loop [--idle-s 60] [--presses 1]``

On a stack started as ``make run`` starts it (:func:`bench.stack.running_stack`,
a temporary data folder; the shipped model in ``models/`` is live and never
changed), as a trainer would:

1. A customer probe sends a message every second for ``--idle-s`` seconds and
   times each bot reply (first bot frame after the send): replies when idle.
2. The trainer adds two examples to an intent (the phrasing of the stack
   test ``tests/e2e/test_training_loop.py``, which the shipped model takes
   for another intent, and one new to every run, so that Rasa's cache cannot
   restore an earlier run's model) and presses Train (``POST /api/training/jobs``); the
   probe keeps going: replies while the job runs (export, ``rasa data
   validate``, ``rasa train``, the evaluation of both models, at nice 15).
3. When the job succeeds the trainer deploys the model; when Rasa's
   ``/health`` names another model, a new customer says the phrasing until
   the hub records it understood as the labelled intent.
4. With ``--presses N``, the trainer adds examples and presses Train again,
   N - 1 times (``next_presses``): each job starts from the model the one
   before deployed, as a trainer's week goes (its evaluation may reuse the
   live model's report, which the previous job measured).

"Train → answering" is from the POST to that answer. The stages' times come
from polling the job every second; with each, the CPU seconds the job's
worker and its Rasa process had used by then (``/proc``), and the Rasa
server's CPU seconds from the deploy to the new model loaded: on a machine
other work keeps busy, wall times stretch with the load, CPU seconds much
less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import sqlalchemy as sa
import websockets

from bench.stack import (
    RunningStack,
    create_agent,
    running_stack,
    stack_settings,
)
from bench.training.results import (
    descendant,
    load_average,
    percentiles,
    record,
    tree_cpu_s,
)
from bot.db.models import Message

PHRASING = "there's a mystery deduction from lumen"
INTENT = "billing_question"
TRAINER = "bench-trainer@example.com"
PASSWORD = "bench-trainer-password-14"
#: What customers ask while the probe runs (answered by the bot, no handoff).
PROBES = (
    "how do I reset my password",
    "how can I export my notes as pdf",
    "the app does not sync between my phone and laptop",
    "how do I turn on two-factor authentication",
    "where can I download my invoices",
)
#: A reply slower than this is a timeout (the hub's BATON_RASA_TIMEOUT).
REPLY_TIMEOUT_S = 20.0
#: Messages in one probe conversation before it starts another.
PER_CONVERSATION = 6


class Probe:
    """A customer asking something every second; each reply's time is kept."""

    def __init__(self, stack: RunningStack) -> None:
        self.stack = stack
        self.samples: list[tuple[float, float]] = []
        self.unanswered = 0
        self._stop = asyncio.Event()

    async def _conversation(self, session: aiohttp.ClientSession) -> tuple[str, str]:
        async with session.post(
            f"{self.stack.url}/api/conversations", json={"locale": "en"}
        ) as answer:
            body = await answer.json()
        return body["conversation_id"], body["token"]

    async def run(self) -> None:
        """Ask until :meth:`stop`; one message a second at most."""
        count = 0
        async with aiohttp.ClientSession() as session:
            while not self._stop.is_set():
                conversation_id, token = await self._conversation(session)
                url = (
                    f"{self.stack.ws_url}/api/conversations/{conversation_id}/ws"
                    f"?token={token}"
                )
                async with websockets.connect(url) as ws:
                    for _ in range(PER_CONVERSATION):
                        if self._stop.is_set():
                            return
                        tick = time.monotonic()
                        text = PROBES[count % len(PROBES)]
                        count += 1
                        await ws.send(
                            json.dumps(
                                {
                                    "type": "message",
                                    "text": text,
                                    "client_id": os.urandom(8).hex(),
                                }
                            )
                        )
                        took = await _first_bot_reply(ws, tick)
                        if took is None:
                            self.unanswered += 1
                        else:
                            self.samples.append((tick, took))
                        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
                        # Let late frames of the turn (buttons) arrive and go.
                        await _drain(ws)

    def stop(self) -> None:
        self._stop.set()

    def between(self, start: float, end: float) -> list[float]:
        return [took for at, took in self.samples if start <= at < end]


async def _first_bot_reply(ws: Any, sent: float) -> float | None:
    deadline = sent + 60
    while time.monotonic() < deadline:
        try:
            raw = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
        except asyncio.TimeoutError:
            return None
        frame = json.loads(raw)
        if frame.get("type") == "message" and frame.get("role") == "bot":
            return time.monotonic() - sent
    return None


async def _drain(ws: Any) -> None:
    while True:
        try:
            await asyncio.wait_for(ws.recv(), 0.05)
        except asyncio.TimeoutError:
            return


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    csrf: str | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    async with session.request(method, url, json=body, headers=headers) as answer:
        text = await answer.text()
        return answer.status, json.loads(text) if text else {}


@contextlib.asynccontextmanager
async def trainer_session(
    stack: Any, email: str = TRAINER, password: str = PASSWORD
) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """A trainer signed in to the stack's console: the session and its CSRF token.

    The account is made as an admin makes one (``python -m bot
    create-agent``); the session keeps its cookie although the hub's
    address is an IP address (127.0.0.1).

    Raises:
        RuntimeError: The login was refused.
    """
    env = {**stack_settings(stack), "BATON_NEW_AGENT_PASSWORD": password}
    create_agent(env, email, "Bench Trainer", "trainer")
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        status, me = await call(
            session,
            "POST",
            f"{stack.url}/api/auth/login",
            body={"email": email, "password": password},
        )
        if status != 200:
            raise RuntimeError(f"login: {status} {me}")
        yield session, me["csrf_token"]


async def rasa_model(session: aiohttp.ClientSession, stack: RunningStack) -> Any:
    async with session.get(f"{stack.url}/health") as answer:
        rasa = (await answer.json())["checks"]["rasa"]
    return rasa.get("model") if rasa["status"] == "ok" else None


async def understood(stack: RunningStack) -> str:
    """A new customer says the phrasing; the intent the hub recorded for it."""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{stack.url}/api/conversations", json={"locale": "en"}
        ) as answer:
            body = await answer.json()
    url = (
        f"{stack.ws_url}/api/conversations/{body['conversation_id']}/ws"
        f"?token={body['token']}"
    )
    async with websockets.connect(url) as ws:
        await ws.send(
            json.dumps(
                {"type": "message", "text": PHRASING, "client_id": os.urandom(8).hex()}
            )
        )
        await _first_bot_reply(ws, time.monotonic())
    return stored_intent(stack.database_url, body["conversation_id"])


def latency(samples: list[float]) -> dict[str, Any]:
    return {
        **percentiles(samples),
        "over_timeout": sum(1 for took in samples if took > REPLY_TIMEOUT_S),
    }


async def press_train(
    stack: RunningStack,
    session: aiohttp.ClientSession,
    csrf: str,
    probe: Probe,
    *,
    first: bool = True,
) -> dict[str, Any]:
    """Add examples, press Train, deploy the model: the times, until answering.

    The probe is stopped when the job ends.
    """
    # Examples new to every press: Rasa's cache (the project's .rasa/cache)
    # would otherwise restore a model trained on the same data by an
    # earlier run, and nothing would be trained. The first press adds the
    # phrasing, a later one another new example instead.
    now = f"{time.time():.0f}"
    fresh = [f"a mystery deduction from lumen showed up at {now}"]
    fresh.append(PHRASING if first else f"lumen took an unknown amount on {now}")
    status, body = await call(
        session,
        "PUT",
        f"{stack.url}/api/training/intents/{INTENT}",
        csrf,
        {"add": fresh},
    )
    if status != 200:
        raise RuntimeError(f"add example: {status} {body}")
    pressed = time.monotonic()
    status, body = await call(session, "POST", f"{stack.url}/api/training/jobs", csrf)
    if status != 202:
        raise RuntimeError(f"train: {status} {body}")
    job_id = str(body["job_id"])
    job_url = f"{stack.url}/api/training/jobs/{job_id}"
    stages: dict[str, float] = {}
    # CPU seconds the worker and its children (Rasa) had used by then.
    stage_cpu: dict[str, float] = {}
    worker: int | None = None
    cpu = 0.0
    loads: list[list[float]] = []
    while True:
        status, body = await call(session, "GET", job_url)
        job = body["job"]
        worker = worker or descendant(stack.pid, "bot.training.worker")
        # The last reading stays when the worker has exited.
        cpu = max(cpu, tree_cpu_s(worker)) if worker else cpu
        stages.setdefault(job["stage"], round(time.monotonic() - pressed, 1))
        stage_cpu.setdefault(job["stage"], cpu)
        if len(loads) < 1 or time.monotonic() - pressed > 30 * len(loads):
            loads.append(load_average())
        if job["state"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(1)
    job_done = time.monotonic()
    probe.stop()
    if job["state"] != "succeeded":
        raise RuntimeError(f"the job failed: {job['error']}\n{job['log_tail']}")
    shipped = await rasa_model(session, stack)
    status, body = await call(
        session,
        "POST",
        f"{stack.url}/api/models/{job['model_version']}/deploy",
        csrf,
    )
    if status != 200:
        raise RuntimeError(f"deploy: {status} {body}")
    deployed = time.monotonic()
    rasa = descendant(stack.pid, "bot.rasa_server")
    rasa_cpu = tree_cpu_s(rasa) if rasa else 0.0
    while (await rasa_model(session, stack)) in (None, shipped):
        await asyncio.sleep(0.5)
    loaded = time.monotonic()
    rasa_cpu = tree_cpu_s(rasa) - rasa_cpu if rasa else 0.0
    while (after := await understood(stack)) != INTENT:
        if time.monotonic() - loaded > 120:
            raise RuntimeError(f"the new model still says {after!r}")
    answering = time.monotonic()
    evaluation = body["model"]["metrics"]["evaluation"]
    return {
        "train_to_answering_s": round(answering - pressed, 1),
        "target_s": 120,
        "meets_target": answering - pressed <= 120,
        "breakdown_s": {
            "job": round(job_done - pressed, 1),
            "job_stage_first_seen_at": stages,
            "deploy_to_rasa_loaded": round(loaded - deployed, 1),
            "loaded_to_answer": round(answering - loaded, 1),
        },
        "cpu_s": {
            "job_worker_and_rasa_at_stage_first_seen": stage_cpu,
            "job_worker_and_rasa_last_seen": cpu,
            "rasa_server_deploy_to_loaded": round(rasa_cpu, 1),
        },
        "nlu_only": job["nlu_only"],
        "epochs": job["progress"]["epochs"],
        "held_out_accuracy": {
            "candidate": evaluation["candidate"]["accuracy"],
            "live": (evaluation["live"] or {}).get("accuracy"),
        },
        "live_report_reused_from": (evaluation["live"] or {}).get("reused_from"),
        "load_average_during_job_every_30_s": loads,
        "_window": (pressed, job_done),
    }


async def trainer_loop(
    stack: RunningStack, idle_s: float, presses: int = 1
) -> dict[str, Any]:
    probe = Probe(stack)
    async with trainer_session(stack) as (session, csrf):
        before = await understood(stack)
        probing = asyncio.get_running_loop().create_task(probe.run())
        idle_start = time.monotonic()
        await asyncio.sleep(idle_s)
        idle_end = time.monotonic()
        load_idle = load_average()
        first = await press_train(stack, session, csrf, probe)
        await probing
        later = []
        for _ in range(presses - 1):
            # The trainer labels more and presses Train again: the live model
            # is now the one the first press deployed.
            later.append(
                await press_train(stack, session, csrf, Probe(stack), first=False)
            )
    pressed, job_done = first.pop("_window")
    loads = first.pop("load_average_during_job_every_30_s")
    for figures in later:
        figures.pop("_window")
    return {
        "phrasing": PHRASING,
        "understood_before": before,
        "understood_after": INTENT,
        **first,
        "reply_latency_s": {
            "idle": latency(probe.between(idle_start, idle_end)),
            "while_the_job_runs": latency(probe.between(pressed, job_done)),
            "unanswered_in_60_s": probe.unanswered,
        },
        "load_average": {"idle": load_idle, "during_job_every_30_s": loads},
        **({"next_presses": later} if later else {}),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the loop benchmark on a fresh stack and record it."""
    parser = argparse.ArgumentParser(prog="python -m bench.training loop")
    parser.add_argument("--idle-s", type=float, default=60.0)
    parser.add_argument(
        "--presses",
        type=int,
        default=1,
        help="Train presses in a row, each deployed (the next ones start "
        "from the model the one before deployed)",
    )
    args = parser.parse_args(argv)
    load_before = load_average()
    env = {
        "BATON_CONVERSATIONS_PER_IP_PER_HOUR": "100000",
        "BATON_MESSAGES_PER_IP_PER_MINUTE": "100000",
        "BATON_LOGINS_PER_IP_PER_MINUTE": "100000",
    }
    with running_stack(env) as stack:
        figures = asyncio.run(trainer_loop(stack, args.idle_s, args.presses))
    figures["load_average"]["before_the_stack"] = load_before
    print(record("loop", figures))
    print(json.dumps(figures, indent=2))
    return 0


def stored_intent(database_url: str, conversation_id: str) -> str:
    """The intent the hub stored with the conversation's last customer message
    (what Rasa understood; "None" when it stored none)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            meta = connection.scalar(
                sa.select(Message.__table__.c.meta)
                .where(
                    Message.__table__.c.conversation_id == conversation_id,
                    Message.__table__.c.role == "customer",
                )
                .order_by(Message.__table__.c.id.desc())
                .limit(1)
            )
    finally:
        engine.dispose()
    meta = json.loads(meta) if isinstance(meta, str) else meta
    return str(((meta or {}).get("_nlu") or {}).get("intent"))

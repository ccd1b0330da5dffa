"""The trainer's loop on the real stack: not understood → labelled → trained → deployed.

A customer's phrasing the model does not know lands in the inbox; a trainer
labels it with an intent; a training job (the project's own config.yml)
validates, trains and evaluates the new model beside the live one; the model
passes the regression guard and is deployed and every Rasa server pulls it
from the hub; a new customer's same phrasing is now understood. Rolled back,
it is not understood again. Slow (a real training): marked ``training_loop``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import aiohttp
import pytest

from bench.training.loop import call, stored_intent, trainer_session
from tests.bot.auth.test_auth_api import PASSWORD
from tests.e2e.conftest import Stack, ensure_model, started
from tests.e2e.test_stack import connect, say, start

#: A real training on a busy 2-core machine takes minutes, not the suite's 300 s.
pytestmark = [
    pytest.mark.stack,
    pytest.mark.training_loop,
    pytest.mark.timeout(1500),
]

#: An unknown charge (billing_question in data/nlu) that the shipped model
#: takes for a service status question, unsure (0.65): it lands in the inbox.
PHRASING = "there's a mystery deduction from lumen"
INTENT = "billing_question"
TRAINER = "loop-trainer@example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_model()
    yield from started({}, tmp_path_factory.mktemp("stack-loop"), "embedded")


async def understood(stack: Stack) -> str:
    """A new customer says the phrasing; the intent the hub stored for it."""
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await say(ws, PHRASING, f"loop-{os.urandom(4).hex()}")
    return stored_intent(stack.database_url, conversation_id)


async def live_model_id(session: aiohttp.ClientSession, stack: Stack) -> str | None:
    async with session.get(f"{stack.url}/health") as answer:
        body = await answer.json()
    rasa = body["checks"]["rasa"]
    return rasa.get("model") if rasa["status"] == "ok" else None


async def until_model_changes(
    session: aiohttp.ClientSession, stack: Stack, old: str | None
) -> str:
    while True:
        current = await live_model_id(session, stack)
        if current is not None and current != old:
            return current
        await asyncio.sleep(1)


async def finished(session: aiohttp.ClientSession, stack: Stack, job_id: int) -> dict:
    """Follow a job as the console does until it ends."""
    while True:
        _, body = await call(session, "GET", f"{stack.url}/api/training/jobs/{job_id}")
        if body["job"]["state"] in ("succeeded", "failed"):
            return body["job"]
        await asyncio.sleep(2)


async def test_a_label_trains_deploys_and_rolls_back(stack: Stack) -> None:
    before = await understood(stack)
    assert before != INTENT
    async with trainer_session(stack, TRAINER, PASSWORD) as (session, csrf):
        status, inbox = await call(session, "GET", f"{stack.url}/api/training/inbox")
        assert status == 200
        (group,) = [g for g in inbox["groups"] if g["text"] == PHRASING]
        status, body = await call(
            session,
            "POST",
            f"{stack.url}/api/training/annotations",
            csrf,
            {"group_id": group["group_id"], "intent": INTENT},
        )
        assert status == 201, body
        status, body = await call(
            session, "POST", f"{stack.url}/api/training/jobs", csrf
        )
        assert status == 202, body
        job = await finished(session, stack, body["job_id"])
        assert job["state"] == "succeeded", (job["error"], job["log_tail"])
        assert job["nlu_only"]
        # Evaluated beside the shipped (live) model on the same held-out set.
        evaluation = job["evaluation"]
        assert evaluation["live"]["version"] is None
        assert evaluation["held_out"]["messages"] >= 30
        for side in (evaluation["candidate"], evaluation["live"]):
            assert side["messages"] == evaluation["held_out"]["messages"]
            assert 0 < side["accuracy"] <= 1 and side["per_intent"]
            assert side["stories"]["passed"]
        shipped = await live_model_id(session, stack)
        status, body = await call(
            session,
            "POST",
            f"{stack.url}/api/models/{job['model_version']}/deploy",
            csrf,
        )
        assert status == 200, body
        deployed = await until_model_changes(session, stack, shipped)
        assert await understood(stack) == INTENT

        status, body = await call(
            session,
            "POST",
            f"{stack.url}/api/models/{job['model_version']}/rollback",
            csrf,
        )
        assert status == 200 and body["live"] is None, body
        assert await until_model_changes(session, stack, deployed) == shipped
        assert await understood(stack) != INTENT

        # Evaluated again against the shipped model, live again: the job's
        # report of it is reused (nothing it depends on changed), the
        # candidate is evaluated.
        status, body = await call(
            session,
            "POST",
            f"{stack.url}/api/models/{job['model_version']}/evaluate",
            csrf,
        )
        assert status == 202, body
        again = await finished(session, stack, body["job_id"])
        assert again["state"] == "succeeded", (again["error"], again["log_tail"])
        reused = again["evaluation"]["live"]
        assert reused["reused_from"] == job["model_version"]
        assert {**evaluation["live"], "reused_from": job["model_version"]} == reused
        assert again["evaluation"]["candidate"] == evaluation["candidate"]

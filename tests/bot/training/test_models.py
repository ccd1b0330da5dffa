"""Models: deploy, roll back, and the hub as Rasa's model server (ETag, 304).

The models are the shipped model (models/baton.tar.gz) written again with
another gzip time stamp: the same model in a file with other bytes, recorded
as a training job records what it trained.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli import main
from bot.config import Limits
from bot.db.models import ModelDeployment
from bot.training.jobs import JobRepository
from bot.training.models import file_digest
from tests.bot.auth.test_auth_api import call, login, new_account
from tests.bot.training.helpers import (
    SHIPPED_MODEL,
    evaluation,
    need_shipped_model,
    report,
)
from tests.bot.training.test_jobs import clear_jobs
from tests.conftest import shared_hub
from tests.hub import RunningHub

MODELS = "/api/models"
TOKEN = "model-server-test-token"
SHIPPED = SHIPPED_MODEL


async def clear_models(engine: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(ModelDeployment.__table__.delete())
    await clear_jobs(engine)


# One hub per database for the module; each test starts with no models.
module_hub = shared_hub(
    name="module_hub",
    rasa_token=TOKEN,
    limits=Limits(logins_per_ip_per_minute=1000),
)


@pytest.fixture
async def hub(module_hub: RunningHub) -> AsyncIterator[RunningHub]:
    need_shipped_model()
    await clear_models(module_hub.ctx.engine)
    yield module_hub
    await clear_models(module_hub.ctx.engine)


async def trained(
    hub: RunningHub,
    version: str,
    stamp: int,
    evaluated: dict[str, Any] | None = None,
    *,
    job_id: int | None = None,
    log_tail: str = "",
) -> Path:
    """Record a model the way a training job does (job ``job_id``, or a new one).

    Its evaluation (``evaluated``) is, unless given, as good as the shipped
    model's, against the shipped model.
    """
    folder = hub.settings.data_dir / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}.tar.gz"
    path.write_bytes(gzip.compress(gzip.decompress(SHIPPED.read_bytes()), mtime=stamp))
    jobs = JobRepository(hub.ctx.engine)
    if job_id is None:
        job_id = (await jobs.start("trainer@example.com")).id
    await jobs.finish(
        job_id,
        error=None,
        log_tail=log_tail,
        model={
            "version": version,
            "job_id": job_id,
            "path": str(path),
            "sha256": file_digest(path),
            "size": path.stat().st_size,
            "fingerprint": "f" * 64,
            "config": "recipe: default.v1\n",
            "metrics": {
                "training": {"i_acc": 0.99},
                "evaluation": evaluated
                if evaluated is not None
                else evaluation(report(0.9), report(0.9), file_digest(SHIPPED)),
            },
            "trained_by": "trainer@example.com",
        },
    )
    return path


async def pull(hub: RunningHub, etag: str | None = None, token: str = TOKEN) -> Any:
    """What Rasa's model pulling does (rasa/core/agent.py)."""
    headers = {"X-Baton-Token": token}
    if etag is not None:
        headers["If-None-Match"] = etag
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{hub.url}{MODELS}/live", headers=headers) as answer:
            body = await answer.read()
            return answer.status, answer.headers.get("ETag"), answer.headers, body


async def test_deploy_and_roll_back_change_what_rasa_pulls(hub: RunningHub) -> None:
    status, etag, _, body = await pull(hub)
    assert status == 200 and etag == file_digest(SHIPPED)
    assert body == SHIPPED.read_bytes()
    assert (await pull(hub, etag))[0] == 304
    assert (await pull(hub, token="wrong"))[0] == 403

    first = await trained(hub, "20261203-100000-job1", 1)
    second = await trained(hub, "20261203-110000-job2", 2)
    trainer = await login(hub, await new_account(hub, "trainer"))
    status, listing, _ = await call(hub, "GET", MODELS, session=trainer[0])
    assert status == 200 and listing["live"] is None
    assert [m["version"] for m in listing["models"]] == [
        "20261203-110000-job2",
        "20261203-100000-job1",
    ]
    status, answer, _ = await call(
        hub,
        "POST",
        f"{MODELS}/20261203-100000-job1/deploy",
        session=trainer[0],
        csrf=trainer[1],
    )
    assert status == 200 and answer["live"] == "20261203-100000-job1", answer
    status, new_etag, headers, body = await pull(hub, etag)
    assert status == 200 and new_etag == file_digest(first) != etag
    assert headers["filename"] == "20261203-100000-job1.tar.gz"
    assert body == first.read_bytes()
    assert (await pull(hub, new_etag))[0] == 304

    # Only an admin may override (the reason is recorded).
    status, answer, _ = await call(
        hub,
        "POST",
        f"{MODELS}/20261203-110000-job2/deploy",
        session=trainer[0],
        csrf=trainer[1],
        json={"override_reason": "because"},
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    admin = await login(hub, await new_account(hub, "admin"))
    status, answer, _ = await call(
        hub,
        "POST",
        f"{MODELS}/20261203-110000-job2/deploy",
        session=admin[0],
        csrf=admin[1],
        json={"override_reason": "the refund phrasing matters more"},
    )
    assert status == 200
    assert (await pull(hub, new_etag))[1] == file_digest(second)

    status, answer, _ = await call(
        hub,
        "POST",
        f"{MODELS}/20261203-100000-job1/rollback",
        session=trainer[0],
        csrf=trainer[1],
    )
    assert status == 200 and answer["live"] == "20261203-100000-job1"
    assert (await pull(hub))[1] == file_digest(first)
    status, listing, _ = await call(hub, "GET", MODELS, session=trainer[0])
    assert [(h["action"], h["version"]) for h in listing["history"]] == [
        ("rollback", "20261203-100000-job1"),
        ("deploy", "20261203-110000-job2"),
        ("deploy", "20261203-100000-job1"),
    ]
    assert listing["history"][1]["override_reason"] == (
        "the refund phrasing matters more"
    )
    live = [m for m in listing["models"] if m["live"]]
    assert [m["version"] for m in live] == ["20261203-100000-job1"]
    # Rolling back the live model brings back the one live before it.
    status, answer, _ = await call(
        hub,
        "POST",
        f"{MODELS}/20261203-100000-job1/rollback",
        session=trainer[0],
        csrf=trainer[1],
    )
    assert status == 200 and answer["live"] == "20261203-110000-job2"


async def test_bad_deploys_are_refused(hub: RunningHub) -> None:
    path = await trained(hub, "20261203-100000-job1", 1)
    await trained(hub, "20261203-110000-job2", 2)
    agent = await login(hub, await new_account(hub, "agent"))
    for method, route in (
        ("GET", MODELS),
        ("POST", f"{MODELS}/20261203-100000-job1/deploy"),
        ("POST", f"{MODELS}/20261203-100000-job1/rollback"),
    ):
        status, answer, _ = await call(
            hub, method, route, session=agent[0], csrf=agent[1]
        )
        assert (status, answer["error"]["code"]) == (403, "forbidden"), route
    trainer = await login(hub, await new_account(hub, "trainer"))
    for route, body, status, code in (
        ("/nope/deploy", None, 404, "model_not_found"),
        ("/bad%20version/deploy", None, 400, "bad_version"),
        ("/20261203-100000-job1/deploy", {"reason": "x"}, 400, "unknown_field"),
        ("/20261203-110000-job2/rollback", None, 409, "not_earlier"),
    ):
        answer_status, answer, _ = await call(
            hub,
            "POST",
            f"{MODELS}{route}",
            session=trainer[0],
            csrf=trainer[1],
            json=body,
        )
        assert (answer_status, answer["error"]["code"]) == (status, code), route
    # Rasa keeps what it runs while this hub lacks the live model's file.
    status, _, _ = await call(
        hub,
        "POST",
        f"{MODELS}/20261203-110000-job2/deploy",
        session=trainer[0],
        csrf=trainer[1],
    )
    assert status == 200
    second = hub.settings.data_dir / "models" / "20261203-110000-job2.tar.gz"
    second.rename(second.with_suffix(".gone"))
    assert (await pull(hub))[0] == 404
    second.with_suffix(".gone").rename(second)
    await clear_models(hub.ctx.engine)
    await trained(hub, "20261203-100000-job1", 1)
    path.write_bytes(b"not the model any more")
    status, answer, _ = await call(
        hub,
        "POST",
        f"{MODELS}/20261203-100000-job1/deploy",
        session=trainer[0],
        csrf=trainer[1],
    )
    assert (status, answer["error"]["code"]) == (409, "model_file_missing")
    status, listing, _ = await call(hub, "GET", MODELS, session=trainer[0])
    assert listing["live"] is None and listing["history"] == []


async def test_baton_deploy_and_rollback(
    hub: RunningHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await trained(hub, "20261203-100000-job1", 1)
    monkeypatch.setenv("BATON_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("BATON_DATA_DIR", str(hub.settings.data_dir))
    monkeypatch.setenv("BATON_MODEL_DIR", str(hub.settings.model_dir))
    run = asyncio.to_thread
    assert await run(main, ["deploy", "20261203-100000-job1", "--by", "me"]) == 0
    assert capsys.readouterr().out.startswith("live: 20261203-100000-job1;")
    assert await run(main, ["models"]) == 0
    printed = capsys.readouterr().out
    assert "* 20261203-100000-job1" in printed and "0.99" in printed
    assert await run(main, ["rollback"]) == 0
    assert capsys.readouterr().out.startswith("live: the shipped model")
    # The model live before the live one is the deployed one again.
    assert await run(main, ["rollback"]) == 0
    assert capsys.readouterr().out.startswith("live: 20261203-100000-job1;")
    assert await run(main, ["deploy", "nope"]) == 1
    assert "no trained model 'nope'" in capsys.readouterr().err

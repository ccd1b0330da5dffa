"""Evaluation against the live model, and the regression guard.

The figures are checked on hand-made predictions and on a tiny model Rasa
really trains (a logistic regression over word counts, a few seconds); the
guard through the HTTP API and ``baton evaluate`` on recorded models.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.auth.repository import audit_log
from bot.cli import main
from bot.training.evaluation import (
    HOLD_OUT_EVERY,
    SPLIT_FROM,
    HeldOut,
    evaluate_model,
    held_out_example,
    held_out_set,
    intent_report,
    last_f1,
    regressions,
    split,
    story_messages,
)
from bot.training.intents import Example, NluRepository
from bot.training.jobs import JobRepository
from bot.training.models import ModelRegistry, file_digest
from tests.bot.auth.test_auth_api import call, login, new_account
from tests.bot.training.helpers import clear_training_data, evaluation, report
from tests.bot.training.test_models import (  # noqa: F401 (fixtures)
    MODELS,
    SHIPPED,
    hub,
    module_hub,
    trained,
)
from tests.conftest import PROJECT_DIR
from tests.hub import RunningHub


def test_intent_report_counts_per_intent_and_the_confusions() -> None:
    pairs = [
        ("greet", "greet"),
        ("greet", "greet"),
        ("greet", "goodbye"),
        ("goodbye", "goodbye"),
        ("refund_request", "billing_question"),
        ("refund_request", "billing_question"),
        ("refund_request", "refund_request"),
        ("billing_question", "nlu_fallback"),
    ]
    figures = intent_report(pairs)
    assert figures["messages"] == 8
    assert figures["accuracy"] == 0.5
    assert figures["per_intent"]["greet"] == {
        "precision": 1.0,
        "recall": 0.6667,
        "f1": 0.8,
        "support": 3,
    }
    # goodbye: predicted twice, right once; recall 1/1.
    assert figures["per_intent"]["goodbye"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.6667,
        "support": 1,
    }
    assert figures["per_intent"]["billing_question"]["f1"] == 0.0
    assert figures["per_intent"]["refund_request"]["precision"] == 1.0
    assert figures["per_intent"]["refund_request"]["recall"] == 0.3333
    assert set(figures["per_intent"]) == {
        "greet",
        "goodbye",
        "refund_request",
        "billing_question",
    }
    assert figures["macro_f1"] == round((0.8 + 0.6667 + 0.0 + 0.5) / 4, 4)
    assert figures["confused"][0] == {
        "intent": "refund_request",
        "predicted": "billing_question",
        "count": 2,
    }
    assert len(figures["confused"]) == 3
    assert intent_report([]) == {
        "messages": 0,
        "accuracy": 0.0,
        "macro_f1": 0.0,
        "per_intent": {},
        "confused": [],
    }


async def test_the_split_holds_out_a_fifth_of_trainers_examples_only(
    module_hub: RunningHub,  # noqa: F811
) -> None:
    repository = NluRepository(module_hub.ctx.engine, PROJECT_DIR)
    await clear_training_data(module_hub.ctx.engine)
    data = await repository.data()
    # Only the committed baseline: nothing is held out of it.
    kept, held = split(data)
    assert held == [] and kept.examples == data.examples
    few = [f"my parcel {n} is late" for n in range(SPLIT_FROM - 1)]
    many = [f"where did my refund number {n} go" for n in range(40)]
    data.examples["greet"] = data.examples["greet"] + [
        Example(text, "trainer") for text in few
    ]
    data.examples["refund_request"] = data.examples["refund_request"] + [
        Example(text, "trainer") for text in many
    ]
    kept, held = split(data)
    expected = [
        (t, "refund_request") for t in many if held_out_example("refund_request", t)
    ]
    assert held == expected
    # Deterministic, about one in HOLD_OUT_EVERY, never the baseline.
    assert 0 < len(held) < len(many) and len(held) <= 2 * len(many) / HOLD_OUT_EVERY
    assert split(data)[1] == held
    assert kept.texts("greet") == data.texts("greet")
    assert [t for t in kept.texts("refund_request") if t in many] == [
        t for t in many if (t, "refund_request") not in held
    ]
    assert all(
        t in kept.texts("refund_request")
        for t in repository.baseline().examples["refund_request"]
    )
    assert data.texts("refund_request")[-1] == many[-1], (
        "split must not change its input"
    )
    stories = PROJECT_DIR / "tests" / "test_stories.yml"
    whole = held_out_set(data, PROJECT_DIR)
    assert whole.stories == stories
    assert list(whole.messages) == held + story_messages(stories)


def test_the_held_out_set_has_the_test_stories_typed_messages(tmp_path: Path) -> None:
    stories = tmp_path / "tests" / "test_stories.yml"
    stories.parent.mkdir()
    stories.write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            stories:
            - story: One
              steps:
              - user: |
                  hello   there
                intent: greet
              - action: utter_greet
              - user: /out_of_scope
                intent: out_of_scope
            """
        )
    )
    assert story_messages(stories) == [("hello there", "greet")]
    project = story_messages(PROJECT_DIR / "tests" / "test_stories.yml")
    assert len(project) >= 30 and not any(t.startswith("/") for t, _ in project)


def test_the_guard_compares_accuracy_with_a_margin_and_the_stories() -> None:
    live = report(0.9)
    assert regressions(evaluation(report(0.89), live, "x"), 0.02) == []
    (reason,) = regressions(evaluation(report(0.85), live, "x"), 0.02)
    assert "85.0%" in reason and "90.0%" in reason
    assert regressions(evaluation(report(0.85), live, "x"), 0.05) == []
    worse = report(0.95, passed=("Greeting",), failed=("Locked account",))
    (reason,) = regressions(evaluation(worse, live, "x"), 0.02)
    assert "Locked account" in reason
    # A story both fail is no regression.
    both = report(0.9, passed=("Greeting",), failed=("Locked account",))
    assert regressions(evaluation(both, both, "x"), 0.0) == []
    assert last_f1([{}, evaluation(report(0.5), live, "x")]) == {
        "greet": 1.0,
        "account_locked": 0.5,
    }


@pytest.mark.timeout(600)
async def test_a_tiny_model_really_trained_is_evaluated(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text(
        textwrap.dedent(
            """\
            recipe: default.v1
            language: en
            pipeline:
              - name: WhitespaceTokenizer
              - name: CountVectorsFeaturizer
              - name: LogisticRegressionClassifier
            """
        )
    )
    (tmp_path / "nlu.yml").write_text(
        textwrap.dedent(
            """\
            version: "3.1"
            nlu:
            - intent: greet
              examples: |
                - hello
                - hello hello
                - hi
                - hi there
                - hello there
                - good morning hello
            - intent: goodbye
              examples: |
                - goodbye
                - bye
                - bye bye
                - goodbye then
                - see you goodbye
                - bye for now
            """
        )
    )
    trained_model = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "nlu",
            "--config",
            "config.yml",
            "--nlu",
            "nlu.yml",
            "--out",
            "models",
            "--fixed-model-name",
            "tiny",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"},
    )
    assert trained_model.returncode == 0, trained_model.stdout[-2000:]
    held_out = HeldOut(
        (
            ("hello hello there", "greet"),
            ("bye bye goodbye", "goodbye"),
            # Labelled wrong on purpose: the model is right to say greet.
            ("hello", "goodbye"),
        ),
        None,
    )
    figures = await evaluate_model(
        tmp_path / "models" / "tiny.tar.gz", held_out, tmp_path / "out"
    )
    assert figures["messages"] == 3
    assert figures["accuracy"] == 0.6667
    assert figures["per_intent"] == {
        "goodbye": {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2},
        "greet": {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1},
    }
    assert figures["confused"] == [
        {"intent": "goodbye", "predicted": "greet", "count": 1}
    ]
    assert figures["stories"] == {"passed": [], "failed": []}


async def test_a_worse_candidate_is_refused_unless_an_admin_overrides(
    hub: RunningHub,  # noqa: F811
) -> None:
    shipped = file_digest(SHIPPED)
    worse = evaluation(report(0.7), report(0.9), shipped)
    await trained(hub, "20261203-100000-job1", 1, worse)
    fails_story = evaluation(
        report(0.95, passed=("Greeting",), failed=("Locked account",)),
        report(0.9),
        shipped,
    )
    await trained(hub, "20261203-110000-job2", 2, fails_story)
    await trained(hub, "20261203-120000-job3", 3, {})
    trainer = await login(hub, await new_account(hub, "trainer"))

    async def deploy(version: str, who: tuple[str, str], **body: str) -> tuple:
        status, answer, _ = await call(
            hub,
            "POST",
            f"{MODELS}/{version}/deploy",
            session=who[0],
            csrf=who[1],
            json=body or None,
        )
        return status, answer

    status, answer = await deploy("20261203-100000-job1", trainer)
    assert (status, answer["error"]["code"]) == (409, "regression")
    assert "70.0%" in answer["error"]["message"]
    status, answer = await deploy("20261203-110000-job2", trainer)
    assert (status, answer["error"]["code"]) == (409, "regression")
    assert "Locked account" in answer["error"]["message"]
    status, answer = await deploy("20261203-120000-job3", trainer)
    assert (status, answer["error"]["code"]) == (409, "not_evaluated")
    # Trainers cannot override; nothing changed.
    status, answer = await deploy(
        "20261203-100000-job1", trainer, override_reason="I know better"
    )
    assert (status, answer["error"]["code"]) == (403, "forbidden")
    status, listing, _ = await call(hub, "GET", MODELS, session=trainer[0])
    assert listing["live"] is None and listing["history"] == []

    admin = await login(hub, await new_account(hub, "admin"))
    status, answer = await deploy("20261203-100000-job1", admin)
    assert (status, answer["error"]["code"]) == (409, "regression")
    status, answer = await deploy(
        "20261203-100000-job1", admin, override_reason="refund phrasing matters more"
    )
    assert status == 200, answer
    assert answer["live"] == "20261203-100000-job1"
    assert "70.0%" in answer["overridden"]
    status, listing, _ = await call(hub, "GET", MODELS, session=trainer[0])
    (model,) = [m for m in listing["models"] if m["live"]]
    assert model["override_reason"] == "refund phrasing matters more"
    assert model["metrics"]["evaluation"]["candidate"]["accuracy"] == 0.7
    assert listing["history"][0]["override_reason"] == "refund phrasing matters more"
    async with hub.ctx.engine.connect() as connection:
        detail = await connection.scalar(
            sa.select(audit_log.c.detail)
            .where(
                audit_log.c.action == "model.deploy",
                audit_log.c.subject == "20261203-100000-job1",
            )
            .order_by(audit_log.c.id.desc())
        )
    assert detail["override_reason"] == "refund phrasing matters more"
    assert "70.0%" in detail["overridden"]

    # job2 was evaluated against the shipped model, which is no longer live.
    status, answer = await deploy("20261203-110000-job2", trainer)
    assert (status, answer["error"]["code"]) == (409, "not_evaluated")
    assert "baton evaluate 20261203-110000-job2" in answer["error"]["message"]


async def test_a_job_shows_its_evaluation_and_intents_their_f1(
    hub: RunningHub,  # noqa: F811
) -> None:
    shipped = file_digest(SHIPPED)
    await trained(
        hub, "20261203-100000-job1", 1, evaluation(report(0.5), report(0.9), shipped)
    )
    await trained(hub, "20261203-110000-job2", 2)
    trainer = await login(hub, await new_account(hub, "trainer"))
    status, listing, _ = await call(
        hub, "GET", "/api/training/jobs", session=trainer[0]
    )
    newest = listing["jobs"][0]
    status, answer, _ = await call(
        hub, "GET", f"/api/training/jobs/{newest['id']}", session=trainer[0]
    )
    assert status == 200
    assert answer["job"]["model_version"] == "20261203-110000-job2"
    assert answer["job"]["evaluation"]["candidate"]["accuracy"] == 0.9
    assert answer["job"]["evaluation"]["live"]["sha256"] == shipped
    status, intents, _ = await call(
        hub, "GET", "/api/training/intents", session=trainer[0]
    )
    assert status == 200 and intents["evaluated_model"] == "20261203-110000-job2"
    f1 = {intent["name"]: intent["f1"] for intent in intents["intents"]}
    assert f1["account_locked"] == 0.9 and f1["greet"] == 1.0
    assert f1["billing_question"] is None


@pytest.mark.timeout(900)
# A real evaluation runs Rasa for minutes on either database; the record it
# writes is checked on both by the tests above and below.
@pytest.mark.only_with(module_database_url="sqlite")
async def test_baton_evaluate_records_a_side_by_side_evaluation(
    hub: RunningHub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BATON_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("BATON_DATA_DIR", str(hub.settings.data_dir))
    monkeypatch.setenv("BATON_MODEL_DIR", str(hub.settings.model_dir))
    assert await asyncio.to_thread(main, ["evaluate", "nope"]) == 1
    assert "no trained model 'nope'" in capsys.readouterr().err
    # The shipped model again, recorded as evaluated against nothing live.
    await trained(hub, "20261203-100000-job1", 1, {})
    assert await asyncio.to_thread(main, ["evaluate"]) == 0
    printed = capsys.readouterr().out
    assert "20261203-100000-job1" in printed and "live: shipped" in printed
    assert "test stories passed" in printed
    _, listing, _ = await call(
        hub,
        "GET",
        MODELS,
        session=(await login(hub, await new_account(hub, "trainer")))[0],
    )
    recorded = listing["models"][0]["metrics"]["evaluation"]
    # The same model on both sides: the same figures.
    assert recorded["live"]["sha256"] == file_digest(SHIPPED)
    assert recorded["held_out"]["messages"] >= 30
    live = {k: v for k, v in recorded["live"].items() if k not in ("version", "sha256")}
    assert live == recorded["candidate"]
    assert recorded["candidate"]["stories"]["passed"]


async def job_done(on: RunningHub, session: str, job_id: int) -> dict:
    """Follow a job as the console does until it ends."""
    while True:
        status, answer, _ = await call(
            on, "GET", f"/api/training/jobs/{job_id}", session=session
        )
        assert status == 200, answer
        if answer["job"]["state"] in ("succeeded", "failed"):
            return answer["job"]
        await asyncio.sleep(1)


async def test_a_trainer_re_evaluates_a_model_as_a_job_that_says_why_it_failed(
    hub: RunningHub,  # noqa: F811
) -> None:
    """The API and the worker of an evaluation job; a real one is in the browser test.

    The model's file goes away once the job is queued: the worker fails at
    its first step, saying why, and the model keeps its evaluation.
    """
    session, csrf = await login(hub, await new_account(hub, "trainer"))
    version = "20261203-100000-job1"
    path = await trained(hub, version, 1)
    registry = ModelRegistry(hub.ctx.engine, hub.settings.model_dir)
    before = (await registry.get(version)).metrics
    status, answer, _ = await call(
        hub, "POST", f"{MODELS}/nope/evaluate", session=session, csrf=csrf
    )
    assert (status, answer["error"]["code"]) == (404, "model_not_found")
    status, answer, _ = await call(
        hub, "POST", f"{MODELS}/..%20x/evaluate", session=session, csrf=csrf
    )
    assert (status, answer["error"]["code"]) == (400, "bad_version")
    status, answer, _ = await call(
        hub, "POST", f"{MODELS}/{version}/evaluate", session=session
    )
    assert (status, answer["error"]["code"]) == (403, "csrf_failed")

    status, answer, _ = await call(
        hub, "POST", f"{MODELS}/{version}/evaluate", session=session, csrf=csrf
    )
    assert status == 202, answer
    path.unlink()
    job = answer["job"]
    assert (job["kind"], job["model_version"], job["state"]) == (
        "evaluate",
        version,
        "queued",
    )
    # One job at a time, of either kind; a model without its file is refused.
    for start, code in (
        ("/api/training/jobs", "job_running"),
        (f"{MODELS}/{version}/evaluate", "model_file_missing"),
    ):
        status, refused, _ = await call(hub, "POST", start, session=session, csrf=csrf)
        assert (status, refused["error"]["code"]) == (409, code)

    done = await job_done(hub, session, answer["job_id"])
    assert (done["kind"], done["state"], done["stage"]) == (
        "evaluate",
        "failed",
        "evaluate",
    )
    assert done["model_version"] == version and done["evaluation"] is None
    assert "missing or changed" in done["error"]
    assert "last evaluation is unchanged" in done["error"]
    assert (await registry.get(version)).metrics == before
    async with hub.ctx.engine.connect() as connection:
        detail = await connection.scalar(
            sa.select(audit_log.c.detail).where(
                audit_log.c.action == "model.evaluate",
                audit_log.c.subject == version,
            )
        )
    assert detail == {"job": job["id"]}
    # Nothing is left running: training may start.
    assert (await JobRepository(hub.ctx.engine).start("t@x")).state == "queued"


@pytest.mark.timeout(900)
# A real evaluation runs Rasa for minutes on either database; the record it
# writes is checked on both by the tests above and below.
@pytest.mark.only_with(module_database_url="sqlite")
async def test_a_second_evaluation_reuses_the_live_models_report(
    hub: RunningHub,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Really evaluated: the live model runs once for two candidates.

    Each part of the context that makes it run again is in
    test_evaluation_reuse.py.
    """
    monkeypatch.setenv("BATON_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("BATON_DATA_DIR", str(hub.settings.data_dir))
    monkeypatch.setenv("BATON_MODEL_DIR", str(hub.settings.model_dir))
    first, second = "20261203-100000-job1", "20261203-110000-job2"
    await trained(hub, first, 1, {})
    await trained(hub, second, 2, {})
    registry = ModelRegistry(hub.ctx.engine, hub.settings.model_dir)
    assert await asyncio.to_thread(main, ["evaluate", first]) == 0
    measured = (await registry.get(first)).metrics["evaluation"]
    assert "reused_from" not in measured["live"]
    assert isinstance(measured["context"]["knowledge_revision"], int)
    assert await asyncio.to_thread(main, ["evaluate", second]) == 0
    reused = (await registry.get(second)).metrics["evaluation"]
    assert reused["context"] == measured["context"]
    assert reused["live"] == {**measured["live"], "reused_from": first}
    # The candidate itself was evaluated (the same model in another file).
    assert reused["candidate"] == measured["candidate"]
    assert reused["evaluated_at"] > measured["evaluated_at"]

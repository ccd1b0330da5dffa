"""The live model's report is reused only in the context it was made in.

An evaluation's context (:func:`bot.training.evaluation.evaluation_context`)
is everything the report depends on besides the model: each part is changed
here in turn and the earlier report is then not reused. :func:`compare` is
run with the model evaluation replaced by a recorder, to see which models it
really evaluates; a real evaluation with reuse is in test_evaluation.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.training import evaluation as evaluation_module
from bot.training.evaluation import (
    HeldOut,
    compare,
    evaluation_context,
    reusable_live_report,
)
from tests.bot.training.helpers import report

LIVE_SHA = "a" * 64
OTHER_SHA = "b" * 64


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with committed NLU data, test stories and an encoder folder."""
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "greet.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_stories.yml").write_text("stories: []\n")
    (tmp_path / "encoder").mkdir()
    (tmp_path / "encoder" / "model.safetensors").write_bytes(b"weights")
    return tmp_path


def held_out(project: Path, *messages: tuple[str, str]) -> HeldOut:
    return HeldOut(
        messages or (("hello", "greet"),), project / "tests" / "test_stories.yml"
    )


def context_of(project: Path, revision: int | None = 7, **kwargs: Any) -> dict:
    return evaluation_context(
        kwargs.get("held_out") or held_out(project),
        revision,
        project,
        project / "encoder",
    )


def recorded(context: dict, live_sha: str = LIVE_SHA) -> dict[str, Any]:
    """A model's evaluation as recorded, made in ``context``."""
    return {
        "candidate": report(0.95),
        "live": {**report(0.9), "version": None, "sha256": live_sha},
        "context": context,
    }


def test_the_same_context_gives_the_same_key(project: Path) -> None:
    assert context_of(project) == context_of(project)


def test_each_part_of_the_context_changes_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = context_of(project)
    earlier = [("v1", OTHER_SHA, recorded(first))]
    assert reusable_live_report(earlier, LIVE_SHA, first) is not None

    changed: dict[str, dict] = {}
    changed["held-out messages"] = context_of(
        project, held_out=held_out(project, ("hello there", "greet"))
    )
    changed["knowledge base"] = context_of(project, revision=8)
    (project / "tests" / "test_stories.yml").write_text(
        "stories:\n- story: Greeting\n  steps:\n  - user: hi\n    intent: greet\n"
    )
    changed["test stories"] = context_of(project)
    (project / "data" / "nlu" / "greet.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n    - yo\n'
    )
    changed["committed NLU data"] = context_of(project)
    # The encoder's store of vectors grows: the same encoder.
    (project / "encoder" / "sentence-vectors.npz").write_bytes(b"vectors")
    assert context_of(project) == changed["committed NLU data"]
    (project / "encoder" / "model.safetensors").write_bytes(b"other weights")
    changed["encoder"] = context_of(project)
    code = project / "code"
    (code / "nlu").mkdir(parents=True)
    (code / "nlu" / "knowledge.py").write_text("THRESHOLD = 0.5\n")
    monkeypatch.setattr(evaluation_module, "PACKAGE_DIR", code)
    before_code = context_of(project)
    (code / "nlu" / "knowledge.py").write_text("THRESHOLD = 0.6\n")
    changed["parsing code"] = context_of(project)
    monkeypatch.setattr(evaluation_module, "CONTEXT_VERSION", 2)
    changed["scoring"] = context_of(project)
    monkeypatch.setattr(
        evaluation_module.importlib.metadata, "version", lambda name: "9.9.9"
    )
    changed["Rasa"] = context_of(project)

    keys = [first, before_code, *changed.values()]
    assert len({repr(sorted(key.items())) for key in keys}) == len(keys)
    for part, context in changed.items():
        assert reusable_live_report(earlier, LIVE_SHA, context) is None, part


def test_only_a_report_of_the_live_model_is_reused(project: Path) -> None:
    context = context_of(project)
    # Newest first: v3 was evaluated against another model, v2 against the
    # live one, v1 is the live model itself.
    earlier = [
        ("v3", OTHER_SHA, recorded(context, live_sha=OTHER_SHA)),
        ("v2", OTHER_SHA, recorded(context)),
        ("v1", LIVE_SHA, recorded(context, live_sha=OTHER_SHA)),
    ]
    reused = reusable_live_report(earlier, LIVE_SHA, context)
    assert reused == {**report(0.9), "reused_from": "v2"}
    # The live model's own evaluation as a candidate counts as well.
    reused = reusable_live_report(earlier[:1] + earlier[2:], LIVE_SHA, context)
    assert reused == {**report(0.95), "reused_from": "v1"}
    # A report reused before keeps naming where it was measured.
    again = recorded(context)
    again["live"]["reused_from"] = "v0"
    assert reusable_live_report([("v4", OTHER_SHA, again)], LIVE_SHA, context)[
        "reused_from"
    ] == ("v0")
    assert reusable_live_report(earlier, "c" * 64, context) is None
    assert reusable_live_report([("v5", OTHER_SHA, {})], LIVE_SHA, context) is None
    # An evaluation made before contexts were recorded is never reused.
    old = recorded(context)
    del old["context"]
    assert reusable_live_report([("v6", OTHER_SHA, old)], LIVE_SHA, context) is None


def test_an_unknown_knowledge_base_revision_is_never_reused(project: Path) -> None:
    context = context_of(project, revision=None)
    earlier = [("v1", OTHER_SHA, recorded(context))]
    assert reusable_live_report(earlier, LIVE_SHA, context) is None


class Evaluations:
    """Stands in for loading and running a model: records which ones ran."""

    def __init__(self, revisions: list[int | None]) -> None:
        self.models: list[str] = []
        self.revisions = revisions

    async def model(self, path: Path, *_: Any) -> dict[str, Any]:
        self.models.append(path.name)
        return report(0.95 if path.name == "candidate.tar.gz" else 0.8)

    async def revision(self) -> int | None:
        return self.revisions.pop(0)


async def comparing(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    revisions: list[int | None],
    *,
    reusable: dict[str, Any] | None,
    same: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    runs = Evaluations(revisions)
    monkeypatch.setattr(evaluation_module, "_in_thread", runs.model)
    result = await compare(
        project / "candidate.tar.gz",
        (None, project / "live.tar.gz", LIVE_SHA),
        held_out(project),
        project / "out",
        candidate_sha256=LIVE_SHA if same else OTHER_SHA,
        context=context_of(project),
        reusable=reusable,
        knowledge_revision=runs.revision,
    )
    return result, runs.models


async def test_compare_reuses_the_live_report_in_the_same_context(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reusable = {**report(0.9), "reused_from": "v1"}
    result, models = await comparing(project, monkeypatch, [7, 7], reusable=reusable)
    assert models == ["candidate.tar.gz"]
    assert result["live"] == {**reusable, "version": None, "sha256": LIVE_SHA}
    assert result["candidate"] == report(0.95)
    assert result["context"] == context_of(project)


async def test_compare_evaluates_the_live_model_when_the_knowledge_base_moved(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reusable = {**report(0.9), "reused_from": "v1"}
    # An article was published after the job found the report.
    result, models = await comparing(project, monkeypatch, [8, 8], reusable=reusable)
    assert models == ["candidate.tar.gz", "live.tar.gz"]
    assert result["live"] == {**report(0.8), "version": None, "sha256": LIVE_SHA}
    assert result["context"]["knowledge_revision"] == 8
    # ... or while the candidate was evaluated: the context is unknown.
    result, models = await comparing(project, monkeypatch, [7, 8], reusable=reusable)
    assert models == ["candidate.tar.gz", "live.tar.gz"]
    assert result["context"]["knowledge_revision"] is None


async def test_compare_without_a_report_to_reuse_evaluates_both(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, models = await comparing(project, monkeypatch, [7, 7], reusable=None)
    assert models == ["candidate.tar.gz", "live.tar.gz"]
    assert "reused_from" not in result["live"]
    # The live model as candidate: evaluated once, whatever is reusable.
    result, models = await comparing(
        project,
        monkeypatch,
        [7, 7],
        reusable={**report(0.5), "reused_from": "v0"},
        same=True,
    )
    assert models == ["candidate.tar.gz"]
    assert result["live"]["accuracy"] == 0.95


async def test_a_training_jobs_spec_hands_the_report_to_reuse_to_compare(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job's Rasa process (rasa_train --evaluate SPEC) reuses as told."""
    import json

    from bot.training import rasa_train

    runs = Evaluations([7, 7])
    monkeypatch.setattr(evaluation_module, "_in_thread", runs.model)
    monkeypatch.setattr(
        evaluation_module, "knowledge_revision_reader", lambda engine: runs.revision
    )
    monkeypatch.setenv("BATON_DATABASE_URL", f"sqlite:///{project / 'baton.db'}")
    reusable = {**report(0.9), "reused_from": "v1"}
    spec = project / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "model": str(project / "candidate.tar.gz"),
                "live": [None, str(project / "live.tar.gz"), LIVE_SHA],
                "held_out": {
                    "messages": [["hello", "greet"]],
                    "stories": str(project / "tests" / "test_stories.yml"),
                },
                "reports": str(project / "out"),
                "result": str(project / "result.json"),
                "context": context_of(project),
                "reusable": reusable,
            }
        )
    )
    await asyncio.to_thread(rasa_train.evaluate, spec)
    result = json.loads((project / "result.json").read_text())
    assert runs.models == ["candidate.tar.gz"]
    assert result["live"]["reused_from"] == "v1"
    assert result["context"] == context_of(project)

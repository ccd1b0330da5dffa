"""Evaluate a candidate model against the live one, and the regression guard.

The held-out set is what neither model learnt from:

- the customer messages of the project's test stories
  (``tests/test_stories.yml``, worded unlike the training data on purpose)
  with the intent each story gives them, and
- a split of the trainers' examples: of an intent with at least
  :data:`SPLIT_FROM` examples added by trainers, each such example whose
  SHA-256 (of intent and text) falls in one of :data:`HOLD_OUT_EVERY` buckets
  is held out. The choice depends only on the example itself, so an example
  never moves between the sides while it exists, and a training job leaves
  the held-out ones out of what it trains on.

The committed baseline (``data/nlu``) is never split: the shipped model
(``make model``) learnt all of it, and a split of it would favour the
shipped model over every candidate.

Both models parse every held-out message (the intent after Rasa's fallback:
``nlu_fallback`` is a wrong answer) and play every test story end to end
(``rasa test --stories``: the intents of its messages and the bot's
actions). The figures: accuracy, macro F1, per-intent precision, recall and
F1, the most confused pairs, and which stories pass.

The regression guard (:func:`regressions`) refuses a candidate whose
accuracy is below the live model's by more than a margin
(``BATON_REGRESSION_MARGIN``), or that fails a story the live model passes.

The live model's side is the same for every candidate while nothing it
depends on changes: an evaluation records its context
(:func:`evaluation_context`: the held-out set with the test stories, the
knowledge base's revision, the committed NLU data the knowledge base reads
its "none" sentences from, the sentence encoder, the code that parses, and
Rasa's version), and a later evaluation in the same context reuses the live
model's report (:func:`reusable_live_report`) instead of loading and running
that model again.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import hashlib
import importlib.metadata
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.knowledge.embedding.model import MODEL_FILES
from bot.knowledge.repository import KnowledgeRepository
from bot.training.intents import TrainingData

logger = logging.getLogger(__name__)

#: The project's test stories (relative to the project folder).
TEST_STORIES = Path("tests") / "test_stories.yml"
#: An intent's trainers' examples are split once it has this many.
SPLIT_FROM = 5
#: One bucket in this many is held out (a fifth).
HOLD_OUT_EVERY = 5
#: Confused pairs kept in a report.
MOST_CONFUSED = 5
#: The package folder (``bot/``): its parsing code is part of an evaluation's
#: context.
PACKAGE_DIR = Path(__file__).resolve().parent.parent
#: The code a parse runs besides Rasa and the model (relative to ``bot/``):
#: the project's NLU components and the knowledge base they search, and this
#: module, which scores the parses.
PARSING_CODE = ("nlu", "knowledge", "training/evaluation.py")
#: The committed NLU data (relative to the project folder): the knowledge
#: base's "none" sentences come from it.
COMMITTED_NLU = Path("data") / "nlu"
#: Changed when how an evaluation is scored changes in a way the code digest
#: does not show.
CONTEXT_VERSION = 1


@dataclass(frozen=True)
class HeldOut:
    """Messages with their right intent, and the stories, neither model learnt."""

    messages: tuple[tuple[str, str], ...]
    stories: Path | None

    def fingerprint(self) -> str:
        """SHA-256 of the set (two evaluations compare when it is the same)."""
        digest = hashlib.sha256()
        for text, intent in self.messages:
            digest.update(f"{intent}\0{text}\0".encode())
        if self.stories is not None:
            digest.update(self.stories.read_bytes())
        return digest.hexdigest()

    def public(self) -> dict[str, Any]:
        """How the set is made up (for the model record)."""
        return {
            "messages": len(self.messages),
            "stories": str(self.stories) if self.stories else None,
            "fingerprint": self.fingerprint(),
        }


def held_out_example(intent: str, text: str) -> bool:
    """Whether a trainer's example falls in the held-out buckets."""
    digest = hashlib.sha256(f"{intent}\0{text}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % HOLD_OUT_EVERY == 0


def split(data: TrainingData) -> tuple[TrainingData, list[tuple[str, str]]]:
    """Split the training data: what a job trains on, and what it holds out.

    Returns:
        The data less the held-out examples, and those as (text, intent).
    """
    kept: dict[str, list[Any]] = {}
    held: list[tuple[str, str]] = []
    for intent, examples in data.examples.items():
        added = [example for example in examples if example.source == "trainer"]
        if len(added) < SPLIT_FROM:
            kept[intent] = list(examples)
            continue
        kept[intent] = []
        for example in examples:
            if example.source == "trainer" and held_out_example(intent, example.text):
                held.append((example.text, intent))
            else:
                kept[intent].append(example)
    return replace(data, examples=kept), held


def story_messages(path: Path) -> list[tuple[str, str]]:
    """The typed customer messages of test stories with their intents.

    Button payloads (``/intent``) are left out: they are not understood by
    the NLU but sent as they are.
    """
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for story in document.get("stories") or []:
        for step in story.get("steps") or []:
            text = str(step.get("user") or "").strip()
            if text and step.get("intent") and not text.startswith("/"):
                found.append((" ".join(text.split()), str(step["intent"])))
    return found


def held_out_set(data: TrainingData, project_dir: Path) -> HeldOut:
    """The held-out set for ``data``: the split and the test stories."""
    messages = split(data)[1]
    stories: Path | None = project_dir / TEST_STORIES
    if stories is not None and stories.is_file():
        messages += story_messages(stories)
    else:
        stories = None
    return HeldOut(tuple(messages), stories)


def _tree_digest(paths: Iterable[Path], *, contents: bool = True) -> str:
    """SHA-256 over files (each path with its content, or its size and time)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(f"{path}\0".encode())
        if contents:
            digest.update(path.read_bytes())
        else:
            stat = path.stat()
            digest.update(f"{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _files(folder: Path, *patterns: str) -> list[Path]:
    if folder.is_file():
        return [folder]
    return [path for pattern in patterns for path in folder.rglob(pattern)]


def evaluation_context(
    held_out: HeldOut,
    knowledge_revision: int | None,
    project_dir: Path,
    encoder_dir: Path | None,
) -> dict[str, Any]:
    """What a model's evaluation depends on besides the model itself.

    Two evaluations of the same model file in equal contexts give the same
    report: the live model's can be reused (:func:`reusable_live_report`).

    Args:
        held_out: The held-out set (its fingerprint covers the test stories).
        knowledge_revision: The knowledge base's revision (articles and
            labelled questions), which the parse's ``KnowledgeFirst`` reads;
            ``None`` when unknown (never equal to a known one).
        project_dir: The project (its committed ``data/nlu``).
        encoder_dir: The sentence encoder's model folder (``None``: none).

    Returns:
        The context, a JSON object compared as a whole.
    """
    code = [
        path
        for part in PARSING_CODE
        for path in _files(PACKAGE_DIR / part, "*.py", "*.yml")
        if "__pycache__" not in path.parts
    ]
    # The model's files, not the folder: the encoder keeps its store of
    # vectors computed so far there too, which grows with every new text.
    encoder = (
        _tree_digest(
            [
                encoder_dir / name
                for name in MODEL_FILES
                if (encoder_dir / name).is_file()
            ],
            contents=False,
        )
        if encoder_dir is not None
        else None
    )
    return {
        "version": CONTEXT_VERSION,
        "held_out": held_out.fingerprint(),
        "knowledge_revision": knowledge_revision,
        "committed_nlu": _tree_digest(
            _files(project_dir / COMMITTED_NLU, "*.yml", "*.yaml")
        ),
        "encoder": f"{encoder_dir}:{encoder}",
        "code": _tree_digest(code),
        "rasa": importlib.metadata.version("rasa"),
    }


def reusable_live_report(
    evaluations: Iterable[tuple[str, str, dict[str, Any]]],
    live_sha256: str,
    context: dict[str, Any],
) -> dict[str, Any] | None:
    """An earlier report of the live model made in the same context.

    Args:
        evaluations: (version, SHA-256, evaluation) of recorded models,
            newest first.
        live_sha256: The live model's file's SHA-256.
        context: The context of the evaluation about to be made.

    Returns:
        The report, with ``reused_from`` (the version whose evaluation held
        it); ``None`` when no evaluation in this context measured the live
        model.
    """
    if context.get("knowledge_revision") is None:
        return None
    for version, sha256, evaluation in evaluations:
        if not evaluation or evaluation.get("context") != context:
            continue
        live = evaluation.get("live")
        if live is not None and live.get("sha256") == live_sha256:
            report = live
        elif sha256 == live_sha256 and evaluation.get("candidate"):
            report = evaluation["candidate"]
        else:
            continue
        kept = {
            key: value
            for key, value in report.items()
            if key not in ("version", "sha256", "reused_from")
        }
        return {**kept, "reused_from": report.get("reused_from") or version}
    return None


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def intent_report(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Accuracy, per-intent precision/recall/F1 and confusions.

    Args:
        pairs: (right intent, predicted intent) per message.

    Returns:
        ``accuracy``, ``macro_f1`` (over the intents of the set),
        ``messages``, ``per_intent`` (name → precision, recall, f1,
        support) and ``confused`` (the most frequent wrong pairs:
        ``{"intent", "predicted", "count"}``).
    """
    right = sum(1 for expected, predicted in pairs if expected == predicted)
    support = collections.Counter(expected for expected, _ in pairs)
    predicted_count = collections.Counter(predicted for _, predicted in pairs)
    hits = collections.Counter(
        expected for expected, predicted in pairs if expected == predicted
    )
    per_intent = {}
    for intent in sorted(support):
        precision = _ratio(hits[intent], predicted_count[intent])
        recall = _ratio(hits[intent], support[intent])
        f1 = (
            round(2 * precision * recall / (precision + recall), 4)
            if precision + recall
            else 0.0
        )
        per_intent[intent] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support[intent],
        }
    confusions = collections.Counter(
        (expected, predicted) for expected, predicted in pairs if expected != predicted
    )
    return {
        "messages": len(pairs),
        "accuracy": _ratio(right, len(pairs)),
        "macro_f1": _ratio(sum(v["f1"] for v in per_intent.values()), len(per_intent)),
        "per_intent": per_intent,
        "confused": [
            {"intent": expected, "predicted": predicted, "count": count}
            for (expected, predicted), count in sorted(
                confusions.items(), key=lambda item: (-item[1], item[0])
            )[:MOST_CONFUSED]
        ],
    }


#: Told what an evaluation is doing (a line a trainer can read).
OnStep = Callable[[str], None]
#: Steps of one model's evaluation (load, parse, play the stories).
STEPS_PER_MODEL = 3


def _quiet(_: str) -> None:
    pass


async def evaluate_model(
    path: Path, held_out: HeldOut, out_dir: Path, on_step: OnStep = _quiet
) -> dict[str, Any]:
    """Load a model with Rasa and measure it on the held-out set.

    The messages go through :meth:`rasa.core.agent.Agent.parse_message`; the
    stories through :func:`rasa.core.test.test` (what ``rasa test core
    --e2e`` runs), which writes the stories that failed and those that
    passed to ``out_dir``, where their names are read back.

    Args:
        path: The model's file.
        held_out: The held-out set.
        out_dir: Where Rasa writes its story reports.
        on_step: Told as each of :data:`STEPS_PER_MODEL` steps starts (it
            may be called from another thread than the caller's).

    Returns:
        :func:`intent_report` of its parses, with ``stories``: ``passed``
        and ``failed`` (story names).
    """
    from rasa.core.agent import Agent
    from rasa.core.constants import FAILED_STORIES_FILE, SUCCESSFUL_STORIES_FILE
    from rasa.core.test import test as test_stories

    on_step(f"loading {path.name}")
    agent = Agent.load(str(path))
    on_step(f"{path.name}: parsing {len(held_out.messages)} held-out messages")
    pairs = []
    for text, intent in held_out.messages:
        parsed = await agent.parse_message(text)
        pairs.append((intent, str((parsed.get("intent") or {}).get("name"))))
    report = intent_report(pairs)
    report["stories"] = {"passed": [], "failed": []}
    on_step(f"{path.name}: playing the test stories")
    if held_out.stories is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        await test_stories(
            str(held_out.stories),
            agent,
            out_directory=str(out_dir),
            e2e=True,
            disable_plotting=True,
            successes=True,
            errors=True,
            warnings=False,
        )
        report["stories"] = {
            "passed": story_names(out_dir / SUCCESSFUL_STORIES_FILE),
            "failed": story_names(out_dir / FAILED_STORIES_FILE),
        }
    return report


def story_names(path: Path) -> list[str]:
    """The names of the stories in a file :func:`rasa.core.test.test` wrote.

    Rasa names each story ``NAME (SOURCE FILE)``; a file without stories
    holds only a comment.

    Raises:
        FileNotFoundError: Rasa did not write the file.
    """
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = set()
    for story in document.get("stories") or []:
        name = str(story.get("story") or "")
        if name.endswith(")") and " (" in name:
            name = name.rsplit(" (", 1)[0]
        names.add(name)
    return sorted(names)


async def _in_thread(
    path: Path, held_out: HeldOut, out_dir: Path, on_step: OnStep
) -> dict[str, Any]:
    """:func:`evaluate_model` in a thread with its own event loop.

    Loading a model blocks for a long while (minutes on a busy machine): the
    caller's loop keeps running meanwhile (a job's heartbeat).
    """
    return await asyncio.to_thread(
        asyncio.run, evaluate_model(path, held_out, out_dir, on_step)
    )


#: Reads the knowledge base's revision now.
RevisionReader = Callable[[], Awaitable[int | None]]


def knowledge_revision_reader(engine: AsyncEngine) -> RevisionReader:
    """Reads the knowledge base's revision; ``None`` when it cannot be read.

    A knowledge base that cannot be read is parsed without (as
    ``KnowledgeFirst`` does): such an evaluation's context is unknown, and
    its live report is never reused.
    """
    repository = KnowledgeRepository(engine)

    async def read() -> int | None:
        try:
            return await repository.revision()
        except Exception:
            # Any failure means the same here: the revision is unknown.
            logger.warning("cannot read the knowledge base's revision", exc_info=True)
            return None

    return read


async def compare(
    candidate: Path,
    live: tuple[str | None, Path, str] | None,
    held_out: HeldOut,
    out_dir: Path,
    *,
    candidate_sha256: str | None = None,
    on_step: OnStep = _quiet,
    context: dict[str, Any] | None = None,
    reusable: dict[str, Any] | None = None,
    knowledge_revision: RevisionReader | None = None,
) -> dict[str, Any]:
    """Evaluate the candidate and the live model on the same held-out set.

    Args:
        candidate: The candidate's file.
        live: The live model's version (``None``: the shipped one), file and
            SHA-256; ``None`` when this hub has no live model file.
        held_out: The held-out set.
        out_dir: Where Rasa may write its story reports.
        candidate_sha256: The candidate's SHA-256: when it is the live
            model, it is evaluated once and its report is both sides.
        on_step: Told as each step of each model's evaluation starts.
        context: This evaluation's :func:`evaluation_context`, recorded with
            it.
        reusable: The live model's report from an earlier evaluation in
            ``context`` (:func:`reusable_live_report`), used instead of
            evaluating the live model again.
        knowledge_revision: Reads the knowledge base's revision: it is read
            before and after the candidate's evaluation, and the context
            records it only when it stayed the same throughout (else
            ``None``, and the live model is evaluated again).

    Returns:
        ``held_out`` (its size and fingerprint), ``candidate`` and ``live``
        (reports, the live one with its ``version`` and ``sha256``, and
        ``reused_from`` when it was reused; ``None`` without a live model),
        ``context`` and ``evaluated_at``.
    """
    before = await knowledge_revision() if knowledge_revision else None
    report = await _in_thread(candidate, held_out, out_dir / "candidate", on_step)
    if context is not None and knowledge_revision is not None:
        after = await knowledge_revision()
        steady = after if after == before else None
        if steady != context.get("knowledge_revision"):
            # The knowledge base moved since the context was made: the
            # earlier report does not fit this evaluation.
            reusable = None
        context = {**context, "knowledge_revision": steady}
    live_report = None
    if live is not None:
        version, path, sha256 = live
        same = candidate_sha256 is not None and candidate_sha256 == sha256
        if same:
            measured = report
        elif reusable is not None and context is not None:
            measured = reusable
            on_step(
                f"the live model's report in this context is reused (from the "
                f"evaluation of {reusable['reused_from']})"
            )
        else:
            measured = await _in_thread(path, held_out, out_dir / "live", on_step)
        live_report = {**measured, "version": version, "sha256": sha256}
    return {
        "held_out": held_out.public(),
        "candidate": report,
        "live": live_report,
        **({"context": context} if context is not None else {}),
        "evaluated_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }


def regressions(evaluation: dict[str, Any], margin: float) -> list[str]:
    """Why a candidate is worse than the live model (empty: it is not).

    Args:
        evaluation: A model's evaluation (``candidate`` and ``live`` reports).
        margin: How much lower the candidate's accuracy may be.
    """
    candidate, live = evaluation["candidate"], evaluation["live"]
    found: list[str] = []
    if live is None:
        return found
    if candidate["accuracy"] < live["accuracy"] - margin:
        found.append(
            f"accuracy {candidate['accuracy']:.1%} on the held-out set is below "
            f"the live model's {live['accuracy']:.1%} by more than "
            f"{margin:.1%}"
        )
    newly_failed = sorted(
        set(live["stories"]["passed"]) & set(candidate["stories"]["failed"])
    )
    if newly_failed:
        found.append(
            "fails test stories the live model passes: " + "; ".join(newly_failed)
        )
    return found


def last_f1(evaluations: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Per-intent F1 of the first evaluation given (newest first) that has one."""
    for evaluation in evaluations:
        candidate = (evaluation or {}).get("candidate")
        if candidate:
            return {
                intent: figures["f1"]
                for intent, figures in candidate["per_intent"].items()
            }
    return {}


__all__ = [
    "HOLD_OUT_EVERY",
    "SPLIT_FROM",
    "STEPS_PER_MODEL",
    "TEST_STORIES",
    "HeldOut",
    "OnStep",
    "RevisionReader",
    "compare",
    "evaluate_model",
    "evaluation_context",
    "held_out_example",
    "held_out_set",
    "intent_report",
    "knowledge_revision_reader",
    "last_f1",
    "regressions",
    "reusable_live_report",
    "split",
    "story_messages",
    "story_names",
]

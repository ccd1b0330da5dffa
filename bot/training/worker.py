"""Run one training job: ``python -m bot.training.worker JOB_ID``.

At low priority (``nice``), so customer replies keep their time: export the
training data (:mod:`bot.training.nlu_files`) less its held-out split
(:mod:`bot.training.evaluation`) into ``var/training/job-N``, validate and
train it in one Rasa process (:mod:`bot.training.rasa_train`: ``rasa train``
runs ``rasa data validate``'s checks first and trains nothing when they
fail) into ``var/models``, evaluate the new model and the live one side by
side on the held-out set, and record the model with both evaluations.
Nothing here touches the live model: a job that fails at any stage leaves
only its reason (and Rasa's last lines) on the job.

When trainers changed only examples (``nlu_only`` on the job: no intent
created or deleted), only the NLU pipeline is trained again: the dialogue
policies come from Rasa's training cache (the project's ``.rasa/cache``,
shared with ``make model``). Rasa's fine-tuning of the live model
(``--finetune``, 30 % of the epochs) was tried and left out: it took 43 CPU
seconds instead of 72, but its candidates failed a test story the live model
passes in two of three stack runs (issue #14).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db.engine import create_engine
from bot.exceptions import BatonError
from bot.knowledge.embedding import model_directory
from bot.training.evaluation import (
    STEPS_PER_MODEL,
    HeldOut,
    OnStep,
    compare,
    evaluation_context,
    held_out_set,
    knowledge_revision_reader,
    reusable_live_report,
    split,
)
from bot.training.intents import NluRepository
from bot.training.jobs import LOG_LINES, NICENESS, JobRecord, JobRepository
from bot.training.models import LiveModel, ModelNotFound, ModelRegistry, file_digest
from bot.training.nlu_data import CONFIG, DOMAIN
from bot.training.nlu_files import export_files, fingerprint, write_files
from bot.training.rasa_train import (
    COMPONENTS,
    EVALUATING,
    EVALUATION_STEP,
    VALIDATED,
)

logger = logging.getLogger(__name__)

#: tqdm's epoch bar of Rasa's DIET: "Epochs:  10%|█ | 10/100 [...]".
_EPOCH = re.compile(r"Epochs:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+)")
#: Rasa's ``LoggingHook`` (rasa/engine/training/hooks.py): a component of
#: the training graph starts, or ends trained or restored from the cache.
_STARTS = re.compile(r"Starting to train component '([^']+)'")
_ENDS = re.compile(
    r"Finished training component '[^']+'|Restored component '[^']+' from cache"
)
_METRIC = re.compile(r"(t_loss|i_acc)=([0-9.]+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: Seconds between progress reports while Rasa runs.
REPORT_EVERY_S = 2.0


def models_dir(settings: Settings) -> Path:
    """Where jobs put the models they train (never ``models/``)."""
    return settings.data_dir / "models"


def workspace(settings: Settings, job_id: int) -> Path:
    """The folder a job exports its training data to."""
    return settings.data_dir / "training" / f"job-{job_id}"


class Steps:
    """An evaluation's steps as a job's progress (step N of M, the last lines).

    Told from the thread that evaluates (or by Rasa's output); read by the
    job's reports.
    """

    def __init__(self, models: int, *, reused: bool = False) -> None:
        """Steps of ``models`` models' evaluations.

        ``reused``: the live model's report is reused, one step instead of
        its evaluation's (unless the knowledge base changes meanwhile:
        then it is evaluated, and its last steps are counted as the last).
        """
        self.started = 0
        self.total = models * STEPS_PER_MODEL - (STEPS_PER_MODEL - 1 if reused else 0)
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)

    def __call__(self, line: str) -> None:
        """A step starts."""
        self.started = min(self.started + 1, self.total)
        self.lines.append(line)

    def progress(self, *, done: bool = False) -> dict[str, Any]:
        """The steps finished and the one under way, as a job reports them."""
        return {
            "step": self.total if done else max(self.started - 1, 0),
            "steps": self.total,
            "step_name": None if done or not self.lines else self.lines[-1],
            "epoch": None,
            "epochs": None,
        }

    def tail(self) -> str:
        """The steps so far, one a line."""
        return "\n".join(self.lines)


class RasaOutput:
    """Follows Rasa's output: components, the epoch, the last metrics and lines.

    ``components`` is how many components Rasa's training graph has
    (:data:`~bot.training.rasa_train.COMPONENTS`), ``trained`` how many of
    them were trained or restored from the cache, ``component`` the one
    training now. ``epoch`` / ``epochs`` are the last epoch bar's;
    :meth:`bar` is the epoch bar of the component training now, if it has
    one.
    """

    def __init__(self) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self.epoch: int | None = None
        self.epochs: int | None = None
        self.metrics: dict[str, float] = {}
        self.components: int | None = None
        self.trained = 0
        self.component: str | None = None
        #: The last epoch bar was drawn after the last component started or ended.
        self._bar_is_current = False
        #: The evaluation's steps after :data:`EVALUATING`, when given.
        self.evaluation: Steps | None = None
        #: The data passed validation (:data:`~bot.training.rasa_train.VALIDATED`).
        self.validated = False
        #: The model is trained and being evaluated.
        self.evaluating = False
        self._partial = ""
        self._transient = False

    def feed(self, chunk: str) -> None:
        """Take a piece of output.

        A line ended by a carriage return is a progress bar that will be
        drawn again: the next line replaces it.
        """
        text = self._partial + _ANSI.sub("", chunk)
        pieces = re.split(r"(\r\n|\r|\n)", text)
        self._partial = pieces.pop()
        for line, end in zip(pieces[::2], pieces[1::2], strict=True):
            self._line(line, redrawn=end == "\r")

    def _line(self, line: str, *, redrawn: bool) -> None:
        line = line.rstrip()
        if not line:
            return
        self.validated = self.validated or line == VALIDATED
        self.evaluating = self.evaluating or line == EVALUATING
        steps = self.evaluation if self.evaluating else None
        if steps is not None and line.startswith(EVALUATION_STEP):
            steps(line[len(EVALUATION_STEP) :])
        if line.startswith(COMPONENTS):
            self.components = int(line[len(COMPONENTS) :].split()[0])
        starts = _STARTS.search(line)
        if starts or _ENDS.search(line):
            self._bar_is_current = False
            self.component = starts.group(1) if starts else None
            if not starts:
                self.trained += 1
                if self.components is not None:
                    self.trained = min(self.trained, self.components)
        epoch = _EPOCH.search(line)
        if epoch:
            self.epoch, self.epochs = int(epoch.group(1)), int(epoch.group(2))
            self._bar_is_current = True
            self.metrics.update(
                {name: float(value) for name, value in _METRIC.findall(line)}
            )
        if self._transient and self.lines:
            self.lines[-1] = line
        else:
            self.lines.append(line)
        self._transient = redrawn

    def bar(self) -> tuple[int | None, int | None]:
        """The epoch bar of the component training now: epoch, epochs.

        ``(None, None)`` when that component draws none (or none trains).
        """
        if not self._bar_is_current:
            return None, None
        return self.epoch, self.epochs

    def progress(self) -> dict[str, Any]:
        """The training's progress as a job reports it.

        The component training now is ``step`` + 1 of ``steps``; once the
        evaluation started, its steps instead (when :attr:`evaluation` is
        given).
        """
        if self.evaluating and self.evaluation is not None:
            return self.evaluation.progress()
        epoch, epochs = self.bar()
        return {
            "step": self.trained if self.components is not None else None,
            "steps": self.components,
            "step_name": self.component,
            "epoch": epoch,
            "epochs": epochs,
        }

    def step(self) -> tuple[Any, ...]:
        """The step under way and those finished (of :meth:`progress`)."""
        progress = self.progress()
        return progress["step"], progress["steps"], progress["step_name"]

    def tail(self) -> str:
        """The last lines, with a line still being written."""
        lines = list(self.lines)
        if self._partial.strip():
            lines.append(self._partial.strip())
        return "\n".join(lines[-LOG_LINES:])


async def _rasa(
    arguments: list[str],
    settings: Settings,
    output: RasaOutput,
    on_progress: Any,
    module: str = "rasa",
) -> int:
    """Run ``python -m MODULE ARGUMENTS``; report progress; return its exit code.

    ``on_progress`` is called every :data:`REPORT_EVERY_S` seconds of output,
    and at once when the data passed validation, when the evaluation starts
    and when a step of either starts or ends (not on each epoch).
    """
    env = {
        **settings.child_environment(),
        "PYTHONUNBUFFERED": "1",
        # tqdm draws its bars only for a terminal unless told otherwise.
        "TQDM_MININTERVAL": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *arguments,
        cwd=str(settings.project_dir),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    last = 0.0
    while True:
        chunk = await process.stdout.read(4096)
        if not chunk:
            break
        stage = (output.validated, output.evaluating, output.step())
        output.feed(chunk.decode("utf-8", errors="replace"))
        moved = (output.validated, output.evaluating, output.step()) != stage
        if time.monotonic() - last >= REPORT_EVERY_S or moved:
            last = time.monotonic()
            await on_progress()
    return await process.wait()


async def live_side(
    settings: Settings,
    engine: AsyncEngine,
    held_out: HeldOut,
    live: LiveModel | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """An evaluation's context, and the live model's report to reuse in it.

    The report is ``None`` when the live model has to be evaluated.
    """
    context = evaluation_context(
        held_out,
        await knowledge_revision_reader(engine)(),
        settings.project_dir,
        model_directory(settings),
    )
    if live is None:
        return context, None
    evaluations = await ModelRegistry(engine, settings.model_dir).evaluations()
    return context, reusable_live_report(evaluations, live.etag, context)


async def run_evaluation(
    settings: Settings, engine: AsyncEngine, job: JobRecord
) -> bool:
    """Run an evaluation job: its model against the live one, then record it."""
    jobs = JobRepository(engine)
    version = str(job.model_version)
    steps = Steps(models=2)
    stage = "evaluate"

    async def reporting() -> None:
        while True:
            await jobs.report(job.id, **steps.progress(), log_tail=steps.tail())
            await asyncio.sleep(REPORT_EVERY_S)

    await jobs.report(
        job.id,
        state="running",
        stage=stage,
        started_at=dt.datetime.now(dt.timezone.utc),
    )
    reports: asyncio.Task[None] | None = None
    try:
        registry = ModelRegistry(engine, settings.model_dir)
        record = await registry.usable(version)
        live = await registry.live()
        if live is None or live.etag == record.sha256:
            # Evaluated once: it is the live model (or there is none).
            steps = Steps(models=1)
        reports = asyncio.get_running_loop().create_task(reporting())
        await reevaluate(settings, engine, version, on_step=steps)
        reports.cancel()
        stage = "record"
        await jobs.report(
            job.id, stage=stage, **steps.progress(done=True), log_tail=steps.tail()
        )
        await jobs.finish(job.id, error=None, log_tail=steps.tail())
        return True
    except Exception as error:
        # The edge of the worker: whatever went wrong is the job's answer.
        logger.exception("evaluation job %s failed at %s", job.id, stage)
        message = error.message if isinstance(error, BatonError) else str(error)
        await jobs.finish(
            job.id,
            error=f"failed at {stage}: {message}; the model's last evaluation "
            "is unchanged",
            log_tail=steps.tail(),
        )
        return False
    finally:
        if reports is not None:
            reports.cancel()


async def run_job(settings: Settings, job_id: int) -> bool:
    """Run the job to its end; return whether it did its work.

    A training job trains and evaluates a model
    (:func:`train_and_evaluate`); an evaluation job evaluates one again
    (:func:`run_evaluation`).
    """
    engine = create_engine(settings.database_url)
    try:
        job = await JobRepository(engine).get(job_id)
        if job.kind == "evaluate":
            return await run_evaluation(settings, engine, job)
        return await train_and_evaluate(settings, engine, job_id)
    finally:
        await engine.dispose()


async def train_and_evaluate(
    settings: Settings, engine: AsyncEngine, job_id: int
) -> bool:
    """Run a training job to its end; return whether a model was trained."""
    jobs = JobRepository(engine)
    output = RasaOutput()
    stage = "export"

    async def progress() -> None:
        nonlocal stage
        if stage == "validate" and output.validated:
            stage = "train"
        if stage == "train" and output.evaluating:
            stage = "evaluate"
        await jobs.report(
            job_id, stage=stage, **output.progress(), log_tail=output.tail()
        )

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY_S * 5)
            await progress()

    beating = asyncio.get_running_loop().create_task(heartbeat())
    try:
        job = await jobs.get(job_id)
        await jobs.report(
            job_id,
            state="running",
            stage=stage,
            started_at=dt.datetime.now(dt.timezone.utc),
        )
        data = await NluRepository(engine, settings.project_dir).data()
        held_out = held_out_set(data, settings.project_dir)
        files = export_files(split(data)[0], settings.project_dir)
        folder = workspace(settings, job_id)
        write_files(files, folder)
        # Config, rules and stories are the committed ones; the domain
        # changes only with the list of intents.
        nlu_only = not data.created and not data.deleted
        data_fingerprint = fingerprint(files)
        stage = "validate"
        await jobs.report(
            job_id, stage=stage, fingerprint=data_fingerprint, nlu_only=nlu_only
        )
        version = f"{dt.datetime.now(dt.timezone.utc):%Y%m%d-%H%M%S}-job{job_id}"
        out = models_dir(settings)
        out.mkdir(parents=True, exist_ok=True)
        base = await ModelRegistry(engine, settings.model_dir).live()
        # The evaluation runs in Rasa's process too, against the model live
        # when the job started (a deploy meanwhile: the guard asks for
        # another evaluation); its report of the live model is reused when
        # an earlier evaluation made one in the same context.
        context, reusable = await live_side(settings, engine, held_out, base)
        evaluation_steps = Steps(
            models=1 if base is None else 2, reused=reusable is not None
        )
        output.evaluation = evaluation_steps
        model = out / f"{version}.tar.gz"
        result = folder / "evaluation.json"
        spec = folder / "evaluation-spec.json"
        spec.write_text(
            json.dumps(
                {
                    "model": str(model),
                    "live": (
                        [base.version, str(base.path), base.etag] if base else None
                    ),
                    "held_out": {
                        "messages": list(held_out.messages),
                        "stories": str(held_out.stories) if held_out.stories else None,
                    },
                    "reports": str(folder / "evaluation"),
                    "result": str(result),
                    "context": context,
                    "reusable": reusable,
                }
            ),
            encoding="utf-8",
        )
        code = await _rasa(
            [
                "--evaluate",
                str(spec),
                "--domain",
                str(folder / DOMAIN),
                "--data",
                str(folder / "data"),
                "--config",
                str(folder / CONFIG),
                "--out",
                str(out),
                "--fixed-model-name",
                version,
            ],
            settings,
            output,
            progress,
            module="bot.training.rasa_train",
        )
        if not output.validated:
            await jobs.finish(
                job_id,
                error=f"the data did not pass rasa data validate (exit {code}); "
                "see the log; nothing was trained and the live model is unchanged",
                log_tail=output.tail(),
            )
            return False
        if not output.evaluating or not model.is_file():
            stage = "train"
            await jobs.finish(
                job_id,
                error=f"rasa train failed (exit {code}); see the log; the live "
                "model is unchanged",
                log_tail=output.tail(),
            )
            return False
        stage = "evaluate"
        if code != 0 or not result.is_file():
            await jobs.finish(
                job_id,
                error=f"the evaluation failed (exit {code}); see the log; no "
                "model was recorded and the live model is unchanged",
                log_tail=output.tail(),
            )
            return False
        evaluation = json.loads(result.read_text(encoding="utf-8"))
        stage = "record"
        await jobs.report(
            job_id,
            stage=stage,
            **evaluation_steps.progress(done=True),
            log_tail=output.tail(),
        )
        await jobs.finish(
            job_id,
            error=None,
            log_tail=output.tail(),
            model={
                "version": version,
                "job_id": job_id,
                "path": str(model),
                "sha256": file_digest(model),
                "size": model.stat().st_size,
                "fingerprint": data_fingerprint,
                "config": files[CONFIG].decode("utf-8"),
                "metrics": {
                    "training": output.metrics,
                    "epochs": output.epochs,
                    "nlu_only": nlu_only,
                    "evaluation": evaluation,
                },
                "trained_by": job.requested_by,
                "trained_at": dt.datetime.now(dt.timezone.utc),
            },
        )
        return True
    except Exception as error:
        # The edge of the worker: whatever went wrong is the job's answer.
        logger.exception("training job %s failed at %s", job_id, stage)
        await jobs.finish(
            job_id,
            error=f"failed at {stage}: {error}; the live model is unchanged",
            log_tail=output.tail(),
        )
        return False
    finally:
        beating.cancel()


async def reevaluate(
    settings: Settings,
    engine: AsyncEngine,
    version: str,
    on_step: OnStep | None = None,
) -> dict[str, Any]:
    """Evaluate a trained model against the live one now, and record it.

    On the held-out set as the training data stands now; the live model
    once, when it is this model, and not at all when an earlier evaluation
    in the same context measured it (:func:`live_side`).

    Returns:
        The evaluation recorded with the model.

    Raises:
        ModelNotFound: No such model.
        ModelFileMissing: Its file is not on this machine.
    """
    registry = ModelRegistry(engine, settings.model_dir)
    record = await registry.usable(version)
    data = await NluRepository(engine, settings.project_dir).data()
    live = await registry.live()
    held_out = held_out_set(data, settings.project_dir)
    context, reusable = await live_side(settings, engine, held_out, live)
    evaluation = await compare(
        Path(record.path),
        (live.version, live.path, live.etag) if live else None,
        held_out,
        settings.data_dir / "training" / f"evaluate-{version}",
        candidate_sha256=record.sha256,
        context=context,
        reusable=reusable,
        knowledge_revision=knowledge_revision_reader(engine),
        **({"on_step": on_step} if on_step else {}),
    )
    await JobRepository(engine).record_evaluation(version, evaluation)
    return evaluation


async def evaluate_version(settings: Settings, version: str | None) -> dict[str, Any]:
    """Evaluate a trained model against the live one again and record it.

    Args:
        settings: The hub's settings.
        version: The model (``None``: the newest trained one).

    Returns:
        The model's version and its new evaluation.

    Raises:
        ModelNotFound: No such model, or none trained.
        ModelFileMissing: Its file is not on this machine.
    """
    engine = create_engine(settings.database_url)
    try:
        registry = ModelRegistry(engine, settings.model_dir)
        if version is None:
            newest = (await registry.listing())["models"]
            if not newest:
                raise ModelNotFound("no trained model: baton train --job trains one")
            version = str(newest[0]["version"])
        evaluation = await reevaluate(settings, engine, version)
        return {"version": version, "evaluation": evaluation}
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the job named on the command line at low priority.

    ``--evaluate [VERSION]`` evaluates a trained model again instead
    (:func:`evaluate_version`) and writes the result to stdout as JSON.
    """
    arguments = sys.argv[1:] if argv is None else argv
    evaluate = arguments[:1] == ["--evaluate"] and len(arguments) <= 2
    if not evaluate and (len(arguments) != 1 or not arguments[0].isdigit()):
        print(
            "usage: python -m bot.training.worker JOB_ID | --evaluate [VERSION]",
            file=sys.stderr,
        )
        return 2
    os.nice(NICENESS)
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    if evaluate:
        try:
            result = asyncio.run(
                evaluate_version(settings, arguments[1] if arguments[1:] else None)
            )
        except BatonError as error:
            print(f"baton: {error.message}", file=sys.stderr)
            return 1
        print(json.dumps(result))
        return 0
    return 0 if asyncio.run(run_job(settings, int(arguments[0]))) else 1


if __name__ == "__main__":
    sys.exit(main())

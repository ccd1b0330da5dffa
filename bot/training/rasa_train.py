"""``rasa train`` for a training job: validation, training, evaluation.

``python -m bot.training.rasa_train [--evaluate SPEC] RASA_TRAIN_ARGUMENTS...``
runs Rasa 3.6's own ``rasa train`` command in this process, with what a job
needs (:mod:`bot.training.worker`), all in one process so that Rasa and
TensorFlow start once (each start costs about 6 CPU seconds here):

- ``rasa train`` validates the data first exactly as ``rasa data validate``
  does (``rasa.cli.utils.validate_files``, warnings allowed) and exits with 1
  before it trains anything when the data is invalid. The line
  :data:`VALIDATED` is printed once validation has passed, so the job tells a
  validation failure from a training failure.
- When Rasa has built the graph it trains (its recipe's train schema for
  the training type, pruned of what its cache holds), a line
  :data:`COMPONENTS` says how many components it has: each of them is then
  logged by Rasa as trained ("Finished training component 'X'.") or
  restored from the cache ("Restored component 'X' from cache."), so the
  job shows "component k of N" for any pipeline, with or without an epoch
  bar.
- With ``--evaluate SPEC`` (a JSON file: ``model``, the file ``rasa train``
  writes; ``live``, the live model's version, file and SHA-256 or null;
  ``held_out``, ``messages`` as [text, intent] pairs and ``stories``;
  ``reports``, a folder; ``result``, a file), the new model and the live one
  are then evaluated side by side (:func:`bot.training.evaluation.compare`)
  after :data:`EVALUATING`, each of its steps on a line starting
  :data:`EVALUATION_STEP`, and the evaluation is written to ``result``.
  ``context`` is the evaluation's context and ``reusable`` the live model's
  report to reuse in it (or null), as the job found them; the knowledge
  base's revision is read again here, from ``BATON_DATABASE_URL``.

Exit code: Rasa's (0: the model was written), or :data:`EVALUATION_FAILED`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Printed when the data passed ``rasa data validate``'s checks.
VALIDATED = "baton: the data passed validation; training"
#: Starts the line that says how many components Rasa's training graph
#: trains or restores from its cache (:func:`components_line`).
COMPONENTS = "baton: components in Rasa's training graph:"
#: Printed when the new model is trained and its evaluation starts.
EVALUATING = "baton: trained; evaluating the new model and the live one"
#: Starts the line of each step of the evaluation as it starts.
EVALUATION_STEP = "baton: evaluation step: "
#: Exit code when the model was trained but its evaluation failed.
EVALUATION_FAILED = 3
USAGE = (
    "usage: python -m bot.training.rasa_train [--evaluate SPEC] RASA_TRAIN_ARGUMENTS..."
)


def _rasa(arguments: list[str]) -> int:
    """Run the ``rasa`` command line in this process; its exit code."""
    from rasa.__main__ import main

    sys.argv = ["rasa", *arguments]
    try:
        main()
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else 1
    return 0


class _Announcing:
    """``validate_files`` that prints :data:`VALIDATED` when the data passed."""

    def __init__(self, validate: Callable[..., Any]) -> None:
        self.validate = validate

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        result = self.validate(*args, **kwargs)  # exits when the data is invalid
        print(VALIDATED, flush=True)
        return result


def components_line(total: int, cached: int) -> str:
    """The line :data:`COMPONENTS`: ``total`` components, ``cached`` of them cached."""
    return f"{COMPONENTS} {total} ({cached} to restore from its cache)"


def _counting(hook: type[Any]) -> type[Any]:
    """Rasa's ``LoggingHook`` that prints :func:`components_line` when made.

    Rasa makes it with the pruned training graph it then runs; the hook logs
    a component's end (trained, or restored from the cache) for exactly the
    nodes it counts here, with its own two tests (Rasa 3.6's
    ``rasa.engine.training.hooks``).
    """

    class Counting(hook):
        def __init__(self, pruned_schema: Any) -> None:
            super().__init__(pruned_schema)
            trains = [
                node
                for node in pruned_schema.nodes.values()
                if self._does_node_train(node)
            ]
            cached = sum(1 for node in trains if self._is_cached_node(node))
            print(components_line(len(trains), cached), flush=True)

    return Counting


def evaluate(spec_file: Path) -> None:
    """Evaluate the new model and the live one as ``spec_file`` says."""
    from bot.config import Settings
    from bot.db.engine import create_engine
    from bot.training.evaluation import HeldOut, compare, knowledge_revision_reader

    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    live = spec["live"]
    held_out = spec["held_out"]
    stories = held_out["stories"]

    async def evaluating() -> dict[str, Any]:
        engine = create_engine(Settings.from_env().database_url)
        try:
            return await compare(
                Path(spec["model"]),
                (live[0], Path(live[1]), live[2]) if live else None,
                HeldOut(
                    tuple((text, intent) for text, intent in held_out["messages"]),
                    Path(stories) if stories else None,
                ),
                Path(spec["reports"]),
                on_step=lambda line: print(f"{EVALUATION_STEP}{line}", flush=True),
                context=spec.get("context"),
                reusable=spec.get("reusable"),
                knowledge_revision=knowledge_revision_reader(engine),
            )
        finally:
            await engine.dispose()

    evaluation = asyncio.run(evaluating())
    Path(spec["result"]).write_text(json.dumps(evaluation), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Validate and train; evaluate when asked."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    spec: Path | None = None
    if arguments[:1] == ["--evaluate"]:
        if len(arguments) < 2:
            print(USAGE, file=sys.stderr)
            return 2
        spec, arguments = Path(arguments[1]), arguments[2:]
    import rasa.cli.utils
    import rasa.engine.training.graph_trainer

    # rasa train calls it through the module: the announcing one is used.
    rasa.cli.utils.validate_files = _Announcing(rasa.cli.utils.validate_files)
    # The trainer makes its hook by this module's name: the counting one.
    trainer = rasa.engine.training.graph_trainer
    trainer.LoggingHook = _counting(trainer.LoggingHook)
    code = _rasa(["train", *arguments])
    if code != 0 or spec is None:
        return code
    print(EVALUATING, flush=True)
    try:
        evaluate(spec)
    except Exception:
        # Any failure: the job says it failed at the evaluation, with this.
        import traceback

        traceback.print_exc(file=sys.stdout)
        return EVALUATION_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())

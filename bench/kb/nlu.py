"""The real NLU's intent for each benchmark question (the trained Rasa model).

The question files carry a hand-written ``intent``/``confidence`` per question,
a simulation of the NLU. In production, the action passes the intent Rasa
actually predicted; :func:`with_model_intents` replaces the simulation with
the predictions of ``models/baton.tar.gz`` so that the benchmark can report
both. Loading the model takes 10 to 20 s; parsing is then a few milliseconds per
message. Rasa is imported only when this is called.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from bench.kb.evaluate import Question

MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "baton.tar.gz"


async def _parse_all(texts: Sequence[str], model: Path) -> list[tuple[str, float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    predictions = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        predictions.append(
            (str(intent.get("name")), float(intent.get("confidence") or 0.0))
        )
    return predictions


def model_intents(
    texts: Sequence[str], model: Path = MODEL_PATH
) -> list[tuple[str, float]]:
    """Parse messages with the trained model.

    Args:
        texts: The messages.
        model: The trained Rasa model archive.

    Returns:
        The predicted intent name and its confidence, per message.

    Raises:
        FileNotFoundError: There is no trained model at ``model``.
    """
    if not model.is_file():
        raise FileNotFoundError(f"no trained model at {model}: run python -m bot train")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)
    for name in ("rasa", "tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return asyncio.run(_parse_all(texts, model))


def with_model_intents(
    questions: Sequence[Question], model: Path = MODEL_PATH
) -> list[Question]:
    """The questions with the trained model's intent instead of the simulated one."""
    predictions = model_intents([question.text for question in questions], model)
    return [
        dataclasses.replace(question, intent=intent, confidence=confidence)
        for question, (intent, confidence) in zip(questions, predictions, strict=True)
    ]

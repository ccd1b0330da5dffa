"""A real ``rasa train nlu`` in a folder, for the components' own tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml


def train_and_load(
    folder: Path, config: dict[str, Any], nlu: dict[str, Any], name: str
) -> Any:
    """Train ``config`` on ``nlu`` in ``folder`` with Rasa's CLI; load the model.

    Returns:
        The loaded ``rasa.core.agent.Agent``.
    """
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    (folder / "nlu.yml").write_text(yaml.safe_dump(nlu))
    done = subprocess.run(
        [sys.executable, "-m", "rasa", "train", "nlu", "--config", "config.yml",
         "--nlu", "nlu.yml", "--out", "models", "--fixed-model-name", name],
        cwd=folder, capture_output=True, text=True, timeout=1100,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    from rasa.core.agent import Agent

    return Agent.load(str(folder / "models" / f"{name}.tar.gz"))


def trains_and_runs(agent: Any, component: str) -> bool:
    """The component (``module.Class``) is trained and run on every parse."""
    metadata = agent.processor.model_metadata

    def uses(node: Any) -> str:
        return f"{node.uses.__module__}.{node.uses.__name__}"

    trained = any(
        uses(node) == component and node.fn == "train"
        for node in metadata.train_schema.nodes.values()
    )
    return trained and any(
        uses(node) == component for node in metadata.predict_schema.nodes.values()
    )

"""Rasa's own checks of the training data and the test stories."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_DIR
from tests.e2e.conftest import ensure_model

pytestmark = pytest.mark.stack

RASA = [sys.executable, "-m", "rasa"]
ENV = {"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"}


def run(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*RASA, *args],
        cwd=PROJECT_DIR,
        env={**ENV, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_training_data_validates(tmp_path) -> None:
    result = run("data", "validate", "--fail-on-warnings", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_test_stories_pass_end_to_end(tmp_path) -> None:
    model = ensure_model()
    result = run(
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        "tests/test_stories.yml",
        "--fail-on-prediction-errors",
        "--e2e",
        "--out",
        str(tmp_path / "results"),
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

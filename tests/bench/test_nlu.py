"""``baton bench nlu`` end to end on small slices of the public datasets.

The full runs are ``make bench-nlu``; here each dataset is cut to a few
intents and examples and DIET to a few epochs, so the command trains, parses
and reports within a minute or so per dataset.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.nlu.data import (
    DataError,
    Example,
    datasets_directory,
    public_splits,
    read_csv,
    slice_examples,
    write_csv,
)
from bench.nlu.metrics import OUT_OF_SCOPE, Prediction, choose_threshold, decide, scores

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "bench" / "nlu" / "configs"

needs_datasets = pytest.mark.skipif(
    not (datasets_directory() / "clinc150" / "data_full.json").is_file(),
    reason=f"the public datasets are not in {datasets_directory()}",
)


def _quick_config(name: str, folder: Path, epochs: int = 20) -> Path:
    config = yaml.safe_load((CONFIGS / name).read_text())
    for component in config["pipeline"]:
        if component["name"] == "DIETClassifier":
            component["epochs"] = epochs
    path = folder / name
    path.write_text(yaml.safe_dump(config))
    return path


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "bench", "nlu", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1100,
    )


# Training and loading Rasa twice: a minute alone, much longer on a busy machine.
@pytest.mark.timeout(1200)
@needs_datasets
def test_a_clinc150_slice_with_out_of_scope_and_a_validated_threshold(
    tmp_path: Path,
) -> None:
    splits = public_splits("clinc150")
    labels = ["translate", "timer", "pin_change", "oos"]
    files = {}
    for part, examples, count in (
        ("train", splits.train, 25),
        ("test", splits.test, 10),
        ("valid", splits.valid or [], 10),
    ):
        files[part] = tmp_path / f"{part}.csv"
        write_csv(files[part], slice_examples(examples, labels, count))
    config = _quick_config("dense.yml", tmp_path)
    done = _bench(
        "--train", str(files["train"]), "--test", str(files["test"]),
        "--valid", str(files["valid"]), "--oos-label", "oos",
        "--config", str(config), "--name", "clinc150-slice",
        "--out", str(tmp_path / "results"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = (tmp_path / "results").glob("nlu-clinc150-slice-*.json")
    result = json.loads(path.read_text())
    assert result["examples"] == {
        "train": 100, "test": 40, "valid": 40, "intents": 3, "oos_label": "oos",
    }  # fmt: skip
    figures = result["at_config_threshold"]
    # Three distinct intents: even a few epochs learn them.
    assert figures["accuracy"] >= 0.8
    assert figures["oos_recall"] is not None
    assert 0.0 <= figures["in_scope_accuracy"] <= figures["accuracy"]
    choice = result["validation_choice"]
    assert 0.0 <= choice["threshold"] < 1.0
    assert choice["test"]["oos_recall"] is not None
    [fallback] = [
        component
        for component in yaml.safe_load(config.read_text())["pipeline"]
        if component["name"] == "FallbackClassifier"
    ]
    assert result["config"]["fallback_threshold"] == fallback["threshold"]
    assert result["train_seconds"] > 0
    assert result["train_cpu_seconds"] > 0
    assert result["parse_per_second"] > 0
    assert result["train_peak_memory_mb"] > 100
    assert "Larson" in result["published"]["source"]
    assert "BERT, confidence threshold" in done.stdout
    assert f"this pipeline @ {fallback['threshold']:.2f}" in done.stdout


@pytest.mark.timeout(1200)
@needs_datasets
def test_a_banking77_slice_reports_accuracy_and_no_out_of_scope(
    tmp_path: Path,
) -> None:
    splits = public_splits("banking77")
    labels = ["card_arrival", "lost_or_stolen_card", "exchange_rate"]
    write_csv(tmp_path / "train.csv", slice_examples(splits.train, labels, 25))
    write_csv(tmp_path / "test.csv", slice_examples(splits.test, labels, 10))
    done = _bench(
        "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
        "--config", str(_quick_config("sparse.yml", tmp_path)),
        "--name", "banking77-slice", "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = tmp_path.glob("nlu-banking77-slice-*.json")
    result = json.loads(path.read_text())
    assert result["at_config_threshold"]["accuracy"] >= 0.8
    assert result["at_config_threshold"]["oos_recall"] is None
    assert "validation_choice" not in result
    assert "BERT-Large fine-tuned" in done.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("words,intent\nhello,greet\n", "must name a 'text' and a 'label'"),
        ("text,label\nhello,\n", "line 2: empty text or label"),
        ("text,label\n", "no examples"),
    ],
)
def test_unusable_csv_files_are_refused(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_csv(path)


def test_the_command_refuses_bad_input_before_training(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    write_csv(train, [Example("hello there", "greet"), Example("bye now", "bye")])
    test = tmp_path / "test.csv"
    write_csv(test, [Example("what is this", "unknown_intent")])
    done = _bench("--train", str(train), "--test", str(test), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "labels the training data lacks: unknown_intent" in done.stderr
    done = _bench("--train", str(train), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "--test is required" in done.stderr
    done = _bench(
        "--train", str(train), "--test", str(train), "--oos-label", "oos",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 2
    assert "no examples labelled 'oos'" in done.stderr
    done = _bench(
        "--train", str(train), "--test", str(train), "--per-label", "0",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 2
    assert "--per-label must be at least 1" in done.stderr
    missing = tmp_path / "missing.csv"
    done = _bench("--train", str(missing), "--test", str(test), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "no such file" in done.stderr
    assert not list(tmp_path.glob("nlu-*.json"))


def test_decisions_follow_rasas_fallback_rule() -> None:
    sure = Prediction("greet", 0.9, 0.05)
    unsure = Prediction("greet", 0.4, 0.3)
    close = Prediction("greet", 0.55, 0.5)
    oos = Prediction("oos", 0.9, 0.05)
    assert decide(sure, 0.5, 0.1, "oos") == "greet"
    assert decide(unsure, 0.5, 0.1, "oos") == OUT_OF_SCOPE
    assert decide(close, 0.5, 0.1, "oos") == OUT_OF_SCOPE
    assert decide(close, 0.5, 0.0, "oos") == "greet"
    assert decide(oos, 0.5, 0.1, "oos") == OUT_OF_SCOPE
    assert decide(oos, 0.5, 0.1, None) == "oos"


def test_scores_and_the_validated_threshold() -> None:
    labels = ["a", "a", "b", "oos", "oos"]
    predictions = [
        Prediction("a", 0.95, 0.01),
        Prediction("a", 0.6, 0.1),
        Prediction("a", 0.7, 0.2),  # wrong intent
        Prediction("b", 0.65, 0.2),  # out of scope, fairly sure
        Prediction("a", 0.3, 0.2),  # out of scope, unsure
    ]
    at_half = scores(labels, predictions, 0.5, 0.0, "oos")
    assert at_half["accuracy"] == pytest.approx(2 / 3)
    assert at_half["in_scope_accuracy"] == pytest.approx(2 / 3)
    assert at_half["oos_recall"] == pytest.approx(1 / 2)
    at_high = scores(labels, predictions, 0.66, 0.0, "oos")
    assert at_high["in_scope_accuracy"] == pytest.approx(1 / 3)
    assert at_high["oos_recall"] == 1.0
    chosen = choose_threshold(labels, predictions, 0.0, "oos")
    assert chosen is not None
    threshold, figures = chosen
    # Means of in-scope accuracy and recall: 0.58 at 0.31-0.60, 0.42 at
    # 0.61-0.65, 0.67 at 0.66-0.95 (both out-of-scope messages caught, one
    # in-scope answer kept): the lowest of the best.
    assert threshold == pytest.approx(0.66)
    assert figures["oos_recall"] == 1.0
    assert choose_threshold(labels[:3], predictions[:3], 0.0, "oos") is None

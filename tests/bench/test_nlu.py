"""``baton bench nlu`` end to end on small slices of the public datasets.

The full runs are ``make bench-nlu``; here each dataset is cut to a few
intents and examples and DIET to a few epochs, so the command trains, parses
and reports within a minute or so per dataset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bench.nlu.data import (
    DataError,
    Example,
    Splits,
    datasets_directory,
    hold_out_intents,
    public_splits,
    read_csv,
    slice_examples,
    write_csv,
)
from bench.nlu.metrics import (
    OUT_OF_SCOPE,
    Prediction,
    choose_threshold,
    combined_grid,
    decide,
    open_intent_scores,
    pipeline_scores,
    read_predictions,
    scores,
)
from bench.nlu.metrics import main as metrics_main
from bench.nlu.run import OUT_OF_SCOPE_COMPONENT

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


def _bench(
    *args: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "bench", "nlu", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1100,
        env={**os.environ, **(environment or {})},
    )


def _clinc_slice(folder: Path, labels: list[str], counts: dict[str, int]) -> Path:
    """A CLINC150-shaped ``data_full.json`` cut to a few intents per split."""
    data = json.loads(
        (datasets_directory() / "clinc150" / "data_full.json").read_text()
    )
    sliced = {}
    for part, count in counts.items():
        pairs = [Example(text, label) for text, label in data[part]]
        chosen = slice_examples(pairs, labels, count)
        sliced[part] = [[example.text, example.label] for example in chosen]
    (folder / "clinc150").mkdir(parents=True)
    (folder / "clinc150" / "data_full.json").write_text(json.dumps(sliced))
    return folder


def _bench_clinc_slice(
    tmp_path: Path, config_name: str | Path, *options: str
) -> tuple[Path, Path, subprocess.CompletedProcess[str], dict[str, Any]]:
    """The bench on 3 CLINC150 intents and oos; datasets, config, run, result.

    ``config_name``: a file of bench/nlu/configs (DIET's epochs cut), or a
    config's path (used as it is).

    The parsed messages go to ``tmp_path / "predictions.jsonl"``.
    """
    datasets = _clinc_slice(
        tmp_path / "datasets",
        ["translate", "timer", "pin_change", "oos"],
        {"train": 25, "oos_train": 25, "val": 10, "oos_val": 10, "test": 10,
         "oos_test": 10},
    )  # fmt: skip
    config = (
        config_name
        if isinstance(config_name, Path)
        else _quick_config(config_name, tmp_path)
    )
    done = _bench(
        "--public", "clinc150", "--config", str(config),
        "--out", str(tmp_path / "results"),
        "--predictions", str(tmp_path / "predictions.jsonl"), *options,
        environment={"BATON_DATASETS": str(datasets)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = (tmp_path / "results").glob("nlu-clinc150-*.json")
    return datasets, config, done, json.loads(path.read_text())


# Training and loading Rasa twice: a minute alone, much longer on a busy machine.
@pytest.mark.timeout(1200)
@needs_datasets
def test_a_clinc150_slice_with_out_of_scope_and_a_validated_threshold(
    tmp_path: Path,
) -> None:
    datasets, config, done, result = _bench_clinc_slice(tmp_path, "dense-oos.yml")
    assert result["examples"] == {
        "train": 100, "test": 40, "valid": 40, "intents": 3, "oos_label": "oos",
    }  # fmt: skip
    figures = result["at_config_threshold"]
    # Three distinct intents: even a few epochs learn them.
    assert figures["accuracy"] >= 0.8
    assert figures["oos_recall"] is not None
    assert 0.0 <= figures["in_scope_accuracy"] <= figures["accuracy"]
    # The threshold is chosen on the dataset's own validation split.
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").open()]
    data = json.loads((datasets / "clinc150" / "data_full.json").read_text())
    valid = [row for row in rows if row["part"] == "valid"]
    assert [[row["text"], row["label"]] for row in valid] == data["val"] + data[
        "oos_val"
    ]
    assert all(row["similarity"] is not None for row in rows)
    choice = result["validation_choice"]
    chosen = choose_threshold(
        [row["label"] for row in valid],
        [
            Prediction(
                row["first"],
                row["confidence"],
                row["second_confidence"],
                row["similarity"],
            )
            for row in valid
        ],
        result["config"]["ambiguity_threshold"],
        "oos",
    )
    assert chosen is not None
    assert (choice["threshold"], choice["similarity_threshold"]) == (
        chosen.threshold,
        chosen.similarity_threshold,
    )
    assert choice["validation"] == chosen.figures
    assert choice["test"]["oos_recall"] is not None
    pipeline = yaml.safe_load(config.read_text())["pipeline"]
    [fallback] = [c for c in pipeline if c["name"] == "FallbackClassifier"]
    [far] = [c for c in pipeline if c["name"].endswith("OutOfScopeClassifier")]
    assert result["config"]["fallback_threshold"] == fallback["threshold"]
    assert result["config"]["similarity_threshold"] == far["threshold"]
    assert result["train_seconds"] > 0
    assert result["train_cpu_seconds"] > 0
    assert result["parse_per_second"] > 0
    assert result["train_peak_memory_mb"] > 100
    assert "Larson" in result["published"]["source"]
    assert "BERT, confidence threshold" in done.stdout
    assert (
        f"this pipeline @ {fallback['threshold']:.2f}/{far['threshold']:.2f}"
        in done.stdout
    )


# Training (no DIET) and loading Rasa once: under a minute on a quiet machine.
@pytest.mark.timeout(1200)
@needs_datasets
def test_a_clinc150_slice_with_a_learnt_similarity_and_a_combined_threshold(
    tmp_path: Path,
) -> None:
    # linear-oos.yml (a learnt similarity threshold, confidence 0.31) with the
    # combined rule on top, chosen by the drop rule: every threshold at once.
    config = yaml.safe_load((CONFIGS / "linear-oos.yml").read_text())
    pipeline = config["pipeline"]
    [far] = [c for c in pipeline if c["name"].endswith("OutOfScopeClassifier")]
    far["combined_threshold"] = 1.0
    path = tmp_path / "combined.yml"
    path.write_text(yaml.safe_dump(config))
    _, _, done, result = _bench_clinc_slice(tmp_path, path, "--max-drop", "0.03")
    assert result["config"]["fallback_rate"] == far["fallback_rate"]
    assert result["config"]["combined_threshold"] == 1.0
    assert len(result["git_commit"]) == 40
    learnt = result["config"]["similarity_threshold"]
    # Learnt from the 75 in-scope training examples, not the config's default.
    assert learnt != 0.5
    assert 0.0 < learnt < 1.0
    # The pipeline's own answers (its fallbacks) are the bench's rule's.
    for part in ("", "_validation"):
        bench = result[f"at_config_threshold{part}"]
        assert result[f"at_config_threshold{part}_pipeline"] == pytest.approx(bench)
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").open()]
    assert {row["answered"] for row in rows} >= {"nlu_fallback"}
    valid = [row for row in rows if row["part"] == "valid"]
    _, predictions = read_predictions(tmp_path / "predictions.jsonl")["valid"]
    chosen = choose_threshold(
        [row["label"] for row in valid], predictions,
        result["config"]["ambiguity_threshold"], "oos", max_drop=0.03,
        combined=True, fixed_threshold=0.31, fixed_similarity=learnt,
    )  # fmt: skip
    assert chosen is not None
    choice = result["validation_choice"]
    assert (choice["threshold"], choice["similarity_threshold"]) == (0.31, learnt)
    assert choice["combined_threshold"] == chosen.combined_threshold
    assert choice["validation"] == chosen.figures
    assert "losing at most 0.03 of the validation data's own" in choice["rule"]
    assert "the combined threshold (confidence + similarity)" in choice["rule"]
    # The thresholds the figures are reported at, and whether the config has them.
    reported = result["reported_at"]
    assert reported["combined_threshold"] == chosen.combined_threshold
    assert reported["test"] == choice["test"]
    assert reported["config_carries_them"] is (chosen.combined_threshold == 1.0)
    assert "/1.0000 (ambiguity 0.10)" in done.stdout


# Training (no DIET) and loading Rasa once: under a minute on a quiet machine.
@pytest.mark.timeout(1200)
@needs_datasets
def test_a_clinc150_slice_with_the_nearest_training_example_and_novelty(
    tmp_path: Path,
) -> None:
    # linear-dense-knn-novelty.yml as it is: the combined rule with the cosine
    # to the nearest training example (neighbours 1) instead of the nearest
    # mean, less half the message's lexical novelty for its top intent.
    config = CONFIGS / "linear-dense-knn-novelty.yml"
    pipeline = yaml.safe_load(config.read_text())["pipeline"]
    [far] = [c for c in pipeline if c["name"].endswith("OutOfScopeClassifier")]
    assert far["neighbours"] == 1
    assert far["novelty_weight"] == 0.5
    datasets, _, _, result = _bench_clinc_slice(tmp_path, config, "--max-drop", "0.03")
    assert result["config"]["combined_threshold"] == far["combined_threshold"]
    # The pipeline's own answers (its fallbacks) are the bench's rule's.
    for part in ("", "_validation"):
        bench = result[f"at_config_threshold{part}"]
        assert result[f"at_config_threshold{part}_pipeline"] == pytest.approx(bench)
    # Each reported similarity is the cosine to the nearest in-scope example.
    from bot.knowledge.embedding import shared_encoder

    data = json.loads((datasets / "clinc150" / "data_full.json").read_text())
    encoder = shared_encoder()
    examples = encoder.encode([text for text, _ in data["train"]], cache=False)
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").open()]
    vectors = encoder.encode([row["text"] for row in rows], cache=False)
    nearest = (vectors @ examples.T).max(axis=1)
    reported = np.array([row["similarity"] for row in rows])
    assert np.allclose(reported, nearest, atol=1e-4)
    # Some messages use words their top intent's examples never do, and pay
    # for them; the pipeline's answers above include that.
    penalties = [row["penalty"] for row in rows]
    assert min(penalties) >= 0.0 and max(penalties) > 0.0
    assert max(penalties) <= 0.5
    # The combined threshold chosen on validation by the same rule.
    _, predictions = read_predictions(tmp_path / "predictions.jsonl")["valid"]
    valid = [row["label"] for row in rows if row["part"] == "valid"]
    chosen = choose_threshold(
        valid, predictions, 0.1, "oos", max_drop=0.03, combined=True
    )
    assert chosen is not None
    assert result["validation_choice"]["combined_threshold"] == (
        chosen.combined_threshold
    )


# Training and loading Rasa once: under a minute alone.
@pytest.mark.timeout(1200)
@needs_datasets
def test_a_clinc150_slice_chooses_on_its_known_validation_messages_alone(
    tmp_path: Path,
) -> None:
    # CLINC150's own validation split without oos_val; oos_train stays in
    # training as its own class. The three intents play the unknown ones by
    # turns (three groups: each turn keeps two).
    _, _, _, result = _bench_clinc_slice(
        tmp_path,
        CONFIGS / "linear-dense-knn-novelty.yml",
        "--known-only-validation",
        "--simulated-open",
        "3",
    )
    assert result["examples"]["valid"] == 30
    assert "known intents' examples only" in result["provenance"]
    valid_labels, valid_predictions = read_predictions(tmp_path / "predictions.jsonl")[
        "valid"
    ]
    assert "oos" not in valid_labels
    simulated = result["simulated_open"]
    chosen = choose_threshold(
        valid_labels, valid_predictions, 0.1, "oos", combined=True,
        set_aside=simulated["set_aside"],
    )  # fmt: skip
    assert chosen is not None
    assert result["validation_choice"]["combined_threshold"] == (
        chosen.combined_threshold
    )
    # The test split keeps its out-of-scope messages: recall is reported.
    assert result["validation_choice"]["test"]["oos_recall"] is not None


def test_the_floor_must_be_a_fraction(tmp_path: Path) -> None:
    done = _bench(
        "--public", "clinc150", "--min-in-scope", "92",
        "--out", str(tmp_path / "results"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "--min-in-scope must be in (0, 1]" in done.stderr
    done = _bench(
        "--public", "clinc150", "--min-in-scope", "0.9", "--max-drop", "0.03",
        "--out", str(tmp_path / "results"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "--min-in-scope or --max-drop, not both" in done.stderr
    assert not (tmp_path / "results").exists()


def test_clinc150_is_validated_on_its_val_split_and_tested_on_test(
    tmp_path: Path,
) -> None:
    parts = ("train", "oos_train", "val", "oos_val", "test", "oos_test")
    data = {
        part: [[f"{part} {index}", "oos" if "oos" in part else "timer"]]
        for index, part in enumerate(parts)
    }
    (tmp_path / "clinc150").mkdir()
    (tmp_path / "clinc150" / "data_full.json").write_text(json.dumps(data))
    splits = public_splits("clinc150", tmp_path)
    assert [e.text for e in splits.train] == ["train 0", "oos_train 1"]
    assert [e.text for e in splits.valid or []] == ["val 2", "oos_val 3"]
    assert [e.text for e in splits.test] == ["test 4", "oos_test 5"]
    assert splits.oos_label == "oos"


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


def _bench_banking_slice(
    tmp_path: Path, labels: list[str], *options: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """The bench on BANKING77's ``labels`` (25 training, 10 test examples each).

    With ``linear-dense-knn-novelty.yml``, validation on the known intents
    only, and ``options``; the parsed messages go to
    ``tmp_path / "predictions.jsonl"``. Returns the run and its result.
    """
    splits = public_splits("banking77")
    write_csv(tmp_path / "train.csv", slice_examples(splits.train, labels, 25))
    write_csv(tmp_path / "test.csv", slice_examples(splits.test, labels, 10))
    done = _bench(
        "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
        "--config", str(CONFIGS / "linear-dense-knn-novelty.yml"),
        "--known-only-validation", *options, "--name", "banking77-slice",
        "--out", str(tmp_path), "--predictions", str(tmp_path / "predictions.jsonl"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [path] = tmp_path.glob("nlu-banking77-slice-*.json")
    return done, json.loads(path.read_text())


# Training and loading Rasa once: under a minute alone.
@pytest.mark.timeout(1200)
@needs_datasets
def test_a_banking77_slice_as_open_intent_classification(tmp_path: Path) -> None:
    # Four intents, three kept known (round(4 x 0.75)), one held out as the
    # open class; the threshold chosen on the known intents' validation
    # examples alone.
    labels = ["card_arrival", "lost_or_stolen_card", "exchange_rate", "pin_blocked"]
    done, result = _bench_banking_slice(
        tmp_path, labels, "--known-ratio", "0.75", "--max-drop", "0.03"
    )
    assert result["known_ratio"] == 0.75
    assert result["examples"]["intents"] == 3
    # 5 of each known intent's 25 training examples, no held-out one.
    assert result["examples"]["valid"] == 15
    assert "known intents' examples only" in result["provenance"]
    # The figures are the open-intent metrics of what was parsed, at the
    # config's combined threshold.
    saved = read_predictions(tmp_path / "predictions.jsonl")
    test_labels, predictions = saved["test"]
    valid_labels, valid_predictions = saved["valid"]
    assert "oos" not in valid_labels
    assert test_labels.count("oos") == 10
    assert result["open_intent"] == pytest.approx(
        open_intent_scores(
            test_labels, predictions, 0.0, 0.1, "oos", 0.0,
            result["config"]["combined_threshold"],
        )
    )  # fmt: skip
    assert result["open_intent"]["accuracy"] >= 0.5
    # The choice: the highest combined threshold within 3 points of the
    # validation split's own top-intent accuracy, and the test figures there.
    chosen = choose_threshold(
        valid_labels, valid_predictions, 0.1, "oos", max_drop=0.03, combined=True
    )
    assert chosen is not None
    choice = result["validation_choice"]
    assert choice["combined_threshold"] == chosen.combined_threshold
    assert result["open_intent_at_validation_choice"] == pytest.approx(
        open_intent_scores(
            test_labels, predictions, 0.0, 0.1, "oos", 0.0, chosen.combined_threshold
        )
    )
    # The published systems for the same setting, beside them.
    published = result["published_open_intent"]["results"]
    assert published["ADB"]["open_f1"] == 67.34
    assert "DA-ADB" in done.stdout
    assert "75% of the intents known" in done.stdout


# Training and loading Rasa once: under a minute alone.
@pytest.mark.timeout(1200)
@needs_datasets
def test_a_banking77_slice_with_the_share_set_aside_learnt_by_simulation(
    tmp_path: Path,
) -> None:
    # Five intents, four known (round(5 x 0.8)); the known ones split into
    # two groups that play the unknown intents by turns.
    labels = [
        "card_arrival", "lost_or_stolen_card", "exchange_rate", "pin_blocked",
        "top_up_failed",
    ]  # fmt: skip
    _, result = _bench_banking_slice(
        tmp_path, labels, "--known-ratio", "0.8", "--simulated-open", "2"
    )
    # 5 of each known intent's 25 training examples, no held-out one.
    assert result["examples"]["valid"] == 20
    simulated = result["simulated_open"]
    assert simulated["groups"] == 2
    assert simulated["criterion"] == "macro_f1"
    assert 0.0 <= simulated["set_aside"] < 1.0
    others = simulated["by_criterion"]
    assert set(others) == {"macro_f1", "balanced", "youden"}
    assert others["macro_f1"]["set_aside"] == simulated["set_aside"]
    # The pipeline's own validation parses: the highest combined threshold
    # setting aside at most that share of them.
    saved = read_predictions(tmp_path / "predictions.jsonl")
    valid_labels, valid_predictions = saved["valid"]
    chosen = choose_threshold(
        valid_labels, valid_predictions, 0.1, "oos", combined=True,
        set_aside=simulated["set_aside"],
    )  # fmt: skip
    assert chosen is not None
    choice = result["validation_choice"]
    assert choice["combined_threshold"] == chosen.combined_threshold
    assert choice["validation"]["in_scope_fallback_rate"] <= simulated["set_aside"]
    assert "simulating unknown intents" in choice["rule"]
    test_labels, predictions = saved["test"]
    assert result["open_intent_at_validation_choice"] == pytest.approx(
        open_intent_scores(
            test_labels, predictions, 0.0, 0.1, "oos", 0.0, chosen.combined_threshold
        )
    )
    assert others["macro_f1"]["open_intent"] == pytest.approx(
        result["open_intent_at_validation_choice"]
    )
    balanced = choose_threshold(
        valid_labels, valid_predictions, 0.1, "oos", combined=True,
        set_aside=others["balanced"]["set_aside"],
    )  # fmt: skip
    assert balanced is not None
    assert others["balanced"]["combined_threshold"] == balanced.combined_threshold


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
    done = _bench(
        "--train", str(train), "--test", str(train), "--valid", str(train),
        "--hold-out-intents", "1", "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 2
    assert "give no --valid" in done.stderr
    done = _bench(
        "--train", str(train), "--test", str(train), "--hold-out-intents", "1",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 2
    assert "can hold out 1 to 0 of 2 intents, not 1" in done.stderr
    for options, message in [
        (("--known-ratio", "0.75", "--hold-out-intents", "1"), "not both"),
        (("--known-ratio", "1"), "--known-ratio must be between 0 and 1"),
        (("--test-only", "--max-drop", "0.03"), "--test-only chooses no threshold"),
        (("--known-only-validation", "--max-drop", "0.03"), "needs validation data"),
        (("--simulated-open", "4"), "--simulated-open needs --known-only-validation"),
    ]:
        done = _bench(
            "--train", str(train), "--test", str(train), *options,
            "--out", str(tmp_path),
        )  # fmt: skip
        assert done.returncode == 2
        assert message in done.stderr
    # Five intents: three known, two held out.
    five = tmp_path / "five.csv"
    write_csv(
        five,
        [Example(f"{i} example {n}", i) for i in "abcde" for n in range(5)],
    )
    open_setting = ("--known-ratio", "0.6", "--known-only-validation")
    linear = CONFIGS / "linear-dense-knn-novelty.yml"
    for options, message in [
        (("--simulated-open", "2", "--max-drop", "0.03"), "by one rule"),
        ((), "by one rule"),
        (("--simulated-open", "1", "--config", str(linear)), "at least 2 groups"),
        # Three known intents in two groups: one turn would keep one.
        (("--simulated-open", "2", "--config", str(linear)), "keeps two (3 known)"),
        (
            ("--simulated-open", "2", "--config", str(ROOT / "config.yml")),
            "copies the linear pipeline",
        ),
    ]:
        done = _bench(
            "--train", str(five), "--test", str(five), *open_setting, *options,
            "--out", str(tmp_path),
        )  # fmt: skip
        assert done.returncode == 2
        assert message in done.stderr
    missing = tmp_path / "missing.csv"
    done = _bench("--train", str(missing), "--test", str(test), "--out", str(tmp_path))
    assert done.returncode == 2
    assert "no such file" in done.stderr
    assert not list(tmp_path.glob("nlu-*.json"))


def _tiny_splits(tmp_path: Path) -> Splits:
    """Five intents of five training and two test examples each, from CSV."""
    intents = ["balance", "card", "pin", "refund", "transfer"]
    write_csv(
        tmp_path / "train.csv",
        [
            Example(f"{intent} train {n}", intent)
            for intent in intents
            for n in range(5)
        ],
    )
    write_csv(
        tmp_path / "test.csv",
        [Example(f"{intent} test {n}", intent) for intent in intents for n in range(2)],
    )
    return Splits(
        "tiny",
        read_csv(tmp_path / "train.csv"),
        read_csv(tmp_path / "test.csv"),
        None,
        None,
        "a tiny CSV",
    )


def test_held_out_intents_are_out_of_scope_in_validation_and_test(
    tmp_path: Path,
) -> None:
    splits = _tiny_splits(tmp_path)
    held = hold_out_intents(splits, 2, seed=3)
    gone = {e.label for e in splits.train} - {e.label for e in held.train}
    assert len(gone) == 2
    assert held.name == "tiny-holdout2"
    assert held.oos_label == "oos"
    assert ", ".join(sorted(gone)) in held.provenance
    # Training: 4 of each kept intent's 5 examples; validation: the 5th, and
    # every training example of the held-out intents as out of scope.
    assert len(held.train) == 3 * 4
    assert held.valid is not None
    assert sorted(e.label for e in held.valid) == sorted(
        [label for label in {e.label for e in held.train}] + ["oos"] * 10
    )
    train_texts = {e.text for e in splits.train}
    assert {e.text for e in held.valid} <= train_texts
    assert not {e.text for e in held.valid} & {e.text for e in held.train}
    assert {e.text for e in held.valid if e.label == "oos"} == {
        e.text for e in splits.train if e.label in gone
    }
    # Test: the test split, in order, with the held-out intents relabelled.
    assert [e.text for e in held.test] == [e.text for e in splits.test]
    assert [e.label for e in held.test] == [
        "oos" if e.label in gone else e.label for e in splits.test
    ]
    # The seed decides; the same seed, the same split.
    assert hold_out_intents(splits, 2, seed=3) == held
    others = [hold_out_intents(splits, 2, seed=seed) for seed in range(4)]
    assert len({tuple(sorted(e.text for e in other.train)) for other in others}) > 1


@needs_datasets
def test_banking77s_held_out_split_is_the_recorded_one() -> None:
    """Seed 0: the split of bench/results/nlu-banking77-holdout10-*.json."""
    held = hold_out_intents(public_splits("banking77"), 10, seed=0)
    assert held.valid is not None
    assert (
        "activate_my_card, age_limit, automatic_top_up, card_delivery_estimate, "
        "card_swallowed, change_pin, extra_charge_on_statement, "
        "lost_or_stolen_phone, top_up_by_card_charge, topping_up_by_card"
        in held.provenance
    )
    assert (len(held.train), len(held.valid), len(held.test)) == (7016, 2987, 3080)
    assert sum(e.label == "oos" for e in held.valid) == 1195
    assert sum(e.label == "oos" for e in held.test) == 400


@pytest.mark.parametrize(
    ("change", "count", "message"),
    [
        ({}, 4, "can hold out 1 to 3 of 5 intents, not 4"),
        ({}, 0, "can hold out 1 to 3 of 5 intents, not 0"),
        ({"oos_label": "pin"}, 1, r"has out-of-scope examples \('pin'\) already"),
    ],
)
def test_holding_out_intents_refuses_what_it_cannot_split(
    tmp_path: Path, change: dict[str, Any], count: int, message: str
) -> None:
    import dataclasses

    splits = dataclasses.replace(_tiny_splits(tmp_path), **change)
    with pytest.raises(DataError, match=message):
        hold_out_intents(splits, count)
    with pytest.raises(DataError, match="'card' is an intent"):
        hold_out_intents(_tiny_splits(tmp_path), 1, oos_label="card")


#: Labels of five validation messages, and two ways a pipeline parsed them.
LABELS = ["a", "a", "b", "oos", "oos"]
CONFIDENT = [
    Prediction("a", 0.95, 0.01),
    Prediction("a", 0.6, 0.1),
    Prediction("a", 0.7, 0.2),  # wrong intent
    Prediction("b", 0.65, 0.2),  # out of scope, fairly sure
    Prediction("a", 0.3, 0.2),  # out of scope, unsure
]
NEAR_OR_FAR = [
    Prediction("a", 0.95, 0.01, 0.8),
    Prediction("a", 0.6, 0.1, 0.7),
    Prediction("b", 0.7, 0.2, 0.75),
    Prediction("b", 0.95, 0.01, 0.4),  # out of scope, sure, but far
    Prediction("a", 0.3, 0.2, 0.72),  # out of scope, unsure, near
]


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
    labels, predictions = LABELS, CONFIDENT
    at_half = scores(labels, predictions, 0.5, 0.0, "oos")
    assert at_half["accuracy"] == pytest.approx(2 / 3)
    assert at_half["in_scope_accuracy"] == pytest.approx(2 / 3)
    assert at_half["oos_recall"] == pytest.approx(1 / 2)
    at_high = scores(labels, predictions, 0.66, 0.0, "oos")
    assert at_high["in_scope_accuracy"] == pytest.approx(1 / 3)
    assert at_high["oos_recall"] == 1.0
    chosen = choose_threshold(labels, predictions, 0.0, "oos")
    assert chosen is not None
    # Means of in-scope accuracy and recall: 0.58 at 0.31-0.60, 0.42 at
    # 0.61-0.65, 0.67 at 0.66-0.95 (both out-of-scope messages caught, one
    # in-scope answer kept): the lowest of the best.
    assert chosen.threshold == pytest.approx(0.66)
    assert chosen.similarity_threshold == 0.0
    assert chosen.figures["oos_recall"] == 1.0
    assert chosen.figures == scores(labels, predictions, 0.66, 0.0, "oos")
    assert choose_threshold(labels[:3], predictions[:3], 0.0, "oos") is None


def test_open_intent_figures_count_the_open_class_as_one_more_intent() -> None:
    # At 0.5: a, a, a (truly b), b (truly open), open.
    figures = open_intent_scores(LABELS, CONFIDENT, 0.5, 0.0, "oos")
    assert figures["accuracy"] == pytest.approx(3 / 5)
    # F1: a 0.8 (2 of 3 said, both found), b 0, open 2/3 (1 of 1, 1 of 2).
    assert figures["open_f1"] == pytest.approx(2 / 3)
    assert figures["known_f1"] == pytest.approx(0.4)
    assert figures["macro_f1"] == pytest.approx((0.8 + 0 + 2 / 3) / 3)
    # The same as scikit-learn's per-class F1 on a larger random case.
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(7)
    names = ["a", "b", "c", "oos"]
    truth = [str(name) for name in rng.choice(names, 200)]
    guesses = [
        Prediction(str(rng.choice(names)), float(rng.random()), 0.0) for _ in truth
    ]
    figures = open_intent_scores(truth, guesses, 0.3, 0.0, "oos")
    said = [decide(g, 0.3, 0.0, "oos") for g in guesses]
    said = ["oos" if s == OUT_OF_SCOPE else s for s in said]
    per_class = f1_score(truth, said, labels=names, average=None, zero_division=0)
    assert figures["open_f1"] == pytest.approx(per_class[3])
    assert figures["known_f1"] == pytest.approx(per_class[:3].mean())
    assert figures["macro_f1"] == pytest.approx(per_class.mean())
    assert figures["accuracy"] == pytest.approx(accuracy_score(truth, said))
    with pytest.raises(ValueError, match="no examples labelled 'oos'"):
        open_intent_scores(LABELS[:3], CONFIDENT[:3], 0.5, 0.0, "oos")


def test_known_intents_alone_choose_the_most_set_aside_within_the_drop() -> None:
    # In-scope only: a (right, 0.95), a (right, 0.6), a (wrong, 0.7); top-1
    # accuracy 2/3. Within 0.34 of it (>= 1/3), 0.71-0.95 set aside two of
    # three and keep one right answer: the lowest of them, as the rule breaks
    # ties.
    labels, predictions = LABELS[:3], CONFIDENT[:3]
    chosen = choose_threshold(labels, predictions, 0.0, "oos", max_drop=0.34)
    assert chosen is not None
    assert chosen.threshold == pytest.approx(0.71)
    assert chosen.figures["in_scope_accuracy"] == pytest.approx(1 / 3)
    assert chosen.figures["oos_recall"] is None
    # Within 0.1 (>= 0.57): both right answers kept, so at most 0.60; all of
    # 0.00-0.60 set aside nothing.
    chosen = choose_threshold(labels, predictions, 0.0, "oos", max_drop=0.1)
    assert chosen is not None
    assert chosen.threshold == 0.0
    assert chosen.figures["in_scope_accuracy"] == pytest.approx(2 / 3)
    # Without a floor there is nothing to weigh.
    assert choose_threshold(labels, predictions, 0.0, "oos") is None


def test_a_learnt_share_sets_aside_at_most_that_many_known_messages() -> None:
    # In-scope only: a (right, 0.95), a (right, 0.6), a (wrong, 0.7). At most
    # a third set aside: 0.61-0.70 set aside the 0.6 (the lowest of them);
    # at most two thirds: 0.71; none: 0.00. Out-of-scope examples are not
    # weighed (the share is the rule).
    labels, predictions = LABELS[:3], CONFIDENT[:3]
    for share, threshold, kept in [(0.34, 0.61, 1 / 3), (0.67, 0.71, 1 / 3)]:
        chosen = choose_threshold(labels, predictions, 0.0, "oos", set_aside=share)
        assert chosen is not None
        assert chosen.threshold == pytest.approx(threshold)
        assert chosen.figures["in_scope_accuracy"] == pytest.approx(kept)
    chosen = choose_threshold(labels, predictions, 0.0, "oos", set_aside=0.0)
    assert chosen is not None
    assert chosen.threshold == 0.0
    with_oos = choose_threshold(LABELS, CONFIDENT, 0.0, "oos", set_aside=0.34)
    assert with_oos is not None
    assert with_oos.threshold == pytest.approx(0.61)
    with pytest.raises(ValueError, match="give one rule"):
        choose_threshold(labels, predictions, 0.0, "oos", max_drop=0.1, set_aside=0.1)
    with pytest.raises(ValueError, match="a share in"):
        choose_threshold(labels, predictions, 0.0, "oos", set_aside=1.5)


def test_a_message_far_from_every_intent_falls_back() -> None:
    near = Prediction("greet", 0.9, 0.05, similarity=0.7)
    far = Prediction("greet", 0.9, 0.05, similarity=0.3)
    unknown = Prediction("greet", 0.9, 0.05)
    assert decide(near, 0.5, 0.1, "oos", 0.5) == "greet"
    assert decide(far, 0.5, 0.1, "oos", 0.5) == OUT_OF_SCOPE
    assert decide(far, 0.5, 0.1, "oos") == "greet"
    assert decide(unknown, 0.5, 0.1, "oos", 0.99) == "greet"


def test_the_sweep_chooses_both_thresholds_when_there_are_similarities() -> None:
    labels, predictions = LABELS, NEAR_OR_FAR
    chosen = choose_threshold(labels, predictions, 0.0, "oos")
    assert chosen is not None
    # Confidence alone cannot catch the sure one without losing two answers;
    # similarities 0.41-0.70 with confidences 0.31-0.60 catch both, keep all.
    assert (chosen.threshold, chosen.similarity_threshold) == (0.31, 0.41)
    assert chosen.figures == {
        "accuracy": 1.0,
        "in_scope_accuracy": 1.0,
        "oos_recall": 1.0,
        "in_scope_fallback_rate": 0.0,
    }
    assert chosen.figures == scores(labels, predictions, 0.31, 0.0, "oos", 0.41)


def test_a_floor_on_in_scope_accuracy_chooses_the_highest_recall_above_it() -> None:
    labels, predictions = LABELS, CONFIDENT
    # In-scope accuracy 2/3 up to 0.60 (recall 0 up to 0.30, then 1/2); 1/3
    # from 0.61 (recall 1 from 0.66).
    high = choose_threshold(labels, predictions, 0.0, "oos", min_in_scope=0.6)
    assert high is not None
    assert high.threshold == pytest.approx(0.31)
    assert high.figures == scores(labels, predictions, 0.31, 0.0, "oos")
    assert high.figures["oos_recall"] == 0.5
    low = choose_threshold(labels, predictions, 0.0, "oos", min_in_scope=0.3)
    assert low is not None
    # Recall 1 from 0.66 to 0.95 (1/3 answered) and above (none): 1/3 wins.
    assert low.threshold == pytest.approx(0.66)
    assert low.figures["in_scope_accuracy"] == pytest.approx(1 / 3)
    # Out of reach: the highest in-scope accuracy, at the lowest threshold.
    none = choose_threshold(labels, predictions, 0.0, "oos", min_in_scope=0.9)
    assert none is not None
    assert none.threshold == 0.0
    assert none.figures["in_scope_accuracy"] == pytest.approx(2 / 3)


def test_a_learnt_similarity_threshold_is_kept_and_only_confidence_swept() -> None:
    labels, predictions = LABELS, NEAR_OR_FAR
    kept = choose_threshold(labels, predictions, 0.0, "oos", fixed_similarity=0.45)
    assert kept is not None
    assert (kept.threshold, kept.similarity_threshold) == (0.31, 0.45)
    assert kept.figures["oos_recall"] == 1.0
    # A learnt threshold too low to catch the far one: confidence cannot either
    # without losing answers, so the sweep does not pretend it can.
    low = choose_threshold(labels, predictions, 0.0, "oos", fixed_similarity=0.1)
    assert low is not None
    assert low.similarity_threshold == 0.1
    assert low.figures["oos_recall"] < 1.0


def _predictions(tmp_path: Path, rows: list[tuple[str, str, float, float]]) -> Path:
    """Validation and test messages (the same) as ``--predictions`` writes them."""
    path = tmp_path / "predictions.jsonl"
    lines = [
        json.dumps(
            {
                "part": part,
                "text": f"m{n}",
                "label": label,
                "first": first,
                "confidence": confidence,
                "second_confidence": 0.0,
                "similarity": similarity,
            }
        )
        for part in ("valid", "test")
        for n, (label, first, confidence, similarity) in enumerate(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


#: Five in-scope messages (one wrong) and two out of scope: one unsure, one
#: sure but far from every intent.
RULE_ROWS = [
    ("a", "a", 0.95, 0.9),
    ("a", "a", 0.90, 0.8),
    ("b", "b", 0.85, 0.85),
    ("b", "b", 0.50, 0.8),
    ("b", "a", 0.40, 0.5),
    ("oos", "a", 0.45, 0.6),
    ("oos", "b", 0.92, 0.3),
]


def _rule_parts(tmp_path: Path) -> dict[str, tuple[list[str], list[Prediction]]]:
    parts = read_predictions(_predictions(tmp_path, RULE_ROWS))
    assert list(parts) == ["valid", "test"]
    return parts


def test_a_floor_above_the_datas_own_accuracy_keeps_every_answer(
    tmp_path: Path,
) -> None:
    labels, predictions = _rule_parts(tmp_path)["valid"]
    # Top-intent accuracy is 80 %: a 94 % floor is never reached.
    kept = choose_threshold(
        labels, predictions, 0.0, "oos", min_in_scope=0.94, fixed_similarity=0.0
    )
    assert kept is not None
    assert kept.threshold == 0.0
    assert kept.figures["oos_recall"] == 0.0
    # Relative to the data's own accuracy, the same rule catches the unsure one.
    dropped = choose_threshold(
        labels, predictions, 0.0, "oos", max_drop=0.0, fixed_similarity=0.0
    )
    assert dropped is not None
    assert dropped.threshold == 0.46
    assert dropped.figures == {  # the wrong answer is given up, not a right one
        "accuracy": 0.8,
        "in_scope_accuracy": 0.8,
        "oos_recall": 0.5,
        "in_scope_fallback_rate": 0.2,
    }
    with pytest.raises(ValueError, match="give one rule"):
        choose_threshold(labels, predictions, 0.0, "oos", min_in_scope=0.5, max_drop=0)


def test_confidence_plus_similarity_catches_a_sure_but_far_message(
    tmp_path: Path,
) -> None:
    labels, predictions = _rule_parts(tmp_path)["valid"]
    alone = choose_threshold(
        labels, predictions, 0.0, "oos", max_drop=0.2, fixed_similarity=0.0
    )
    both = choose_threshold(
        labels, predictions, 0.0, "oos", max_drop=0.2, combined=True
    )
    assert alone is not None and both is not None
    assert alone.figures["oos_recall"] == 0.5
    assert both.figures["oos_recall"] == 1.0
    assert both.figures["in_scope_accuracy"] == 0.8
    # Scores 0.90 (wrong), 1.05 and 1.22 (out of scope), then 1.30 and up:
    # the lowest of the validation quantiles between 1.22 and 1.30.
    assert both.combined_threshold is not None
    assert 1.22 < both.combined_threshold <= 1.30
    grid = combined_grid(np.array([c + s for _, _, c, s in RULE_ROWS]))
    assert both.combined_threshold == min(value for value in grid if value > 1.22)
    assert (both.threshold, both.similarity_threshold) == (0.0, 0.0)
    assert both.figures == scores(
        labels, predictions, 0.0, 0.0, "oos", 0.0, both.combined_threshold
    )
    # The confidence threshold and similarity threshold are kept, not swept.
    kept = choose_threshold(
        labels, predictions, 0.0, "oos", max_drop=0.2, combined=True,
        fixed_threshold=0.42, fixed_similarity=0.35,
    )  # fmt: skip
    assert kept is not None
    assert (kept.threshold, kept.similarity_threshold) == (0.42, 0.35)
    # A similarity threshold makes every message below it fall back too.
    far = choose_threshold(
        labels, predictions, 0.0, "oos", max_drop=0.0, fixed_similarity=0.35
    )
    assert far is not None
    assert far.figures["oos_recall"] == 1.0
    with pytest.raises(ValueError, match="needs similarities"):
        choose_threshold(LABELS, CONFIDENT, 0.0, "oos", combined=True)


def test_the_pipelines_own_answers_give_the_same_figures() -> None:
    answered = [
        Prediction(p.first, p.confidence, p.second_confidence, p.similarity, name)
        for p, name in zip(
            NEAR_OR_FAR, ["a", "nlu_fallback", "b", "nlu_fallback", "a"], strict=True
        )
    ]
    assert pipeline_scores(LABELS, answered, "oos") == {
        "accuracy": 1.0,
        "in_scope_accuracy": pytest.approx(2 / 3),
        "oos_recall": 0.5,
        "in_scope_fallback_rate": pytest.approx(1 / 3),
    }
    with pytest.raises(ValueError, match="own answer"):
        pipeline_scores(LABELS, NEAR_OR_FAR, "oos")


def test_weighing_rules_on_saved_predictions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _predictions(tmp_path, RULE_ROWS)
    assert metrics_main([str(path), "--combined", "--max-drop", "0.2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["test"]["oos_recall"] == 1.0
    assert 1.22 < printed["combined_threshold"] <= 1.30
    assert "losing at most 0.2" in printed["rule"]
    with pytest.raises(SystemExit):
        metrics_main([str(path), "--min-in-scope", "0.9", "--max-drop", "0.03"])
    assert metrics_main([str(tmp_path / "missing.jsonl")]) == 2
    path.write_text(path.read_text().replace('"similarity": 0.3', '"similarity": null'))
    assert metrics_main([str(path), "--combined"]) == 0
    path.write_text("{}\n")
    with pytest.raises(ValueError, match="not a parsed message"):
        read_predictions(path)
    assert metrics_main([str(path)]) == 2


def test_saved_predictions_scored_at_a_configs_own_thresholds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _predictions(tmp_path, RULE_ROWS)
    config = tmp_path / "config.yml"
    # The project's shape: a FallbackClassifier and no out-of-scope component.
    pipeline = [
        {"name": "FallbackClassifier", "threshold": 0.5, "ambiguity_threshold": 0.0}
    ]
    config.write_text(yaml.safe_dump({"pipeline": pipeline}))
    assert metrics_main([str(path), "--config", str(config)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["fallback_threshold"] == 0.5
    assert printed["combined_threshold"] is None
    # At 0.5: both a and both b kept and right, the b taken for a (0.40) set
    # aside; the sure out-of-scope message answered, the unsure one set aside.
    labels, predictions = _rule_parts(tmp_path)["test"]
    assert printed["test"] == scores(labels, predictions, 0.5, 0.0, "oos")
    assert printed["test"]["oos_recall"] == 0.5
    assert printed["test_open_intent"] == pytest.approx(
        open_intent_scores(labels, predictions, 0.5, 0.0, "oos")
    )
    # With the out-of-scope component, its combined threshold counts too.
    pipeline.append(
        {"name": OUT_OF_SCOPE_COMPONENT, "threshold": 0.0, "combined_threshold": 1.3}
    )
    config.write_text(yaml.safe_dump({"pipeline": pipeline}))
    assert metrics_main([str(path), "--config", str(config)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["test"]["oos_recall"] == 1.0
    assert printed["test"] == scores(labels, predictions, 0.5, 0.0, "oos", 0.0, 1.3)
    config.write_text("pipeline: [")
    assert metrics_main([str(path), "--config", str(config)]) == 2
    assert metrics_main([str(path), "--config", str(tmp_path / "none.yml")]) == 2


#: ADB's published figures with 75 % of BANKING77's intents known.
ADB_AT_75 = {"accuracy": 81.39, "macro_f1": 86.11, "open_f1": 67.34, "known_f1": 86.44}


def _open_run(folder: Path, name: str, ratio: float, accuracy: float, sha: str) -> Path:
    """A ``--known-ratio`` run file with the fields the summary reads."""
    result = {
        "known_ratio": ratio,
        "config": {"sha256": sha, "path": "c.yml"},
        "machine": {"cpu": "x"},
        "git_commit": "abc",
        "open_intent": {
            "accuracy": accuracy,
            "macro_f1": 0.8,
            "open_f1": 0.5,
            "known_f1": 0.9,
        },
        "at_config_threshold": {"oos_recall": 0.4, "in_scope_accuracy": 0.9},
        "train_cpu_seconds": 100.0,
        "parse_per_second": 90.0,
        "published_open_intent": {"results": {"ADB": ADB_AT_75}},
    }
    path = folder / f"nlu-{name}.json"
    path.write_text(json.dumps(result))
    return path


def test_open_intent_runs_are_averaged_per_known_ratio(tmp_path: Path) -> None:
    from bench.nlu.open_intent import main as open_main
    from bench.nlu.open_intent import summarise

    paths = [
        _open_run(tmp_path, "a", 0.75, 0.80, "s"),
        _open_run(tmp_path, "b", 0.75, 0.70, "s"),
        _open_run(tmp_path, "c", 0.25, 0.60, "s"),
    ]
    summary = summarise(paths)
    assert list(summary["ratios"]) == ["0.25", "0.75"]
    three_quarters = summary["ratios"]["0.75"]
    assert three_quarters["seeds"] == 2
    at_config = three_quarters["at_config_threshold"]
    assert at_config["mean"]["accuracy"] == pytest.approx(75.0)
    assert at_config["per_seed"]["accuracy"] == [80.0, 70.0]
    assert at_config["mean"]["oos_recall"] == pytest.approx(40.0)
    assert three_quarters["published"] == {"ADB": ADB_AT_75}
    # The runs chose no threshold on validation data.
    assert "at_validation_choice" not in three_quarters
    # Runs of different configs, or a file of another kind, are refused.
    other = _open_run(tmp_path, "d", 0.75, 0.5, "t")
    with pytest.raises(ValueError, match="different configs"):
        summarise([*paths, other])
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"config": {"sha256": "s"}}))
    with pytest.raises(ValueError, match="not a --known-ratio run"):
        summarise([plain])
    assert open_main(["--summarise", str(plain), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
    assert (
        open_main(["--summarise", *map(str, paths), "--out", str(tmp_path / "o")]) == 0
    )
    [written] = (tmp_path / "o").glob("nlu-banking77-open-intent-*.json")
    assert json.loads(written.read_text())["ratios"] == summary["ratios"]


def test_simulated_rule_runs_are_averaged_with_each_criterion(tmp_path: Path) -> None:
    from bench.nlu.open_intent import main as open_main
    from bench.nlu.open_intent import summarise

    paths = []
    for name, recall in (("a", 0.6), ("b", 0.8)):
        path = _open_run(tmp_path, name, 0.5, 0.7, "s")
        result = json.loads(path.read_text())
        figures = {"accuracy": 0.7, "macro_f1": 0.8, "open_f1": recall, "known_f1": 0.8}
        test = {"oos_recall": recall, "in_scope_accuracy": 0.9}
        result["validation_choice"] = {
            "rule": "the highest threshold setting aside at most 0.1000 of the "
            "in-scope validation messages (learnt by simulating ...)",
            "combined_threshold": 1.2,
            "test": test,
        }
        result["open_intent_at_validation_choice"] = figures
        result["simulated_open"] = {
            "set_aside": 0.1,
            "by_criterion": {
                "macro_f1": {"set_aside": 0.1, "open_intent": figures, "test": test},
                "balanced": {
                    "set_aside": 0.2,
                    "open_intent": {**figures, "open_f1": 0.9},
                    "test": {**test, "oos_recall": 0.9},
                },
            },
        }
        path.write_text(json.dumps(result))
        paths.append(path)
    summary = summarise(paths)
    assert summary["simulated"] is True
    half = summary["ratios"]["0.5"]
    chosen = half["at_validation_choice"]
    assert chosen["rule"] == "the highest threshold setting aside at most 0.1000"
    assert chosen["set_aside"] == [0.1, 0.1]
    assert chosen["mean"]["open_f1"] == pytest.approx(70.0)
    assert chosen["mean"]["oos_recall"] == pytest.approx(70.0)
    others = half["simulated_criteria"]
    assert others["balanced"]["set_aside"] == [0.2, 0.2]
    assert others["balanced"]["mean"]["open_f1"] == pytest.approx(90.0)
    assert others["macro_f1"]["mean"] == chosen["mean"]
    out = tmp_path / "o"
    assert open_main(["--summarise", *map(str, paths), "--out", str(out)]) == 0
    [written] = out.glob("nlu-banking77-open-intent-simulated-*.json")
    assert json.loads(written.read_text())["ratios"] == summary["ratios"]

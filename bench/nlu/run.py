"""``baton bench nlu``: train a Rasa NLU pipeline on CSV data and measure it.

Trains the given config (default :data:`DEFAULT_CONFIG`) on the training file
with ``rasa train nlu`` in a child process (timed; its peak memory is the
training's), loads the model with Rasa's ``Agent`` and parses every test (and
validation) message one at a time, as the server does. Reported:

- ``accuracy``: the top intent is right (in-scope test examples, no fallback);
- ``in_scope_accuracy`` and ``oos_recall`` at the config's
  ``FallbackClassifier`` threshold (and ``ambiguity_threshold``), the rule of
  :mod:`bench.nlu.metrics`; ``--oos-label`` names the label of out-of-scope
  examples (they may be in the training data as a class of their own);
- with ``--valid``, the threshold :func:`~bench.nlu.metrics.choose_threshold`
  picks on the validation data only, and the test figures at it: put that
  threshold in the config, so the config's threshold is the validated one;
  with :class:`bot.nlu.out_of_scope.OutOfScopeClassifier` in the config, the
  pair of its similarity threshold and the confidence threshold (only the
  confidence threshold when the component learns its own, ``fallback_rate``);
  with the component's ``combined_threshold`` (confidence plus similarity),
  that threshold alone, the others kept as configured;
  ``--min-in-scope`` changes the rule to the highest out-of-scope recall
  whose in-scope accuracy reaches that floor, ``--max-drop`` to the highest
  recall losing at most that much of the validation data's own top-intent
  accuracy; the result's ``reported_at`` holds the chosen thresholds, the
  config values the validated figures are reported at;
- ``at_config_threshold_pipeline``: the same figures from what the pipeline
  itself answered (its own fallbacks), a check that the components apply
  the rule the bench weighs;
- with ``--predictions``, each parsed message's label, top two intents and
  similarity as JSON lines (to weigh other rules without training again);
- training time, parse throughput (messages/s, one at a time) and latency,
  peak memory of training and of the parsing process.

The JSON goes to ``bench/results/nlu-<name>-<date>.json`` (``--out`` for
another folder); a table with the published figures goes to stdout.
``python -m bench.nlu.run --public banking77|clinc150`` measures a public
dataset (:func:`bench.nlu.data.public_splits`), as ``make bench-nlu`` does.
``--hold-out-intents N --seed S`` makes out-of-scope data from data without
any (:func:`bench.nlu.data.hold_out_intents`): N intents leave training and
become out of scope; the validation split comes from the training data, the
test split is the given one with those intents relabelled.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import hashlib
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.nlu.data import (
    DataError,
    Example,
    Splits,
    hold_out_intents,
    public_splits,
    read_csv,
    slice_examples,
)
from bench.nlu.metrics import (
    Prediction,
    choose_threshold,
    describe_rule,
    open_intent_scores,
    pipeline_scores,
    scores,
)
from bench.nlu.published import OPEN_INTENT, PUBLISHED
from bench.nlu.simulated_open import (
    CRITERION,
    Replica,
    check_groups,
    simulated_shares,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "bench" / "nlu" / "configs" / "dense.yml"
RESULTS = ROOT / "bench" / "results"
FALLBACK_INTENT = "nlu_fallback"
#: The out-of-scope component (:mod:`bot.nlu.out_of_scope`) and its parse key.
OUT_OF_SCOPE_COMPONENT = "bot.nlu.out_of_scope.OutOfScopeClassifier"
OUT_OF_SCOPE_KEY = "out_of_scope"


def fallback_thresholds(config: dict[str, Any]) -> tuple[float, float]:
    """The ``FallbackClassifier``'s threshold and ambiguity threshold (0, 0 if none)."""
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return (
                float(component.get("threshold", 0.3)),
                float(component.get("ambiguity_threshold", 0.1)),
            )
    return 0.0, 0.0


def similarity_threshold(config: dict[str, Any]) -> float | None:
    """The out-of-scope component's threshold (``None`` without the component)."""
    for component in config.get("pipeline") or []:
        if component.get("name") == OUT_OF_SCOPE_COMPONENT:
            return float(component.get("threshold", 0.5))
    return None


def _optional_setting(config: dict[str, Any], key: str) -> float | None:
    """A setting of the out-of-scope component left empty by default."""
    for component in config.get("pipeline") or []:
        if component.get("name") == OUT_OF_SCOPE_COMPONENT:
            value = component.get(key)
            return None if value is None else float(value)
    return None


def combined_threshold(config: dict[str, Any]) -> float | None:
    """The out-of-scope component's ``combined_threshold`` (``None``: not used)."""
    return _optional_setting(config, "combined_threshold")


def fallback_rate(config: dict[str, Any]) -> float | None:
    """The out-of-scope component's ``fallback_rate`` (``None``: a fixed threshold)."""
    return _optional_setting(config, "fallback_rate")


def write_nlu_yaml(path: Path, examples: Sequence[Example]) -> None:
    """The examples as Rasa NLU training data (Rasa's own YAML writer)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [
        Message(data={"text": example.text, "intent": example.label})
        for example in examples
    ]
    RasaYAMLWriter().dump(path, TrainingData(training_examples=messages))


def train(config: Path, nlu: Path, workdir: Path) -> tuple[Path, float, float, float]:
    """Train with ``rasa train nlu`` in a child process.

    Returns:
        The model archive, the training time in seconds, the child's CPU
        time in seconds (user and system: on a shared machine the wall time
        depends on the other jobs) and its peak resident memory in MB.

    Raises:
        RuntimeError: Training failed (its output is in the message).
    """
    out = workdir / "models"
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "nlu",
        "--config",
        str(config.resolve()),
        "--nlu",
        str(nlu),
        "--out",
        str(out),
        "--fixed-model-name",
        "bench",
    ]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    # Rasa would otherwise send usage data out (as the stack's processes don't).
    environment["RASA_TELEMETRY_ENABLED"] = "false"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    finished = subprocess.run(
        command,
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    # Linux reports ru_maxrss in KB: the largest child waited for so far.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = after.ru_maxrss / 1024
    model = out / "bench.tar.gz"
    if finished.returncode != 0 or not model.is_file():
        raise RuntimeError(
            f"rasa train nlu failed (exit {finished.returncode}):\n"
            f"{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
        )
    return model, seconds, cpu, peak


def _prediction(parsed: dict[str, Any]) -> Prediction:
    ranking = [
        entry
        for entry in parsed.get("intent_ranking") or []
        if entry.get("name") != FALLBACK_INTENT
    ]
    if not ranking:
        intent = parsed.get("intent") or {}
        ranking = [intent] if intent.get("name") != FALLBACK_INTENT else []
    reported = parsed.get(OUT_OF_SCOPE_KEY) or {}
    similarity = reported.get("similarity")
    if similarity is not None:
        similarity = float(similarity)
    penalty = float(reported.get("penalty") or 0.0)
    answered = str((parsed.get("intent") or {}).get("name") or FALLBACK_INTENT)
    if not ranking:
        return Prediction("", 0.0, 0.0, similarity, answered, penalty)
    second = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    return Prediction(
        str(ranking[0].get("name")),
        float(ranking[0].get("confidence") or 0.0),
        second,
        similarity,
        answered,
        penalty,
    )


async def _parse(
    model: Path, groups: Sequence[Sequence[str]]
) -> tuple[list[list[Prediction]], list[float], set[float]]:
    """Parse every group's texts one at a time.

    Returns:
        Every group's predictions, the first group's latencies, and the
        similarity thresholds the out-of-scope component reported.
    """
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    # One message to warm up (the first parse builds TensorFlow's graph).
    await agent.parse_message("hello")
    results: list[list[Prediction]] = []
    latencies: list[float] = []
    learnt: set[float] = set()
    for index, texts in enumerate(groups):
        predictions = []
        for text in texts:
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            if index == 0:
                latencies.append(time.perf_counter() - started)
            predictions.append(_prediction(parsed))
            threshold = (parsed.get(OUT_OF_SCOPE_KEY) or {}).get("threshold")
            if threshold is not None:
                learnt.add(float(threshold))
        results.append(predictions)
    return results, latencies, learnt


def _commit() -> str | None:
    """The checkout's git commit (``None`` outside a git checkout)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def _machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
        "note": "a shared machine: other jobs ran on the same cores",
    }


def benchmark(
    *,
    name: str,
    train_examples: Sequence[Example],
    test_examples: Sequence[Example],
    valid_examples: Sequence[Example] | None,
    oos_label: str | None,
    config: Path,
    provenance: str,
    predictions_file: Path | None = None,
    min_in_scope: float | None = None,
    max_drop: float | None = None,
    known_ratio: float | None = None,
    simulated_open: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Train, parse and score; the result as JSON-ready data.

    With ``predictions_file``, every parsed message's label and top two
    intents go there as JSON lines (``part``: test or valid), for analysis
    without training again. ``min_in_scope``: the validation rule's floor,
    ``max_drop``: its drop from the top-intent accuracy
    (:func:`bench.nlu.metrics.choose_threshold`). With out-of-scope test
    examples the result also has open intent classification's figures at the
    config's thresholds (:func:`bench.nlu.metrics.open_intent_scores`), and
    ``known_ratio`` (the share of the dataset's intents kept known) puts the
    published figures for that setting beside them. ``simulated_open`` (a
    number of groups, with known-only validation data): the threshold sets
    aside the share of the known validation messages that simulating
    unknown intents among the known ones chose
    (:func:`bench.nlu.simulated_open.simulated_shares`, ``seed`` its turns;
    the other criteria's shares and test figures are recorded beside it).
    """
    config_text = config.read_text(encoding="utf-8")
    config_data = yaml.safe_load(config_text) or {}
    threshold, ambiguity = fallback_thresholds(config_data)
    configured_similarity = similarity_threshold(config_data)
    rate = fallback_rate(config_data)
    combined = combined_threshold(config_data)
    if simulated_open is not None:
        # Refused before training: a config the replica does not copy, or
        # groups the known intents cannot fill.
        Replica.of(config_data)
        known = {example.label for example in train_examples} - {oos_label}
        check_groups(simulated_open, len(known))
    machine = _machine()
    # At the start: the code that trains and parses (others may commit meanwhile).
    commit = _commit()
    if oos_label is not None and not any(
        example.label == oos_label for example in test_examples
    ):
        raise DataError(f"the test data has no examples labelled {oos_label!r}")
    labels = {example.label for example in train_examples}
    unknown = sorted(
        {example.label for example in test_examples}
        - labels
        - ({oos_label} if oos_label else set())
    )
    if unknown:
        raise DataError(
            "the test data has labels the training data lacks: "
            + ", ".join(unknown[:5])
        )
    with tempfile.TemporaryDirectory(prefix="baton-bench-nlu-") as directory:
        workdir = Path(directory)
        nlu = workdir / "nlu.yml"
        write_nlu_yaml(nlu, train_examples)
        model, train_seconds, train_cpu, train_peak = train(config, nlu, workdir)
        groups = [[example.text for example in test_examples]]
        if valid_examples:
            groups.append([example.text for example in valid_examples])
        started = time.perf_counter()
        cpu_started = time.process_time()
        parsed, latencies, learnt = asyncio.run(_parse(model, groups))
        parse_seconds = time.perf_counter() - started
        parse_cpu = time.process_time() - cpu_started
    parse_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if rate is not None:
        # The component learnt its threshold from the training data.
        if len(learnt) != 1:
            raise RuntimeError(
                f"the out-of-scope component reported thresholds {sorted(learnt)}, "
                "not one learnt threshold"
            )
        configured_similarity = learnt.pop()
    similarity = configured_similarity or 0.0
    if predictions_file is not None:
        write_predictions(
            predictions_file,
            {"test": test_examples, "valid": valid_examples or []},
            parsed,
        )
    test_labels = [example.label for example in test_examples]
    # The config's rule: what the figures "at the config's thresholds" use.
    rule = (threshold, ambiguity, oos_label, similarity, combined)
    result: dict[str, Any] = {
        "dataset": name,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "provenance": provenance,
        "git_commit": commit,
        "machine": machine,
        "config": {
            "path": str(config.resolve().relative_to(ROOT))
            if config.resolve().is_relative_to(ROOT)
            else str(config),
            "sha256": hashlib.sha256(config_text.encode("utf-8")).hexdigest(),
            "fallback_threshold": threshold,
            "ambiguity_threshold": ambiguity,
            "similarity_threshold": configured_similarity,
            "combined_threshold": combined,
            "fallback_rate": rate,
        },
        "examples": {
            "train": len(train_examples),
            "test": len(test_examples),
            "valid": len(valid_examples) if valid_examples else 0,
            "intents": len(labels - ({oos_label} if oos_label else set())),
            "oos_label": oos_label,
        },
        "at_config_threshold": scores(test_labels, parsed[0], *rule),
        "at_config_threshold_pipeline": pipeline_scores(
            test_labels, parsed[0], oos_label
        ),
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu, 1),
        "train_peak_memory_mb": round(train_peak),
        "parse_per_second": round(len(latencies) / sum(latencies), 1),
        "parse_latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 2),
            "p95": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))] * 1000, 2),
        },
        "parse_process_peak_memory_mb": round(parse_peak),
        "parse_seconds_all": round(parse_seconds, 1),
        "parse_cpu_seconds_all": round(parse_cpu, 1),
        "machine_load_average_at_end": list(os.getloadavg()),
        "published": PUBLISHED.get(name.split("-")[0]),
    }
    if oos_label is not None:
        result["open_intent"] = open_intent_scores(
            test_labels,
            parsed[0],
            threshold,
            ambiguity,
            oos_label,
            similarity,
            combined,
        )
    if known_ratio is not None:
        result["known_ratio"] = known_ratio
        published = OPEN_INTENT.get(name.split("-")[0], {}).get(known_ratio)
        if published:
            result["published_open_intent"] = {
                "source": OPEN_INTENT["source"],
                "results": {
                    system: dict(zip(OPEN_INTENT["fields"], figures, strict=True))
                    for system, figures in published.items()
                },
            }
    if valid_examples:
        valid_labels = [example.label for example in valid_examples]
        set_aside = None
        shares: dict[str, float] = {}
        if simulated_open is not None:
            started = time.process_time()
            shares = simulated_shares(
                config_data,
                train_examples,
                valid_examples,
                simulated_open,
                seed,
                oos_label,
            )
            set_aside = shares[CRITERION]
            result["simulated_open"] = {
                "groups": simulated_open,
                "seed": seed,
                "criterion": CRITERION,
                "set_aside": set_aside,
                "cpu_seconds": round(time.process_time() - started, 1),
                "by_criterion": {},
            }
        # What the sweep keeps fixed, for every rule.
        sweep_options: dict[str, Any] = {
            "fixed_similarity": configured_similarity
            if rate is not None or combined is not None
            else None,
            "combined": combined is not None,
            "fixed_threshold": threshold,
        }
        chosen = choose_threshold(
            valid_labels,
            parsed[1],
            ambiguity,
            oos_label,
            min_in_scope=min_in_scope,
            max_drop=max_drop,
            set_aside=set_aside,
            **sweep_options,
        )
        result["at_config_threshold_validation"] = scores(
            valid_labels, parsed[1], *rule
        )
        result["at_config_threshold_validation_pipeline"] = pipeline_scores(
            valid_labels, parsed[1], oos_label
        )
        if chosen is not None:
            if combined is not None:
                sweep = (
                    ", the combined threshold (confidence + similarity) at the "
                    "validation scores' quantiles 0.00-0.99, the confidence "
                    f"threshold kept at {threshold:g} and the similarity "
                    f"threshold at {similarity:g}"
                )
            elif configured_similarity is None:
                sweep = ", thresholds 0.00-0.99"
            elif rate is not None:
                sweep = (
                    ", thresholds 0.00-0.99 (confidence thresholds; the similarity "
                    "threshold learnt at training for a fallback rate of "
                    f"{rate:g})"
                )
            else:
                sweep = (
                    ", thresholds 0.00-0.99 (every pair of confidence and "
                    "similarity thresholds)"
                )
            test_at_choice = scores(
                test_labels,
                parsed[0],
                chosen.threshold,
                ambiguity,
                oos_label,
                chosen.similarity_threshold,
                chosen.combined_threshold,
            )
            matches = (
                abs(chosen.threshold - threshold) < 1e-9
                and abs(chosen.similarity_threshold - similarity) < 1e-9
                and (
                    chosen.combined_threshold is None
                    or (
                        combined is not None
                        and abs(chosen.combined_threshold - combined) < 1e-9
                    )
                )
            )
            if oos_label is not None:
                result["open_intent_at_validation_choice"] = open_intent_scores(
                    test_labels,
                    parsed[0],
                    chosen.threshold,
                    ambiguity,
                    oos_label,
                    chosen.similarity_threshold,
                    chosen.combined_threshold,
                )
            for criterion, share in shares.items():
                # Every criterion's share, at the pipeline's own validation
                # parses (the rule's is the choice above).
                other = choose_threshold(
                    valid_labels,
                    parsed[1],
                    ambiguity,
                    oos_label,
                    set_aside=share,
                    **sweep_options,
                )
                assert other is not None
                at_other = (
                    other.threshold,
                    ambiguity,
                    oos_label,
                    other.similarity_threshold,
                    other.combined_threshold,
                )
                result["simulated_open"]["by_criterion"][criterion] = {
                    "set_aside": share,
                    "combined_threshold": other.combined_threshold,
                    "validation": other.figures,
                    "test": scores(test_labels, parsed[0], *at_other),
                    **(
                        {
                            "open_intent": open_intent_scores(
                                test_labels, parsed[0], *at_other
                            )
                        }
                        if oos_label is not None
                        else {}
                    ),
                }
            result["validation_choice"] = {
                "rule": describe_rule(min_in_scope, max_drop, set_aside, simulated_open)
                + sweep,
                "threshold": chosen.threshold,
                "similarity_threshold": chosen.similarity_threshold,
                "combined_threshold": chosen.combined_threshold,
                "validation": chosen.figures,
                "test": test_at_choice,
                "matches_config": matches,
            }
            # The config values the validated figures are reported at.
            result["reported_at"] = {
                "fallback_threshold": chosen.threshold,
                "ambiguity_threshold": ambiguity,
                "similarity_threshold": chosen.similarity_threshold,
                "combined_threshold": chosen.combined_threshold,
                "test": test_at_choice,
                "config_carries_them": matches,
            }
    return result


def write_predictions(
    path: Path,
    parts: dict[str, Sequence[Example]],
    parsed: Sequence[Sequence[Prediction]],
) -> None:
    """Each parsed message as a JSON line: part, text, label and top two intents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for (part, examples), predictions in zip(parts.items(), parsed, strict=False):
            for example, prediction in zip(examples, predictions, strict=True):
                row = {"part": part, "text": example.text, "label": example.label}
                row.update(dataclasses.asdict(prediction))
                handle.write(json.dumps(row) + "\n")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _row(system: str, figures: dict[str, Any]) -> str:
    return (
        f"{system[:52]:<52} {_percent(figures.get('accuracy')):>7} "
        f"{_percent(figures.get('in_scope_accuracy')):>9} "
        f"{_percent(figures.get('oos_recall')):>8}"
    )


def _open_intent_rows(result: dict[str, Any]) -> list[str]:
    """Open intent classification's figures, and the published ones beside."""
    mine = result.get("open_intent")
    if not mine:
        return []
    ratio = result.get("known_ratio")
    header = "open intent classification" + (
        "" if ratio is None else f", {ratio:.0%} of the intents known"
    )

    def row(system: str, figures: dict[str, float], scale: float) -> str:
        return (
            f"{system:<52} {scale * figures['accuracy']:>7.2f} "
            f"{scale * figures['macro_f1']:>9.2f} {scale * figures['open_f1']:>8.2f} "
            f"{scale * figures['known_f1']:>9.2f}"
        )

    lines = [
        f"{header:<52} {'acc':>7} {'macro F1':>9} {'open F1':>8} {'known F1':>9}",
        row("this pipeline @ the config's thresholds", mine, 100),
    ]
    chosen = result.get("open_intent_at_validation_choice")
    if chosen:
        lines.append(row("this pipeline @ the validation choice", chosen, 100))
    published = result.get("published_open_intent")
    if published:
        for system, figures in published["results"].items():
            lines.append(row(system, figures, 1))
        lines.append(f"published: {published['source']}")
    return lines


def table(result: dict[str, Any]) -> str:
    """The result and the published figures as a plain-text table."""
    threshold = result["config"]["fallback_threshold"]
    ambiguity = result["config"]["ambiguity_threshold"]
    similarity = result["config"].get("similarity_threshold")
    combined = result["config"].get("combined_threshold")
    at = (
        f"{threshold:.2f}"
        + ("" if similarity is None else f"/{similarity:.2f}")
        + ("" if combined is None else f"/{combined:.4f}")
    )
    examples = result["examples"]
    lines = [
        f"NLU benchmark: {result['dataset']} ({examples['train']} train, "
        f"{examples['test']} test, {examples['intents']} intents), "
        f"config {result['config']['path']}",
        f"{'system':<52} {'acc':>7} {'in-scope':>9} {'oos rec':>8}",
        _row(
            f"this pipeline @ {at} (ambiguity {ambiguity:.2f})",
            result["at_config_threshold"],
        ),
    ]
    choice = result.get("validation_choice")
    chosen = ""
    if choice:
        chosen = (
            f"{choice['threshold']:.2f}"
            + ("" if similarity is None else f"/{choice['similarity_threshold']:.2f}")
            + (
                ""
                if choice.get("combined_threshold") is None
                else f"/{choice['combined_threshold']:.4f}"
            )
        )
    if choice and not choice["matches_config"]:
        lines.append(_row(f"this pipeline @ {chosen} (valid.)", choice["test"]))
    published = result.get("published")
    if published:
        lines.extend(_row(row["system"], row) for row in published["results"])
        lines.append(f"published: {published['source']}")
    lines.extend(_open_intent_rows(result))
    lines.append(
        f"training {result['train_seconds']} s ({result['train_cpu_seconds']} s "
        f"CPU, peak {result['train_peak_memory_mb']} MB); "
        f"parsing {result['parse_per_second']} msg/s (p50 "
        f"{result['parse_latency_ms']['p50']} ms, process peak "
        f"{result['parse_process_peak_memory_mb']} MB); "
        f"{result['machine']['cpu_count']} cores, shared"
    )
    if choice and not choice["matches_config"]:
        lines.append(
            f"note: the threshold chosen on validation ({chosen}) "
            f"differs from the config's ({at})"
        )
        if choice.get("combined_threshold") is not None:
            lines.append(
                "put it in the config: OutOfScopeClassifier combined_threshold: "
                f"{choice['combined_threshold']!r}"
            )
    return "\n".join(lines)


def save(result: dict[str, Any], out: Path) -> Path:
    """Write the result to ``<out>/nlu-<dataset>-<date>.json``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"nlu-{result['dataset']}-{result['date'][:10]}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options (shared by ``baton bench nlu`` and this module)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--train", type=Path, help="training CSV (text,label)")
    source.add_argument(
        "--public",
        choices=("banking77", "clinc150"),
        help="a public dataset from BATON_DATASETS or ../shared/datasets",
    )
    parser.add_argument("--test", type=Path, help="test CSV (text,label)")
    parser.add_argument(
        "--valid", type=Path, help="validation CSV: the threshold is chosen on it"
    )
    parser.add_argument(
        "--oos-label", help="the label of out-of-scope examples (e.g. oos)"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help=f"Rasa config (default {DEFAULT_CONFIG.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--per-label",
        type=int,
        help="train on at most this many examples per label (seeded choice; "
        "a few-shot setting such as BANKING77's 10 per intent)",
    )
    parser.add_argument(
        "--hold-out-intents",
        type=int,
        metavar="N",
        help="hold out N intents as out of scope (data without an out-of-scope "
        "class): validation from the training data, test relabelled",
    )
    parser.add_argument(
        "--known-ratio",
        type=float,
        metavar="R",
        help="open intent classification: keep round(R x intents) intents known "
        "and hold out the rest as out of scope, as --hold-out-intents does "
        "(e.g. 0.25, 0.5, 0.75, the literature's settings)",
    )
    parser.add_argument(
        "--known-only-validation",
        action="store_true",
        help="with held-out intents (or a dataset's own validation split): "
        "validate on the known intents only (no "
        "out-of-scope message tunes anything, as the open-intent literature's "
        "development splits); --max-drop then chooses the highest threshold "
        "within the drop, --simulated-open by simulation",
    )
    parser.add_argument(
        "--simulated-open",
        type=int,
        metavar="GROUPS",
        help="with --known-only-validation: split the known intents into GROUPS, "
        "leave each group out of training by turns to play the unknown "
        "intents, and set aside the share of the known validation messages "
        "that served that simulation best (its highest macro F1 over the known "
        "intents and the open class); linear configs only "
        "(bench/nlu/configs/linear-dense-knn*.yml). The literature's setting: 4",
    )
    parser.add_argument(
        "--test-only",
        action="store_true",
        help="parse the test split only: the figures at the config's thresholds, "
        "none chosen on validation data",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="the seed choosing the held-out intents and the validation split",
    )
    parser.add_argument("--name", help="dataset name in the results file")
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results folder (bench/results)"
    )
    parser.add_argument(
        "--min-in-scope",
        type=float,
        help="validation rule: the highest out-of-scope recall among thresholds "
        "with at least this in-scope accuracy (default: the highest mean of both)",
    )
    parser.add_argument(
        "--max-drop",
        type=float,
        help="validation rule: the highest out-of-scope recall among thresholds "
        "losing at most this much of the validation data's own top-intent "
        "accuracy (e.g. 0.03)",
    )
    parser.add_argument(
        "--predictions",
        type=Path,
        help="also write each parsed message's label and top intents (JSON lines)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the benchmark the arguments describe; print the table; exit status."""
    try:
        if not args.config.is_file():
            raise DataError(f"{args.config}: no such config file")
        if args.public:
            splits = public_splits(args.public)
        else:
            if args.test is None:
                raise DataError("--test is required with --train")
            splits = Splits(
                args.name or args.train.stem,
                read_csv(args.train),
                read_csv(args.test),
                read_csv(args.valid) if args.valid else None,
                args.oos_label,
                f"CSV files {args.train} / {args.test}"
                + (f" / {args.valid}" if args.valid else ""),
            )
        if args.known_ratio is not None:
            if args.hold_out_intents is not None:
                raise DataError("give --known-ratio or --hold-out-intents, not both")
            if not 0.0 < args.known_ratio < 1.0:
                raise DataError("--known-ratio must be between 0 and 1")
            intents = len({example.label for example in splits.train})
            args.hold_out_intents = intents - round(intents * args.known_ratio)
        if args.hold_out_intents is not None:
            if splits.valid is not None:
                raise DataError(
                    "--hold-out-intents makes its validation split from the "
                    "training data: give no --valid"
                )
            splits = hold_out_intents(
                splits, args.hold_out_intents, args.seed, args.oos_label or "oos"
            )
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.ERROR)
        if args.min_in_scope is not None and not 0.0 < args.min_in_scope <= 1.0:
            raise DataError("--min-in-scope must be in (0, 1]")
        if args.max_drop is not None:
            if args.min_in_scope is not None:
                raise DataError("give --min-in-scope or --max-drop, not both")
            if not 0.0 <= args.max_drop < 1.0:
                raise DataError("--max-drop must be in [0, 1)")
        if args.known_only_validation:
            if not splits.valid or splits.oos_label is None or args.test_only:
                raise DataError(
                    "--known-only-validation needs validation data with an "
                    "out-of-scope label (--hold-out-intents, --known-ratio, or a "
                    "dataset's own, such as CLINC150's), and no --test-only"
                )
            rules = (args.min_in_scope, args.max_drop, args.simulated_open)
            if sum(rule is not None for rule in rules) != 1:
                raise DataError(
                    "--known-only-validation chooses by one rule: give "
                    "--max-drop, --min-in-scope or --simulated-open"
                )
            splits = dataclasses.replace(
                splits,
                valid=[e for e in splits.valid or [] if e.label != splits.oos_label],
                provenance=f"{splits.provenance}; validation: the known intents' "
                "examples only",
            )
        elif args.simulated_open is not None:
            raise DataError("--simulated-open needs --known-only-validation")
        if args.test_only:
            if args.min_in_scope is not None or args.max_drop is not None:
                raise DataError(
                    "--test-only chooses no threshold: give no --min-in-scope "
                    "or --max-drop"
                )
            splits = dataclasses.replace(splits, valid=None)
        if args.per_label is not None:
            if args.per_label < 1:
                raise DataError("--per-label must be at least 1")
            labels = sorted({example.label for example in splits.train})
            splits = dataclasses.replace(
                splits,
                train=slice_examples(splits.train, labels, args.per_label),
                provenance=f"{splits.provenance}; training examples: at most "
                f"{args.per_label} per label (bench.nlu.data.slice_examples, "
                "seed 0)",
            )
        for name in ("rasa", "tensorflow", "absl"):
            logging.getLogger(name).setLevel(logging.ERROR)
        result = benchmark(
            name=args.name or splits.name,
            train_examples=splits.train,
            test_examples=splits.test,
            valid_examples=splits.valid,
            oos_label=args.oos_label if args.oos_label else splits.oos_label,
            config=args.config,
            provenance=splits.provenance,
            predictions_file=args.predictions,
            min_in_scope=args.min_in_scope,
            max_drop=args.max_drop,
            known_ratio=args.known_ratio,
            simulated_open=args.simulated_open,
            seed=args.seed,
        )
    except (DataError, RuntimeError) as error:
        print(f"bench nlu: {error}", file=sys.stderr)
        return 2
    path = save(result, args.out)
    print(table(result))
    print(f"written to {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.run``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu.run")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

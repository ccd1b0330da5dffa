"""Accuracy and out-of-scope recall from intent rankings, at a fallback threshold.

Rasa's ``FallbackClassifier`` predicts ``nlu_fallback`` when the top intent's
confidence is below ``threshold`` or the top two are closer than
``ambiguity_threshold``. :func:`decide` applies the same rule to the ranking the
intent classifier produced, so one parse of each message gives the figures at
any threshold (the validation sweep of :func:`choose_threshold`).

A pipeline with :class:`bot.nlu.out_of_scope.OutOfScopeClassifier` also
reports each message's similarity to the nearest intent; below that
component's threshold the message falls back too, and the sweep then
chooses both thresholds together (or only the confidence threshold, when the
component learnt its own from the training data).

That component's ``combined_threshold`` weighs both signals: a message falls
back when its confidence plus its similarity is below it. With ``combined``
the sweep chooses that threshold alone, the confidence and similarity
thresholds kept as configured.

Three rules choose: the highest mean of in-scope accuracy and out-of-scope
recall (both kinds of mistake weigh the same); with ``min_in_scope``, the
highest out-of-scope recall among the settings whose in-scope accuracy
reaches that floor (a target such as CLINC150's "in-scope accuracy at least
92 %", given a margin for the difference between validation and test data);
with ``max_drop``, the same with the floor set at the validation data's own
top-intent accuracy less ``max_drop``. An absolute floor does not carry over
between datasets: BANKING77 with intents held out
(:func:`bench.nlu.data.hold_out_intents`) has 93 % top-intent accuracy, so a
94 % floor is never reached and every answer is kept; a drop states the same
cost on both (issue #15, ``bench/results/nlu-oos-generalisation-*.json``).

``python -m bench.nlu.metrics PREDICTIONS.jsonl --combined --max-drop 0.03``
weighs a rule on the messages ``bench.nlu.run --predictions`` saved, without
training again, and prints the choice and the test figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: What :func:`decide` returns for a message the pipeline would not answer.
OUT_OF_SCOPE = "<out of scope>"


@dataclass(frozen=True)
class Prediction:
    """The intent classifier's top two intents for one message."""

    first: str
    confidence: float
    second_confidence: float
    #: The cosine to the nearest intent (``None``: no out-of-scope component).
    similarity: float | None = None
    #: The intent the pipeline itself answered (``nlu_fallback`` when it fell
    #: back; ``None``: not recorded).
    answered: str | None = None
    #: What the message's words take off its combined score (the component's
    #: ``novelty_weight`` times its novelty; 0 without one).
    penalty: float = 0.0


@dataclass(frozen=True)
class Choice:
    """The thresholds chosen on validation data, and the figures there."""

    threshold: float
    similarity_threshold: float
    figures: dict[str, float | None]
    #: The confidence-plus-similarity threshold (``None``: not swept).
    combined_threshold: float | None = None


def decide(
    prediction: Prediction,
    threshold: float,
    ambiguity_threshold: float,
    oos_label: str | None,
    similarity_threshold: float = 0.0,
    combined_threshold: float | None = None,
) -> str:
    """The label the pipeline acts on: an intent, or :data:`OUT_OF_SCOPE`."""
    if prediction.similarity is not None and (
        prediction.similarity < similarity_threshold
        or (
            combined_threshold is not None
            and prediction.confidence + prediction.similarity - prediction.penalty
            < combined_threshold
        )
    ):
        return OUT_OF_SCOPE
    if prediction.confidence < threshold:
        return OUT_OF_SCOPE
    if prediction.confidence - prediction.second_confidence < ambiguity_threshold:
        return OUT_OF_SCOPE
    if oos_label is not None and prediction.first == oos_label:
        return OUT_OF_SCOPE
    return prediction.first


def _split(
    labels: Sequence[str], predictions: Sequence[Prediction], oos_label: str | None
) -> tuple[list[tuple[str, Prediction]], list[Prediction]]:
    """The in-scope (label, prediction) pairs and the out-of-scope predictions.

    Raises:
        ValueError: No in-scope examples.
    """
    in_scope = []
    out_of_scope = []
    for label, prediction in zip(labels, predictions, strict=True):
        if oos_label is not None and label == oos_label:
            out_of_scope.append(prediction)
        else:
            in_scope.append((label, prediction))
    if not in_scope:
        raise ValueError("no in-scope examples to score")
    return in_scope, out_of_scope


def scores(
    labels: Sequence[str],
    predictions: Sequence[Prediction],
    threshold: float,
    ambiguity_threshold: float,
    oos_label: str | None,
    similarity_threshold: float = 0.0,
    combined_threshold: float | None = None,
) -> dict[str, float | None]:
    """The figures at one threshold (and similarity and combined thresholds).

    - ``accuracy``: the top intent is right, over the in-scope examples, with
      no fallback (the number BANKING77's papers report).
    - ``in_scope_accuracy``: in-scope examples answered with the right intent
      at this threshold (a fallback counts as wrong; CLINC150's metric).
    - ``oos_recall``: out-of-scope examples the pipeline falls back on
      (``None`` without an out-of-scope label or examples).
    - ``in_scope_fallback_rate``: in-scope examples it falls back on.
    """
    in_scope, out_of_scope = _split(labels, predictions, oos_label)

    def decided_for(prediction: Prediction) -> str:
        return decide(
            prediction,
            threshold,
            ambiguity_threshold,
            oos_label,
            similarity_threshold,
            combined_threshold,
        )

    decided = [decided_for(prediction) for _, prediction in in_scope]
    top_right = sum(prediction.first == label for label, prediction in in_scope) / len(
        in_scope
    )
    answered_right = sum(
        choice == label for choice, (label, _) in zip(decided, in_scope, strict=True)
    ) / len(in_scope)
    fallback = sum(choice == OUT_OF_SCOPE for choice in decided) / len(in_scope)
    recall = (
        sum(decided_for(prediction) == OUT_OF_SCOPE for prediction in out_of_scope)
        / len(out_of_scope)
        if out_of_scope
        else None
    )
    return {
        "accuracy": top_right,
        "in_scope_accuracy": answered_right,
        "oos_recall": recall,
        "in_scope_fallback_rate": fallback,
    }


def open_intent_scores(
    labels: Sequence[str],
    predictions: Sequence[Prediction],
    threshold: float,
    ambiguity_threshold: float,
    oos_label: str,
    similarity_threshold: float = 0.0,
    combined_threshold: float | None = None,
) -> dict[str, float]:
    """Open intent classification's figures: the known intents plus one open class.

    The metrics of the open-intent literature (Zhang et al. 2021, AAAI,
    "Deep Open Intent Classification with Adaptive Decision Boundary", and
    its TEXTOIR toolkit): every test message is one of the known intents or
    the open class (``oos_label``); what the pipeline would not answer
    (:func:`decide`) is predicted open.

    - ``accuracy``: over all test messages, open ones included;
    - ``macro_f1``: the F1 score of each known intent and of the open class,
      averaged (each class weighs the same);
    - ``open_f1`` and ``known_f1``: the open class's F1, and the known
      intents' mean F1.

    A class with neither precision nor recall scores 0.

    Raises:
        ValueError: No in-scope or no out-of-scope examples.
    """
    in_scope, out_of_scope = _split(labels, predictions, oos_label)
    if not out_of_scope:
        raise ValueError(f"no examples labelled {oos_label!r} to score")
    truth = list(labels)
    guessed = [
        oos_label
        if (
            choice := decide(
                prediction,
                threshold,
                ambiguity_threshold,
                oos_label,
                similarity_threshold,
                combined_threshold,
            )
        )
        == OUT_OF_SCOPE
        else choice
        for prediction in predictions
    ]
    known = sorted({label for label, _ in in_scope})
    # Each class's counts in one pass: right, guessed, and real.
    hits = Counter(t for t, g in zip(truth, guessed, strict=True) if t == g)
    said = Counter(guessed)
    real = Counter(truth)

    def f1(name: str) -> float:
        # 2PR / (P + R) = 2 hits / (said + real).
        return 2 * hits[name] / (said[name] + real[name]) if hits[name] else 0.0

    known_f1 = [f1(name) for name in known]
    open_f1 = f1(oos_label)
    right = sum(t == g for t, g in zip(truth, guessed, strict=True))
    return {
        "accuracy": right / len(truth),
        "macro_f1": (sum(known_f1) + open_f1) / (len(known_f1) + 1),
        "open_f1": open_f1,
        "known_f1": sum(known_f1) / len(known_f1),
    }


def _better(key: tuple[float, float], than: tuple[float, float]) -> bool:
    """Whether ``key`` beats ``than`` by more than rounding (first, then second)."""
    if key[0] > than[0] + 1e-12:
        return True
    return abs(key[0] - than[0]) <= 1e-12 and key[1] > than[1] + 1e-12


#: The thresholds the validation sweep tries: 0.00, 0.01, ..., 0.99 (and,
#: for the combined score, the validation scores' quantiles at these levels).
GRID = tuple(step / 100 for step in range(100))


def combined_grid(scores_: np.ndarray) -> np.ndarray:
    """The combined thresholds swept: the scores' quantiles at :data:`GRID`.

    The score runs from 0 to 2 and bunches where the data puts it, so the
    sweep follows the data (100 steps, each passing about 1 % of the
    messages) rather than a fixed grid.
    """
    finite = scores_[np.isfinite(scores_)]
    grid: np.ndarray = np.unique(np.quantile(finite, GRID))
    return grid


def describe_rule(
    min_in_scope: float | None,
    max_drop: float | None,
    set_aside: float | None = None,
    groups: int | None = None,
) -> str:
    """The rule :func:`choose_threshold` applies, in words."""
    if set_aside is not None:
        source = (
            ""
            if groups is None
            else " (learnt by simulating unknown intents among the known ones: "
            f"{groups} groups of them left out by turns, the share at the "
            "simulation's highest macro F1; bench.nlu.simulated_open)"
        )
        return (
            "the highest threshold setting aside at most "
            f"{set_aside:.4f} of the in-scope validation messages{source}"
        )
    if max_drop is not None:
        return (
            "highest out-of-scope recall on the validation data among thresholds "
            "losing at most "
            f"{max_drop:.4g} of the validation data's own top-intent accuracy"
        )
    if min_in_scope is not None:
        return (
            "highest out-of-scope recall on the validation data among "
            f"thresholds with in-scope accuracy >= {min_in_scope:.4g}"
        )
    return (
        "highest mean of in-scope accuracy and out-of-scope recall on the "
        "validation data"
    )


def choose_threshold(
    labels: Sequence[str],
    predictions: Sequence[Prediction],
    ambiguity_threshold: float,
    oos_label: str | None,
    *,
    min_in_scope: float | None = None,
    max_drop: float | None = None,
    fixed_similarity: float | None = None,
    combined: bool = False,
    fixed_threshold: float = 0.0,
    set_aside: float | None = None,
) -> Choice | None:
    """The fallback threshold(s) that serve validation data best.

    The rule: the highest mean of in-scope accuracy and out-of-scope recall
    on the validation examples (both kinds of mistake weigh the same). With
    ``min_in_scope``: the highest out-of-scope recall among the thresholds
    whose in-scope accuracy is at least ``min_in_scope`` (ties: the highest
    in-scope accuracy); when none reaches it, the highest in-scope accuracy.
    With ``max_drop``: the same, the floor being the validation examples'
    top-intent accuracy (in scope, no fallback) less ``max_drop``. Ties
    otherwise go to the lowest thresholds.

    What is swept: the confidence thresholds in :data:`GRID`; when the
    predictions carry similarities (an out-of-scope component), every pair
    of a confidence threshold and a similarity threshold in :data:`GRID`,
    or only ``fixed_similarity`` when given (a threshold the component
    learnt). With ``combined``: the combined threshold alone
    (:func:`combined_grid` of the validation scores, confidence plus
    similarity), the confidence threshold kept at ``fixed_threshold`` and
    the similarity threshold at ``fixed_similarity`` (or 0).

    Validation data without out-of-scope examples (the known intents only,
    as the open-intent literature's development splits) has no recall to
    weigh; with a floor (``min_in_scope`` or ``max_drop``) the choice is then
    the setting that sets aside the most validation messages while reaching
    the floor (the lowest of equals), which is what the rule chooses with
    out-of-scope examples too, as a higher threshold never catches fewer of
    them (only the grid, the validation scores' quantiles, differs).

    With ``set_aside`` (a share learnt elsewhere, such as
    :mod:`bench.nlu.simulated_open`'s): the setting that sets aside the most
    in-scope validation messages without exceeding that share (the lowest
    of equals); out-of-scope examples, if any, are not weighed.

    Returns:
        The thresholds and their validation figures, or ``None`` when the
        validation data has no out-of-scope examples and no floor is given.

    Raises:
        ValueError: More than one of ``min_in_scope``, ``max_drop`` and
            ``set_aside``, or a share outside [0, 1]; ``combined`` without
            similarities; no in-scope examples.
    """
    if sum(rule is not None for rule in (min_in_scope, max_drop, set_aside)) > 1:
        raise ValueError(
            "give one rule: a floor (min_in_scope), a drop (max_drop) or a "
            "share (set_aside)"
        )
    if set_aside is not None and not 0.0 <= set_aside <= 1.0:
        raise ValueError(f"set_aside must be a share in [0, 1], not {set_aside}")
    if oos_label is None or (
        oos_label not in labels
        and min_in_scope is None
        and max_drop is None
        and set_aside is None
    ):
        return None
    truth = np.array(labels)
    out = truth == oos_label
    if out.all():
        raise ValueError("no in-scope examples to score")
    first = np.array([prediction.first for prediction in predictions])
    confidence = np.array([prediction.confidence for prediction in predictions])
    margin = confidence - np.array(
        [prediction.second_confidence for prediction in predictions]
    )
    similarity = np.array(
        [
            np.inf if prediction.similarity is None else prediction.similarity
            for prediction in predictions
        ]
    )
    sweep = any(prediction.similarity is not None for prediction in predictions)
    right = (first == truth)[~out]
    floor = float(right.mean()) - max_drop if max_drop is not None else min_in_scope

    def keys(falls_back: np.ndarray) -> list[tuple[float, float]]:
        """Each column's rank (one column per setting, one row per message)."""
        in_scope = (~falls_back[~out] & right[:, None]).mean(axis=0)
        if set_aside is not None:
            share = falls_back[~out].mean(axis=0)
            return [
                (float(value), 0.0) if value <= set_aside + 1e-12 else (-1.0, 0.0)
                for value in share
            ]
        # Known intents only: what falls back is what recall would count,
        # so the share of messages set aside ranks the settings instead.
        recall = falls_back[out].mean(axis=0) if out.any() else falls_back.mean(axis=0)
        if floor is None:
            return [(float(value), 0.0) for value in (in_scope + recall) / 2]
        # Reaching the floor first, then recall, then in-scope accuracy.
        return [
            (float(recall_at), float(in_scope_at))
            if in_scope_at >= floor - 1e-12
            else (-1.0, float(in_scope_at))
            for recall_at, in_scope_at in zip(recall, in_scope, strict=True)
        ]

    def best_column(ranked: list[tuple[float, float]]) -> int:
        best = 0
        for index in range(1, len(ranked)):
            if _better(ranked[index], ranked[best]):
                best = index
        return best

    def unsure(threshold: float) -> np.ndarray:
        flags: np.ndarray = (
            (confidence < threshold)
            | (margin < ambiguity_threshold)
            | (first == oos_label)
        )
        return flags

    combined_threshold: float | None = None
    if combined:
        if not sweep:
            raise ValueError(
                "the combined threshold needs similarities (an out-of-scope "
                "component in the pipeline)"
            )
        threshold = fixed_threshold
        similarity_threshold = fixed_similarity or 0.0
        penalty = np.array([prediction.penalty for prediction in predictions])
        score = confidence + similarity - penalty
        grid = combined_grid(score)
        kept = unsure(threshold) | (similarity < similarity_threshold)
        ranked = keys(kept[:, None] | (score[:, None] < grid[None, :]))
        combined_threshold = float(grid[best_column(ranked)])
    else:
        if fixed_similarity is not None:
            similarity_grid = np.array((fixed_similarity,))
        else:
            similarity_grid = np.array(GRID if sweep else (0.0,))
        # One row per message, one column per similarity threshold.
        far = similarity[:, None] < similarity_grid[None, :]
        best: tuple[tuple[float, float], float, float] | None = None
        for candidate in GRID:
            ranked = keys(far | unsure(candidate)[:, None])
            column = best_column(ranked)
            if best is None or _better(ranked[column], best[0]):
                best = (ranked[column], candidate, float(similarity_grid[column]))
        assert best is not None
        _, threshold, similarity_threshold = best
    return Choice(
        threshold,
        similarity_threshold,
        scores(
            labels,
            predictions,
            threshold,
            ambiguity_threshold,
            oos_label,
            similarity_threshold,
            combined_threshold,
        ),
        combined_threshold,
    )


def pipeline_scores(
    labels: Sequence[str],
    predictions: Sequence[Prediction],
    oos_label: str | None,
    fallback_intent: str = "nlu_fallback",
) -> dict[str, float | None]:
    """The figures of :func:`scores` from what the pipeline itself answered.

    A check that the pipeline applies the rule the bench weighs: at the
    config's thresholds both must agree. ``nlu_fallback`` and the
    out-of-scope label count as falling back.

    Raises:
        ValueError: A prediction without the pipeline's answer.
    """
    if any(prediction.answered is None for prediction in predictions):
        raise ValueError("predictions without the pipeline's own answer")
    gone = {fallback_intent, oos_label}
    in_scope, outside = _split(labels, predictions, oos_label)
    count = len(in_scope)
    return {
        "accuracy": sum(p.first == label for label, p in in_scope) / count,
        "in_scope_accuracy": sum(p.answered == label for label, p in in_scope) / count,
        "oos_recall": sum(p.answered in gone for p in outside) / len(outside)
        if outside
        else None,
        "in_scope_fallback_rate": sum(p.answered in gone for _, p in in_scope) / count,
    }


def read_predictions(path: Path) -> dict[str, tuple[list[str], list[Prediction]]]:
    """A ``bench.nlu.run --predictions`` file: each part's labels and predictions.

    Raises:
        ValueError: A line that is not a parsed message.
    """
    parts: dict[str, tuple[list[str], list[Prediction]]] = {}
    fields = ("first", "confidence", "second_confidence", "similarity", "answered")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            prediction = Prediction(
                **{key: row.get(key) for key in fields},
                penalty=float(row.get("penalty") or 0.0),
            )
            labels, predictions = parts.setdefault(str(row["part"]), ([], []))
            labels.append(str(row["label"]))
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise ValueError(
                f"{path}:{number}: not a parsed message ({error})"
            ) from None
        predictions.append(prediction)
    return parts


def _at_config(predictions: Path, config: Path, oos_label: str) -> int:
    """Print each part's figures at a config's thresholds as JSON; exit status."""
    import yaml

    from bench.nlu.run import combined_threshold, fallback_thresholds
    from bench.nlu.run import similarity_threshold as configured_similarity

    try:
        settings = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        parts = read_predictions(predictions)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"bench.nlu.metrics: {error}", file=sys.stderr)
        return 2
    threshold, ambiguity = fallback_thresholds(settings)
    rule = (
        threshold,
        ambiguity,
        oos_label,
        configured_similarity(settings) or 0.0,
        combined_threshold(settings),
    )
    result: dict[str, object] = {
        "config": str(config),
        "fallback_threshold": rule[0],
        "ambiguity_threshold": rule[1],
        "similarity_threshold": rule[3],
        "combined_threshold": rule[4],
    }
    for part, (labels, predicted) in parts.items():
        result[part] = scores(labels, predicted, *rule)
        if oos_label in labels:
            result[f"{part}_open_intent"] = open_intent_scores(
                labels, predicted, *rule[:2], oos_label, *rule[3:]
            )
    print(json.dumps(result, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.metrics``: a rule weighed on saved predictions."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.nlu.metrics",
        description="Choose thresholds on the valid messages of a bench.nlu.run "
        "--predictions file; print the choice and the test figures as JSON.",
    )
    parser.add_argument("predictions", type=Path)
    parser.add_argument("--oos-label", default="oos")
    parser.add_argument("--ambiguity-threshold", type=float, default=0.1)
    parser.add_argument(
        "--combined",
        action="store_true",
        help="sweep the confidence-plus-similarity threshold",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.0,
        help="with --combined: the confidence threshold kept",
    )
    parser.add_argument(
        "--similarity-threshold",
        type=float,
        help="keep this similarity threshold (default: swept, 0 with --combined)",
    )
    rule = parser.add_mutually_exclusive_group()
    rule.add_argument("--min-in-scope", type=float)
    rule.add_argument("--max-drop", type=float)
    rule.add_argument(
        "--config",
        type=Path,
        help="choose nothing: the figures at this Rasa config's thresholds (its "
        "FallbackClassifier's and out-of-scope component's), e.g. config.yml",
    )
    args = parser.parse_args(argv)
    if args.config is not None:
        return _at_config(args.predictions, args.config, args.oos_label)
    try:
        parts = read_predictions(args.predictions)
        if "valid" not in parts:
            raise ValueError(f"{args.predictions}: no valid messages")
        labels, predictions = parts["valid"]
        chosen = choose_threshold(
            labels,
            predictions,
            args.ambiguity_threshold,
            args.oos_label,
            min_in_scope=args.min_in_scope,
            max_drop=args.max_drop,
            fixed_similarity=args.similarity_threshold,
            combined=args.combined,
            fixed_threshold=args.threshold,
        )
        if chosen is None:
            raise ValueError(f"the valid messages have no {args.oos_label!r} label")
    except (OSError, ValueError) as error:
        print(f"bench.nlu.metrics: {error}", file=sys.stderr)
        return 2
    result: dict[str, object] = {
        "rule": describe_rule(args.min_in_scope, args.max_drop),
        "threshold": chosen.threshold,
        "similarity_threshold": chosen.similarity_threshold,
        "combined_threshold": chosen.combined_threshold,
        "ambiguity_threshold": args.ambiguity_threshold,
        "valid": chosen.figures,
    }
    if "test" in parts:
        result["test"] = scores(
            *parts["test"],
            chosen.threshold,
            args.ambiguity_threshold,
            args.oos_label,
            chosen.similarity_threshold,
            chosen.combined_threshold,
        )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

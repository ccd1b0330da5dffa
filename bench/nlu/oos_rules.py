"""Out-of-scope rules weighed on parsed messages, without training again.

``python -m bench.nlu.run ... --predictions FILE`` writes every parsed
validation and test message's top intent, confidences and similarity to the
nearest intent (:class:`bot.nlu.out_of_scope.OutOfScopeClassifier`). This
module chooses a fallback threshold on the validation messages by a rule and
reports the test figures at it, for two rules the bench does not apply itself
(issue #15, "generalise"):

- the score: the classifier's confidence plus ``weight`` times the similarity
  (``weight`` 0: the confidence alone, as ``FallbackClassifier``); a message
  whose score is below the threshold falls back (and, as Rasa does, one whose
  top two confidences are closer than the ambiguity threshold, or whose top
  intent is the out-of-scope label);
- the rule: ``floor:F`` the highest out-of-scope recall with in-scope accuracy
  of at least F (the bench's ``--min-in-scope``), ``drop:D`` the highest
  out-of-scope recall losing at most D of the validation data's own top-intent
  accuracy, ``mean`` the highest mean of both.

An absolute floor does not carry over between datasets: BANKING77 with
intents held out (:func:`bench.nlu.data.hold_out_intents`) has 93 % top-intent
accuracy, so a 94 % floor is never reached and the rule keeps every answer.
A floor relative to the data's own accuracy states the same cost on both.

``python -m bench.nlu.oos_rules PREDICTIONS.jsonl --weight 1 --rule drop:0.03``
prints the choice and the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The confidence thresholds of the bench's sweep (0.00-0.99).
GRID = np.arange(100) / 100


@dataclass(frozen=True)
class Parsed:
    """One part's parsed messages as arrays."""

    labels: np.ndarray
    first: np.ndarray
    confidence: np.ndarray
    margin: np.ndarray
    similarity: np.ndarray


def read_predictions(path: Path) -> dict[str, Parsed]:
    """The ``--predictions`` JSON lines, by part (``valid``, ``test``).

    Raises:
        ValueError: A message without a similarity (no out-of-scope component).
    """
    rows: dict[str, list[dict[str, object]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.setdefault(str(row["part"]), []).append(row)
    parts = {}
    for part, mine in rows.items():
        if any(row.get("similarity") is None for row in mine):
            raise ValueError(f"{path}: {part} messages without a similarity")
        confidence = np.array([float(row["confidence"]) for row in mine])  # type: ignore[arg-type]
        second = np.array([float(row["second_confidence"]) for row in mine])  # type: ignore[arg-type]
        parts[part] = Parsed(
            np.array([str(row["label"]) for row in mine]),
            np.array([str(row["first"]) for row in mine]),
            confidence,
            confidence - second,
            np.array([float(row["similarity"]) for row in mine]),  # type: ignore[arg-type]
        )
    return parts


def figures(
    parsed: Parsed,
    falls_back: np.ndarray,
    oos_label: str,
    ambiguity_threshold: float = 0.1,
) -> dict[str, float]:
    """In-scope accuracy, out-of-scope recall and in-scope fallback rate."""
    falls = (
        falls_back | (parsed.margin < ambiguity_threshold) | (parsed.first == oos_label)
    )
    out = parsed.labels == oos_label
    if out.all() or not out.any():
        raise ValueError("need in-scope and out-of-scope messages")
    right = (parsed.first == parsed.labels) & ~falls
    return {
        "top_intent_accuracy": float((parsed.first == parsed.labels)[~out].mean()),
        "in_scope_accuracy": float(right[~out].mean()),
        "oos_recall": float(falls[out].mean()),
        "in_scope_fallback_rate": float(falls[~out].mean()),
    }


def score(parsed: Parsed, weight: float) -> np.ndarray:
    """The confidence plus ``weight`` times the similarity."""
    result: np.ndarray = parsed.confidence + weight * parsed.similarity
    return result


def thresholds(valid: Parsed, weight: float) -> np.ndarray:
    """The sweep: :data:`GRID` for the confidence, else 100 quantiles of the scores."""
    if weight == 0:
        return GRID
    values: np.ndarray = np.quantile(score(valid, weight), GRID)
    return values


def choose(
    valid: Parsed,
    weight: float,
    rule: str,
    oos_label: str,
    *,
    similarity_threshold: float | None = None,
    ambiguity_threshold: float = 0.1,
) -> float:
    """The threshold the rule picks on validation messages (ties: the lowest).

    ``similarity_threshold``: messages below it fall back whatever the score
    (the component's learnt threshold). When no threshold meets a floor, the
    one with the highest in-scope accuracy.

    Raises:
        ValueError: An unknown rule.
    """
    kind, _, value = rule.partition(":")
    if kind not in ("floor", "drop", "mean") or (kind != "mean") != bool(value):
        raise ValueError(f"unknown rule {rule!r} (floor:F, drop:D or mean)")
    far = (
        np.zeros(len(valid.labels), bool)
        if similarity_threshold is None
        else valid.similarity < similarity_threshold
    )
    values = score(valid, weight)
    top = float((valid.first == valid.labels)[valid.labels != oos_label].mean())
    floor = float(value) if kind == "floor" else top - float(value or 0)
    best: tuple[tuple[float, float], float] | None = None
    for threshold in thresholds(valid, weight):
        found = figures(
            valid, far | (values < threshold), oos_label, ambiguity_threshold
        )
        accuracy, recall = found["in_scope_accuracy"], found["oos_recall"]
        if kind == "mean":
            key = ((accuracy + recall) / 2, accuracy)
        else:
            key = (recall, accuracy) if accuracy >= floor - 1e-12 else (-1.0, accuracy)
        if best is None or key > best[0]:
            best = (key, float(threshold))
    assert best is not None
    return best[1]


def weigh(
    parts: dict[str, Parsed],
    weight: float,
    rule: str,
    oos_label: str,
    *,
    similarity_threshold: float | None = None,
) -> dict[str, object]:
    """The rule's choice on ``valid`` and the figures on ``valid`` and ``test``."""
    threshold = choose(
        parts["valid"],
        weight,
        rule,
        oos_label,
        similarity_threshold=similarity_threshold,
    )
    result: dict[str, object] = {
        "weight": weight,
        "rule": rule,
        "similarity_threshold": similarity_threshold,
        "threshold": threshold,
    }
    for part in ("valid", "test"):
        parsed = parts[part]
        far = (
            np.zeros(len(parsed.labels), bool)
            if similarity_threshold is None
            else parsed.similarity < similarity_threshold
        )
        result[part] = figures(
            parsed, far | (score(parsed, weight) < threshold), oos_label
        )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.oos_rules``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu.oos_rules")
    parser.add_argument("predictions", type=Path, help="bench.nlu.run --predictions")
    parser.add_argument("--weight", type=float, default=0.0)
    parser.add_argument("--rule", default="drop:0.03")
    parser.add_argument("--oos-label", default="oos")
    parser.add_argument(
        "--similarity-threshold",
        type=float,
        help="also fall back below this similarity (the component's threshold)",
    )
    args = parser.parse_args(argv)
    try:
        parts = read_predictions(args.predictions)
        result = weigh(
            parts,
            args.weight,
            args.rule,
            args.oos_label,
            similarity_threshold=args.similarity_threshold,
        )
    except (OSError, KeyError, ValueError) as error:
        print(f"oos_rules: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

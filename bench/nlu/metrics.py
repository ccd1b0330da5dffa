"""Accuracy and out-of-scope recall from intent rankings, at a fallback threshold.

Rasa's ``FallbackClassifier`` predicts ``nlu_fallback`` when the top intent's
confidence is below ``threshold`` or the top two are closer than
``ambiguity_threshold``. :func:`decide` applies the same rule to the ranking the
intent classifier produced, so one parse of each message gives the figures at
any threshold (the validation sweep of :func:`choose_threshold`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: What :func:`decide` returns for a message the pipeline would not answer.
OUT_OF_SCOPE = "<out of scope>"


@dataclass(frozen=True)
class Prediction:
    """The intent classifier's top two intents for one message."""

    first: str
    confidence: float
    second_confidence: float


def decide(
    prediction: Prediction,
    threshold: float,
    ambiguity_threshold: float,
    oos_label: str | None,
) -> str:
    """The label the pipeline acts on: an intent, or :data:`OUT_OF_SCOPE`."""
    if prediction.confidence < threshold:
        return OUT_OF_SCOPE
    if prediction.confidence - prediction.second_confidence < ambiguity_threshold:
        return OUT_OF_SCOPE
    if oos_label is not None and prediction.first == oos_label:
        return OUT_OF_SCOPE
    return prediction.first


def scores(
    labels: Sequence[str],
    predictions: Sequence[Prediction],
    threshold: float,
    ambiguity_threshold: float,
    oos_label: str | None,
) -> dict[str, float | None]:
    """The figures at one threshold.

    - ``accuracy``: the top intent is right, over the in-scope examples, with
      no fallback (the number BANKING77's papers report).
    - ``in_scope_accuracy``: in-scope examples answered with the right intent
      at this threshold (a fallback counts as wrong; CLINC150's metric).
    - ``oos_recall``: out-of-scope examples the pipeline falls back on
      (``None`` without an out-of-scope label or examples).
    - ``in_scope_fallback_rate``: in-scope examples it falls back on.
    """
    in_scope = [
        (label, prediction)
        for label, prediction in zip(labels, predictions, strict=True)
        if label != oos_label
    ]
    out_of_scope = [
        prediction
        for label, prediction in zip(labels, predictions, strict=True)
        if oos_label is not None and label == oos_label
    ]
    if not in_scope:
        raise ValueError("no in-scope examples to score")
    decided = [
        decide(prediction, threshold, ambiguity_threshold, oos_label)
        for _, prediction in in_scope
    ]
    top_right = sum(prediction.first == label for label, prediction in in_scope) / len(
        in_scope
    )
    answered_right = sum(
        choice == label for choice, (label, _) in zip(decided, in_scope, strict=True)
    ) / len(in_scope)
    fallback = sum(choice == OUT_OF_SCOPE for choice in decided) / len(in_scope)
    recall = (
        sum(
            decide(prediction, threshold, ambiguity_threshold, oos_label)
            == OUT_OF_SCOPE
            for prediction in out_of_scope
        )
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


def choose_threshold(
    labels: Sequence[str],
    predictions: Sequence[Prediction],
    ambiguity_threshold: float,
    oos_label: str | None,
) -> tuple[float, dict[str, float | None]] | None:
    """The fallback threshold that serves validation data best.

    The rule: the threshold in 0.00, 0.01, ..., 0.99 with the highest mean of
    in-scope accuracy and out-of-scope recall on the validation examples (both
    kinds of mistake weigh the same); the lowest such threshold on a tie.

    Returns:
        The threshold and its validation figures, or ``None`` when the
        validation data has no out-of-scope examples to weigh against.
    """
    best: tuple[float, float, dict[str, float | None]] | None = None
    for step in range(100):
        threshold = step / 100
        figures = scores(labels, predictions, threshold, ambiguity_threshold, oos_label)
        recall = figures["oos_recall"]
        in_scope = figures["in_scope_accuracy"]
        if recall is None or in_scope is None:
            return None
        balanced = (in_scope + recall) / 2
        if best is None or balanced > best[1] + 1e-12:
            best = (threshold, balanced, figures)
    assert best is not None
    return best[0], best[2]

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

Two rules choose: the highest mean of in-scope accuracy and out-of-scope
recall (both kinds of mistake weigh the same), or, with ``min_in_scope``, the
highest out-of-scope recall among the settings whose in-scope accuracy
reaches that floor (a target such as CLINC150's "in-scope accuracy at least
92 %", given a margin for the difference between validation and test data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Choice:
    """The thresholds chosen on validation data, and the figures there."""

    threshold: float
    similarity_threshold: float
    figures: dict[str, float | None]


def decide(
    prediction: Prediction,
    threshold: float,
    ambiguity_threshold: float,
    oos_label: str | None,
    similarity_threshold: float = 0.0,
) -> str:
    """The label the pipeline acts on: an intent, or :data:`OUT_OF_SCOPE`."""
    if prediction.similarity is not None and (
        prediction.similarity < similarity_threshold
    ):
        return OUT_OF_SCOPE
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
    similarity_threshold: float = 0.0,
) -> dict[str, float | None]:
    """The figures at one threshold (and similarity threshold).

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
        decide(
            prediction, threshold, ambiguity_threshold, oos_label, similarity_threshold
        )
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
            decide(
                prediction,
                threshold,
                ambiguity_threshold,
                oos_label,
                similarity_threshold,
            )
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


def _better(key: tuple[float, float], than: tuple[float, float]) -> bool:
    """Whether ``key`` beats ``than`` by more than rounding (first, then second)."""
    if key[0] > than[0] + 1e-12:
        return True
    return abs(key[0] - than[0]) <= 1e-12 and key[1] > than[1] + 1e-12


#: The thresholds the validation sweep tries: 0.00, 0.01, ..., 0.99.
GRID = tuple(step / 100 for step in range(100))


def choose_threshold(
    labels: Sequence[str],
    predictions: Sequence[Prediction],
    ambiguity_threshold: float,
    oos_label: str | None,
    *,
    min_in_scope: float | None = None,
    fixed_similarity: float | None = None,
) -> Choice | None:
    """The fallback threshold(s) that serve validation data best.

    The rule: the threshold in :data:`GRID` with the highest mean of in-scope
    accuracy and out-of-scope recall on the validation examples (both kinds
    of mistake weigh the same); the lowest such threshold on a tie. With
    ``min_in_scope``: the highest out-of-scope recall among the thresholds
    whose in-scope accuracy is at least ``min_in_scope`` (ties: the highest
    in-scope accuracy, then the lowest thresholds); when none reaches it,
    the highest in-scope accuracy. When the predictions carry similarities
    (an out-of-scope component), every pair of a confidence threshold and a
    similarity threshold in :data:`GRID` is tried (ties: the lowest
    confidence threshold, then the lowest similarity threshold), or only
    ``fixed_similarity`` when given (a threshold the component learnt);
    otherwise the similarity threshold is 0.

    Returns:
        The thresholds and their validation figures, or ``None`` when the
        validation data has no out-of-scope examples to weigh against.
    """
    if oos_label is None or oos_label not in labels:
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
    if fixed_similarity is not None:
        similarity_grid = np.array((fixed_similarity,))
    else:
        similarity_grid = np.array(GRID if sweep else (0.0,))
    # One row per message, one column per similarity threshold.
    far = similarity[:, None] < similarity_grid[None, :]
    right = (first == truth)[~out]
    best: tuple[tuple[float, float], float, float] | None = None
    for threshold in GRID:
        unsure = (
            (confidence < threshold)
            | (margin < ambiguity_threshold)
            | (first == oos_label)
        )
        falls_back = far | unsure[:, None]
        in_scope = (~falls_back[~out] & right[:, None]).mean(axis=0)
        recall = falls_back[out].mean(axis=0)
        if min_in_scope is None:
            keys = [(float(value), 0.0) for value in (in_scope + recall) / 2]
        else:
            # Reaching the floor first, then recall, then in-scope accuracy.
            keys = [
                (float(recall_at), float(in_scope_at))
                if in_scope_at >= min_in_scope - 1e-12
                else (-1.0, float(in_scope_at))
                for recall_at, in_scope_at in zip(recall, in_scope, strict=True)
            ]
        column = max(range(len(keys)), key=lambda index: (keys[index], -index))
        key = keys[column]
        if best is None or _better(key, best[0]):
            best = (key, threshold, float(similarity_grid[column]))
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
        ),
    )

"""How much to set aside, learnt from unknown intents simulated among known ones.

Open intent classification (issue #15) chooses a threshold with no open
messages at hand: the literature's development splits hold the known
intents only. A fixed allowance (``--max-drop 0.03``: set aside whatever
loses 3 points of their accuracy) takes the same share on every dataset,
however near the unknown intents lie. Here the data says how much: the known
intents are split into ``groups``; by turns one group is left out of
training, and the validation examples of that group play the open class,
the rest's the known ones. Each turn's setting is weighed over a common
grid by the macro F1 of its known intents and its open class (the
open-intent literature's own figure; with ``groups`` turns the open class is
about 1 / ``groups`` of the messages, a quarter with 4); the share of
in-scope validation messages set aside at the best, averaged over turns, is
what the full model then sets aside of its own known validation messages
(:func:`bench.nlu.metrics.choose_threshold`'s ``set_aside``). The shares
two other criteria would choose (the mean of in-scope accuracy and open
recall, and Youden's J) are computed beside it; weighed on validation by
:mod:`bench.nlu.open_probe`, they catch more near-domain unknown intents
but set aside about 15 % of the known messages on CLINC150 as well, where
the macro F1 criterion keeps in-scope accuracy at 93 %.

The turns run a replica of the linear pipeline in numpy and scikit-learn
(the replica of :mod:`bench.nlu.oos_probe`: the sentence vectors the
featurizer computes, the logistic regression as Rasa configures it, the
out-of-scope component's confidence + nearest training example minus novelty
score), so that ``groups`` more models cost seconds, not ``groups`` more Rasa
trainings. Only the share crosses over: the threshold itself is taken from
the pipeline's own validation parses. Weighed on validation splits only by
:mod:`bench.nlu.open_probe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.nlu.data import DataError, Example

#: Quantiles of the pooled scores the simulation sweeps (0 to 0.99).
LEVELS = np.linspace(0.0, 0.99, 199)


@dataclass(frozen=True)
class Replica:
    """What the replica copies from a config."""

    scale: float
    max_iter: int
    ambiguity: float
    novelty_weight: float

    @classmethod
    def of(cls, config: dict[str, Any]) -> Replica:
        """The replica's settings, for a config of the linear pipeline.

        Raises:
            DataError: A config the replica does not copy.
        """
        parts = {part.get("name"): part for part in config.get("pipeline") or []}
        featurizer = parts.get("bot.nlu.sentence_features.SentenceFeaturizer")
        classifier = parts.get(
            "bot.nlu.dense_logistic.DenseLogisticRegressionClassifier"
        ) or parts.get("LogisticRegressionClassifier")
        component = parts.get("bot.nlu.out_of_scope.OutOfScopeClassifier")
        if (
            featurizer is None
            or classifier is None
            or component is None
            or component.get("combined_threshold") is None
            or component.get("neighbours") != 1
        ):
            raise DataError(
                "--simulated-open copies the linear pipeline: the sentence "
                "featurizer, a logistic regression classifier and the "
                "out-of-scope component with neighbours: 1 and a "
                "combined_threshold (bench/nlu/configs/linear-dense-knn*.yml)"
            )
        fallback = parts.get("FallbackClassifier") or {}
        return cls(
            float(featurizer.get("scale", 1.0)),
            int(classifier.get("max_iter", 100)),
            float(fallback.get("ambiguity_threshold", 0.1)),
            float(component.get("novelty_weight", 0.0)),
        )


@dataclass
class Scored:
    """Each message's top intent, whether it falls back anyway, and its score."""

    first: np.ndarray
    unsure: np.ndarray
    score: np.ndarray

    def falls(self, threshold: float) -> np.ndarray:
        """Which messages fall back at a combined threshold."""
        result: np.ndarray = self.unsure | (self.score < threshold)
        return result

    def part(self, rows: np.ndarray) -> Scored:
        """These rows only."""
        return Scored(self.first[rows], self.unsure[rows], self.score[rows])


class Vectors:
    """Texts' sentence vectors (unit length, as the featurizer computes them)."""

    def __init__(self, index: dict[str, int], vectors: np.ndarray) -> None:
        """Vectors by text."""
        self.index = index
        self.vectors = vectors

    @classmethod
    def encode(cls, texts: Sequence[str]) -> Vectors:
        """Encode the texts once with the shared encoder."""
        from bot.knowledge.embedding import shared_encoder
        from bot.nlu.sentence_features import spelled_out

        unique = sorted(set(texts))
        # The encoder's rows are unit length already.
        vectors = shared_encoder().encode([spelled_out(t) for t in unique], cache=False)
        return cls(
            {text: row for row, text in enumerate(unique)}, vectors.astype(float)
        )

    def of(self, examples: Sequence[Example]) -> np.ndarray:
        """The examples' vectors."""
        return self.vectors[[self.index[e.text] for e in examples]]


def logistic_regression(max_iter: int) -> Any:
    """scikit-learn's estimator as Rasa's ``LogisticRegressionClassifier`` sets it."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        solver="lbfgs",
        max_iter=max_iter,
        class_weight="balanced",
        tol=1e-4,
        random_state=42,
    )


def scored(
    replica: Replica,
    train: Sequence[Example],
    probe: Sequence[Example],
    vectors: Vectors,
    oos_label: str | None = None,
) -> Scored:
    """The replica trained on ``train`` and applied to ``probe``.

    A message whose top intent is ``oos_label`` falls back at any threshold,
    and that class's examples are not anyone's nearest (the component's
    ``exclude_intents``).
    """
    from bot.nlu.out_of_scope import Vocabulary

    labels = np.array([e.label for e in train])
    bank = vectors.of(train)
    model = logistic_regression(replica.max_iter)
    model.fit(bank * replica.scale, labels)
    bank = bank[labels != oos_label]
    rows = vectors.of(probe)
    probabilities = model.predict_proba(rows * replica.scale)
    order = np.argsort(-probabilities, axis=1, kind="stable")
    index = np.arange(len(rows))
    top = probabilities[index, order[:, 0]]
    margin = top - probabilities[index, order[:, 1]]
    first = model.classes_[order[:, 0]]
    nearest = np.concatenate(
        [
            (rows[start : start + 1024] @ bank.T).max(axis=1)
            for start in range(0, len(rows), 1024)
        ]
    )
    texts: dict[str, list[str]] = {}
    for example in train:
        if example.label != oos_label:
            texts.setdefault(example.label, []).append(example.text)
    vocabulary = Vocabulary.learn([e.text for e in train], texts)
    novelty = np.array(
        [vocabulary.novelty(e.text, str(f)) for e, f in zip(probe, first, strict=True)]
    )
    score = top + nearest - replica.novelty_weight * novelty
    return Scored(first, (margin < replica.ambiguity) | (first == oos_label), score)


def check_groups(groups: int, intents: int) -> None:
    """Refuse groups the known intents cannot fill.

    Raises:
        DataError: Fewer than 2 groups, or a turn would keep fewer than two
            intents (the largest group is ``ceil(intents / groups)``).
    """
    if groups < 2 or intents - -(-intents // groups) < 2:
        raise DataError(
            f"--simulated-open {groups}: needs at least 2 groups, and enough "
            f"known intents that each turn keeps two ({intents} known)"
        )


def turns(
    replica: Replica,
    train: Sequence[Example],
    valid: Sequence[Example],
    vectors: Vectors,
    groups: int,
    seed: int,
    oos_label: str | None = None,
) -> list[tuple[Scored, np.ndarray]]:
    """Each turn's scored validation messages and their truth (left out: open).

    ``oos_label``'s training examples are never left out.

    Raises:
        DataError: Too few intents for the groups (every turn must keep two).
    """
    intents = sorted({e.label for e in train} - {oos_label})
    check_groups(groups, len(intents))
    order = np.random.default_rng(2000 + seed).permutation(len(intents))
    result = []
    for group in range(groups):
        left = {intents[i] for i in order[group::groups]}
        kept = [e for e in train if e.label not in left]
        truth = np.array([OPEN if e.label in left else e.label for e in valid])
        result.append((scored(replica, kept, valid, vectors, oos_label), truth))
    return result


#: The open class's label inside the simulation.
OPEN = "\x00open"


#: The criteria the simulation can choose by, and the one the rule uses.
CRITERIA = ("macro_f1", "balanced", "youden")
CRITERION = "macro_f1"


def chosen_shares(simulated: list[tuple[Scored, np.ndarray]]) -> dict[str, float]:
    """The share of in-scope messages the simulation sets aside at its best.

    One share per criterion of :data:`CRITERIA`: ``macro_f1``, the highest
    macro F1 over each turn's known intents and its open class (the rule:
    with ``groups`` turns the open class is about 1 / ``groups`` of the
    messages); ``balanced``, the highest mean of in-scope accuracy and open
    recall; ``youden``, open recall minus the in-scope fallback rate. The
    thresholds swept are the pooled scores' quantiles; each turn weighs the
    same.
    """
    pooled = np.concatenate([s.score for s, _ in simulated])
    grid = np.unique(np.quantile(pooled, LEVELS))
    values = {criterion: np.zeros(len(grid)) for criterion in CRITERIA}
    shares = np.zeros(len(grid))
    for s, truth in simulated:
        out = truth == OPEN
        for column, threshold in enumerate(grid):
            fell = s.falls(threshold)
            set_aside = fell[~out].mean()
            recall = fell[out].mean()
            shares[column] += set_aside / len(simulated)
            in_scope = ((s.first == truth) & ~fell)[~out].mean()
            values["balanced"][column] += (in_scope + recall) / 2
            values["youden"][column] += recall - set_aside
            guessed = np.where(fell, OPEN, s.first)
            values["macro_f1"][column] += _macro_f1(truth, guessed)
    return {
        criterion: float(shares[int(np.argmax(values[criterion]))])
        for criterion in CRITERIA
    }


def _macro_f1(truth: np.ndarray, guessed: np.ndarray) -> float:
    f1s = []
    for name in np.unique(truth):
        hits = np.sum((truth == name) & (guessed == name))
        total = np.sum(guessed == name) + np.sum(truth == name)
        f1s.append(0.0 if hits == 0 else 2 * hits / total)
    return float(np.mean(f1s))


def simulated_shares(
    config: dict[str, Any],
    train: Sequence[Example],
    valid: Sequence[Example],
    groups: int,
    seed: int,
    oos_label: str | None = None,
) -> dict[str, float]:
    """The share of known validation messages to set aside, by criterion.

    ``train``: the training examples (``oos_label``'s, if any, stay in
    training as their own class, which falls back, and are never left out);
    ``valid``: the known intents' validation examples.

    Raises:
        DataError: A config the replica does not copy, too few intents, or
            out-of-scope validation examples.
    """
    if oos_label is not None and any(e.label == oos_label for e in valid):
        raise DataError(
            "the simulation chooses on the known intents' validation examples "
            f"only: the validation data has {oos_label!r} examples"
        )
    replica = Replica.of(config)
    vectors = Vectors.encode([e.text for e in list(train) + list(valid)])
    simulated = turns(replica, train, valid, vectors, groups, seed, oos_label)
    return chosen_shares(simulated)

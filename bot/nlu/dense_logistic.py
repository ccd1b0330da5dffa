"""Rasa's logistic-regression intent classifier, predicting from the features directly.

Rasa's ``LogisticRegressionClassifier`` builds a sparse matrix for every
parsed message (each message's sparse and dense sentence features stacked
with ``scipy.sparse``, even when there are only the 896 dense numbers of
:class:`bot.nlu.sentence_features.SentenceFeaturizer`), lets scikit-learn
validate it and ranks every intent in Python: 1.2-1.8 ms of CPU per parse,
an eighth to a sixth of a linear parse
(``bench/results/nlu-encoder-2026-12-04c.json`` and ``-04d.json``).
:class:`DenseLogisticRegressionClassifier` is that classifier with another
``process``: the same training (Rasa's own: the same matrix, the same
scikit-learn model, stored the same way) and the same configuration, and at
parse time the fitted weights applied to the feature row in numpy, with
scikit-learn's formulas for the probabilities. The intents come out in the
same order with the same confidences, to float64 rounding
(``tests/bot/nlu/test_dense_logistic.py``), for 0.2 ms per parse.

The scores are a product of the row with the weights, done with ``einsum``'s
own loop, not ``@``: one message's product is large enough to wake
OpenBLAS's second thread, which then spins through the rest of the parse
(see :mod:`bot.nlu.out_of_scope`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier,
)
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from scipy.special import expit
from sklearn.exceptions import NotFittedError
from sklearn.utils.extmath import softmax
from sklearn.utils.validation import check_is_fitted

logger = logging.getLogger(__name__)


class FeatureMismatch(RasaException):
    """A message's features are not the ones the classifier was trained on."""


@dataclass(frozen=True)
class LinearModel:
    """A fitted ``LogisticRegression``'s weights, as its ``predict_proba`` uses them.

    Attributes:
        intents: The classes, in the model's order.
        weights: One row of float64 weights per score (one row for two
            classes).
        intercepts: The scores' intercepts.
        one_vs_rest: Whether the probabilities are the logistic function of
            each score, normalised (scikit-learn's one-vs-rest rule), rather
            than the softmax of the scores.
    """

    intents: list[str]
    weights: np.ndarray
    intercepts: np.ndarray
    one_vs_rest: bool

    @classmethod
    def of(cls, fitted: Any) -> LinearModel:
        """The weights of a fitted ``sklearn.linear_model.LogisticRegression``.

        Raises:
            NotFittedError: It is not fitted.
        """
        check_is_fitted(fitted)
        # scikit-learn's rule in LogisticRegression.predict_proba.
        one_vs_rest = fitted.multi_class in ("ovr", "warn") or (
            fitted.multi_class == "auto"
            and (fitted.classes_.size <= 2 or fitted.solver == "liblinear")
        )
        return cls(
            intents=[str(name) for name in fitted.classes_],
            weights=np.ascontiguousarray(fitted.coef_, dtype=np.float64),
            intercepts=np.ascontiguousarray(fitted.intercept_, dtype=np.float64),
            one_vs_rest=one_vs_rest,
        )

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """Each row's probability of each intent (rows by intents).

        Raises:
            FeatureMismatch: The rows are not as long as the weights.
        """
        if rows.shape[1] != self.weights.shape[1]:
            raise FeatureMismatch(
                f"the messages have {rows.shape[1]} sentence features, but the "
                f"intent classifier was trained on {self.weights.shape[1]}: "
                "retrain the model with the same featurizers"
            )
        scores = np.einsum("ij,kj->ik", rows, self.weights) + self.intercepts
        if self.one_vs_rest:
            expit(scores, out=scores)
            if scores.shape[1] == 1:
                return np.hstack([1.0 - scores, scores])
            normalised: np.ndarray = scores / scores.sum(axis=1, keepdims=True)
            return normalised
        if scores.shape[1] == 1:
            scores = np.hstack([-scores, scores])
        probabilities: np.ndarray = softmax(scores, copy=False)
        return probabilities


def sentence_row(message: Message) -> np.ndarray | None:
    """The features Rasa's classifier reads for a message, as one float64 row.

    Its sparse sentence features, then its dense ones, each in the order the
    featurizers added them (``Message.get_sparse_features`` and
    ``get_dense_features``, without their copies); ``None`` without any.
    """
    sparse, dense = [], []
    for feature in message.features:
        if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE:
            continue
        if feature.is_sparse():
            sparse.append(feature.features.toarray())
        else:
            dense.append(feature.features)
    parts = sparse + dense
    if not parts:
        return None
    row: np.ndarray = np.concatenate(parts, axis=1, dtype=np.float64)
    return row


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class DenseLogisticRegressionClassifier(LogisticRegressionClassifier):
    """``LogisticRegressionClassifier`` that predicts without the sparse matrix.

    Configured, trained and stored as Rasa's (``max_iter``, ``solver``,
    ``tol``, ``random_state``, ``ranking_length``); only :meth:`process`
    differs.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """A dense featurizer (e.g. the sentence embedding) must run first."""
        return [DenseFeaturizer]

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        #: The fitted weights, read from the estimator at the first parse.
        self._model: LinearModel | None = None

    def train(self, training_data: TrainingData) -> Resource:
        """Train as Rasa's classifier does (the same matrix and estimator)."""
        resource = super().train(training_data)
        self._model = None
        return resource

    def _fitted(self) -> LinearModel | None:
        model = self._model
        if model is None:
            try:
                model = LinearModel.of(self.clf)
            except NotFittedError:
                return None
            self._model = model
        return model

    def process(self, messages: list[Message]) -> list[Message]:
        """Set each message's intent and ranking as Rasa's classifier would.

        A message without sentence features (no text) is left alone, as is
        every message when the classifier was not trained (no intent
        examples).

        Raises:
            FeatureMismatch: The features are not as many as at training.
        """
        model = self._fitted()
        if model is None:
            logger.warning(
                "%s is not trained: no intent predicted", self.__class__.__name__
            )
            return messages
        rows = [(message, sentence_row(message)) for message in messages]
        featurized = [(message, row) for message, row in rows if row is not None]
        if not featurized:
            return messages
        probabilities = model.probabilities(np.vstack([row for _, row in featurized]))
        length = int(self.config[RANKING_LENGTH])
        for (message, _), scores in zip(featurized, probabilities, strict=True):
            # Rasa sorts by confidence with a stable sort: ties keep the
            # classes' order, as here.
            order = np.argsort(-scores, kind="stable")
            if length > 0:
                order = order[:length]
            ranking = [
                {
                    INTENT_NAME_KEY: model.intents[index],
                    PREDICTED_CONFIDENCE_KEY: float(scores[index]),
                }
                for index in order
            ]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

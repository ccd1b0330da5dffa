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

**One sentence of several** (``sentence_intents``, off by default): a
message of several sentences ("Is this a bot? I'd rather speak with a real
person.") is also classified sentence by sentence, from the features
:class:`bot.nlu.sentence_features.SentenceFeaturizer` keeps with
``split_sentences``. When one sentence is one of ``sentence_intents`` at
that intent's confidence or more, the message gets that sentence's intent
and ranking, unless the message's own intent comes earlier in
``sentence_priority``, or is the same intent and as sure (someone in
danger is not turned into a request for a person by "sorry, I just need
to tell someone"). The message's parse says so under
``sentence_intent`` (the sentence, the intent, its confidence and the whole
message's confidence of it). Whole messages read as one vector
lose such a sentence among the others: the bot question outweighed the
request (bot_challenge 0.75 against request_human 0.25), and "lately i
just feel like disappearing. sorry, not really a lumen question" read as a
service question (the first sentence alone: person_in_danger 0.74).

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

from bot.nlu.decision import MESSAGE_CONFIDENCE_KEY, SENTENCE_INTENT_KEY
from bot.nlu.sentence_features import SENTENCES_KEY

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

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's, and the sentence rule (off: no ``sentence_intents``).

        ``sentence_intents`` maps an intent to the confidence one sentence
        needs for the whole message to take it; ``sentence_priority`` lists
        intents from the most urgent: a message's own intent listed earlier
        than the sentence's, or the same intent as sure, is kept.
        """
        return {
            **LogisticRegressionClassifier.get_default_config(),
            "sentence_intents": {},
            "sentence_priority": [],
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Confidences between 0 and 1, priorities a list of names.

        Raises:
            ValueError: A setting is not as described.
        """
        wanted = config.get("sentence_intents") or {}
        if not isinstance(wanted, dict) or not all(
            isinstance(name, str)
            and isinstance(value, (int, float))
            and 0.0 < value <= 1.0
            for name, value in wanted.items()
        ):
            raise ValueError(
                "DenseLogisticRegressionClassifier: sentence_intents maps intent "
                f"names to confidences in (0, 1], not {wanted!r}"
            )
        priority = config.get("sentence_priority") or []
        if not isinstance(priority, list) or not all(
            isinstance(name, str) for name in priority
        ):
            raise ValueError(
                "DenseLogisticRegressionClassifier: sentence_priority is a list "
                f"of intent names, not {priority!r}"
            )

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.validate_config(config)
        #: The fitted weights, read from the estimator at the first parse.
        self._model: LinearModel | None = None
        self._sentence_intents = {
            str(name): float(value)
            for name, value in (config.get("sentence_intents") or {}).items()
        }
        priority = [str(name) for name in config.get("sentence_priority") or []]
        self._urgency = {name: rank for rank, name in enumerate(priority)}

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
        for (message, row), scores in zip(featurized, probabilities, strict=True):
            ranking = self._ranking(model, scores)
            taken = self._sentence(model, message, row.shape[1], scores)
            if taken is not None:
                ranking, record = taken
                message.set(SENTENCE_INTENT_KEY, record, add_to_output=True)
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def _ranking(self, model: LinearModel, scores: np.ndarray) -> list[dict[str, Any]]:
        """Rasa's ranking of one row's probabilities."""
        length = int(self.config[RANKING_LENGTH])
        # Rasa sorts by confidence with a stable sort: ties keep the classes'
        # order, as here.
        order = np.argsort(-scores, kind="stable")
        if length > 0:
            order = order[:length]
        return [
            {
                INTENT_NAME_KEY: model.intents[index],
                PREDICTED_CONFIDENCE_KEY: float(scores[index]),
            }
            for index in order
        ]

    def _sentence(
        self, model: LinearModel, message: Message, width: int, scores: np.ndarray
    ) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
        """The ranking of the sentence whose intent the message takes, if one.

        ``None`` when the rule is off, the message has one sentence, its
        sentences' features are not the message's kind (other featurizers
        add sparse ones), no sentence is sure enough of a listed intent, or
        the message's own intent is more urgent, or the same and as sure.
        """
        parts = message.get(SENTENCES_KEY) if self._sentence_intents else None
        if not parts or any(row.shape[1] != width for _, row in parts):
            return None
        rows = np.vstack([row for _, row in parts]).astype(np.float64)
        probabilities = model.probabilities(rows)
        last = len(self._urgency)
        candidates = []
        for number, sentence_scores in enumerate(probabilities):
            best = int(np.argmax(sentence_scores))
            name = model.intents[best]
            confidence = float(sentence_scores[best])
            if confidence >= self._sentence_intents.get(name, 2.0):
                urgency = self._urgency.get(name, last)
                candidates.append((urgency, -confidence, number, best))
        if not candidates:
            return None
        urgency, negative, number, best = min(candidates)
        name = model.intents[best]
        confidence = -negative
        own = model.intents[int(np.argmax(scores))]
        if self._urgency.get(own, last + 1) < urgency or (
            own == name and float(scores[best]) >= confidence
        ):
            # The message is more urgent, or as sure of the same intent: its
            # own ranking stands. Less sure of the same intent (a request
            # for a person tied with the bot question before it, so that
            # the fallback would ask), the sentence's ranking decides.
            return None
        record = {
            "text": parts[number][0],
            INTENT_NAME_KEY: name,
            PREDICTED_CONFIDENCE_KEY: confidence,
            MESSAGE_CONFIDENCE_KEY: float(scores[best]),
        }
        return self._ranking(model, probabilities[number]), record

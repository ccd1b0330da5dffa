"""Out-of-scope detection by meaning: a message far from every intent falls back.

DIET's confidence is a softmax over the intents it knows, so a message about
something else entirely can still get a confident intent ("what is the
capital of France" -> some intent at 0.8). :class:`OutOfScopeClassifier`
keeps, for each intent, the mean direction of its training examples'
sentence embeddings (:mod:`bot.knowledge.embedding`, the vectors
:class:`bot.nlu.sentence_features.SentenceFeaturizer` gives DIET); a parsed
message whose cosine to the nearest of those is below ``threshold`` gets
``nlu_fallback``, as Rasa's ``FallbackClassifier`` sets it for low confidence.

The threshold is either fixed (``threshold``) or learnt from the training
data alone (``fallback_rate``): each in-scope training example is compared
with the mean directions computed without it (leave one out), and the
threshold is the similarity below which that fraction of them falls. No
out-of-scope examples and no validation data are needed, so the same setting
carries over to data that has none (BANKING77, the project's own
``data/nlu``): it says how many in-scope messages the check may cost, not a
cosine that depends on how close the intents are. On CLINC150 (issue #15) the
rate learnt on ``train`` matched ``val``: 2 % on training examples, 2.3 % of
validation in-scope messages below the threshold (0.455).

A second rule weighs both signals (``combined_threshold``): the message falls
back when the intent classifier's confidence in its top intent plus the
similarity is below it. A message the classifier is sure of may sit a little
far from its intent's examples, and a near one may be unsure between two
intents; either alone is weak evidence, both together are stronger. Chosen on
validation data only (:func:`bench.nlu.metrics.choose_threshold`, the
highest out-of-scope recall losing at most 3 points of the validation data's
own top-intent accuracy), it held from CLINC150 to BANKING77 with intents
held out, where the similarity threshold alone or a floor on in-scope
accuracy did not (issue #15: CLINC150 test 93.29 % in-scope / 88.00 %
out-of-scope recall, BANKING77 with 10 intents held out 90.53 % / 56.55 %
over five held-out sets; ``bench/results/nlu-oos-combined-2026-12-05.json``).

With ``neighbours`` k the similarity is the cosine to the k-th nearest
in-scope training example instead (a k-nearest-neighbour distance, Sun et al.
2022, "Out-of-distribution detection with deep nearest neighbors"): a
message about a topic next to the known ones can sit near an intent's mean
yet far from every one of its examples. Weighed on validation splits only
(``bench/results/nlu-oos-knn-probe-2026-12-05.json``), confidence plus the
nearest example's cosine (k = 1) caught more held-out BANKING77 intents at
the same rule (58.0 % against 53.9 % of validation out-of-scope messages,
higher on each of five held-out sets) with CLINC150 unchanged; larger k did
worse. Every in-scope training example's vector is kept in the model
(896 float32 numbers each) and compared at every parse.

With ``novelty_weight`` w the combined rule also weighs the message's words:
its novelty is the share of its words (each weighed by its inverse document
frequency in the training examples, a word never seen weighing most) that no
training example of its top intent uses, and the message falls back when
confidence + similarity - w * novelty is below ``combined_threshold``. A
message about a topic next to the known ones ("my card got swallowed by the
ATM" when no intent is about that) can mean nearly what a known intent means
to the sentence encoder while naming what that intent's examples never do.
Weighed on validation splits only (issue #15,
``bench/results/nlu-oos-novelty-probe-2026-12-05.json``), w = 0.5 caught
more held-out BANKING77 intents at the same rule (61.0 % against 58.0 % of
validation out-of-scope messages, higher on four of five held-out sets),
CLINC150's validation in-scope accuracy and recall 94.2 % / 93 % (was
93.9 % / 93 %). On test, once (``bench/results/nlu-oos-novelty-2026-12-05.json``):
BANKING77 held out 58.75 -> 62.15 % out-of-scope recall over five sets
(in scope 90.40 -> 90.25 %), CLINC150 93.56 % / 89.70 % (was 93.51 % /
89.00 %). The words of each intent's examples and every word's document
frequency are kept in the model.

The similarity (and the thresholds) go into the parse data (``out_of_scope``)
whether or not the message falls back, so a benchmark can weigh other
thresholds from one parse (:mod:`bench.nlu.metrics`). On CLINC150's
validation split the nearest mean direction separated out-of-scope queries
about as well as the mean of the 5 nearest training examples, a Mahalanobis
distance or the classifier's energy (and costs 150 products instead of
15,000); ``bench/results/nlu-clinc150-*.json`` has the figures.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.embedding import SentenceEncoder, shared_encoder
from bot.nlu.sentence_features import check_encoder, encoder_directory, fingerprint

#: The parse data's key for the similarity and the nearest intent.
PARSE_KEY = "out_of_scope"
#: The files in the model's storage.
CENTROIDS_FILE = "centroids.npy"
INTENTS_FILE = "intents.json"
#: The training examples' vectors (``neighbours``) and their intents' rows.
EXAMPLES_FILE = "examples.npy"
EXAMPLE_INTENTS_FILE = "example_intents.npy"
#: The training examples' words (``novelty_weight``).
VOCABULARY_FILE = "vocabulary.json"
#: A word, as the novelty counts words: letters and digits of any script.
_WORD = re.compile(r"\w+")


class OutOfScopeConfigError(RasaException):
    """The component's configuration cannot be used."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class OutOfScopeClassifier(GraphComponent, IntentClassifier):
    """Predicts ``nlu_fallback`` for messages unlike every intent's examples."""

    @classmethod
    def required_components(cls) -> list[type]:
        """None: it trains on the examples' texts alone.

        It belongs after the intent classifier, whose intent it may replace
        (Rasa runs the components in the config's order); asking for one here
        would fail, as Rasa checks that in the training graph too.
        """
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the defaults.

        ``threshold``: the cosine to the nearest intent's mean direction below
        which a message falls back (0 never does); ``combined_threshold``:
        when set (a number in [0, 2]), a message also falls back when its
        top intent's confidence plus that cosine is below it (empty: no
        such rule); ``fallback_rate``: when
        set (a fraction in (0, 0.5]), the threshold is learnt at training
        instead: the cosine below which this fraction of the in-scope training
        examples falls, each compared with the directions made without it
        (``threshold`` is then unused); ``neighbours``: 0 compares a
        message with each intent's mean direction; k >= 1 with the training
        examples themselves, the similarity being the cosine to the k-th
        nearest (every in-scope example's vector is kept in the model; not
        with ``fallback_rate``); ``novelty_weight``: with
        ``combined_threshold``, how much the share of the message's words
        that its top intent's examples never use (weighed by inverse
        document frequency) lowers its score (0: not at all; see the
        module's docstring); ``exclude_intents``:
        intents whose examples are out of scope themselves (CLINC150's
        ``oos``, the project's ``out_of_scope``), given no direction; a
        message the intent classifier gave one keeps it; ``model``: the
        encoder's directory (empty: ``BATON_EMBEDDING_MODEL`` or
        ``models/all-MiniLM-L6-v2``).
        """
        return {
            "threshold": 0.5,
            "combined_threshold": None,
            "fallback_rate": None,
            "neighbours": 0,
            "novelty_weight": 0.0,
            "exclude_intents": [],
            "model": "",
        }

    def __init__(
        self,
        config: dict[str, Any],
        encoder: SentenceEncoder,
        directory: Path,
        model_storage: ModelStorage,
        resource: Resource,
        intents: list[str] | None = None,
        centroids: np.ndarray | None = None,
        threshold: float | None = None,
    ) -> None:
        self.component_config = config
        self.encoder = encoder
        self.directory = directory
        self._model_storage = model_storage
        self._resource = resource
        self.intents = intents or []
        self.centroids = (
            centroids
            if centroids is not None
            else np.zeros((0, encoder.dimension), dtype=np.float32)
        )
        #: The threshold in use: learnt at training or loaded with the model
        #: (``fallback_rate``), else the configured one.
        self.threshold = (
            float(config["threshold"]) if threshold is None else float(threshold)
        )
        combined = config.get("combined_threshold")
        #: The confidence-plus-similarity threshold (``None``: not used).
        self.combined_threshold = None if combined is None else float(combined)
        #: Compared with the k-th nearest training example (0: the means).
        self.neighbours = int(config.get("neighbours") or 0)
        #: The in-scope training examples' unit vectors (``neighbours``).
        self.examples = np.zeros((0, encoder.dimension), dtype=np.float32)
        #: Each example's intent, as its row in :attr:`intents`.
        self.example_intents = np.zeros(0, dtype=np.int32)
        #: How much the novelty lowers the combined score (0: not computed).
        self.novelty_weight = float(config.get("novelty_weight") or 0.0)
        #: The training examples' words (``novelty_weight``).
        self.vocabulary: Vocabulary | None = None
        #: Intents whose examples are out of scope themselves: no direction,
        #: and a message already given one is left as it is.
        self.excluded = frozenset(config.get("exclude_intents") or [])

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Check the thresholds, ``fallback_rate`` and ``exclude_intents``.

        ``threshold`` must be a number in [0, 1], ``combined_threshold``
        empty or in [0, 2] (a confidence and a cosine, each at most 1),
        ``fallback_rate`` empty or in (0, 0.5], ``neighbours`` a whole
        number >= 0 (and 0 with ``fallback_rate``), ``novelty_weight`` a
        number in [0, 2] (above 0 only with ``combined_threshold``),
        ``exclude_intents`` a list of names.

        Raises:
            OutOfScopeConfigError: One is not.
        """
        threshold = config.get("threshold")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not 0.0 <= threshold <= 1.0
        ):
            raise OutOfScopeConfigError(
                f"OutOfScopeClassifier: threshold must be in [0, 1], not {threshold!r}"
            )
        combined = config.get("combined_threshold")
        if combined is not None and (
            isinstance(combined, bool)
            or not isinstance(combined, (int, float))
            or not 0.0 <= combined <= 2.0
        ):
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: combined_threshold must be empty or in "
                f"[0, 2], not {combined!r}"
            )
        rate = config.get("fallback_rate")
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not 0.0 < rate <= 0.5
        ):
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: fallback_rate must be empty or in (0, 0.5], "
                f"not {rate!r}"
            )
        neighbours = config.get("neighbours", 0)
        if (
            isinstance(neighbours, bool)
            or not isinstance(neighbours, int)
            or (neighbours < 0)
        ):
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: neighbours must be a whole number >= 0, "
                f"not {neighbours!r}"
            )
        if neighbours and rate is not None:
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: fallback_rate is learnt with the intents' "
                "mean directions: give neighbours 0 with it"
            )
        weight = config.get("novelty_weight", 0.0)
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or not 0.0 <= weight <= 2.0
        ):
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: novelty_weight must be in [0, 2], "
                f"not {weight!r}"
            )
        if weight and combined is None:
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: novelty_weight weighs the combined rule: "
                "give combined_threshold with it"
            )
        excluded = config.get("exclude_intents")
        if not isinstance(excluded, list) or not all(
            isinstance(name, str) for name in excluded
        ):
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: exclude_intents must be a list of intent "
                f"names, not {excluded!r}"
            )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OutOfScopeClassifier:
        """Load the encoder (see ``GraphComponent.create``).

        Raises:
            OutOfScopeConfigError: A bad threshold or intent list.
            EmbeddingModelMissing: The encoder's files are not installed.
        """
        cls.validate_config(config)
        directory = encoder_directory(config)
        return cls(
            config, shared_encoder(directory), directory, model_storage, resource
        )

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> OutOfScopeClassifier:
        """Load the intents' directions (and learnt threshold), same encoder.

        Raises:
            EncoderMismatch: The installed encoder is not the training's
                (:func:`bot.nlu.sentence_features.check_encoder`).
            ValueError: The model's storage lacks the directions.
        """
        classifier = cls.create(config, model_storage, resource, execution_context)
        with model_storage.read_from(resource) as path:
            stored = json.loads((path / INTENTS_FILE).read_text(encoding="utf-8"))
            centroids = np.load(path / CENTROIDS_FILE)
            if classifier.neighbours:
                if not (path / EXAMPLES_FILE).is_file():
                    raise ValueError(
                        "OutOfScopeClassifier: the model keeps no training "
                        "examples: train it again with neighbours set"
                    )
                classifier.examples = np.load(path / EXAMPLES_FILE)
                classifier.example_intents = np.load(path / EXAMPLE_INTENTS_FILE)
            if classifier.novelty_weight:
                if not (path / VOCABULARY_FILE).is_file():
                    raise ValueError(
                        "OutOfScopeClassifier: the model keeps no training "
                        "words: train it again with novelty_weight set"
                    )
                classifier.vocabulary = Vocabulary.from_json(
                    json.loads((path / VOCABULARY_FILE).read_text(encoding="utf-8"))
                )
        check_encoder(stored["encoder"], classifier.directory)
        classifier.intents = list(stored["intents"])
        classifier.centroids = centroids.astype(np.float32)
        if config.get("fallback_rate") is not None and "threshold" in stored:
            classifier.threshold = float(stored["threshold"])
        return classifier

    def train(self, training_data: TrainingData) -> Resource:
        """Each intent's mean direction: the unit mean of its examples' vectors.

        With ``fallback_rate``, also the threshold (:func:`calibrate`); with
        ``neighbours``, the examples' vectors are kept too; with
        ``novelty_weight``, their words (:class:`Vocabulary`).

        Raises:
            OutOfScopeConfigError: No intent is left to compare with, or
                (``fallback_rate``) no intent has two examples.
        """
        excluded = self.excluded
        texts: dict[str, list[str]] = {}
        every: list[str] = []
        for example in training_data.intent_examples:
            intent = example.get(INTENT)
            text = example.get(TEXT)
            if text:
                every.append(text)
            if intent and text and intent not in excluded:
                texts.setdefault(intent, []).append(text)
        if not texts:
            raise OutOfScopeConfigError(
                "OutOfScopeClassifier: no intent examples outside "
                f"exclude_intents {sorted(excluded)}"
            )
        self.intents = sorted(texts)
        # Training examples are not customers' messages: kept out of the cache.
        vectors = [
            self.encoder.encode(texts[intent], cache=False) for intent in self.intents
        ]
        self.centroids = _unit(np.stack([group.mean(axis=0) for group in vectors]))
        stored: dict[str, Any] = {
            "intents": self.intents,
            "encoder": fingerprint(self.directory),
        }
        rate = self.component_config.get("fallback_rate")
        if rate is not None:
            self.threshold, examples = calibrate(vectors, float(rate))
            stored.update(
                threshold=self.threshold,
                fallback_rate=float(rate),
                calibration_examples=examples,
            )
        if self.neighbours:
            self.examples = np.concatenate(vectors).astype(np.float32)
            self.example_intents = np.concatenate(
                [
                    np.full(len(group), row, dtype=np.int32)
                    for row, group in enumerate(vectors)
                ]
            )
            stored["neighbours"] = self.neighbours
        if self.novelty_weight:
            self.vocabulary = Vocabulary.learn(every, texts)
        with self._model_storage.write_to(self._resource) as path:
            np.save(path / CENTROIDS_FILE, self.centroids)
            if self.neighbours:
                np.save(path / EXAMPLES_FILE, self.examples)
                np.save(path / EXAMPLE_INTENTS_FILE, self.example_intents)
            if self.vocabulary is not None:
                (path / VOCABULARY_FILE).write_text(
                    json.dumps(self.vocabulary.to_json()), encoding="utf-8"
                )
            (path / INTENTS_FILE).write_text(json.dumps(stored), encoding="utf-8")
        return self._resource

    def _similarity(self, vector: np.ndarray) -> tuple[float, int]:
        """The message's similarity and the row of its nearest intent.

        The cosine to the nearest intent's mean direction, or
        (``neighbours`` k) to the k-th nearest training example (the nearest
        intent then being the nearest example's).
        """
        # Not ``@``: a matrix-vector product wakes OpenBLAS's second thread,
        # which then spins through the rest of the parse (~2.5 ms CPU per
        # parse, bench/results/nlu-encoder-2026-12-04c.json); einsum's own
        # loop does these products in one thread.
        if self.neighbours and len(self.examples):
            similarities = np.einsum("ij,j->i", self.examples, vector)
            nearest = int(np.argmax(similarities))
            k = min(self.neighbours, len(similarities))
            kth = float(np.partition(similarities, -k)[-k])
            return kth, int(self.example_intents[nearest])
        similarities = np.einsum("ij,j->i", self.centroids, vector)
        nearest = int(np.argmax(similarities))
        return float(similarities[nearest]), nearest

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the similarity; fall back below the threshold(s).

        A message falls back when its similarity is below ``threshold``, or
        (``combined_threshold``) when its top intent's confidence plus the
        similarity is below that; one the intent classifier or
        ``FallbackClassifier`` already sent to ``nlu_fallback`` stays as it
        is. With ``novelty_weight``, the combined rule subtracts the weight
        times the message's novelty for its top intent (reported as
        ``novelty`` and ``penalty``). The message's vector is the one the
        sentence featurizer remembered while parsing it (computed here only
        without that featurizer).
        """
        threshold = self.threshold
        combined = self.combined_threshold
        for message in messages:
            text = message.get(TEXT)
            if not text or not self.intents:
                continue
            similarity, nearest = self._similarity(self.encoder.embed_message(text))
            intent = message.get(INTENT) or {}
            current = intent.get(INTENT_NAME_KEY)
            confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            reported: dict[str, Any] = {
                "similarity": similarity,
                "nearest_intent": self.intents[nearest],
                "threshold": threshold,
            }
            penalty = 0.0
            if combined is not None:
                reported["combined_threshold"] = combined
            top = _top_intent(message)
            if self.vocabulary is not None and top is not None:
                # Reported for a message already sent to the fallback too,
                # so that a benchmark weighs every message's score.
                novelty = self.vocabulary.novelty(text, top)
                penalty = self.novelty_weight * novelty
                reported.update(novelty=novelty, penalty=penalty)
            message.set(PARSE_KEY, reported, add_to_output=True)
            if current == DEFAULT_NLU_FALLBACK_INTENT_NAME or current in self.excluded:
                # Already set aside, or an intent that is out of scope itself
                # (the project's ``out_of_scope``, which has its own reply).
                continue
            if similarity < threshold:
                # As the FallbackClassifier: the confidence is the threshold.
                needed = threshold
            elif combined is not None and confidence + similarity - penalty < combined:
                # The confidence this similarity would have needed.
                needed = min(max(combined - similarity + penalty, 0.0), 1.0)
            else:
                continue
            fallback = {
                INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME,
                PREDICTED_CONFIDENCE_KEY: needed,
            }
            message.data[INTENT] = fallback
            message.data.setdefault(INTENT_RANKING_KEY, [])
            message.data[INTENT_RANKING_KEY].insert(0, dict(fallback))
        return messages


def _top_intent(message: Message) -> str | None:
    """The intent classifier's best intent, past an earlier fallback."""
    for entry in message.get(INTENT_RANKING_KEY) or [message.get(INTENT) or {}]:
        name = entry.get(INTENT_NAME_KEY)
        if name and name != DEFAULT_NLU_FALLBACK_INTENT_NAME:
            return str(name)
    return None


def words(text: str) -> set[str]:
    """The distinct words of a text, lower-cased (:data:`_WORD`)."""
    return set(_WORD.findall(text.lower()))


@dataclass
class Vocabulary:
    """Which words each intent's training examples use, and how common each is.

    Attributes:
        weights: Each training word's inverse document frequency over every
            training example, ``log((n + 1) / (df + 1)) + 1``.
        unseen: The weight of a word no training example uses
            (``log(n + 1) + 1``, the rarest).
        intents: Each intent's words.
    """

    weights: dict[str, float]
    unseen: float
    intents: dict[str, frozenset[str]]

    @classmethod
    def learn(cls, every: list[str], texts: dict[str, list[str]]) -> Vocabulary:
        """The vocabulary of the training texts.

        Args:
            every: Every training example's text (document frequencies).
            texts: Each intent's examples (its words).
        """
        counts: dict[str, int] = {}
        for text in every:
            for word in words(text):
                counts[word] = counts.get(word, 0) + 1
        n = len(every)
        weights = {
            word: math.log((n + 1) / (count + 1)) + 1 for word, count in counts.items()
        }
        intents = {
            intent: frozenset().union(*(words(text) for text in group))
            for intent, group in texts.items()
        }
        return cls(weights, math.log(n + 1) + 1, intents)

    def novelty(self, text: str, intent: str) -> float:
        """The weighed share of the text's words the intent's examples lack.

        0 for a text without words or an intent without examples (no
        evidence either way).
        """
        known = self.intents.get(intent)
        found = words(text)
        if known is None or not found:
            return 0.0
        weigh = [(self.weights.get(word, self.unseen), word in known) for word in found]
        total = sum(weight for weight, _ in weigh)
        return sum(weight for weight, seen in weigh if not seen) / total

    def to_json(self) -> dict[str, Any]:
        """The vocabulary as JSON (for the model's storage)."""
        return {
            "weights": self.weights,
            "unseen": self.unseen,
            "intents": {name: sorted(known) for name, known in self.intents.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vocabulary:
        """The vocabulary :meth:`to_json` stored."""
        return cls(
            {str(k): float(v) for k, v in data["weights"].items()},
            float(data["unseen"]),
            {str(k): frozenset(v) for k, v in data["intents"].items()},
        )


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: np.ndarray = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def calibrate(vectors: list[np.ndarray], rate: float) -> tuple[float, int]:
    """The threshold below which ``rate`` of the in-scope examples would fall.

    Each example of an intent with at least two examples is compared with
    every intent's mean direction, its own intent's made without it (leave
    one out: an example always resembles a mean it is part of); its
    similarity is the highest of those. Intents with one example have no
    direction without it and are left out of the count.

    Args:
        vectors: One array of unit vectors per intent, its examples' rows.
        rate: The fraction of examples to fall below the threshold.

    Returns:
        The threshold and how many examples it was learnt from.

    Raises:
        OutOfScopeConfigError: No intent has two examples.
    """
    sums = np.stack([group.sum(axis=0) for group in vectors])
    centroids = _unit(sums)
    similarities = []
    for index, group in enumerate(vectors):
        if len(group) < 2:
            continue
        scores = group @ centroids.T
        without = _unit(sums[index][None, :] - group)
        scores[:, index] = np.einsum("ij,ij->i", group, without)
        similarities.append(scores.max(axis=1))
    if not similarities:
        raise OutOfScopeConfigError(
            "OutOfScopeClassifier: fallback_rate needs an intent with at least "
            "two training examples"
        )
    every = np.concatenate(similarities)
    return float(np.quantile(every, rate)), len(every)

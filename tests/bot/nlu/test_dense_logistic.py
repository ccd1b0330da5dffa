"""Rasa's logistic regression without the sparse matrix: the same answers as Rasa's."""

from __future__ import annotations

import asyncio
import copy
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.dense_logistic import (
    SENTENCE_INTENT_KEY,
    DenseLogisticRegressionClassifier,
    FeatureMismatch,
)
from bot.nlu.sentence_features import SENTENCES_KEY, SentenceFeaturizer
from tests.bot.nlu.rasa_training import train_and_load, trains_and_runs

ROOT = Path(__file__).resolve().parents[3]


def _storage(tmp_path: Path) -> tuple[LocalModelStorage, ExecutionContext]:
    (tmp_path / "storage").mkdir(exist_ok=True)
    context = ExecutionContext(GraphSchema({}), node_name="classifier")
    return LocalModelStorage(tmp_path / "storage"), context


def _trained(
    kind: type[LogisticRegressionClassifier],
    tmp_path: Path,
    data: TrainingData,
    **config: Any,
) -> LogisticRegressionClassifier:
    storage, context = _storage(tmp_path)
    settings = {**kind.get_default_config(), **config}
    classifier = kind.create(settings, storage, Resource(kind.__name__), context)
    classifier.train(data)
    return classifier


def _messages(
    rows: np.ndarray, intents: list[str] | None = None, *, sparse_width: int = 0
) -> list[Message]:
    """Messages with ``rows`` as dense sentence features (float32, as featurizers).

    With ``sparse_width``, each message also gets sparse sentence features
    (its first columns as counts) and a sequence feature the classifier
    must not read.
    """
    messages = []
    for index, row in enumerate(rows):
        message = Message(data={"text": f"message {index}"})
        if intents is not None:
            message.set("intent", intents[index])
        if sparse_width:
            counts = np.round(np.abs(row[:sparse_width]) * 2)[None, :]
            message.add_features(
                Features(
                    scipy.sparse.coo_matrix(counts),
                    FEATURE_TYPE_SENTENCE,
                    "text",
                    "counts",
                )
            )
            message.add_features(
                Features(
                    np.ones((3, 4), np.float32), FEATURE_TYPE_SEQUENCE, "text", "seq"
                )
            )
        message.add_features(
            Features(
                row[None, :].astype(np.float32), FEATURE_TYPE_SENTENCE, "text", "dense"
            )
        )
        messages.append(message)
    return messages


def _clusters(
    count: int, per_intent: int, seed: int, width: int = 24
) -> tuple[np.ndarray, list[str]]:
    """Overlapping Gaussian clusters: confident and unsure messages alike."""
    generator = np.random.default_rng(seed)
    centres = generator.normal(size=(count, width))
    labels = [f"intent_{index % count}" for index in range(count * per_intent)]
    rows = centres[[index % count for index in range(count * per_intent)]]
    return rows + generator.normal(scale=1.5, size=rows.shape), labels


def _rankings(
    classifier: LogisticRegressionClassifier, messages: list[Message]
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    parsed = classifier.process(copy.deepcopy(messages))
    return [
        (message.get("intent"), message.get("intent_ranking")) for message in parsed
    ]


def _assert_same(
    ours: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    rasas: list[tuple[dict[str, Any], list[dict[str, Any]]]],
) -> None:
    for (intent, ranking), (expected_intent, expected_ranking) in zip(
        ours, rasas, strict=True
    ):
        assert [entry["name"] for entry in ranking] == [
            entry["name"] for entry in expected_ranking
        ]
        assert np.allclose(
            [entry["confidence"] for entry in ranking],
            [entry["confidence"] for entry in expected_ranking],
            rtol=0,
            atol=1e-12,
        )
        assert intent["name"] == expected_intent["name"]
        assert intent["confidence"] == pytest.approx(
            expected_intent["confidence"], abs=1e-12
        )


@pytest.mark.parametrize(
    ("intents", "config", "sparse_width"),
    [
        # Softmax over 6 intents, Rasa's default ranking of 10 (all 6).
        (6, {"max_iter": 300}, 0),
        # 12 intents cut to the best 3.
        (12, {"ranking_length": 3}, 0),
        # Two intents: scikit-learn's one-score logistic rule.
        (2, {"ranking_length": 0}, 0),
        # liblinear: one-vs-rest, normalised.
        (5, {"solver": "liblinear", "ranking_length": 0}, 0),
        # Sparse sentence features (counts) before the dense ones, as Rasa
        # stacks them; sequence features ignored.
        (4, {"ranking_length": 0}, 5),
    ],
)
def test_the_same_ranking_as_rasas_classifier(
    tmp_path: Path, intents: int, config: dict[str, Any], sparse_width: int
) -> None:
    rows, labels = _clusters(intents, 20, seed=intents)
    training = TrainingData(
        training_examples=_messages(rows, labels, sparse_width=sparse_width)
    )
    ours = _trained(DenseLogisticRegressionClassifier, tmp_path, training, **config)
    rasas = _trained(LogisticRegressionClassifier, tmp_path, training, **config)
    assert np.array_equal(ours.clf.coef_, rasas.clf.coef_)
    unseen, _ = _clusters(intents, 15, seed=100 + intents)
    messages = _messages(unseen, sparse_width=sparse_width)
    expected = _rankings(rasas, messages)
    # Not a trivial agreement: the unseen messages are of every kind.
    assert len({intent["name"] for intent, _ in expected}) == intents
    assert min(intent["confidence"] for intent, _ in expected) < 0.8
    _assert_same(_rankings(ours, messages), expected)
    # One message at a time, as the server parses them: the same.
    _assert_same([_rankings(ours, [message])[0] for message in messages], expected)


def test_a_stored_model_loads_and_ranks_as_trained(tmp_path: Path) -> None:
    rows, labels = _clusters(5, 10, seed=7)
    storage, context = _storage(tmp_path)
    config = {**DenseLogisticRegressionClassifier.get_default_config(), "tol": 1e-6}
    resource = Resource("classifier")
    trained = DenseLogisticRegressionClassifier.create(
        config, storage, resource, context
    )
    trained.train(TrainingData(training_examples=_messages(rows, labels)))
    loaded = DenseLogisticRegressionClassifier.load(config, storage, resource, context)
    assert isinstance(loaded, DenseLogisticRegressionClassifier)
    messages = _messages(_clusters(5, 4, seed=8)[0])
    assert _rankings(loaded, messages) == _rankings(trained, messages)


def test_messages_without_sentence_features_are_left_alone(tmp_path: Path) -> None:
    rows, labels = _clusters(3, 10, seed=1)
    training = TrainingData(training_examples=_messages(rows, labels))
    classifier = _trained(DenseLogisticRegressionClassifier, tmp_path, training)
    [featured] = _messages(rows[:1])
    empty = Message(data={"text": ""})
    classifier.process([empty, featured])
    assert empty.get("intent") is None
    assert featured.get("intent")["name"] == "intent_0"


def test_an_untrained_classifier_predicts_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage, context = _storage(tmp_path)
    # What Rasa's loading gives when nothing was stored (no intent examples).
    classifier = DenseLogisticRegressionClassifier.load(
        DenseLogisticRegressionClassifier.get_default_config(),
        storage,
        Resource("never_trained"),
        context,
    )
    [message] = _messages(np.ones((1, 24)))
    with caplog.at_level(logging.WARNING):
        classifier.process([message])
    assert message.get("intent") is None
    assert "is not trained" in caplog.text


def test_features_of_another_size_are_refused(tmp_path: Path) -> None:
    rows, labels = _clusters(3, 10, seed=2)
    training = TrainingData(training_examples=_messages(rows, labels))
    classifier = _trained(DenseLogisticRegressionClassifier, tmp_path, training)
    with pytest.raises(FeatureMismatch, match="have 30 sentence features"):
        classifier.process(_messages(np.ones((1, 30))))


TRAINING = {
    "card_arrival": [
        "my card has not arrived", "where is my new card",
        "still waiting for the card you sent", "card not delivered yet",
        "when will my card come",
    ],
    "change_pin": [
        "how do I change my PIN", "I want a new PIN", "reset the pin of my card",
        "can I pick another PIN", "update my pin number",
    ],
    "exchange_rate": [
        "what exchange rate do you use", "how much is a dollar in euros",
        "is the currency conversion rate fair", "rate for pounds to euros",
        "which rate applies abroad",
    ],
}  # fmt: skip
PARSED = [
    "the debit card never showed up", "modify my PIN code",
    "what do you charge to convert currency", "card", "pin or rate?",
    "my card came but the pin does not work abroad",
]  # fmt: skip


def test_the_same_ranking_on_sentence_embeddings(tmp_path: Path) -> None:
    """Through the real featurizer (scaled float32 embeddings), as linear.yml."""
    storage, context = _storage(tmp_path)
    featurizer = SentenceFeaturizer.create(
        {**SentenceFeaturizer.get_default_config(), "scale": 3.16},
        storage,
        Resource("features"),
        context,
    )
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())

    def featurized(pairs: list[tuple[str, str | None]]) -> list[Message]:
        messages = [
            Message(data={"text": text, **({"intent": intent} if intent else {})})
            for text, intent in pairs
        ]
        return featurizer.process(tokenizer.process(messages))

    training = TrainingData(
        training_examples=featurized(
            [(text, intent) for intent, texts in TRAINING.items() for text in texts]
        )
    )
    ours = _trained(DenseLogisticRegressionClassifier, tmp_path, training, max_iter=300)
    rasas = _trained(LogisticRegressionClassifier, tmp_path, training, max_iter=300)
    messages = featurized([(text, None) for text in PARSED])
    expected = _rankings(rasas, messages)
    _assert_same(_rankings(ours, messages), expected)
    assert [intent["name"] for intent, _ in expected[:3]] == list(TRAINING)


# A real `rasa train nlu` (no DIET) and a load: under a minute on a quiet machine.
@pytest.mark.timeout(1200)
def test_a_model_with_it_trains_persists_and_parses(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "bench/nlu/configs/linear-dense.yml").read_text())
    # Up to the classifier: 15 examples are too few for the fallbacks' thresholds.
    [position] = [
        index
        for index, component in enumerate(config["pipeline"])
        if component["name"].endswith("DenseLogisticRegressionClassifier")
    ]
    config["pipeline"] = config["pipeline"][: position + 1]
    nlu = {
        "version": "3.1",
        "nlu": [
            {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
            for intent, texts in TRAINING.items()
        ],
    }
    agent = train_and_load(tmp_path, config, nlu, "linear")
    assert trains_and_runs(
        agent, "bot.nlu.dense_logistic.DenseLogisticRegressionClassifier"
    )

    async def parse(text: str) -> dict[str, Any]:
        return await agent.parse_message(text)

    parsed = asyncio.run(parse("the debit card never showed up"))
    assert parsed["intent"]["name"] == "card_arrival"
    assert parsed["intent_ranking"][0]["name"] == "card_arrival"
    assert len(parsed["intent_ranking"]) == 3
    assert asyncio.run(parse("modify my PIN code"))["intent"]["name"] == "change_pin"


def _sentence_setup(
    tmp_path: Path, **config: Any
) -> tuple[DenseLogisticRegressionClassifier, np.ndarray]:
    """A classifier of three well-apart intents, and their centres."""
    generator = np.random.default_rng(5)
    centres = 4.0 * np.eye(3, 12)
    intents = ["question", "request_human", "person_in_danger"]
    rows = np.vstack(
        [centre + generator.normal(scale=0.3, size=(30, 12)) for centre in centres]
    )
    labels = [intent for intent in intents for _ in range(30)]
    data = TrainingData(training_examples=_messages(rows, labels))
    classifier = _trained(
        DenseLogisticRegressionClassifier, tmp_path, data, ranking_length=0, **config
    )
    assert isinstance(classifier, DenseLogisticRegressionClassifier)
    return classifier, centres


def _with_sentences(whole: np.ndarray, parts: list[np.ndarray]) -> Message:
    [message] = _messages(whole[None, :])
    message.set(
        SENTENCES_KEY,
        [
            (f"sentence {n}", row[None, :].astype(np.float32))
            for n, row in enumerate(parts)
        ],
    )
    return message


RULE = {
    "sentence_intents": {"request_human": 0.75, "person_in_danger": 0.7},
    "sentence_priority": ["person_in_danger", "request_human"],
}


def test_one_sure_sentence_of_a_listed_intent_decides_the_message(
    tmp_path: Path,
) -> None:
    classifier, (question, human, _) = _sentence_setup(tmp_path, **RULE)
    message = _with_sentences(0.9 * question + 0.3 * human, [question, human])
    [parsed] = classifier.process([message])
    assert parsed.get("intent")["name"] == "request_human"
    assert parsed.get("intent")["confidence"] > 0.75
    assert parsed.get("intent_ranking")[0]["name"] == "request_human"
    record = parsed.get(SENTENCE_INTENT_KEY)
    assert record["text"] == "sentence 1" and record["name"] == "request_human"
    assert record["confidence"] == parsed.get("intent")["confidence"]
    # The whole message's own confidence of it, for KnowledgeFirst.
    [alone] = classifier.process(
        [_messages((0.9 * question + 0.3 * human)[None, :])[0]]
    )
    own = {e["name"]: e["confidence"] for e in alone.get("intent_ranking")}
    assert alone.get("intent")["name"] == "question"
    assert record["message_confidence"] == pytest.approx(own["request_human"])
    assert SENTENCE_INTENT_KEY in parsed.as_dict(only_output_properties=True)


def test_the_sentence_rule_is_off_by_default(tmp_path: Path) -> None:
    classifier, (question, human, _) = _sentence_setup(tmp_path)
    [parsed] = classifier.process(
        [_with_sentences(0.9 * question + 0.3 * human, [question, human])]
    )
    assert parsed.get("intent")["name"] == "question"
    assert parsed.get(SENTENCE_INTENT_KEY) is None


@pytest.mark.parametrize(
    ("whole", "parts", "config", "expected"),
    [
        # Someone in danger is not made a request for a person by a sentence.
        ((0.0, 0.3, 0.9), [(0, 0, 1), (0, 1, 0)], RULE, "person_in_danger"),
        # A danger sentence outranks a request for a person.
        ((0.2, 0.9, 0.0), [(0, 1, 0), (0, 0, 1)], RULE, "person_in_danger"),
        # A sentence not sure enough.
        (
            (0.9, 0.3, 0.0),
            [(1, 0, 0), (0, 1, 0)],
            {**RULE, "sentence_intents": {"request_human": 1.0}},
            "question",
        ),
        # The message is the sentence's intent already, as sure.
        ((0.0, 1.0, 0.0), [(1, 0, 0), (0, 1, 0)], RULE, "request_human"),
        # A sure sentence of an intent not listed decides nothing.
        ((0.2, 0.9, 0.0), [(1, 0, 0), (0, 1, 0)], RULE, "request_human"),
        ((0.9, 0.2, 0.0), [(1, 0, 0), (0, 0.1, 0)], RULE, "question"),
    ],
)
def test_which_sentence_decides(
    tmp_path: Path,
    whole: tuple[float, ...],
    parts: list[tuple[float, ...]],
    config: dict[str, Any],
    expected: str,
) -> None:
    classifier, centres = _sentence_setup(tmp_path, **config)
    row = np.array(whole) @ centres
    message = _with_sentences(row, [np.array(p) @ centres for p in parts])
    [parsed] = classifier.process([message])
    assert parsed.get("intent")["name"] == expected


def test_a_surer_sentence_of_the_messages_own_intent_gives_its_ranking(
    tmp_path: Path,
) -> None:
    # "Are you a bot? If so, I'd like to speak with a human being instead.":
    # request_human 0.50 against bot_challenge 0.49 for the whole message
    # (the fallback would ask), 0.98 for its second sentence.
    classifier, (question, human, _) = _sentence_setup(tmp_path, **RULE)
    whole = 0.5 * question + 0.52 * human
    [alone] = classifier.process([_messages(whole[None, :])[0]])
    assert alone.get("intent")["name"] == "request_human"
    assert alone.get("intent")["confidence"] < 0.75
    [parsed] = classifier.process([_with_sentences(whole, [question, human])])
    assert parsed.get("intent")["name"] == "request_human"
    assert parsed.get("intent")["confidence"] > 0.75
    assert parsed.get(SENTENCE_INTENT_KEY)["text"] == "sentence 1"
    assert parsed.get(SENTENCE_INTENT_KEY)["message_confidence"] == pytest.approx(
        alone.get("intent")["confidence"]
    )


def test_sentences_of_other_features_are_not_read(tmp_path: Path) -> None:
    # Other featurizers add sparse features the sentences lack.
    classifier, (question, human, _) = _sentence_setup(tmp_path, **RULE)
    message = _with_sentences(0.9 * question + 0.3 * human, [question[:6], human[:6]])
    [parsed] = classifier.process([message])
    assert parsed.get("intent")["name"] == "question"


@pytest.mark.parametrize(
    "config",
    [
        {"sentence_intents": {"request_human": 1.5}},
        {"sentence_intents": ["request_human"]},
        {"sentence_priority": "request_human"},
    ],
)
def test_a_wrong_sentence_setting_is_refused(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    with pytest.raises(ValueError, match="sentence_"):
        _sentence_setup(tmp_path, **config)

"""Out-of-scope detection by meaning (bot.nlu.out_of_scope), on small data.

Here rather than in tests/bot/nlu/ because it was written with the CLINC150
benchmark (tests/bench/test_nlu.py runs it in a trained pipeline).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.out_of_scope import (
    INTENTS_FILE,
    PARSE_KEY,
    OutOfScopeClassifier,
    OutOfScopeConfigError,
    Vocabulary,
    calibrate,
)
from bot.nlu.sentence_features import EncoderMismatch

EXAMPLES = {
    "card_arrival": [
        "my card has not arrived",
        "where is my new card",
        "still waiting for the card you sent",
        "card not delivered yet",
    ],
    "change_pin": [
        "how do I change my PIN",
        "I want a new PIN",
        "reset the pin of my card",
        "can I pick another PIN",
    ],
    "oos": ["what is the capital of peru", "tell me a joke about cats"],
}


def _classifier(
    tmp_path: Path, **config: object
) -> tuple[OutOfScopeClassifier, LocalModelStorage, Resource, ExecutionContext]:
    (tmp_path / "storage").mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("out_of_scope")
    context = ExecutionContext(GraphSchema({}), node_name="out_of_scope")
    settings = {**OutOfScopeClassifier.get_default_config(), **config}
    classifier = OutOfScopeClassifier.create(settings, storage, resource, context)
    return classifier, storage, resource, context


def _training_data() -> TrainingData:
    return TrainingData(
        training_examples=[
            Message(data={TEXT: text, INTENT: intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
    )


def _parsed(text: str, intent: str, confidence: float) -> Message:
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "other", "confidence": 1 - confidence},
    ]
    return Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            "intent_ranking": ranking,
        }
    )


def test_each_intent_gets_the_mean_direction_of_its_examples(tmp_path: Path) -> None:
    classifier, *_ = _classifier(tmp_path, exclude_intents=["oos"])
    classifier.train(_training_data())
    assert classifier.intents == ["card_arrival", "change_pin"]
    for intent, centroid in zip(classifier.intents, classifier.centroids, strict=True):
        vectors = classifier.encoder.encode(EXAMPLES[intent], cache=False)
        mean = vectors.mean(axis=0)
        assert np.allclose(centroid, mean / np.linalg.norm(mean), atol=1e-5)


def test_a_message_unlike_every_intent_falls_back(tmp_path: Path) -> None:
    classifier, *_ = _classifier(tmp_path, exclude_intents=["oos"], threshold=0.5)
    classifier.train(_training_data())
    near, far = classifier.process(
        [
            _parsed("my new card never came", "card_arrival", 0.9),
            _parsed("what is the capital of peru", "card_arrival", 0.9),
        ]
    )
    assert near.get(PARSE_KEY)["nearest_intent"] == "card_arrival"
    assert near.get(PARSE_KEY)["similarity"] >= 0.5
    assert near.get(INTENT)["name"] == "card_arrival"
    # Far from both in-scope intents (its twin is an excluded "oos" example).
    assert far.get(PARSE_KEY)["similarity"] < 0.5
    assert far.get(INTENT) == {"name": "nlu_fallback", "confidence": 0.5}
    ranking = far.get("intent_ranking")
    assert [entry["name"] for entry in ranking] == [
        "nlu_fallback",
        "card_arrival",
        "other",
    ]
    # The similarity is part of the parse result.
    assert PARSE_KEY in far.as_dict_nlu()


def test_an_excluded_intent_gets_no_direction_and_threshold_zero_never_falls_back(
    tmp_path: Path,
) -> None:
    classifier, *_ = _classifier(tmp_path, threshold=0.0)
    classifier.train(_training_data())
    assert "oos" in classifier.intents
    [message] = classifier.process([_parsed("tell me a joke", "change_pin", 0.8)])
    assert message.get(INTENT)["name"] == "change_pin"


def test_an_earlier_fallback_is_not_doubled(tmp_path: Path) -> None:
    classifier, *_ = _classifier(tmp_path, exclude_intents=["oos"], threshold=0.99)
    classifier.train(_training_data())
    message = _parsed("reset the pin of my card", "nlu_fallback", 0.3)
    [message] = classifier.process([message])
    names = [entry["name"] for entry in message.get("intent_ranking")]
    assert names.count("nlu_fallback") == 1


def test_the_directions_persist_and_need_the_same_encoder(tmp_path: Path) -> None:
    classifier, storage, _, context = _classifier(tmp_path, exclude_intents=["oos"])
    trained = classifier.train(_training_data())
    config = {**OutOfScopeClassifier.get_default_config(), "exclude_intents": ["oos"]}
    loaded = OutOfScopeClassifier.load(config, storage, trained, context)
    assert loaded.intents == classifier.intents
    assert np.array_equal(loaded.centroids, classifier.centroids)
    with storage.write_to(trained) as folder:
        recorded = json.loads((folder / INTENTS_FILE).read_text())
        recorded["encoder"]["size"] += 1
        (folder / INTENTS_FILE).write_text(json.dumps(recorded))
    with pytest.raises(EncoderMismatch, match="install the same model files"):
        OutOfScopeClassifier.load(config, storage, trained, context)


def test_a_message_given_an_excluded_intent_keeps_it(tmp_path: Path) -> None:
    # The project's own out_of_scope intent has its own reply: a message the
    # intent model gave it is out of scope already, however far or unsure.
    classifier, *_ = _classifier(
        tmp_path, exclude_intents=["oos"], threshold=0.99, combined_threshold=1.9
    )
    classifier.train(_training_data())
    outside, inside = classifier.process(
        [
            _parsed("what is the capital of peru", "oos", 0.4),
            _parsed("what is the capital of peru", "card_arrival", 0.4),
        ]
    )
    assert outside.get(INTENT) == {"name": "oos", "confidence": 0.4}
    ranking = [entry["name"] for entry in outside.get("intent_ranking")]
    assert ranking == ["oos", "other"]
    assert outside.get(PARSE_KEY)["similarity"] < 0.99
    assert inside.get(INTENT)["name"] == "nlu_fallback"


def test_confidence_plus_similarity_below_the_combined_threshold_falls_back(
    tmp_path: Path,
) -> None:
    classifier, *_ = _classifier(
        tmp_path, exclude_intents=["oos"], threshold=0.0, combined_threshold=1.3
    )
    classifier.train(_training_data())
    text = "my new card never came"
    sure, unsure = classifier.process(
        [_parsed(text, "card_arrival", 0.95), _parsed(text, "card_arrival", 0.2)]
    )
    similarity = sure.get(PARSE_KEY)["similarity"]
    # Near card_arrival: sure is kept, unsure (the same text) falls back.
    assert 0.35 < similarity < 1.1
    assert 0.95 + similarity >= 1.3 > 0.2 + similarity
    assert sure.get(INTENT)["name"] == "card_arrival"
    assert sure.get(PARSE_KEY)["combined_threshold"] == 1.3
    # The confidence the top intent would have needed next to this similarity.
    needed = min(max(1.3 - similarity, 0.0), 1.0)
    assert unsure.get(INTENT) == {"name": "nlu_fallback", "confidence": needed}
    assert [entry["name"] for entry in unsure.get("intent_ranking")] == [
        "nlu_fallback",
        "card_arrival",
        "other",
    ]
    # Far from every intent, a sure top intent is not enough.
    [far] = classifier.process(
        [_parsed("what is the capital of peru", "card_arrival", 0.95)]
    )
    assert 0.95 + far.get(PARSE_KEY)["similarity"] < 1.3
    assert far.get(INTENT)["name"] == "nlu_fallback"


def test_without_a_combined_threshold_the_confidence_does_not_count(
    tmp_path: Path,
) -> None:
    classifier, *_ = _classifier(tmp_path, exclude_intents=["oos"], threshold=0.3)
    assert classifier.combined_threshold is None
    classifier.train(_training_data())
    [message] = classifier.process(
        [_parsed("my new card never came", "card_arrival", 0.01)]
    )
    assert message.get(INTENT)["name"] == "card_arrival"
    assert "combined_threshold" not in message.get(PARSE_KEY)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"threshold": 1.5}, "threshold must be in"),
        ({"threshold": "high"}, "threshold must be in"),
        ({"exclude_intents": "oos"}, "exclude_intents must be a list"),
        ({"combined_threshold": 2.5}, "combined_threshold must be empty or in"),
        ({"combined_threshold": -0.1}, "combined_threshold must be empty or in"),
        ({"combined_threshold": True}, "combined_threshold must be empty or in"),
        ({"combined_threshold": "1.2"}, "combined_threshold must be empty or in"),
        ({"fallback_rate": 0}, "fallback_rate must be empty or in"),
        ({"fallback_rate": 0.6}, "fallback_rate must be empty or in"),
        ({"fallback_rate": True}, "fallback_rate must be empty or in"),
        ({"fallback_rate": "2%"}, "fallback_rate must be empty or in"),
        ({"neighbours": -1}, "neighbours must be a whole number"),
        ({"neighbours": 1.5}, "neighbours must be a whole number"),
        ({"neighbours": True}, "neighbours must be a whole number"),
        (
            {"neighbours": 1, "fallback_rate": 0.1},
            "give neighbours 0 with it",
        ),
        ({"novelty_weight": -0.5, "combined_threshold": 1.0}, "novelty_weight must"),
        ({"novelty_weight": "0.5", "combined_threshold": 1.0}, "novelty_weight must"),
        ({"novelty_weight": True, "combined_threshold": 1.0}, "novelty_weight must"),
        ({"novelty_weight": 0.5}, "give combined_threshold with it"),
    ],
)
def test_bad_settings_are_refused(
    tmp_path: Path, config: dict[str, object], message: str
) -> None:
    with pytest.raises(OutOfScopeConfigError, match=message):
        _classifier(tmp_path, **config)


@pytest.mark.parametrize("k", [1, 2, 9])
def test_with_neighbours_the_similarity_is_the_kth_nearest_examples(
    tmp_path: Path, k: int
) -> None:
    classifier, storage, _, context = _classifier(
        tmp_path, exclude_intents=["oos"], neighbours=k, combined_threshold=1.5
    )
    trained = classifier.train(_training_data())
    in_scope = EXAMPLES["card_arrival"] + EXAMPLES["change_pin"]
    vectors = classifier.encoder.encode(in_scope, cache=False)
    # Every in-scope example is kept, none of the excluded intent's.
    assert np.allclose(classifier.examples, vectors, atol=1e-6)
    text = "I want to pick a new PIN"
    [message] = classifier.process([_parsed(text, "change_pin", 0.9)])
    query = classifier.encoder.encode([text], cache=False)[0]
    cosines = np.sort(vectors @ query)
    reported = message.get(PARSE_KEY)
    # The k-th highest (all 8 when k is larger).
    assert reported["similarity"] == pytest.approx(cosines[-min(k, 8)], abs=1e-5)
    assert reported["nearest_intent"] == "change_pin"
    # Not the mean direction's cosine.
    assert abs(reported["similarity"] - float(classifier.centroids[1] @ query)) > 1e-4
    falls_back = 0.9 + reported["similarity"] < 1.5
    assert (message.get(INTENT)["name"] == "nlu_fallback") is falls_back
    config = {
        **OutOfScopeClassifier.get_default_config(),
        "exclude_intents": ["oos"],
        "neighbours": k,
    }
    loaded = OutOfScopeClassifier.load(config, storage, trained, context)
    assert np.array_equal(loaded.examples, classifier.examples)
    [again] = loaded.process([_parsed(text, "change_pin", 0.9)])
    assert again.get(PARSE_KEY)["similarity"] == reported["similarity"]


def test_novelty_weighs_the_words_the_top_intents_examples_never_use() -> None:
    vocabulary = Vocabulary.learn(
        [text for texts in EXAMPLES.values() for text in texts],
        {k: v for k, v in EXAMPLES.items() if k != "oos"},
    )
    # Every word is one of change_pin's: nothing new.
    assert vocabulary.novelty("Change my PIN!", "change_pin") == 0.0
    # "swallowed" and "atm" appear in no example: they weigh most.
    swallowed = vocabulary.novelty("the ATM swallowed my card", "card_arrival")
    assert 0.5 < swallowed < 1.0
    # A word another intent's example uses weighs less than one no example
    # uses: "arrived" (card_arrival's) against "atm".
    assert vocabulary.weights["arrived"] < vocabulary.unseen
    seen_elsewhere = vocabulary.novelty("PIN arrived", "change_pin")
    never_seen = vocabulary.novelty("PIN atm", "change_pin")
    assert 0.0 < seen_elsewhere < never_seen < 1.0
    assert vocabulary.novelty("atm swallowed", "change_pin") == 1.0
    # No words, or an intent without examples: no evidence either way.
    assert vocabulary.novelty("?!", "change_pin") == 0.0
    assert vocabulary.novelty("the ATM swallowed my card", "oos") == 0.0
    assert Vocabulary.from_json(vocabulary.to_json()) == vocabulary


def test_with_a_novelty_weight_new_words_lower_the_combined_score(
    tmp_path: Path,
) -> None:
    settings = {
        "exclude_intents": ["oos"],
        "neighbours": 1,
        "threshold": 0.0,
        "combined_threshold": 1.3,
    }
    plain, *_ = _classifier(tmp_path / "plain", **settings)
    plain.train(_training_data())
    weighed, storage, _, context = _classifier(
        tmp_path / "weighed", **settings, novelty_weight=0.5
    )
    trained = weighed.train(_training_data())
    text = "the cash machine swallowed my card"
    confidence = 0.9
    [kept] = plain.process([_parsed(text, "card_arrival", confidence)])
    [fell] = weighed.process([_parsed(text, "card_arrival", confidence)])
    similarity = kept.get(PARSE_KEY)["similarity"]
    reported = fell.get(PARSE_KEY)
    assert "novelty" not in kept.get(PARSE_KEY)
    assert reported["similarity"] == pytest.approx(similarity)
    assert reported["penalty"] == pytest.approx(0.5 * reported["novelty"])
    # Kept on meaning alone, the words no card_arrival example uses tip it.
    assert (
        confidence + similarity >= 1.3 > confidence + similarity - reported["penalty"]
    )
    assert kept.get(INTENT)["name"] == "card_arrival"
    needed = min(max(1.3 - similarity + reported["penalty"], 0.0), 1.0)
    assert fell.get(INTENT) == {"name": "nlu_fallback", "confidence": needed}
    # The known words of a known intent cost nothing.
    [pin] = weighed.process([_parsed("reset the PIN of my card", "change_pin", 0.9)])
    assert pin.get(PARSE_KEY)["penalty"] == 0.0
    # A message the FallbackClassifier already set aside reports its top
    # intent's novelty too (a benchmark weighs every message's score).
    unsure = Message(
        data={
            TEXT: text,
            INTENT: {"name": "nlu_fallback", "confidence": 0.3},
            "intent_ranking": [
                {"name": "nlu_fallback", "confidence": 0.3},
                {"name": "card_arrival", "confidence": 0.55},
                {"name": "change_pin", "confidence": 0.45},
            ],
        }
    )
    [unsure] = weighed.process([unsure])
    assert unsure.get(PARSE_KEY)["novelty"] == reported["novelty"]
    assert unsure.get(INTENT) == {"name": "nlu_fallback", "confidence": 0.3}
    assert [e["name"] for e in unsure.get("intent_ranking")].count("nlu_fallback") == 1
    # The words persist with the model.
    loaded = OutOfScopeClassifier.load(
        {
            **OutOfScopeClassifier.get_default_config(),
            **settings,
            "novelty_weight": 0.5,
        },
        storage,
        trained,
        context,
    )
    assert loaded.vocabulary == weighed.vocabulary
    [again] = loaded.process([_parsed(text, "card_arrival", confidence)])
    assert again.get(PARSE_KEY) == reported


def test_a_novelty_weight_needs_a_model_that_kept_its_words(tmp_path: Path) -> None:
    settings = {"exclude_intents": ["oos"], "combined_threshold": 1.0}
    classifier, storage, _, context = _classifier(tmp_path, **settings)
    trained = classifier.train(_training_data())
    config = {
        **OutOfScopeClassifier.get_default_config(),
        **settings,
        "novelty_weight": 0.5,
    }
    with pytest.raises(ValueError, match="train it again with novelty_weight set"):
        OutOfScopeClassifier.load(config, storage, trained, context)


def test_neighbours_need_a_model_that_kept_its_examples(tmp_path: Path) -> None:
    classifier, storage, _, context = _classifier(tmp_path, exclude_intents=["oos"])
    trained = classifier.train(_training_data())
    config = {
        **OutOfScopeClassifier.get_default_config(),
        "exclude_intents": ["oos"],
        "neighbours": 1,
    }
    with pytest.raises(ValueError, match="train it again with neighbours set"):
        OutOfScopeClassifier.load(config, storage, trained, context)


def test_training_without_any_in_scope_intent_is_refused(tmp_path: Path) -> None:
    classifier, *_ = _classifier(
        tmp_path, exclude_intents=["card_arrival", "change_pin", "oos"]
    )
    with pytest.raises(OutOfScopeConfigError, match="no intent examples"):
        classifier.train(_training_data())


def _leave_one_out(vectors: list[np.ndarray]) -> np.ndarray:
    """Each example's best cosine, its own intent's mean made without it."""
    best = []
    for index, group in enumerate(vectors):
        for row in range(len(group)):
            scores = []
            for other, members in enumerate(vectors):
                kept = np.delete(members, row, axis=0) if other == index else members
                mean = kept.mean(axis=0)
                scores.append(float(group[row] @ (mean / np.linalg.norm(mean))))
            best.append(max(scores))
    return np.array(best)


def test_calibration_compares_each_example_with_the_means_made_without_it() -> None:
    generator = np.random.default_rng(0)
    vectors = []
    for _ in range(3):
        rows = generator.normal(size=(5, 8)) + generator.normal(size=8) * 2
        vectors.append(rows / np.linalg.norm(rows, axis=1, keepdims=True))
    expected = _leave_one_out(vectors)
    for rate in (0.1, 0.2, 0.5):
        threshold, count = calibrate(vectors, rate)
        assert count == 15
        assert threshold == pytest.approx(np.quantile(expected, rate), abs=1e-6)
    # With the example left in its own mean, every similarity would be higher.
    sums = [group.sum(axis=0) for group in vectors]
    inside = [
        max(float(row @ (total / np.linalg.norm(total))) for total in sums)
        for group in vectors
        for row in group
    ]
    assert calibrate(vectors, 0.2)[0] < np.quantile(inside, 0.2)


def test_calibration_leaves_out_intents_with_one_example() -> None:
    single = np.eye(4, dtype=np.float32)[:1]
    pair = np.eye(4, dtype=np.float32)[1:3]
    threshold, count = calibrate([single, pair], 0.5)
    assert count == 2
    # Each of the pair sees the other as its intent's mean: cosine 0.
    assert threshold == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(OutOfScopeConfigError, match="at least two training examples"):
        calibrate([single, np.eye(4, dtype=np.float32)[1:2]], 0.5)


def test_the_threshold_is_learnt_from_the_training_data_and_persists(
    tmp_path: Path,
) -> None:
    settings = {"exclude_intents": ["oos"], "fallback_rate": 0.25, "threshold": 0.9}
    classifier, storage, _, context = _classifier(tmp_path, **settings)
    trained = classifier.train(_training_data())
    vectors = [
        classifier.encoder.encode(EXAMPLES[intent], cache=False)
        for intent in classifier.intents
    ]
    learnt = float(np.quantile(_leave_one_out(vectors), 0.25))
    assert classifier.threshold == pytest.approx(learnt, abs=1e-5)
    # The configured threshold is not the one in use.
    assert abs(classifier.threshold - 0.9) > 0.05
    [message] = classifier.process([_parsed("my card never came", "card_arrival", 0.9)])
    reported = message.get(PARSE_KEY)
    assert reported["threshold"] == classifier.threshold
    falls_back = reported["similarity"] < classifier.threshold
    assert (message.get(INTENT)["name"] == "nlu_fallback") is falls_back
    config = {**OutOfScopeClassifier.get_default_config(), **settings}
    loaded = OutOfScopeClassifier.load(config, storage, trained, context)
    assert loaded.threshold == classifier.threshold
    with storage.write_to(trained) as folder:
        recorded = json.loads((folder / INTENTS_FILE).read_text())
    assert recorded["fallback_rate"] == 0.25
    assert recorded["calibration_examples"] == 8
    # A config without fallback_rate uses its own threshold, whatever is stored.
    fixed = {**config, "fallback_rate": None}
    assert OutOfScopeClassifier.load(fixed, storage, trained, context).threshold == 0.9


def test_a_fallback_rate_needs_an_intent_with_two_examples(tmp_path: Path) -> None:
    classifier, *_ = _classifier(tmp_path, fallback_rate=0.1)
    data = TrainingData(
        training_examples=[
            Message(data={TEXT: "my card has not arrived", INTENT: "card_arrival"}),
            Message(data={TEXT: "how do I change my PIN", INTENT: "change_pin"}),
        ]
    )
    with pytest.raises(OutOfScopeConfigError, match="at least two training examples"):
        classifier.train(data)

"""Unknown intents simulated among the known ones (``bench.nlu.simulated_open``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from bench.nlu.data import DataError, Example
from bench.nlu.simulated_open import (
    OPEN,
    Replica,
    Scored,
    Vectors,
    chosen_shares,
    scored,
    simulated_shares,
    turns,
)
from bot.nlu.out_of_scope import Vocabulary

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "bench" / "nlu" / "configs"


def test_the_replica_copies_a_linear_config_and_refuses_others() -> None:
    config = yaml.safe_load((CONFIGS / "linear-dense-knn-novelty.yml").read_text())
    assert Replica.of(config) == Replica(
        scale=3.16, max_iter=300, ambiguity=0.1, novelty_weight=0.5
    )
    for other in (ROOT / "config.yml", CONFIGS / "linear-dense-combined.yml"):
        with pytest.raises(DataError, match="copies the linear pipeline"):
            Replica.of(yaml.safe_load(other.read_text()))


def _scored(scores: list[float], first: list[str]) -> Scored:
    return Scored(np.array(first), np.zeros(len(scores), dtype=bool), np.array(scores))


def test_the_share_is_where_in_scope_accuracy_and_open_recall_meet_best() -> None:
    # Four in-scope messages (right, scores 0.9 / 0.8 / 0.7 / 0.3) and three
    # open ones (0.2 / 0.25 / 0.35). Setting aside the 0.3 too catches every
    # open message: (3/4 + 1) / 2 beats keeping it, (1 + 2/3) / 2.
    truth = np.array(["a", "b", "a", "b", OPEN, OPEN, OPEN])
    first = ["a", "b", "a", "b", "a", "b", "a"]
    turn = _scored([0.9, 0.8, 0.7, 0.3, 0.2, 0.25, 0.35], first)
    shares = chosen_shares([(turn, truth)])
    assert shares["balanced"] == pytest.approx(0.25)
    assert shares["youden"] == pytest.approx(0.25)
    # Macro F1 keeps it: the b it answers right (F1 2/3 -> 1) outweighs the
    # open message left to a (open 6/7 -> 4/5, a 1 -> 4/5): 0.867 > 0.841.
    assert shares["macro_f1"] == pytest.approx(0.0)
    # Each turn weighs the same: one where nothing in scope need go.
    clear = _scored([0.9, 0.8, 0.7, 0.6, 0.2, 0.25, 0.3], first)
    assert chosen_shares([(clear, truth)])["balanced"] == pytest.approx(0.0)
    both = chosen_shares([(turn, truth), (clear, truth)])["balanced"]
    assert 0.0 <= both <= 0.25


def test_an_ambiguous_message_falls_back_at_any_threshold() -> None:
    s = Scored(np.array(["a", "b"]), np.array([True, False]), np.array([1.5, 1.5]))
    assert s.falls(0.0).tolist() == [True, False]
    assert s.falls(1.6).tolist() == [True, True]
    assert s.part(np.array([False, True])).score.tolist() == [1.5]


def _vectors(examples: list[Example], directions: dict[str, list[float]]) -> Vectors:
    rng = np.random.default_rng(0)
    texts = sorted({e.text for e in examples})
    label = {e.text: e.label for e in examples}
    rows = np.array(
        [np.array(directions[label[t]]) + 0.05 * rng.normal(size=3) for t in texts]
    )
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return Vectors({t: i for i, t in enumerate(texts)}, rows)


DIRECTIONS = {
    "card": [1.0, 0.0, 0.0],
    "pin": [0.0, 1.0, 0.0],
    "refund": [0.0, 0.0, 1.0],
    "fees": [0.7, 0.7, 0.0],
}


def _examples(count: int, part: str) -> list[Example]:
    return [
        Example(f"{intent} {part} {n}", intent)
        for intent in DIRECTIONS
        for n in range(count)
    ]


def test_the_replica_scores_confidence_plus_nearest_example_minus_novelty() -> None:
    train, probe = _examples(6, "train"), _examples(2, "probe")
    vectors = _vectors(train + probe, DIRECTIONS)
    replica = Replica(scale=3.16, max_iter=300, ambiguity=0.1, novelty_weight=0.5)
    s = scored(replica, train, probe, vectors)
    assert s.first.tolist() == [e.label for e in probe]
    nearest = (vectors.of(probe) @ vectors.of(train).T).max(axis=1)
    texts: dict[str, list[str]] = {}
    for example in train:
        texts.setdefault(example.label, []).append(example.text)
    vocabulary = Vocabulary.learn([e.text for e in train], texts)
    novelty = np.array([vocabulary.novelty(e.text, e.label) for e in probe])
    confidence = s.score - nearest + 0.5 * novelty
    assert np.all((confidence > 0.25) & (confidence <= 1.0))
    # The words "probe" and its number are new to every intent's examples.
    assert np.all(novelty > 0)


def test_each_turn_leaves_a_group_of_intents_out_as_the_open_class() -> None:
    train, valid = _examples(6, "train"), _examples(2, "valid")
    vectors = _vectors(train + valid, DIRECTIONS)
    replica = Replica(scale=3.16, max_iter=300, ambiguity=0.1, novelty_weight=0.0)
    simulated = turns(replica, train, valid, vectors, groups=2, seed=0)
    assert len(simulated) == 2
    left_out = []
    for s, truth in simulated:
        out = {valid[i].label for i in np.flatnonzero(truth == OPEN)}
        assert len(out) == 2
        # The open messages are never given a left-out intent.
        assert not set(s.first.tolist()) & out
        left_out.append(out)
    assert left_out[0] | left_out[1] == set(DIRECTIONS)
    assert not left_out[0] & left_out[1]
    three = [e for e in train if e.label != "fees"]
    with pytest.raises(DataError, match="each turn keeps two"):
        turns(replica, three, valid, vectors, groups=2, seed=0)
    with pytest.raises(DataError, match="at least 2 groups"):
        turns(replica, train, valid, vectors, groups=1, seed=0)


def test_an_out_of_scope_class_stays_in_training_and_falls_back() -> None:
    # "fees" as the data's own out-of-scope class (CLINC150's oos_train): never
    # left out, its examples nobody's nearest, a message it takes falls back.
    train, valid = _examples(6, "train"), _examples(2, "valid")
    vectors = _vectors(train + valid, DIRECTIONS)
    replica = Replica(scale=3.16, max_iter=300, ambiguity=0.1, novelty_weight=0.0)
    known_valid = [e for e in valid if e.label != "fees"]
    simulated = turns(replica, train, known_valid, vectors, 3, 0, oos_label="fees")
    assert len(simulated) == 3
    for _, truth in simulated:
        assert "fees" not in truth.tolist()
        assert (truth == OPEN).sum() == 2  # one intent of three left out
    s = scored(replica, train, valid, vectors, oos_label="fees")
    fees = np.array([e.label == "fees" for e in valid])
    assert s.first[fees].tolist() == ["fees", "fees"]
    assert s.falls(-10.0)[fees].all()
    with pytest.raises(DataError, match="the validation data has 'fees' examples"):
        simulated_shares({}, train, valid, 3, 0, oos_label="fees")

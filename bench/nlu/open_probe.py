"""How much to set aside when no open messages are at hand: weighed on validation.

A probe for issue #15's open-intent setting (BANKING77 with 25 / 50 / 75 % of
its intents known). The bench's rule on the known intents' validation
examples alone (``--known-only-validation --max-drop 0.03``) sets aside
whatever loses 3 points of their accuracy, on every dataset and ratio alike.
That share is a guess: the right one depends on how near the unknown
intents lie to the known ones. This probe simulates them inside the known
intents, as the literature's development splits cannot: the known intents
are split into ``groups``; by turns, one group is left out of training and
its validation examples play the open class, the rest's validation examples
the known ones (:mod:`bench.nlu.simulated_open`). The simulation's chosen share
of in-scope messages set aside
(by a criterion that does not depend on how many open messages there are) is
then turned into the full model's threshold on the known validation
examples.

Every rule is weighed on validation data only: the known intents' held-back
20 % plus the unknown intents' *training* examples as the open class (what
:func:`bench.nlu.data.hold_out_intents` puts in the validation split). No
test message is read.

``python -m bench.nlu.open_probe`` (after ``python -m bench.nlu.oos_probe
embed banking77``) prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

from bench.nlu.data import hold_out_intents, public_splits
from bench.nlu.oos_probe import GRID, OOS, Lookup
from bench.nlu.simulated_open import (
    Replica,
    Scored,
    chosen_shares,
    scored,
    turns,
)

CONFIG = Path(__file__).parent / "configs" / "linear-dense-knn-novelty.yml"


def threshold_for_share(s: Scored, share: float) -> float:
    """The threshold at which at most ``share`` of these messages fall back."""
    grid = np.unique(np.concatenate([s.score, [-np.inf]]))
    shares = np.array([s.falls(t).mean() for t in grid])
    fits = np.flatnonzero(shares <= share + 1e-12)
    return float(grid[fits[-1]])


def max_drop_choice(s: Scored, truth: np.ndarray, max_drop: float = 0.03) -> float:
    """The bench's rule on known-only validation: most set aside within the drop."""
    right = s.first == truth
    floor = right.mean() - max_drop
    grid = np.unique(np.quantile(s.score, GRID))
    best = float(grid[0])
    for threshold in grid:
        if (right & ~s.falls(threshold)).mean() >= floor - 1e-12:
            best = float(threshold)
    return best


def open_scores(truth: np.ndarray, guessed: np.ndarray) -> dict[str, float]:
    """Accuracy, macro / open / known F1 (as :func:`metrics.open_intent_scores`)."""
    f1s = {}
    for name in np.unique(truth):
        hits = np.sum((truth == name) & (guessed == name))
        said = np.sum(guessed == name)
        real = np.sum(truth == name)
        f1s[str(name)] = 0.0 if hits == 0 else 2 * hits / (said + real)
    known = [v for k, v in f1s.items() if k != OOS]
    return {
        "accuracy": float(np.mean(truth == guessed)),
        "macro_f1": float((sum(known) + f1s[OOS]) / (len(known) + 1)),
        "open_f1": float(f1s[OOS]),
        "known_f1": float(np.mean(known)),
    }


def at(
    s: Scored, truth: np.ndarray, threshold: float, matched: np.ndarray
) -> dict[str, float]:
    """The validation figures at a threshold.

    ``matched`` picks the messages of a validation set shaped like the test
    split: a fifth of the open messages, so each unknown intent has about as
    many as each known one (the known intents' validation share), as in
    BANKING77's test split. The open-intent figures are computed on it.
    """
    fell = s.falls(threshold)
    out = truth == OOS
    guessed = np.where(fell, OOS, s.first)
    return {
        "threshold": threshold,
        "in_scope_accuracy": float(((s.first == truth) & ~fell)[~out].mean()),
        "oos_recall": float(fell[out].mean()),
        **open_scores(truth[matched], guessed[matched]),
    }


def probe(
    lookup: Lookup, ratio: float, seed: int, groups: int
) -> dict[str, dict[str, float]]:
    replica = Replica.of(yaml.safe_load(CONFIG.read_text(encoding="utf-8")))
    vectors = lookup
    """Every rule's validation figures for one ratio and seed."""
    banking = public_splits("banking77")
    intents = len({e.label for e in banking.train})
    splits = hold_out_intents(banking, intents - round(intents * ratio), seed)
    assert splits.valid is not None
    known_valid = [e for e in splits.valid if e.label != OOS]
    truth = np.array([e.label for e in splits.valid])
    full = scored(replica, splits.train, splits.valid, vectors)
    known = truth != OOS
    known_scored = full.part(known)
    matched = known | (np.random.default_rng(3000 + seed).random(len(truth)) < 0.2)
    rows = {
        "max_drop_0.03": at(
            full, truth, max_drop_choice(known_scored, truth[known]), matched
        )
    }
    simulated = turns(replica, splits.train, known_valid, vectors, groups, seed)
    for criterion, share in chosen_shares(simulated).items():
        threshold = threshold_for_share(known_scored, share)
        rows[f"simulated_{criterion}"] = {
            "share": share,
            **at(full, truth, threshold, matched),
        }
    return rows


def clinc(lookup: Lookup, seed: int, groups: int) -> dict[str, dict[str, float]]:
    """The rules on CLINC150, far out of scope: validation figures only.

    Trained on the in-scope training examples alone (no ``oos_train``: the
    open-intent setting has no open examples); each rule chooses on ``val``'s
    in-scope messages and is weighed on ``val`` + ``oos_val``.
    """
    replica = Replica.of(yaml.safe_load(CONFIG.read_text(encoding="utf-8")))
    vectors = lookup
    splits = public_splits("clinc150")
    assert splits.valid is not None
    train = [e for e in splits.train if e.label != OOS]
    truth = np.array([e.label for e in splits.valid])
    full = scored(replica, train, splits.valid, vectors)
    known = truth != OOS
    known_scored = full.part(known)
    everything = np.ones(len(truth), dtype=bool)
    rows = {
        "max_drop_0.03": at(
            full, truth, max_drop_choice(known_scored, truth[known]), everything
        )
    }
    known_valid = [e for e in splits.valid if e.label != OOS]
    simulated = turns(replica, train, known_valid, vectors, groups, seed)
    for criterion, share in chosen_shares(simulated).items():
        threshold = threshold_for_share(known_scored, share)
        rows[f"simulated_{criterion}"] = {
            "share": share,
            **at(full, truth, threshold, everything),
        }
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.open_probe``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu.open_probe")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/oos-probe"))
    parser.add_argument("--ratios", default="0.25,0.5,0.75")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--clinc150", action="store_true", help="CLINC150's validation split instead"
    )
    args = parser.parse_args(argv)
    if args.clinc150:
        found = clinc(Lookup.read("clinc150", args.cache), 0, args.groups)
        if args.out is not None:
            args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(found, indent=2))
        return 0
    lookup = Lookup.read("banking77", args.cache)
    result: dict[str, object] = {}
    for ratio in [float(r) for r in args.ratios.split(",")]:
        for seed in [int(s) for s in args.seeds.split(",")]:
            started = time.process_time()
            result[f"known{round(ratio * 100)}_seed{seed}"] = probe(
                lookup, ratio, seed, args.groups
            )
            print(
                ratio,
                seed,
                round(time.process_time() - started),
                "CPU s",
                file=sys.stderr,
            )
            if args.out is not None:
                args.out.write_text(
                    json.dumps(result, indent=2) + "\n", encoding="utf-8"
                )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

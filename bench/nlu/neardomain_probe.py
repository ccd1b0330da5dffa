"""More near-domain out-of-scope scores, weighed on validation splits only.

Issue #15's open part: BANKING77 with 10 intents held out, where the
out-of-scope messages are other banking questions. ``bench.nlu.oos_probe``
weighed confidence, cosines, nearest examples and a meta score; this probe
adds three ideas from the near-OOD literature, each computed from the
training data alone:

- **relative Mahalanobis distance** (Ren et al. 2021, arXiv:2106.09022): the
  distance to the nearest intent (class means, one shared covariance) minus
  the distance to all training data (its own mean and covariance), so that
  directions every banking question shares stop counting;
- **synthetic in-between messages** as an extra class of the classifier:
  unit vectors part way between training examples of two different, near
  intents (outlier exposure made from the data itself);
- **the nearest example relative to its intent**: the cosine to the nearest
  training example minus how near that intent's examples usually are to one
  another (leave-one-out, the median).

Every score is judged by ``bench.nlu.oos_probe.choose`` (the bench's
``--max-drop 0.03`` rule) on BANKING77's held-out validation splits (seeds
0-4) and CLINC150's ``val`` + ``oos_val``. Test splits are not read.

``python -m bench.nlu.neardomain_probe [--cache DIR] [--out FILE]``
(after ``python -m bench.nlu.oos_probe embed banking77`` and ``clinc150``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.nlu.oos_probe import (
    OOS,
    SCALE,
    Features,
    Fitted,
    Lookup,
    features,
    fit_logistic,
    settings,
    unit,
    weighed,
)


def shrunk_inverse(centred: np.ndarray, shrinkage: float) -> np.ndarray:
    """The inverse of a covariance shrunk toward its mean variance."""
    covariance = centred.T @ centred / max(len(centred) - 1, 1)
    target = np.trace(covariance) / len(covariance)
    shrunk = (1 - shrinkage) * covariance + shrinkage * target * np.eye(len(covariance))
    result: np.ndarray = np.linalg.inv(shrunk)
    return result


def relative_mahalanobis(
    fitted: Fitted, vectors: np.ndarray, shrinkage: float = 0.1
) -> np.ndarray:
    """Minus the relative Mahalanobis distance to the nearest intent."""
    in_scope = fitted.train_labels != OOS
    bank = fitted.train_vectors[in_scope]
    labels = fitted.train_labels[in_scope]
    intents = sorted(set(labels))
    means = np.stack([bank[labels == i].mean(axis=0) for i in intents])
    index = {intent: row for row, intent in enumerate(intents)}
    within = bank - means[[index[label] for label in labels]]
    precision = shrunk_inverse(within, shrinkage)
    overall = bank.mean(axis=0)
    background = shrunk_inverse(bank - overall, shrinkage)
    distances = np.empty((len(vectors), len(intents)))
    for k, mean in enumerate(means):
        delta = vectors - mean
        distances[:, k] = np.einsum("ij,jk,ik->i", delta, precision, delta)
    delta = vectors - overall
    base = np.einsum("ij,jk,ik->i", delta, background, delta)
    result: np.ndarray = -(distances.min(axis=1) - base)
    return result


def in_between(
    vectors: np.ndarray,
    labels: np.ndarray,
    count: int,
    rng: np.random.Generator,
    near: int = 5,
) -> np.ndarray:
    """Unit vectors part way between examples of two near, different intents."""
    intents = sorted(set(labels) - {OOS})
    means = unit(np.stack([vectors[labels == i].mean(axis=0) for i in intents]))
    similar = means @ means.T
    np.fill_diagonal(similar, -np.inf)
    neighbours = np.argsort(-similar, axis=1)[:, :near]
    members = {i: np.flatnonzero(labels == intent) for i, intent in enumerate(intents)}
    rows = []
    for _ in range(count):
        a = int(rng.integers(len(intents)))
        b = int(neighbours[a, rng.integers(near)])
        x = vectors[rng.choice(members[a])]
        y = vectors[rng.choice(members[b])]
        weight = rng.uniform(0.35, 0.65)
        rows.append(weight * x + (1 - weight) * y)
    return unit(np.stack(rows))


def synthetic_class(
    fitted: Fitted, vectors: np.ndarray, share: float, seed: int
) -> np.ndarray:
    """Top in-scope probability of a classifier with an in-between class."""
    rng = np.random.default_rng(7 + seed)
    in_scope = fitted.train_labels != OOS
    bank = fitted.train_vectors[in_scope]
    labels = fitted.train_labels[in_scope]
    count = int(share * len(bank))
    extra = in_between(bank, labels, count, rng)
    model = fit_logistic(
        np.vstack([bank, extra]), list(labels) + ["__between__"] * count
    )
    probabilities = model.predict_proba(vectors * SCALE)  # type: ignore[attr-defined]
    classes = list(model.classes_)  # type: ignore[attr-defined]
    between = classes.index("__between__")
    result: np.ndarray = 1.0 - probabilities[:, between]
    return result


def class_typical_nearest(fitted: Fitted) -> dict[str, float]:
    """Each intent's median leave-one-out cosine to its nearest own example."""
    result: dict[str, float] = {}
    for intent in fitted.intents:
        mine = fitted.train_vectors[fitted.train_labels == intent]
        if len(mine) < 2:
            result[intent] = 1.0
            continue
        similar = mine @ mine.T
        np.fill_diagonal(similar, -np.inf)
        result[intent] = float(np.median(similar.max(axis=1)))
    return result


def weigh(
    cache: Path, seeds: Sequence[int], out: Path | None, clinc: bool = True
) -> dict[str, object]:
    """Every new score's validation figures on every setting."""
    rows: dict[str, dict[str, object]] = {}
    for setting, splits in settings(seeds, clinc).items():
        started = time.process_time()
        lookup = Lookup.read(
            "clinc150" if setting == "clinc150" else "banking77", cache
        )
        train = lookup.of(splits.train)
        labels = [e.label for e in splits.train]
        fitted = Fitted.train(train, labels)
        assert splits.valid is not None
        valid = lookup.of(splits.valid)
        truth = np.array([e.label for e in splits.valid])
        f: Features = features(fitted, valid)
        seed = 0 if setting == "clinc150" else int(setting.rsplit("seed", 1)[1])
        typical = class_typical_nearest(fitted)
        knn_relative = f.knn[1] - np.array(
            [typical.get(str(first), 1.0) for first in f.first]
        )
        rmd = {s: relative_mahalanobis(fitted, valid, s) for s in (0.1,)}
        synthetic = {s: synthetic_class(fitted, valid, s, seed) for s in (0.05,)}
        scores: dict[str, np.ndarray] = {
            "conf+knn1 (current)": f.confidence + f.knn[1],
            "knn1 relative": knn_relative,
            "conf+knn1 relative": f.confidence + knn_relative,
        }
        for s, values in rmd.items():
            spread = float(np.std(values[truth != OOS]))
            scores[f"rmd {s}"] = values
            scores[f"conf+rmd {s} (scaled)"] = f.confidence + values / spread * 0.1
            scores[f"conf+knn1+rmd {s} (scaled)"] = (
                f.confidence + f.knn[1] + values / spread * 0.05
            )
        for s, values in synthetic.items():
            scores[f"between {s}"] = values
            scores[f"conf*between {s}"] = f.confidence * values
            scores[f"conf+knn1+between {s}"] = f.confidence + f.knn[1] + values
            scores[f"conf+knn1 (between {s} < 0.5 falls)"] = np.where(
                values < 0.5, -np.inf, f.confidence + f.knn[1]
            )
        rows[setting] = {}
        for name, score in scores.items():
            finite = np.where(np.isfinite(score), score, -1e9)
            rows[setting][name] = weighed(finite, truth, f)
        print(
            setting, round(time.process_time() - started, 1), "CPU s", file=sys.stderr
        )
        if out is not None:
            out.write_text(json.dumps({"validation": rows}, indent=2) + "\n")
    return {"validation": rows}


def summary(result: dict[str, object]) -> list[str]:
    """Mean BANKING77 validation recall and CLINC150's, one line a score."""
    rows = result["validation"]
    assert isinstance(rows, dict)
    names = next(iter(rows.values())).keys()
    lines = []
    for name in names:
        banking = [rows[s][name] for s in rows if s.startswith("banking77")]
        clinc = rows.get("clinc150", {}).get(name)
        recall = (
            np.mean([b["oos_recall"] for b in banking]) if banking else float("nan")
        )
        in_scope = (
            np.mean([b["in_scope_accuracy"] for b in banking])
            if banking
            else float("nan")
        )
        area = np.mean([b["auroc"] for b in banking]) if banking else float("nan")
        tail = (
            f" | clinc {clinc['in_scope_accuracy']:.3f} / {clinc['oos_recall']:.3f}"
            if clinc
            else ""
        )
        lines.append(
            f"{name:40s} banking {in_scope:.3f} / {recall:.3f} auroc {area:.3f}{tail}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.neardomain_probe``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu.neardomain_probe")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/oos-probe"))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-clinc", action="store_true")
    args = parser.parse_args(argv)
    result = weigh(
        args.cache, [int(s) for s in args.seeds.split(",")], args.out, not args.no_clinc
    )
    print("\n".join(summary(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

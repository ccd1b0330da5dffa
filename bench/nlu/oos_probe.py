"""Near-domain out-of-scope scores weighed on validation splits, without Rasa.

A probe for issue #15: the linear pipeline
(``bench/nlu/configs/linear-dense-combined.yml``: the sentence embedding,
scale 3.16, into scikit-learn's ``LogisticRegression`` as Rasa configures it)
replicated in numpy from embeddings encoded once per dataset, so that many
out-of-scope scores can be weighed in minutes instead of one full training
(150-340 CPU s) each. Every score is weighed with the bench's rule
(:func:`bench.nlu.metrics.choose_threshold`'s combined branch, for any score):
the threshold among the validation scores' quantiles 0.00-0.99 with the
highest out-of-scope recall losing at most ``max_drop`` of the validation
split's own top-intent accuracy, the ambiguity rule (top two within 0.1) and
the classifier's own ``oos`` class kept.

``python -m bench.nlu.oos_probe embed DATASET`` encodes every text of a
public dataset once (into ``--cache``); ``python -m bench.nlu.oos_probe
weigh`` prints the validation figures of every score as JSON. Test splits
are scored only with ``--test SCORE`` (once, for a score already chosen).
``python -m bench.nlu.oos_probe absorbed`` shows, per held-out BANKING77
intent, the share of its validation messages the current rule catches and
the known intents that take the rest. ``python -m bench.nlu.oos_probe
novelty`` weighs the current score minus a weight times the message's
lexical novelty for its top intent
(:class:`bot.nlu.out_of_scope.Vocabulary`, the component's own code) at
several weights.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.nlu.data import Splits, hold_out_intents, public_splits
from bench.nlu.simulated_open import Vectors, logistic_regression

OOS = "oos"
SCALE = 3.16
AMBIGUITY = 0.1
GRID = tuple(step / 100 for step in range(100))


def unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    result: np.ndarray = rows / np.maximum(norms, 1e-12)
    return result


def embed(name: str, cache: Path) -> None:
    """Encode every text of a public dataset once (as the featurizer does)."""
    from bot.knowledge.embedding import shared_encoder
    from bot.nlu.sentence_features import spelled_out

    splits = public_splits(name)
    texts = sorted({e.text for e in splits.train + splits.test + (splits.valid or [])})
    vectors = shared_encoder().encode([spelled_out(t) for t in texts], cache=False)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(cache / f"{name}-vectors.npy", vectors)
    (cache / f"{name}-texts.json").write_text(json.dumps(texts), encoding="utf-8")


class Lookup(Vectors):
    """Texts' vectors from the cache (``embed``)."""

    @classmethod
    def read(cls, name: str, cache: Path) -> Lookup:
        """The cached vectors of a dataset."""
        texts = json.loads((cache / f"{name}-texts.json").read_text(encoding="utf-8"))
        vectors = np.load(cache / f"{name}-vectors.npy").astype(np.float64)
        return cls({text: row for row, text in enumerate(texts)}, vectors)


def fit_logistic(vectors: np.ndarray, labels: Sequence[str]) -> object:
    """Rasa's ``LogisticRegressionClassifier`` estimator, as the config sets it."""
    model = logistic_regression(max_iter=300)
    model.fit(vectors * SCALE, np.array(labels))
    return model


@dataclass
class Fitted:
    """What a trained pipeline knows: the classifier and the training vectors."""

    model: object
    classes: np.ndarray
    train_vectors: np.ndarray
    train_labels: np.ndarray
    intents: list[str]
    centroids: np.ndarray

    @classmethod
    def train(cls, vectors: np.ndarray, labels: Sequence[str]) -> Fitted:
        """Fit the classifier, the intents' mean directions."""
        model = fit_logistic(vectors, labels)
        array = np.array(labels)
        intents = sorted(set(labels) - {OOS})
        centroids = unit(np.stack([vectors[array == i].mean(axis=0) for i in intents]))
        return cls(model, model.classes_, vectors, array, intents, centroids)  # type: ignore[attr-defined]


@dataclass
class Features:
    """Per-message signals the scores are made of."""

    first: np.ndarray
    confidence: np.ndarray
    margin: np.ndarray
    logits: np.ndarray
    probabilities: np.ndarray
    cosine: np.ndarray
    cosine_top: np.ndarray
    knn: dict[int, np.ndarray]
    knn_class: dict[int, np.ndarray]
    #: The sparse (char n-gram) classifier's probability of the dense top intent.
    sparse_agree: np.ndarray | None = None
    #: The simulated-out-of-scope meta score (``None``: not computed).
    meta: np.ndarray | None = None
    #: The same without the logits (what a component after the classifier sees).
    meta_parse: np.ndarray | None = None


KS = (1, 5, 10, 20)


def features(fitted: Fitted, vectors: np.ndarray) -> Features:
    """Every signal for the given messages' vectors."""
    model = fitted.model
    logits = model.decision_function(vectors * SCALE)  # type: ignore[attr-defined]
    probabilities = model.predict_proba(vectors * SCALE)  # type: ignore[attr-defined]
    order = np.argsort(-probabilities, axis=1, kind="stable")
    rows = np.arange(len(vectors))
    top = probabilities[rows, order[:, 0]]
    second = probabilities[rows, order[:, 1]]
    first = fitted.classes[order[:, 0]]
    similarities = vectors @ fitted.centroids.T
    cosine = similarities.max(axis=1)
    position = {intent: i for i, intent in enumerate(fitted.intents)}
    top_index = np.array([position.get(str(f), -1) for f in first])
    cosine_top = np.where(
        top_index >= 0, similarities[rows, np.maximum(top_index, 0)], cosine
    )
    in_scope = fitted.train_labels != OOS
    bank = fitted.train_vectors[in_scope]
    bank_labels = fitted.train_labels[in_scope]
    knn: dict[int, np.ndarray] = {}
    knn_class: dict[int, np.ndarray] = {}
    for start in range(0, len(vectors), 512):
        block = vectors[start : start + 512] @ bank.T
        ordered = -np.sort(-block, axis=1)[:, : max(KS)]
        for k in KS:
            knn.setdefault(k, []).append(ordered[:, k - 1])  # type: ignore[arg-type]
        # The k nearest examples of the top intent.
        for k in KS:
            values = np.empty(len(block))
            for row in range(len(block)):
                label = first[start + row]
                mine = block[row, bank_labels == label]
                if len(mine) == 0:
                    values[row] = ordered[row, k - 1]
                else:
                    kk = min(k, len(mine))
                    values[row] = np.partition(mine, len(mine) - kk)[len(mine) - kk]
            knn_class.setdefault(k, []).append(values)  # type: ignore[arg-type]
    return Features(
        first,
        top,
        top - second,
        logits,
        probabilities,
        cosine,
        cosine_top,
        {k: np.concatenate(v) for k, v in knn.items()},  # type: ignore[arg-type]
        {k: np.concatenate(v) for k, v in knn_class.items()},  # type: ignore[arg-type]
    )


META_SIGNALS = ("confidence", "cosine", "knn1", "knn5", "max_logit", "margin")


def signal_matrix(f: Features) -> np.ndarray:
    """The signals the meta score weighs, one column each."""
    return np.column_stack(
        [
            f.confidence,
            f.cosine,
            f.knn[1],
            f.knn[5],
            f.logits.max(axis=1),
            f.margin,
        ]
    )


def simulated(
    vectors: np.ndarray, labels: Sequence[str], seed: int, groups: int = 5
) -> tuple[np.ndarray, np.ndarray, list[Features]]:
    """Out of scope simulated inside training data: intents left out by turns.

    The intents are split into ``groups``; for each, a model is fitted on 80 %
    of the other intents' examples, and its signals computed for the other
    20 % (in scope) and for the left-out intents' examples (out of scope).

    Returns:
        The signal rows, whether each is in scope, and each turn's features.
    """
    array = np.array(labels)
    intents = sorted(set(labels) - {OOS})
    rng = np.random.default_rng(1000 + seed)
    order = rng.permutation(len(intents))
    rows, truths, turns = [], [], []
    for group in range(groups):
        left = {intents[i] for i in order[group::groups]}
        keep_train, keep_valid = [], []
        for intent in intents:
            if intent in left:
                continue
            mine = np.flatnonzero(array == intent)
            mine = mine[rng.permutation(len(mine))]
            cut = int(0.8 * len(mine))
            keep_train.extend(mine[:cut])
            keep_valid.extend(mine[cut:])
        outside = np.flatnonzero(np.isin(array, sorted(left)))
        fitted = Fitted.train(vectors[keep_train], list(array[keep_train]))
        probe = np.concatenate([keep_valid, outside])
        f = features(fitted, vectors[probe])
        truth = np.concatenate([array[keep_valid], np.full(len(outside), OOS)])
        rows.append(signal_matrix(f))
        truths.append(truth)
        turns.append(f)
    return np.vstack(rows), np.concatenate(truths), turns


def meta_model(rows: np.ndarray, truth: np.ndarray) -> object:
    """A logistic regression telling in scope from simulated out of scope."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(rows, truth != OOS)
    return model


def sparse_agreement(
    train_texts: Sequence[str],
    labels: Sequence[str],
    texts: Sequence[str],
    first: np.ndarray,
) -> np.ndarray:
    """A char n-gram classifier's probability of the dense classifier's intent."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
    )
    matrix = vectorizer.fit_transform(train_texts)
    model = LogisticRegression(C=10.0, max_iter=300, class_weight="balanced")
    model.fit(matrix, np.array(labels))
    probabilities = model.predict_proba(vectorizer.transform(texts))
    position = {str(c): i for i, c in enumerate(model.classes_)}
    columns = np.array([position.get(str(f), 0) for f in first])
    result: np.ndarray = probabilities[np.arange(len(texts)), columns]
    return result


def unsure_anyway(signals: Features) -> np.ndarray:
    """Messages that fall back at any threshold: ambiguous, or the ``oos`` class."""
    result: np.ndarray = (signals.margin < AMBIGUITY) | (signals.first == OOS)
    return result


def choose(
    score: np.ndarray,
    truth: np.ndarray,
    signals: Features,
    max_drop: float = 0.03,
) -> tuple[float, dict[str, float]]:
    """The bench's rule for any score (higher: more in scope)."""
    out = truth == OOS
    unsure = unsure_anyway(signals)
    right = (signals.first == truth)[~out]
    floor = float(right.mean()) - max_drop
    grid = np.unique(np.quantile(score[np.isfinite(score)], GRID))
    falls = unsure[:, None] | (score[:, None] < grid[None, :])
    in_scope = (~falls[~out] & right[:, None]).mean(axis=0)
    recall = falls[out].mean(axis=0)
    best = 0
    key = [
        (r, i) if i >= floor - 1e-12 else (-1.0, i)
        for r, i in zip(recall, in_scope, strict=True)
    ]
    for index in range(1, len(grid)):
        a, b = key[index], key[best]
        if a[0] > b[0] + 1e-12 or (abs(a[0] - b[0]) <= 1e-12 and a[1] > b[1] + 1e-12):
            best = index
    threshold = float(grid[best])
    return threshold, figures(score, threshold, truth, signals)


def figures(
    score: np.ndarray, threshold: float, truth: np.ndarray, signals: Features
) -> dict[str, float]:
    """In-scope accuracy and out-of-scope recall at a threshold."""
    out = truth == OOS
    falls = unsure_anyway(signals) | (score < threshold)
    right = signals.first == truth
    return {
        "accuracy": float(right[~out].mean()),
        "in_scope_accuracy": float((~falls & right)[~out].mean()),
        "oos_recall": float(falls[out].mean()) if out.any() else float("nan"),
        "in_scope_fallback_rate": float(falls[~out].mean()),
    }


def auroc(score: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve of in-scope (positive) against out of scope."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(truth != OOS, score))


def weighed(
    score: np.ndarray, truth: np.ndarray, signals: Features
) -> dict[str, float]:
    """A score's chosen threshold, its figures there, and its AUROC."""
    threshold, at = choose(score, truth, signals)
    return {"threshold": threshold, **at, "auroc": auroc(score, truth)}


ScoreFunction = Callable[[Features], np.ndarray]


def energy(f: Features) -> np.ndarray:
    """Minus the free energy: log-sum-exp of the logits."""
    from scipy.special import logsumexp

    result: np.ndarray = logsumexp(f.logits, axis=1)
    return result


SCORES: dict[str, ScoreFunction] = {
    "baseline conf+cos": lambda f: f.confidence + f.cosine,
    "conf": lambda f: f.confidence,
    "cos": lambda f: f.cosine,
    "max logit": lambda f: f.logits.max(axis=1),
    "energy": energy,
    **{f"knn{k}": (lambda f, k=k: f.knn[k]) for k in KS},  # type: ignore[misc]
    **{f"conf+knn{k}": (lambda f, k=k: f.confidence + f.knn[k]) for k in KS},  # type: ignore[misc]
    **{
        f"conf+cos+knn{k}": (lambda f, k=k: f.confidence + f.cosine + f.knn[k])  # type: ignore[misc]
        for k in KS
    },
    **{f"knn{k}_top": (lambda f, k=k: f.knn_class[k]) for k in KS},  # type: ignore[misc]
    **{
        f"conf+knn{k}_top": (lambda f, k=k: f.confidence + f.knn_class[k])  # type: ignore[misc]
        for k in KS
    },
    "meta (simulated oos)": lambda f: f.meta,  # type: ignore[dict-item]
    "meta without logits": lambda f: f.meta_parse,  # type: ignore[dict-item]
    "conf+knn1+sparse": lambda f: f.confidence + f.knn[1] + f.sparse_agree,  # type: ignore[operator]
    "mean(conf,sparse)+knn1": lambda f: (f.confidence + f.sparse_agree) / 2 + f.knn[1],  # type: ignore[operator]
    "conf+cos+sparse": lambda f: f.confidence + f.cosine + f.sparse_agree,  # type: ignore[operator]
}


#: Scores left out with ``--light`` (they need extra fits).
LIGHT_SKIPS = (
    "meta (simulated oos)",
    "meta without logits",
    "conf+knn1+sparse",
    "mean(conf,sparse)+knn1",
    "conf+cos+sparse",
)


def settings(seeds: Sequence[int], clinc: bool = True) -> dict[str, Splits]:
    """The data the probe weighs: BANKING77 held out by seed, and CLINC150."""
    result = {
        f"banking77_holdout10_seed{seed}": hold_out_intents(
            public_splits("banking77"), 10, seed
        )
        for seed in seeds
    }
    if clinc:
        result["clinc150"] = public_splits("clinc150")
    return result


def weigh(
    cache: Path,
    seeds: Sequence[int],
    out: Path | None,
    clinc: bool = True,
    light: bool = False,
) -> dict[str, object]:
    """Every score's validation figures on every setting."""
    rows: dict[str, dict[str, object]] = {}
    for setting, splits in settings(seeds, clinc).items():
        lookup = Lookup.read(
            "clinc150" if setting == "clinc150" else "banking77", cache
        )
        started = time.process_time()
        fitted = Fitted.train(lookup.of(splits.train), [e.label for e in splits.train])
        assert splits.valid is not None
        truth = np.array([e.label for e in splits.valid])
        signals = features(fitted, lookup.of(splits.valid))
        train_labels = [e.label for e in splits.train]
        rows[setting] = {}
        if light:
            for name, function in SCORES.items():
                if name in LIGHT_SKIPS:
                    continue
                rows[setting][name] = weighed(function(signals), truth, signals)
            if out is not None:
                out.write_text(json.dumps({"validation": rows}, indent=2) + "\n")
            continue
        rows_sim, truth_sim, _ = simulated(
            lookup.of(splits.train),
            train_labels,
            seed=len(rows)
            if setting == "clinc150"
            else int(setting.rsplit("seed", 1)[1]),
        )
        meta = meta_model(rows_sim, truth_sim)
        signals.meta = meta.decision_function(signal_matrix(signals))  # type: ignore[attr-defined]
        parse_columns = [0, 1, 2, 3, 5]
        meta_parse = meta_model(rows_sim[:, parse_columns], truth_sim)
        signals.meta_parse = meta_parse.decision_function(  # type: ignore[attr-defined]
            signal_matrix(signals)[:, parse_columns]
        )
        signals.sparse_agree = sparse_agreement(
            [e.text for e in splits.train],
            train_labels,
            [e.text for e in splits.valid],
            signals.first,
        )
        rows_meta = dict(zip(META_SIGNALS, meta[-1].coef_[0].tolist(), strict=True))  # type: ignore[index]
        rows[setting] = {"meta_weights (standardised)": rows_meta}
        for name, function in SCORES.items():
            rows[setting][name] = weighed(function(signals), truth, signals)
        print(
            setting, round(time.process_time() - started, 1), "CPU s", file=sys.stderr
        )
        if out is not None:
            out.write_text(json.dumps({"validation": rows}, indent=2) + "\n")
    result = {"validation": rows}
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def absorbed(cache: Path, seeds: Sequence[int]) -> dict[str, object]:
    """Where each held-out intent's validation messages go at the rule's threshold.

    For each seed: the current score (confidence plus the cosine to the
    nearest training example) and its validation threshold; per held-out
    intent, the share caught (sent to the fallback) and the known intents
    that took the rest, most first. Validation splits only.
    """
    from collections import Counter

    original = {e.text: e.label for e in public_splits("banking77").train}
    lookup = Lookup.read("banking77", cache)
    result: dict[str, object] = {}
    for setting, splits in settings(seeds, clinc=False).items():
        assert splits.valid is not None
        fitted = Fitted.train(lookup.of(splits.train), [e.label for e in splits.train])
        truth = np.array([e.label for e in splits.valid])
        signals = features(fitted, lookup.of(splits.valid))
        score = signals.confidence + signals.knn[1]
        threshold, at = choose(score, truth, signals)
        falls = unsure_anyway(signals) | (score < threshold)
        rows: dict[str, list[int]] = {}
        for row, example in enumerate(splits.valid):
            if truth[row] == OOS:
                rows.setdefault(original[example.text], []).append(row)
        intents = {}
        for intent, mine in sorted(rows.items()):
            taken = Counter(str(signals.first[r]) for r in mine if not falls[r])
            intents[intent] = {
                "messages": len(mine),
                "caught": round(float(falls[mine].mean()), 4),
                "taken_by": dict(taken.most_common(3)),
            }
        result[setting] = {"threshold": threshold, **at, "held_out": intents}
    return result


NOVELTY_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def novelty(cache: Path, seeds: Sequence[int]) -> dict[str, object]:
    """Confidence + nearest example - w * novelty, by weight, validation only.

    Per setting (BANKING77 held out by seed, CLINC150) and weight: the
    rule's threshold and the figures there; then, per weight, the mean over
    the BANKING77 settings.
    """
    from bot.nlu.out_of_scope import Vocabulary

    rows: dict[str, dict[str, object]] = {}
    for setting, splits in settings(seeds).items():
        assert splits.valid is not None
        lookup = Lookup.read(
            "clinc150" if setting == "clinc150" else "banking77", cache
        )
        labels = [e.label for e in splits.train]
        fitted = Fitted.train(lookup.of(splits.train), labels)
        truth = np.array([e.label for e in splits.valid])
        signals = features(fitted, lookup.of(splits.valid))
        texts: dict[str, list[str]] = {}
        for example in splits.train:
            if example.label != OOS:
                texts.setdefault(example.label, []).append(example.text)
        vocabulary = Vocabulary.learn([e.text for e in splits.train], texts)
        found = np.array(
            [
                vocabulary.novelty(e.text, str(first))
                for e, first in zip(splits.valid, signals.first, strict=True)
            ]
        )
        base = signals.confidence + signals.knn[1]
        rows[setting] = {
            f"w={weight}": weighed(base - weight * found, truth, signals)
            for weight in NOVELTY_WEIGHTS
        }
    banking = [name for name in rows if name != "clinc150"]
    means = {
        f"w={weight}": {
            key: float(
                np.mean([rows[name][f"w={weight}"][key] for name in banking])  # type: ignore[index]
            )
            for key in ("oos_recall", "in_scope_accuracy", "auroc")
        }
        for weight in NOVELTY_WEIGHTS
    }
    return {"validation": rows, "banking77_holdout10_mean": means}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.nlu.oos_probe``."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu.oos_probe")
    parser.add_argument("action", choices=("embed", "weigh", "absorbed", "novelty"))
    parser.add_argument("dataset", nargs="?")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/oos-probe"))
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-clinc", action="store_true")
    parser.add_argument("--only-clinc", action="store_true")
    parser.add_argument("--light", action="store_true")
    args = parser.parse_args(argv)
    if args.action == "embed":
        embed(args.dataset, args.cache)
        return 0
    if args.action in ("absorbed", "novelty"):
        action = absorbed if args.action == "absorbed" else novelty
        found = action(args.cache, [int(s) for s in args.seeds.split(",")])
        if args.out is not None:
            args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(found, indent=2))
        return 0
    seeds = [] if args.only_clinc else [int(s) for s in args.seeds.split(",")]
    result = weigh(args.cache, seeds, args.out, not args.no_clinc, args.light)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Labelled examples: CSV files (``text,label``) and the public datasets.

``baton bench nlu`` reads CSV files with a header row naming a ``text`` column
and a ``label`` column (BANKING77's ``category`` is accepted as the label).
:func:`public_splits` reads BANKING77 and CLINC150 from the shared datasets
directory (``BATON_DATASETS`` or ``../shared/datasets``) as they are published,
for ``make bench-nlu``; nothing is copied into the project.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: The columns that may hold an example's label, in order of preference.
LABEL_COLUMNS = ("label", "intent", "category")
#: Where the public datasets are when ``BATON_DATASETS`` is not set.
DEFAULT_DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


class DataError(ValueError):
    """A data file that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    label: str


def read_csv(path: Path) -> list[Example]:
    """Read ``text,label`` rows.

    Args:
        path: A UTF-8 CSV file whose header names ``text`` and ``label``
            (or ``intent`` / ``category``).

    Returns:
        The examples, in file order.

    Raises:
        DataError: The file is missing, has no such columns, has a row with an
            empty text or label, or has no rows.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [name.strip().lower() for name in reader.fieldnames or []]
        label_column = next((name for name in LABEL_COLUMNS if name in columns), None)
        if "text" not in columns or label_column is None:
            raise DataError(
                f"{path}: the header must name a 'text' and a 'label' column "
                f"(found: {', '.join(columns) or 'nothing'})"
            )
        reader.fieldnames = columns
        examples = []
        for line, row in enumerate(reader, start=2):
            text = (row.get("text") or "").strip()
            label = (row.get(label_column) or "").strip()
            if not text or not label:
                raise DataError(f"{path}, line {line}: empty text or label")
            examples.append(Example(text, label))
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples


def write_csv(path: Path, examples: Sequence[Example]) -> None:
    """Write examples as ``text,label`` CSV."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((example.text, example.label) for example in examples)


def datasets_directory() -> Path:
    """The shared datasets directory (``BATON_DATASETS`` or ``../shared/datasets``)."""
    configured = os.environ.get("BATON_DATASETS", "").strip()
    return Path(configured) if configured else DEFAULT_DATASETS


@dataclass(frozen=True)
class Splits:
    """A public dataset's parts, and where they came from."""

    name: str
    train: list[Example]
    test: list[Example]
    valid: list[Example] | None
    oos_label: str | None
    provenance: str


BANKING77_PROVENANCE = (
    "BANKING77 (Casanueva et al. 2020, 'Efficient Intent Detection with Dual "
    "Sentence Encoders', arXiv:2003.04807; CC BY 4.0), "
    "PolyAI-LDN/task-specific-datasets banking_data/ at "
    "57ec275d8078af65b7731c2a98be812d844a6d6b"
)
CLINC150_PROVENANCE = (
    "CLINC150 / OOS-eval, full split (Larson et al. 2019, 'An Evaluation Dataset "
    "for Intent Classification and Out-of-Scope Prediction', EMNLP-IJCNLP 2019; "
    "CC BY 3.0), clinc/oos-eval data/data_full.json at "
    "828f8093932c8fe6ca7936c3d2e52903b1c523de"
)


def _clinc(directory: Path, parts: Sequence[str]) -> list[Example]:
    data = json.loads((directory / "data_full.json").read_text(encoding="utf-8"))
    return [Example(text, label) for part in parts for text, label in data[part]]


def public_splits(name: str, directory: Path | None = None) -> Splits:
    """A public dataset as published.

    BANKING77 has no validation split and no out-of-scope examples: it is
    trained on ``train.csv`` and tested on ``test.csv``. CLINC150 (full) is
    trained on ``train`` plus ``oos_train`` (label ``oos``), the threshold is
    chosen on ``val`` plus ``oos_val``, and it is tested on ``test`` plus
    ``oos_test``.

    Raises:
        DataError: An unknown name, or the files are not there.
    """
    directory = directory or datasets_directory()
    if name == "banking77":
        root = directory / "banking77"
        return Splits(
            name,
            read_csv(root / "train.csv"),
            read_csv(root / "test.csv"),
            None,
            None,
            BANKING77_PROVENANCE,
        )
    if name == "clinc150":
        root = directory / "clinc150"
        if not (root / "data_full.json").is_file():
            raise DataError(f"{root / 'data_full.json'}: no such file")
        return Splits(
            name,
            _clinc(root, ("train", "oos_train")),
            _clinc(root, ("test", "oos_test")),
            _clinc(root, ("val", "oos_val")),
            "oos",
            CLINC150_PROVENANCE,
        )
    raise DataError(f"unknown dataset {name!r} (banking77 or clinc150)")


def slice_examples(
    examples: Sequence[Example], labels: Sequence[str], per_label: int, seed: int = 0
) -> list[Example]:
    """At most ``per_label`` examples of each of ``labels`` (a quick subset)."""
    chosen: list[Example] = []
    rng = random.Random(seed)
    for label in labels:
        mine = [example for example in examples if example.label == label]
        rng.shuffle(mine)
        chosen.extend(mine[:per_label])
    return chosen


def hold_out_intents(
    splits: Splits,
    count: int,
    seed: int = 0,
    oos_label: str = "oos",
    valid_fraction: float = 0.2,
) -> Splits:
    """Out-of-scope data made from data without any: some intents held out.

    ``count`` intents, drawn with ``numpy.random.default_rng(seed)`` from the
    sorted intent names, are removed from training and become out of scope
    (``oos_label``). The validation split comes from the training data only:
    each kept intent's training examples are shuffled by the same generator
    (intents in sorted order) and the last ``valid_fraction`` of them
    (``n - int((1 - valid_fraction) * n)``) go to validation, with every
    training example of the held-out intents labelled out of scope. The test
    split is the dataset's test split with the held-out intents relabelled out
    of scope. A threshold chosen on this validation split has seen neither the
    test messages nor any test intent that training lacks: what it catches of
    the held-out intents in the test split is what it would catch of another
    company's near-domain questions. (BANKING77, 10 intents, seed 0:
    7,016 train, 1,792 + 1,195 validation, 2,680 + 400 test.)

    Raises:
        DataError: The data already has out-of-scope examples or ``oos_label``
            is an intent, ``count`` leaves fewer than two intents, or the
            fraction is not in (0, 1).
    """
    import numpy as np

    if splits.oos_label is not None and any(
        example.label == splits.oos_label for example in splits.train + splits.test
    ):
        raise DataError(
            f"{splits.name} has out-of-scope examples ({splits.oos_label!r}) "
            "already: hold out intents of data without any"
        )
    intents = sorted({example.label for example in splits.train})
    if oos_label in intents:
        raise DataError(f"{oos_label!r} is an intent of {splits.name}")
    if not 1 <= count <= len(intents) - 2:
        raise DataError(
            f"can hold out 1 to {len(intents) - 2} of {len(intents)} intents, "
            f"not {count}"
        )
    if not 0.0 < valid_fraction < 1.0:
        raise DataError("the validation fraction must be in (0, 1)")
    rng = np.random.default_rng(seed)
    held = {str(name) for name in rng.choice(intents, count, replace=False)}
    train: list[Example] = []
    valid: list[Example] = []
    for intent in intents:
        if intent in held:
            continue
        mine = [example for example in splits.train if example.label == intent]
        order = rng.permutation(len(mine))
        cut = int((1.0 - valid_fraction) * len(mine))
        train.extend(mine[index] for index in order[:cut])
        valid.extend(mine[index] for index in order[cut:])
    valid.extend(
        Example(example.text, oos_label)
        for example in splits.train
        if example.label in held
    )
    test = [
        Example(example.text, oos_label) if example.label in held else example
        for example in splits.test
    ]
    return Splits(
        f"{splits.name}-holdout{count}",
        train,
        test,
        valid,
        oos_label,
        f"{splits.provenance}; {count} intents held out as out of scope "
        f"(bench.nlu.data.hold_out_intents, seed {seed}: "
        f"{', '.join(sorted(held))}): training {1 - valid_fraction:.0%} of each "
        "other intent's training examples; validation the rest plus the "
        "held-out intents' training examples; test the test split with the "
        "held-out intents relabelled",
    )

"""Published results on the public datasets (../shared/datasets/README.md)."""

from __future__ import annotations

from typing import Any

#: Per dataset: (system, figures) with the paper that reports them.
PUBLISHED: dict[str, dict[str, Any]] = {
    "banking77": {
        "source": "Casanueva et al. 2020, arXiv:2003.04807 (full training data)",
        "results": [
            {"system": "BERT-Large fine-tuned", "accuracy": 0.9366},
            {"system": "USE+ConveRT", "accuracy": 0.9336},
        ],
    },
    "banking77_10shot": {
        "source": "Casanueva et al. 2020, arXiv:2003.04807 (10 examples per "
        "intent); ICDA as listed in ../shared/datasets/README.md",
        "results": [
            {"system": "USE+ConveRT, 10 per intent", "accuracy": 0.8519},
            {"system": "best listed (ICDA), 10 per intent", "accuracy": 0.8979},
        ],
    },
    "clinc150": {
        "source": "Larson et al. 2019, EMNLP-IJCNLP (Full split)",
        "results": [
            {
                "system": "BERT, confidence threshold",
                "in_scope_accuracy": 0.962,
                "oos_recall": 0.523,
            },
            {
                "system": "BERT, trained on oos examples",
                "in_scope_accuracy": 0.969,
                "oos_recall": 0.403,
            },
            {
                "system": "Rasa (2019), trained on oos examples",
                "in_scope_accuracy": 0.915,
                "oos_recall": 0.453,
            },
            {
                "system": "Rasa (2019), threshold",
                "in_scope_accuracy": 0.909,
                "oos_recall": 0.312,
            },
            {"system": "Dialogflow", "in_scope_accuracy": 0.917, "oos_recall": 0.140},
        ],
    },
}

#: Open intent classification on BANKING77 (known intents kept, the rest one
#: open class): per known-intent ratio, each system's accuracy over all test
#: messages, macro F1 over the known intents and the open class, the open
#: class's F1 and the known intents' mean F1, in per cent.
OPEN_INTENT: dict[str, Any] = {
    "source": "TEXTOIR's benchmark table (Zhang et al. 2021, ACL demos, "
    "github.com/thuiar/TEXTOIR, open_intent_detection/README.md at 07b95b0): "
    "BERT-base, BANKING77 (train 9,003 / dev 1,000 / test 3,080), known "
    "intents drawn at random per seed, the dev split known intents only; "
    "ADB: Zhang et al. 2021, AAAI; DA-ADB: Zhang et al. 2023, IEEE/ACM TASLP; "
    "KNNCL: Zhou et al. 2022, ACL (all 12 layers fine-tuned); MSP: Hendrycks "
    "and Gimpel 2017, ICLR",
    "fields": ("accuracy", "macro_f1", "open_f1", "known_f1"),
    "banking77": {
        0.25: {
            "MSP": (42.19, 49.92, 39.42, 50.47),
            "ADB": (79.33, 71.63, 85.05, 70.92),
            "DA-ADB": (81.19, 73.73, 86.57, 73.05),
            "KNNCL": (86.14, 77.01, 90.55, 76.30),
        },
        0.5: {
            "MSP": (61.67, 72.51, 46.29, 73.20),
            "ADB": (79.61, 81.34, 79.43, 81.39),
            "DA-ADB": (81.51, 82.53, 81.93, 82.54),
            "KNNCL": (82.76, 81.31, 84.28, 81.23),
        },
        0.75: {
            "MSP": (77.08, 84.33, 46.05, 84.99),
            "ADB": (81.39, 86.11, 67.34, 86.44),
            "DA-ADB": (81.12, 85.65, 69.37, 85.93),
            "KNNCL": (77.50, 82.30, 67.01, 82.56),
        },
    },
}

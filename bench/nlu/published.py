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

"""Grid-search the ranking constants on the development set only.

``python -m bench.kb.tune`` prints the best settings on ``bench/kb/dev.yml``
(objective: top-1 accuracy on answerable questions minus the wrong-answer rate
on ``none`` questions). The held-out ``questions.yml`` is never read here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bench.kb.evaluate import DEV_PATH, Question, load_questions
from bot.knowledge import KnowledgeIndex, SearchSettings, load_seed

GRID: dict[str, tuple[float, ...]] = {
    "k1": (1.2, 1.6),
    "b": (0.3, 0.75),
    "title_weight": (2.0, 3.0),
    "tags_weight": (1.0, 2.0),
    "body_weight": (0.25, 0.5),
    "unknown_word_weight": (0.5, 1.0, 2.0, 3.0),
    "min_word_evidence": (0.0, 0.25, 0.5, 0.75, 1.0),
    "intent_weight": (0.2, 0.3, 0.4, 0.5, 0.6),
}
THRESHOLDS = tuple(round(0.3 + 0.05 * step, 2) for step in range(10))


def score_thresholds(
    index: KnowledgeIndex, questions: Sequence[Question]
) -> list[tuple[float, float, float]]:
    """Return (threshold, top-1 accuracy, wrong-answer rate on none) per threshold."""
    tops = []
    for question in questions:
        hits = index.search(
            question.text, intent=question.intent, intent_confidence=question.confidence
        ).hits
        tops.append((hits[0].slug, hits[0].score) if hits else (None, 0.0))
    answerable = [q.answerable for q in questions]
    results = []
    for threshold in THRESHOLDS:
        correct = wrong_none = 0
        for question, (slug, score) in zip(questions, tops, strict=True):
            answered = slug is not None and score >= threshold
            if question.answerable:
                correct += answered and slug == question.expected
            else:
                wrong_none += answered
        accuracy = correct / sum(answerable)
        wrong_rate = wrong_none / (len(questions) - sum(answerable))
        results.append((threshold, accuracy, wrong_rate))
    return results


def main() -> None:
    articles = load_seed()
    questions = load_questions(DEV_PATH)
    ranked = []
    names = list(GRID)
    for values in itertools.product(*GRID.values()):
        chosen = dict(zip(names, values, strict=True))
        index = KnowledgeIndex.build(articles, SearchSettings(**chosen))
        for threshold, accuracy, wrong_rate in score_thresholds(index, questions):
            ranked.append(
                (accuracy - wrong_rate, accuracy, wrong_rate, threshold, chosen)
            )
    ranked.sort(key=lambda item: -item[0])
    for objective, accuracy, wrong_rate, threshold, chosen in ranked[:20]:
        print(
            f"objective={objective:.3f} top1={accuracy:.3f} "
            f"wrong_none={wrong_rate:.3f} threshold={threshold} {chosen}"
        )


if __name__ == "__main__":
    main()

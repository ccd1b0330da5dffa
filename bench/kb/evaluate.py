"""Labelled questions and the accuracy measures of knowledge-base search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge import KnowledgeIndex

NO_ANSWER = "none"
HERE = Path(__file__).resolve().parent
QUESTIONS_PATH = HERE / "questions.yml"
DEV_PATH = HERE / "dev.yml"


@dataclass(frozen=True)
class Question:
    """A customer message, the slug that should answer it, and a simulated NLU."""

    text: str
    expected: str
    intent: str | None
    confidence: float

    @property
    def answerable(self) -> bool:
        return self.expected != NO_ANSWER


@dataclass
class Metrics:
    """Accuracy of one index on one question set."""

    answerable: int = 0
    unanswerable: int = 0
    correct: int = 0
    wrong: int = 0
    abstained: int = 0
    ranked_first: int = 0
    answered_none: int = 0
    failures: list[dict[str, object]] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        """Share of answerable questions answered with the expected article."""
        return self.correct / self.answerable if self.answerable else 0.0

    @property
    def wrong_answer_rate_none(self) -> float:
        """Share of unanswerable questions the bot answered anyway."""
        return self.answered_none / self.unanswerable if self.unanswerable else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "answerable_questions": self.answerable,
            "none_questions": self.unanswerable,
            "top1_accuracy": round(self.top1_accuracy, 4),
            "answered_wrong_article": self.wrong,
            "abstained_on_answerable": self.abstained,
            "expected_article_ranked_first_ignoring_threshold": round(
                self.ranked_first / self.answerable if self.answerable else 0.0, 4
            ),
            "wrong_answer_rate_on_none": round(self.wrong_answer_rate_none, 4),
        }


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Question(
            text=str(item["text"]),
            expected=str(item["expected"]),
            intent=item.get("intent"),
            confidence=float(item.get("confidence") or 0.0),
        )
        for item in data["questions"]
    ]


def evaluate(index: KnowledgeIndex, questions: Sequence[Question]) -> Metrics:
    metrics = Metrics()
    for question in questions:
        result = index.search(
            question.text,
            intent=question.intent,
            intent_confidence=question.confidence,
        )
        answer = result.answer.slug if result.answer else None
        top = result.hits[0].slug if result.hits else None
        if question.answerable:
            metrics.answerable += 1
            metrics.ranked_first += top == question.expected
            if answer == question.expected:
                metrics.correct += 1
                continue
            if answer is None:
                metrics.abstained += 1
            else:
                metrics.wrong += 1
        else:
            metrics.unanswerable += 1
            if answer is None:
                continue
            metrics.answered_none += 1
        metrics.failures.append(
            {
                "text": question.text,
                "expected": question.expected,
                "answer": answer,
                "hits": [(hit.slug, hit.score) for hit in result.hits],
            }
        )
    return metrics

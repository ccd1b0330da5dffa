"""Labelled questions and the accuracy measures of knowledge-base search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.knowledge import KnowledgeIndex, SearchResult, SearchSettings, plausible_hits

NO_ANSWER = "none"
HERE = Path(__file__).resolve().parent
QUESTIONS_PATH = HERE / "questions.yml"
#: The development set: the labelled questions the search ships with.
DEV_PATH = HERE.parents[1] / "bot" / "knowledge" / "labelled.yml"


@dataclass(frozen=True)
class Question:
    """A customer message, the slug that should answer it, and a simulated NLU."""

    text: str
    expected: str
    intent: str | None
    confidence: float
    batch: str = ""

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
    offered_right: int = 0
    offered_none: int = 0
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
            "abstained_but_offered_expected_article": self.offered_right,
            "answered_or_offered_expected_article": round(
                (self.correct + self.offered_right) / self.answerable
                if self.answerable
                else 0.0,
                4,
            ),
            "none_questions_offered_articles": round(
                self.offered_none / self.unanswerable if self.unanswerable else 0.0,
                4,
            ),
        }


def load_questions(path: Path) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Question(
            text=str(item["text"]),
            expected=str(item["expected"]),
            intent=item.get("intent"),
            confidence=float(item.get("confidence") or 0.0),
            batch=str(item.get("batch") or ""),
        )
        for item in data["questions"]
    ]


def evaluate(
    index: KnowledgeIndex, questions: Sequence[Question], *, with_texts: bool = True
) -> Metrics:
    """Search every question; count answers, abstentions and offers.

    Args:
        index: The index to search.
        questions: The labelled questions.
        with_texts: Whether the failures list each question's text. The
            held-out set's are left out, so that nobody tunes on them by
            reading ``results.json``: its failures are slugs only.

    Returns:
        The counts, and one entry per question that was not answered right.
    """
    results = [
        index.search(
            question.text,
            intent=question.intent,
            intent_confidence=question.confidence,
        )
        for question in questions
    ]
    return evaluate_results(results, questions, index.settings, with_texts=with_texts)


def evaluate_results(
    results: Sequence[SearchResult],
    questions: Sequence[Question],
    settings: SearchSettings,
    *,
    with_texts: bool = True,
) -> Metrics:
    """Count answers, abstentions and offers of searches already made.

    Args:
        results: Each question's search result, in the order of ``questions``.
        questions: The labelled questions.
        settings: The settings that decide the offers (``suggest_threshold``
            and the like; the answers are in the results).
        with_texts: As for :func:`evaluate`.
    """
    metrics = Metrics()
    for question, result in zip(questions, results, strict=True):
        answer = result.answer.slug if result.answer else None
        top = result.hits[0].slug if result.hits else None
        offered = (
            []
            if answer
            else [hit.slug for hit in plausible_hits(result, settings, question.intent)]
        )
        if question.answerable:
            metrics.answerable += 1
            metrics.ranked_first += top == question.expected
            if answer == question.expected:
                metrics.correct += 1
                continue
            if answer is None:
                metrics.abstained += 1
                metrics.offered_right += question.expected in offered
            else:
                metrics.wrong += 1
        else:
            metrics.unanswerable += 1
            metrics.offered_none += bool(offered)
            if answer is None:
                continue
            metrics.answered_none += 1
        failure: dict[str, object] = {"text": question.text} if with_texts else {}
        failure.update(
            expected=question.expected,
            answer=answer,
            offered=offered,
            hits=[(hit.slug, hit.score) for hit in result.hits],
        )
        metrics.failures.append(failure)
    return metrics

"""Measure knowledge-base search: accuracy on held-out questions, and latency.

``python -m bench.kb.run`` prints the figures and writes them to
``bench/kb/results.json``: top-1 accuracy on answerable questions, the
wrong-answer rate on questions no article covers, and search latency (p50/p99)
with the seed articles and with 1,000 articles (seed plus synthetic
distractors), with the machine it ran on. ``answer_latency`` is what the
action waits for: :meth:`KnowledgeBase.answer` on a SQLite knowledge base of
1,000 articles, including the check of the revision counter (as the action
server does it, at most once a second, and before every answer), given the
message's embedding as the action reads it from the parse data;
``message_embedding_latency`` is what computing that embedding costs in the
NLU pipeline.

Accuracy is measured twice, with two sources of each question's intent:
``model_nlu`` gives the retriever the intent and confidence that the trained
Rasa model (``models/baton.tar.gz``) predicts for the text, as the action gets
them in production; ``simulated_nlu`` uses the hand-written ``intent`` and
``confidence`` of the question file (the figures of earlier rounds).
``--simulated-only`` skips the model (no Rasa load).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from bench.kb.evaluate import HERE, QUESTIONS_PATH, Question, evaluate, load_questions
from bench.kb.nlu import MODEL_PATH, with_model_intents
from bench.kb.synthetic import synthesise
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.knowledge import (
    ACTION_SERVER_RECHECK_S,
    Article,
    KnowledgeBase,
    KnowledgeIndex,
    KnowledgeRepository,
    load_seed,
)
from bot.knowledge.embedding import shared_encoder

LARGE_KB_SIZE = 1000
LATENCY_ROUNDS = 20
RESULTS_PATH = HERE / "results.json"


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    position = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[position]


def summarise(samples_ms: Sequence[float]) -> dict[str, float]:
    return {
        "count": len(samples_ms),
        "p50_ms": round(statistics.median(samples_ms), 4),
        "p99_ms": round(percentile(samples_ms, 0.99), 4),
        "max_ms": round(max(samples_ms), 4),
    }


def measure_latency(
    index: KnowledgeIndex, questions: Sequence[Question]
) -> dict[str, float]:
    """Time searches given each message's embedding, as the action gets it."""
    vectors = [index.embed(question.text) for question in questions]
    for question, vector in zip(questions, vectors, strict=True):
        index.search(question.text, vector=vector)
    samples_ms = []
    for _ in range(LATENCY_ROUNDS):
        for question, vector in zip(questions, vectors, strict=True):
            started = time.perf_counter()
            index.search(
                question.text,
                intent=question.intent,
                intent_confidence=question.confidence,
                vector=vector,
            )
            samples_ms.append((time.perf_counter() - started) * 1000)
    return summarise(samples_ms)


def measure_embedding(questions: Sequence[Question]) -> dict[str, float]:
    """Time embedding one message, uncached, as the NLU pipeline does it."""
    encoder = shared_encoder()
    samples_ms = []
    for _ in range(LATENCY_ROUNDS // 4):
        for question in questions:
            started = time.perf_counter()
            encoder.encode([question.text], cache=False)
            samples_ms.append((time.perf_counter() - started) * 1000)
    return summarise(samples_ms)


async def measure_answers(
    articles: Sequence[Article], questions: Sequence[Question], recheck_s: float
) -> dict[str, float]:
    """Time ``KnowledgeBase.answer`` (revision check + search) on SQLite.

    Each message comes with its embedding, as the action reads it from the
    parse data (the NLU pipeline computed it: :func:`measure_embedding`).
    """
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/kb.db")
        try:
            await upgrade_database(engine)
            repository = KnowledgeRepository(engine)
            await repository.import_articles(articles, author="bench")
            knowledge = KnowledgeBase(repository, recheck_s=recheck_s)
            index = await knowledge.index()
            vectors = [index.embed(question.text) for question in questions]
            samples_ms = []
            for _ in range(LATENCY_ROUNDS // 4):
                for question, vector in zip(questions, vectors, strict=True):
                    started = time.perf_counter()
                    await knowledge.answer(
                        question.text,
                        intent=question.intent,
                        intent_confidence=question.confidence,
                        vector=vector,
                    )
                    samples_ms.append((time.perf_counter() - started) * 1000)
        finally:
            await engine.dispose()
    return {
        "articles": len(articles),
        "recheck_s": recheck_s,
        "answers": len(samples_ms),
        "p50_ms": round(statistics.median(samples_ms), 4),
        "p99_ms": round(percentile(samples_ms, 0.99), 4),
        "max_ms": round(max(samples_ms), 4),
    }


def measure(
    articles: Sequence[Article], question_sets: dict[str, Sequence[Question]]
) -> dict[str, object]:
    """Build an index, then measure accuracy per intent source, and latency."""
    started = time.perf_counter()
    index = KnowledgeIndex.build(articles)
    build_ms = (time.perf_counter() - started) * 1000
    measured: dict[str, object] = {
        "articles_indexed": len(index),
        "build_ms": round(build_ms, 2),
    }
    for source, questions in question_sets.items():
        metrics = evaluate(index, questions, with_texts=False)
        measured[source] = {**metrics.summary(), "failures": metrics.failures}
    measured["latency"] = measure_latency(index, question_sets["simulated_nlu"])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--simulated-only",
        action="store_true",
        help="measure with the question file's intents only (no Rasa model)",
    )
    arguments = parser.parse_args()
    seed = load_seed()
    questions = load_questions(QUESTIONS_PATH)
    question_sets: dict[str, Sequence[Question]] = {"simulated_nlu": questions}
    if not arguments.simulated_only:
        question_sets["model_nlu"] = with_model_intents(questions)
    large = synthesise(seed, LARGE_KB_SIZE)
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        ),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "questions_file": QUESTIONS_PATH.name,
        "intent_sources": {
            "simulated_nlu": "hand-written intent and confidence of each question",
            "model_nlu": None
            if arguments.simulated_only
            else f"predicted by {MODEL_PATH.name} (the trained Rasa model)",
        },
        "seed": measure(seed, question_sets),
        "large": measure(large, question_sets),
        "answer_latency": asyncio.run(
            measure_answers(large, questions, ACTION_SERVER_RECHECK_S)
        ),
        "answer_latency_check_every_time": asyncio.run(
            measure_answers(large, questions, 0.0)
        ),
        "message_embedding_latency": measure_embedding(questions),
        "targets": {
            "top1_accuracy_min": 0.9,
            "wrong_answer_rate_on_none_max": 0.1,
            "p99_ms_at_1000_max": 10.0,
        },
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name in ("seed", "large"):
        run = results[name]
        print(
            f"{name:>5}: {run['articles_indexed']:>4} articles  "
            f"p50 {run['latency']['p50_ms']:.3f} ms  "
            f"p99 {run['latency']['p99_ms']:.3f} ms  "
            f"build {run['build_ms']:.0f} ms"
        )
        for source in question_sets:
            accuracy = run[source]
            print(
                f"       {source:<14} top-1 {accuracy['top1_accuracy']:.1%}  "
                f"wrong on none {accuracy['wrong_answer_rate_on_none']:.1%}  "
                "ranked first "
                f"{accuracy['expected_article_ranked_first_ignoring_threshold']:.1%}  "
                "answered or offered "
                f"{accuracy['answered_or_offered_expected_article']:.1%}  "
                f"none offered {accuracy['none_questions_offered_articles']:.1%}"
            )
    for name in ("answer_latency", "answer_latency_check_every_time"):
        answers = results[name]
        print(
            f"answer (revision check every {answers['recheck_s']} s + search), "
            f"{answers['articles']} articles on SQLite: "
            f"p50 {answers['p50_ms']:.3f} ms  p99 {answers['p99_ms']:.3f} ms"
        )
    embedding = results["message_embedding_latency"]
    print(
        "embedding one message (NLU pipeline, uncached): "
        f"p50 {embedding['p50_ms']:.3f} ms  p99 {embedding['p99_ms']:.3f} ms"
    )
    print(f"machine: {results['machine']}")
    print(f"written to {RESULTS_PATH}")


if __name__ == "__main__":
    main()

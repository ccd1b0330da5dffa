"""What customers receive, measured through the whole running stack.

``python -m bench.e2e.run`` starts Baton as ``make run`` does (Rasa, the
action server and the hub, with the trained model in ``models/``), and for
each labelled question opens a new conversation as the widget does
(``POST /api/conversations``, then the customer WebSocket), sends the
question as typed text, and scores the bot's first turn — what the customer
sees, whatever the NLU, the dialogue policy and the actions decided on the
way:

- ``right_first``: the first answer is the expected article;
- ``right_after_confirmation``: the bot asks "Is your question about …?"
  naming the expected article;
- ``confirmation_other``: it asks to confirm another article or an intent;
- ``offered``: it offers choices that include the expected article;
- ``offered_without``: it offers choices without it;
- ``wrong_article``: it answers with another article;
- ``handed_off``: the conversation went to a person (queue or follow-up);
- ``other``: anything else (small talk, "outside what I can help with", a
  request to say more).

Labels are an article's slug, ``none`` (no published article answers it),
``human`` (asks for a person), ``smalltalk`` or ``sensitive`` (a matter for
a person: a hacked account, a disputed charge, a legal request). Results go
to ``bench/e2e/results.json`` under the question file's name, with the date
and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import websockets
import yaml

from bench.stack import PROJECT_DIR, running_stack

HERE = Path(__file__).resolve().parent
RESULTS_PATH = HERE / "results.json"
DEFAULT_QUESTIONS = HERE / "questions.yml"
#: Validation questions (tuning side), also the slice the test suite runs.
VALIDATION_QUESTIONS = HERE / "validation.yml"
#: Labels that are not an article.
NON_ARTICLE_LABELS = ("none", "human", "smalltalk", "sensitive")
#: The payload of a button that picks an article (actions/knowledge.py).
CHOICE_PREFIX = "/choose_article"
#: Seconds without a frame after the bot's first reply that end its turn.
QUIET_S = 1.5
#: Seconds a turn may take before it counts as no answer.
TURN_TIMEOUT_S = 60.0
#: The bot's first-turn outcomes, in the order reported.
OUTCOMES = (
    "right_first",
    "right_after_confirmation",
    "confirmation_other",
    "offered",
    "offered_without",
    "wrong_article",
    "handed_off",
    "other",
)


@dataclass(frozen=True)
class Question:
    """A customer message and what should happen to it."""

    text: str
    expected: str


@dataclass(frozen=True)
class Turn:
    """What the customer saw after sending one message."""

    articles: tuple[str, ...]
    confirm_article: str | None
    confirm_intent: str | None
    offered: tuple[str, ...]
    handed_off: bool
    texts: tuple[str, ...]


def load_questions(path: Path) -> list[Question]:
    """Read a question file: ``questions: [{text, expected, ...}]``.

    Raises:
        ValueError: The file is not in that shape.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a mapping with a 'questions' list")
    questions = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValueError(f"{path}: item {number} has no text")
        expected = item.get("expected")
        if not isinstance(expected, str) or not expected:
            raise ValueError(f"{path}: item {number} has no expected label")
        questions.append(Question(item["text"], expected))
    return questions


def _choice_slug(payload: str) -> str | None:
    if not payload.startswith(CHOICE_PREFIX):
        return None
    entities = json.loads(payload[len(CHOICE_PREFIX) :] or "{}")
    slug = entities.get("article")
    return slug if isinstance(slug, str) else None


def read_turn(frames: Iterable[dict[str, Any]]) -> Turn:
    """Summarise the frames of one bot turn as the customer saw them."""
    articles: list[str] = []
    offered: list[str] = []
    texts: list[str] = []
    confirm_article = confirm_intent = None
    handed_off = False
    for frame in frames:
        if frame.get("type") == "status" and frame.get("state") in {
            "queued",
            "agent",
            "follow_up",
        }:
            handed_off = True
        if frame.get("type") != "message" or frame.get("role") != "bot":
            continue
        texts.append(str(frame.get("text") or ""))
        article = (frame.get("meta") or {}).get("article")
        if isinstance(article, str):
            articles.append(article)
        buttons = frame.get("buttons") or []
        yes = next((b for b in buttons if b.get("title") == "Yes"), None)
        if yes is not None:
            payload = str(yes.get("payload") or "")
            slug = _choice_slug(payload)
            if slug is not None:
                confirm_article = slug
            else:
                confirm_intent = payload.lstrip("/")
            continue
        for button in buttons:
            slug = _choice_slug(str(button.get("payload") or ""))
            if slug is not None:
                offered.append(slug)
    return Turn(
        articles=tuple(articles),
        confirm_article=confirm_article,
        confirm_intent=confirm_intent,
        offered=tuple(offered),
        handed_off=handed_off,
        texts=tuple(texts),
    )


def outcome(turn: Turn, expected: str) -> str:
    """Name what happened to a message labelled ``expected`` (:data:`OUTCOMES`)."""
    if turn.handed_off:
        return "handed_off"
    if turn.articles:
        return "right_first" if turn.articles[0] == expected else "wrong_article"
    if turn.confirm_article is not None:
        if turn.confirm_article == expected:
            return "right_after_confirmation"
        return "confirmation_other"
    if turn.confirm_intent is not None:
        return "confirmation_other"
    if turn.offered:
        return "offered" if expected in turn.offered else "offered_without"
    return "other"


async def ask(session: aiohttp.ClientSession, ws_url: str, url: str, text: str) -> Turn:
    """Send ``text`` as a new customer and return the bot's first turn."""
    async with session.post(
        f"{url}/api/conversations", json={"locale": "en", "page_url": "/bench"}
    ) as response:
        response.raise_for_status()
        created = await response.json()
    address = (
        f"{ws_url}/api/conversations/{created['conversation_id']}/ws"
        f"?token={created['token']}&after=0"
    )
    async with websockets.connect(address) as ws:
        await ws.recv()  # the initial status
        client_id = secrets.token_hex(8)
        await ws.send(
            json.dumps({"type": "message", "text": text, "client_id": client_id})
        )
        frames: list[dict[str, Any]] = []

        async def first_reply() -> None:
            while True:
                frame = json.loads(await ws.recv())
                if frame.get("type") == "error":
                    raise RuntimeError(f"the hub refused {text!r}: {frame}")
                frames.append(frame)
                bot_message = (
                    frame.get("type") == "message" and frame.get("role") == "bot"
                )
                if bot_message or frame.get("state") in {"queued", "follow_up"}:
                    return

        await asyncio.wait_for(first_reply(), TURN_TIMEOUT_S)
        while True:
            try:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), QUIET_S)))
            except asyncio.TimeoutError:
                break
    return read_turn(frames)


async def run_questions(
    url: str, ws_url: str, questions: Sequence[Question], concurrency: int
) -> list[tuple[Question, Turn]]:
    """Ask every question, ``concurrency`` conversations at a time, in order."""
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession() as session:

        async def one(question: Question) -> tuple[Question, Turn]:
            async with gate:
                return question, await ask(session, ws_url, url, question.text)

        return list(await asyncio.gather(*(one(q) for q in questions)))


def label_group(expected: str) -> str:
    """The group a label is reported in: ``answerable`` or the label itself."""
    return expected if expected in NON_ARTICLE_LABELS else "answerable"


def summarise(results: Sequence[tuple[Question, Turn]]) -> dict[str, Any]:
    """Outcome shares per label group, and the misses for inspection."""
    groups: dict[str, Counter[str]] = {}
    misses = []
    for question, turn in results:
        group = label_group(question.expected)
        name = outcome(turn, question.expected)
        groups.setdefault(group, Counter())[name] += 1
        good = {
            "answerable": name == "right_first",
            "none": name in {"other", "handed_off"},
            "human": name == "handed_off",
            "sensitive": name == "handed_off",
            "smalltalk": name == "other",
        }[group]
        if not good:
            misses.append(
                {
                    "text": question.text,
                    "expected": question.expected,
                    "outcome": name,
                    "articles": list(turn.articles),
                    "confirm": turn.confirm_article or turn.confirm_intent,
                    "offered": list(turn.offered),
                    "reply": turn.texts[0][:120] if turn.texts else "",
                }
            )
    handed = [
        label_group(question.expected)
        for question, turn in results
        if outcome(turn, question.expected) == "handed_off"
    ]
    # Of the conversations handed to a person, the share that were not a
    # question the knowledge base answers.
    wrongly = handed.count("answerable")
    precision = round(1 - wrongly / len(handed), 4) if handed else None
    summary: dict[str, Any] = {}
    for group, counts in sorted(groups.items()):
        total = sum(counts.values())
        summary[group] = {
            "n": total,
            **{name: round(counts[name] / total, 4) for name in OUTCOMES},
        }
    return {"groups": summary, "handoff_precision": precision, "misses": misses}


def print_table(summary: dict[str, Any]) -> None:
    """Print one row per label group, one column per outcome (percent)."""
    header = ["group", "n", *OUTCOMES]
    print(" | ".join(header))
    for group, row in summary["groups"].items():
        cells = [group, str(row["n"])]
        cells += [f"{100 * row[name]:.1f}" for name in OUTCOMES]
        print(" | ".join(cells))
    if summary["handoff_precision"] is not None:
        print(f"handoff precision: {100 * summary['handoff_precision']:.1f} %")


def record(
    name: str,
    summary: dict[str, Any],
    files: Sequence[Path],
    provenance: str | None = None,
) -> None:
    """Store a run's figures in :data:`RESULTS_PATH` under ``name``.

    Args:
        name: The results key.
        summary: :func:`summarise`'s result.
        files: The question files asked.
        provenance: Who wrote the questions and how, stored with the figures.
    """
    results = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    results[name] = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "questions": [str(path.resolve().relative_to(PROJECT_DIR)) for path in files],
        **({"provenance": provenance} if provenance else {}),
        **summary,
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="a question file (repeatable; default: the held-out set)",
    )
    parser.add_argument("--limit", type=int, default=0, help="first N questions")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--url", help="a running hub instead of a new stack")
    parser.add_argument(
        "--model-dir", type=Path, help="trained models to run (default: models/)"
    )
    parser.add_argument("--name", help="results key (default: the file's name)")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--summary",
        type=Path,
        help="also write the figures and misses to this JSON file",
    )
    parser.add_argument(
        "--provenance", help="who wrote the questions and how (stored with them)"
    )
    args = parser.parse_args(argv)
    files = args.questions or [DEFAULT_QUESTIONS]
    questions = [question for path in files for question in load_questions(path)]
    if args.limit:
        questions = questions[: args.limit]

    def measure(url: str) -> list[tuple[Question, Turn]]:
        ws_url = "ws" + url[len("http") :]
        return asyncio.run(run_questions(url, ws_url, questions, args.concurrency))

    if args.url:
        results = measure(args.url.rstrip("/"))
    else:
        # One benchmark opens a conversation per question from one address.
        # Every question comes from this one address.
        env = {
            "BATON_CONVERSATIONS_PER_IP_PER_HOUR": str(10 * len(questions)),
            "BATON_MESSAGES_PER_IP_PER_MINUTE": str(10 * len(questions)),
        }
        if args.model_dir:
            env["BATON_MODEL_DIR"] = str(args.model_dir.resolve())
        with running_stack(env) as stack:
            results = measure(stack.url)
    summary = summarise(results)
    print_table(summary)
    if args.summary:
        args.summary.write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
        )
    if not args.no_record:
        name = args.name or "+".join(path.stem for path in files)
        record(name, summary, files, args.provenance)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

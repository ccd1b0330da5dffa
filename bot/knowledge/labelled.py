"""Labelled customer questions: what the search learns from besides the articles.

A labelled question is a customer's message and the article that answers it
(or ``None``: no article does). The search treats one labelled with a
published article's slug as one more example sentence of that article, and
one labelled "none" as one more "none" sentence; a slug that is not published
(a draft, an article of another knowledge base) is ignored. They are kept
apart from the articles' own ``examples`` so that an article stays short and
readable for the people who edit it.

The package ships ``labelled.yml``: the questions written and labelled for the
knowledge-base benchmark's development set, which are the tuner's data too
(``python -m bench.kb.tune`` judges each batch with an index built without it).
The file is a mapping with a ``questions`` list; each item has ``text``,
``expected`` (a slug or ``none``) and optionally ``batch`` (where it came
from); other keys (the benchmark's simulated NLU) are ignored.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge.articles import (
    SLUG_PATTERN,
    KnowledgeError,
    read_yaml,
    shipped_yaml,
)

NO_ARTICLE = "none"
MAX_TEXT_LENGTH = 1000


@dataclass(frozen=True)
class LabelledQuestion:
    """A customer's message and the slug that answers it (``None``: no article)."""

    text: str
    slug: str | None
    batch: str = ""


def parse_labelled(data: Any, source: str = "<data>") -> tuple[LabelledQuestion, ...]:
    """Validate the parsed contents of a labelled-questions file.

    Args:
        data: The parsed YAML: a mapping with a ``questions`` list.
        source: Where it came from, for the error messages.

    Returns:
        The questions, in file order.

    Raises:
        KnowledgeError: The shape is wrong, or an item has no text, a text over
            :data:`MAX_TEXT_LENGTH` characters, or an ``expected`` that is
            neither a slug nor ``none``; the message names the item.
    """
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise KnowledgeError(
            "expected a mapping with a 'questions' list",
            code="bad_labelled_file",
            source=source,
        )
    questions = []
    for position, item in enumerate(data["questions"], start=1):
        where = f"question {position}"
        if not isinstance(item, dict):
            raise KnowledgeError(
                f"{where} is not a mapping", code="bad_labelled_file", source=source
            )
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise KnowledgeError(
                f"{where} has no text",
                code="missing_field",
                field="text",
                source=source,
            )
        if len(text) > MAX_TEXT_LENGTH:
            raise KnowledgeError(
                f"{where} is {len(text)} characters, the limit is {MAX_TEXT_LENGTH}",
                code="too_long",
                field="text",
                source=source,
            )
        expected = item.get("expected")
        if not isinstance(expected, str) or not (
            expected == NO_ARTICLE or SLUG_PATTERN.match(expected)
        ):
            raise KnowledgeError(
                f"{where}: 'expected' must be an article's slug or {NO_ARTICLE!r}, "
                f"got {expected!r}",
                code="bad_slug",
                field="expected",
                source=source,
            )
        questions.append(
            LabelledQuestion(
                text=text.strip(),
                slug=None if expected == NO_ARTICLE else expected,
                batch=str(item.get("batch") or ""),
            )
        )
    return tuple(questions)


def load_labelled(path: str | Path) -> tuple[LabelledQuestion, ...]:
    """Load a labelled-questions file.

    Raises:
        KnowledgeError: The file is missing, is not YAML, or is invalid
            (see :func:`parse_labelled`).
    """
    return parse_labelled(read_yaml(path), str(path))


@functools.cache
def shipped_labelled() -> tuple[LabelledQuestion, ...]:
    """The labelled questions shipped with the package (read once)."""
    return parse_labelled(shipped_yaml("labelled.yml"), "bot/knowledge/labelled.yml")


def by_article(
    questions: Iterable[LabelledQuestion], slugs: Sequence[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """The texts labelled with each of ``slugs``, and those labelled "none".

    Questions labelled with any other slug are left out.
    """
    wanted = set(slugs)
    texts: dict[str, list[str]] = {slug: [] for slug in slugs}
    none: list[str] = []
    for question in questions:
        if question.slug is None:
            none.append(question.text)
        elif question.slug in wanted:
            texts[question.slug].append(question.text)
    return texts, none

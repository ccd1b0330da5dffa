"""What the knowledge-base repository hands out, and the error for a missing article.

Articles as stored, their versions, import reports and article feedback.

The SQL that reads and writes them is :mod:`bot.knowledge.repository`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.exceptions import NotFound
from bot.knowledge.articles import Article

#: Fields of an article that an edit may change (``slug`` and ``version`` are
#: the article's identity and history, kept by the repository).
EDITABLE_FIELDS = (
    "title",
    "summary",
    "body",
    "steps",
    "tags",
    "intents",
    "examples",
    "status",
)
#: The fields that make an article's content (what a version keeps).
CONTENT_FIELDS = ("slug", *EDITABLE_FIELDS)


class ArticleNotFound(NotFound):
    """No article (or no such version of it) exists."""

    code = "article_not_found"


@dataclass(frozen=True)
class StoredArticle:
    """An article as stored: its current version and who changed it when."""

    article: Article
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str | None

    def public(self) -> dict[str, Any]:
        """The JSON shape of the article in API answers."""
        return {
            **self.article.to_dict(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True)
class ArticleVersion:
    """One saved version of an article."""

    article: Article
    created_at: dt.datetime
    author: str | None

    def public(self) -> dict[str, Any]:
        """The JSON shape of the version in API answers."""
        return {
            **self.article.to_dict(),
            "created_at": self.created_at.isoformat(),
            "author": self.author,
        }


@dataclass(frozen=True)
class ImportReport:
    """What an import did: slugs created, updated, and left as they were."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]


@dataclass(frozen=True)
class ArticleFeedback:
    """A customer's "did this help?" answer about an article."""

    conversation_id: str
    slug: str
    helped: bool
    created_at: dt.datetime

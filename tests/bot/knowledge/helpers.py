"""Small builders shared by the knowledge-base tests."""

from __future__ import annotations

from bot.knowledge import Article


def make_article(slug: str, title: str, **fields: object) -> Article:
    """A valid article whose summary and body repeat its title."""
    return Article.from_dict(
        {"slug": slug, "title": title, "summary": title + ".", "body": title, **fields}
    )

"""The knowledge base: articles, their files, the seed set, and search.

Public surface: :class:`Article` and :class:`KnowledgeError`, the file helpers
(:func:`load_directory`, :func:`dump_directory`, :func:`load_seed`), and
:class:`KnowledgeIndex` with its results (:class:`SearchResult`, :class:`Hit`).
"""

from bot.knowledge.articles import (
    Article,
    KnowledgeError,
    article_from_markdown,
    article_from_yaml,
    article_to_markdown,
    article_to_yaml,
    dump_directory,
    load_directory,
    load_seed,
)
from bot.knowledge.search import (
    Hit,
    KnowledgeIndex,
    SearchResult,
    SearchSettings,
    tokenize,
)

__all__ = [
    "Article",
    "Hit",
    "KnowledgeError",
    "KnowledgeIndex",
    "SearchResult",
    "SearchSettings",
    "article_from_markdown",
    "article_from_yaml",
    "article_to_markdown",
    "article_to_yaml",
    "dump_directory",
    "load_directory",
    "load_seed",
    "tokenize",
]

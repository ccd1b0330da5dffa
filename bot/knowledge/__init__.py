"""The knowledge base: articles, their files, the seed set, and search.

Public surface: :class:`Article` and :class:`KnowledgeError`, the file helpers
(:func:`load_directory`, :func:`dump_directory`, :func:`load_seed`),
:class:`KnowledgeIndex` with its results (:class:`SearchResult`, :class:`Hit`),
the SQL store (:class:`KnowledgeRepository`, articles with versions) and
:class:`KnowledgeBase`, the always-current search the bot answers from.
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
    load_path,
    load_seed,
)
from bot.knowledge.repository import (
    ArticleFeedback,
    ArticleNotFound,
    ArticleVersion,
    ImportReport,
    KnowledgeRepository,
    StoredArticle,
)
from bot.knowledge.search import (
    Hit,
    KnowledgeIndex,
    SearchResult,
    SearchSettings,
    tokenize,
)
from bot.knowledge.service import (
    ACTION_SERVER_RECHECK_S,
    MAX_REJECTIONS,
    Answer,
    KnowledgeBase,
    SharedKnowledgeBase,
    answer_text,
)

__all__ = [
    "ACTION_SERVER_RECHECK_S",
    "MAX_REJECTIONS",
    "Answer",
    "Article",
    "ArticleFeedback",
    "ArticleNotFound",
    "ArticleVersion",
    "Hit",
    "ImportReport",
    "KnowledgeBase",
    "KnowledgeError",
    "KnowledgeIndex",
    "KnowledgeRepository",
    "SearchResult",
    "SearchSettings",
    "SharedKnowledgeBase",
    "StoredArticle",
    "answer_text",
    "article_from_markdown",
    "article_from_yaml",
    "article_to_markdown",
    "article_to_yaml",
    "dump_directory",
    "load_directory",
    "load_path",
    "load_seed",
    "tokenize",
]

"""The knowledge base: articles, their files, the seed set, and search.

Public surface: :class:`Article` and :class:`KnowledgeError`, the file helpers
(:func:`load_directory`, :func:`dump_directory`, :func:`load_seed`),
:class:`KnowledgeIndex` with its results (:class:`SearchResult`, :class:`Hit`),
the SQL store (:class:`KnowledgeRepository`, articles with versions) and
:class:`KnowledgeBase`, the always-current search the bot answers from (or
offers :class:`Suggestions` from, which the customer picks by position with
:func:`offered_choice`).
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
from bot.knowledge.feedback import ArticleFeedbackRepository
from bot.knowledge.records import (
    ArticleFeedback,
    ArticleNotFound,
    ArticleVersion,
    ImportReport,
    StoredArticle,
)
from bot.knowledge.repository import KnowledgeRepository
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
    MAX_SUGGESTIONS,
    NO_OFFER_INTENT,
    Answer,
    KnowledgeBase,
    SharedKnowledgeBase,
    Suggestions,
    answer_text,
    chosen_position,
    offered_choice,
    plausible_hits,
)

__all__ = [
    "ACTION_SERVER_RECHECK_S",
    "MAX_REJECTIONS",
    "MAX_SUGGESTIONS",
    "NO_OFFER_INTENT",
    "Answer",
    "Article",
    "ArticleFeedback",
    "ArticleFeedbackRepository",
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
    "Suggestions",
    "answer_text",
    "article_from_markdown",
    "article_from_yaml",
    "article_to_markdown",
    "article_to_yaml",
    "chosen_position",
    "dump_directory",
    "load_directory",
    "load_path",
    "load_seed",
    "offered_choice",
    "plausible_hits",
    "tokenize",
]

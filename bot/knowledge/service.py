"""Answering customers from the knowledge base in SQL.

:class:`KnowledgeBase` keeps a search index of the published articles and
checks, before every search, whether the knowledge base changed since the
index was built (one read of ``kb_state.revision``, at most once a second in
the action server); if it did, it rebuilds the index. An edit saved by any hub
is therefore used by the bot's answers within a second, in every process,
without a restart or a retraining.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bot.config import Settings
from bot.db.engine import create_engine
from bot.knowledge.articles import Article
from bot.knowledge.repository import KnowledgeRepository
from bot.knowledge.search import KnowledgeIndex, SearchResult, SearchSettings

logger = logging.getLogger(__name__)

#: Seconds an answer may use the index without checking for edits, in the
#: action server: an edit reaches the bot's answers within this time.
ACTION_SERVER_RECHECK_S = 1.0
#: "No" answers to "Did that solve it?" after which the bot stops suggesting
#: articles and hands the conversation to a person (reason ``kb_rejected``).
MAX_REJECTIONS = 2


@dataclass(frozen=True)
class Answer:
    """An article chosen to answer a customer, and the text to send.

    Attributes:
        article: The article.
        score: Its search score, 0 to 1.
        text: The chat answer: the summary, then the steps.
    """

    article: Article
    score: float
    text: str

    @property
    def slug(self) -> str:
        """The article's slug (``meta.article`` on the wire)."""
        return self.article.slug


def answer_text(article: Article) -> str:
    """Word an article as a chat answer: its summary, then numbered steps.

    An article without steps is answered with its summary and its body.

    Args:
        article: The article.

    Returns:
        Plain text (the widget shows text as text).
    """
    if not article.steps:
        return f"{article.summary.strip()}\n\n{article.body.strip()}"
    steps = "\n".join(
        f"{number}. {step.strip()}" for number, step in enumerate(article.steps, 1)
    )
    return f"{article.summary.strip()}\n{steps}"


class KnowledgeBase:
    """Search over the published articles, up to date with SQL.

    Args:
        repository: Where the articles are.
        settings: Ranking constants; the tuned defaults when omitted.
        recheck_s: How long a revision check stays valid. 0 (the default)
            checks before every search; the action server uses
            :data:`ACTION_SERVER_RECHECK_S`, as opening a SQLite connection
            per check costs more than the search itself.
        clock: Monotonic seconds (for tests).
    """

    def __init__(
        self,
        repository: KnowledgeRepository,
        settings: SearchSettings | None = None,
        *,
        recheck_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repository = repository
        self._settings = settings
        self._recheck_s = recheck_s
        self._clock = clock
        self._index: KnowledgeIndex | None = None
        self._revision = -1
        self._checked_at = -math.inf
        self._rebuilding = asyncio.Lock()

    async def index(self) -> KnowledgeIndex:
        """Return the index of the published articles as they are now.

        Rebuilds it (off the event loop) when the revision counter moved.
        """
        now = self._clock()
        if self._index is not None and now - self._checked_at < self._recheck_s:
            return self._index
        revision = await self.repository.revision()
        self._checked_at = now
        if self._index is not None and revision == self._revision:
            return self._index
        async with self._rebuilding:
            if self._index is None or revision != self._revision:
                built_revision, articles = await self.repository.published()
                self._index = await asyncio.to_thread(
                    KnowledgeIndex.build, articles, self._settings
                )
                self._revision = built_revision
                logger.info(
                    "knowledge index rebuilt: %d articles, revision %d",
                    len(self._index),
                    built_revision,
                )
        return self._index

    async def search(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        exclude: Collection[str] = (),
        limit: int = 3,
    ) -> SearchResult:
        """Rank the published articles for a customer's message.

        See :meth:`KnowledgeIndex.search` for the arguments.
        """
        index = await self.index()
        return index.search(
            query,
            intent=intent,
            intent_confidence=intent_confidence,
            exclude=exclude,
            limit=limit,
        )

    async def answer(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        exclude: Collection[str] = (),
    ) -> Answer | None:
        """Choose the article that answers a message, if one is good enough.

        Args:
            query: The customer's message.
            intent: The intent the NLU predicted, if any.
            intent_confidence: The NLU's confidence in it.
            exclude: Slugs the customer already said did not help.

        Returns:
            The answer, or ``None`` below the score threshold: the caller
            should not guess, but ask or offer a person.
        """
        index = await self.index()
        result = index.search(
            query,
            intent=intent,
            intent_confidence=intent_confidence,
            exclude=exclude,
        )
        if result.answer is None:
            return None
        article = index.article(result.answer.slug)
        if article is None:
            return None
        return Answer(
            article=article, score=result.answer.score, text=answer_text(article)
        )

    async def record_feedback(
        self, conversation_id: str, slug: str, *, helped: bool
    ) -> None:
        """Store whether an article shown in a conversation helped."""
        await self.repository.record_feedback(conversation_id, slug, helped=helped)


class SharedKnowledgeBase:
    """A :class:`KnowledgeBase` created on first use, from the ``BATON_`` settings.

    For processes without an application context, such as the action server:
    creating this object does nothing; the first :meth:`get` reads the
    settings and opens the database engine.

    Args:
        settings_factory: Returns the settings; :meth:`Settings.from_env` by
            default.
    """

    def __init__(self, settings_factory: Callable[[], Settings] = Settings.from_env):
        self._settings_factory = settings_factory
        self._knowledge: KnowledgeBase | None = None

    async def get(self) -> KnowledgeBase:
        """Return the knowledge base, creating it (and its engine) once."""
        if self._knowledge is None:
            settings = self._settings_factory()
            engine = create_engine(settings.database_url)
            self._knowledge = KnowledgeBase(
                KnowledgeRepository(engine), recheck_s=ACTION_SERVER_RECHECK_S
            )
        return self._knowledge

    async def close(self) -> None:
        """Dispose of the engine, if one was created."""
        if self._knowledge is not None:
            await self._knowledge.repository.engine.dispose()
            self._knowledge = None

"""Answering customers from the knowledge base in SQL.

:class:`KnowledgeBase` keeps a search index of the published articles and
checks, before every search, whether the knowledge base changed since the
index was built (one read of ``kb_state.revision``, at most once a second in
the action server); if it did, it rebuilds the index. An edit saved by any hub
is therefore used by the bot's answers within the recheck interval plus a
rebuild (about half a second for the seed), in every process, without a
restart or a retraining.

Between answering and not guessing there is a middle ground: when no article
is confident enough but some are plausible (:func:`plausible_hits`), the bot
offers them as choices (:class:`Suggestions`); the customer picks one with a
button or by position ("the second one", :func:`offered_choice`), and
:meth:`KnowledgeBase.answer_with` answers with exactly that article, if it is
still published.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.db.engine import create_engine
from bot.knowledge.articles import Article
from bot.knowledge.embedding import SentenceEncoder
from bot.knowledge.feedback import ArticleFeedbackRepository
from bot.knowledge.labelled import LabelledQuestion, shipped_labelled
from bot.knowledge.negatives import load_negatives
from bot.knowledge.records import ArticleNotFound
from bot.knowledge.repository import KnowledgeRepository
from bot.knowledge.search import Hit, KnowledgeIndex, SearchResult, SearchSettings

logger = logging.getLogger(__name__)

#: Seconds an answer may use the index without checking for edits, in the
#: action server: an edit reaches the bot's answers within this time.
ACTION_SERVER_RECHECK_S = 1.0
#: Seconds an answer in the action server waits for a rebuild after an edit
#: before the previous index answers (a rebuild takes ~8 s at 1,000 articles
#: on 2 cores, longer than Rasa waits for an action).
ACTION_SERVER_STALE_AFTER_S = 2.0
#: "No" answers to "Did that solve it?" after which the bot stops suggesting
#: articles and hands the conversation to a person (reason ``kb_rejected``).
MAX_REJECTIONS = 2
#: Most articles offered as choices when the bot is not sure which one answers.
MAX_SUGGESTIONS = 3
#: The intent whose messages are never offered articles (:func:`plausible_hits`).
NO_OFFER_INTENT = "out_of_scope"

#: Words naming a position in a list: "the second one", "the last".
_ORDINALS = {"first": 1, "top": 1, "second": 2, "third": 3, "last": -1}
#: Words after which a number names a position: "option 2", "number two".
_POSITION_NOUNS = frozenset({"option", "number", "nr", "choice", "article"})
_NUMBERS = {"one": 1, "two": 2, "three": 3}
_WORD = re.compile(r"\d+(?:st|nd|rd|th)?|[a-z]+")
_NUMBERED_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")


@dataclass(frozen=True)
class Answer:
    """An article chosen to answer a customer, and the text to send.

    Attributes:
        article: The article.
        score: Its search score, 0 to 1 (1 for an article the customer
            chose among suggestions).
        text: The chat answer: the summary, then the steps.
    """

    article: Article
    score: float
    text: str

    @property
    def slug(self) -> str:
        """The article's slug (``meta.article`` on the wire)."""
        return self.article.slug


@dataclass(frozen=True)
class Suggestions:
    """Articles that may answer a message, none confidently enough to answer it.

    Attributes:
        hits: The articles to offer, best first (1 to :data:`MAX_SUGGESTIONS`).
        confidence: Estimated probability that the first one is right (below
            the answer threshold).
    """

    hits: tuple[Hit, ...]
    confidence: float

    @property
    def slugs(self) -> list[str]:
        """The offered articles' slugs, in the order offered."""
        return [hit.slug for hit in self.hits]


def plausible_hits(
    result: SearchResult,
    settings: SearchSettings,
    intent: str | None = None,
    *,
    rejected_best: float = 0.0,
) -> list[Hit]:
    """The hits of a search worth offering as choices.

    Nothing is plausible for a message the NLU finds out of scope
    (:data:`NO_OFFER_INTENT`): articles that merely share a word with it would
    be noise. Otherwise plausible means: the search's confidence reaches
    ``settings.suggest_threshold`` (evidence against any answer, such as
    chit-chat or unknown words, keeps it low), the best hit's score reaches
    ``settings.suggest_min_score``, and each offered hit scores at least
    ``settings.suggest_score_ratio`` times the best (an article far behind
    the best is noise, not an alternative), and at least
    ``settings.alternative_score_ratio`` times ``rejected_best``.

    Args:
        result: A search's result.
        settings: The ranking constants the search used.
        intent: The intent the NLU predicted for the message, if any.
        rejected_best: The score of the best article the search left out
            because the customer rejected it (0 when none ranked first).

    Returns:
        Up to :data:`MAX_SUGGESTIONS` hits, best first; empty when nothing is
        plausible.
    """
    if intent == NO_OFFER_INTENT:
        return []
    if not result.hits or result.confidence < settings.suggest_threshold:
        return []
    best = result.hits[0].score
    if best < settings.suggest_min_score:
        return []
    floor = max(
        settings.suggest_score_ratio * best,
        settings.alternative_score_ratio * rejected_best,
    )
    return [hit for hit in result.hits[:MAX_SUGGESTIONS] if hit.score >= floor]


def chosen_position(text: str) -> int | None:
    """The position a customer names in a list: 1 for "the first one".

    Ordinals count anywhere ("the second one please", "2nd"); a number counts
    after a word such as "option" or "number" ("option 2", "number two"), or
    alone ("3"). "The last one" is -1.

    Args:
        text: The customer's message.

    Returns:
        The position, or ``None`` when the message names none, or several.
    """
    words = _WORD.findall(text.lower())
    positions: set[int] = set()
    for index, word in enumerate(words):
        numbered = _NUMBERED_ORDINAL.fullmatch(word)
        if word in _ORDINALS:
            positions.add(_ORDINALS[word])
        elif numbered is not None:
            positions.add(int(numbered[1]))
        elif word.isdigit() or word in _NUMBERS:
            named = int(word) if word.isdigit() else _NUMBERS[word]
            if len(words) == 1 or (index and words[index - 1] in _POSITION_NOUNS):
                positions.add(named)
    return positions.pop() if len(positions) == 1 else None


def offered_choice(text: str, offered: Sequence[str]) -> str | None:
    """The offered article a customer picks by position ("the second one").

    Args:
        text: The customer's message.
        offered: The slugs offered, in the order shown.

    Returns:
        The slug, or ``None`` when the message names no position among them.
    """
    position = chosen_position(text)
    if position == -1 and offered:
        return offered[-1]
    if position is not None and 1 <= position <= len(offered):
        return offered[position - 1]
    return None


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
        project_dir: The project whose NLU data holds the chit-chat "none"
            sentences (:func:`~bot.knowledge.negatives.load_negatives`, read
            with the first index); found from the working directory when
            omitted.
        encoder: The sentence encoder; the process's shared one
            (:func:`~bot.knowledge.embedding.shared_encoder`) when omitted.
        stale_after_s: Seconds a caller waits for a rebuild before it gets
            the previous index (the rebuild goes on); ``None`` (the default)
            waits for the rebuild.
    """

    def __init__(
        self,
        repository: KnowledgeRepository,
        settings: SearchSettings | None = None,
        *,
        recheck_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        project_dir: Path | None = None,
        encoder: SentenceEncoder | None = None,
        stale_after_s: float | None = None,
    ) -> None:
        self.repository = repository
        #: Where the customers' "did this help?" answers go.
        self.feedback = ArticleFeedbackRepository(repository.engine)
        self._settings = settings
        self._project_dir = project_dir
        self._encoder = encoder
        self._negatives: tuple[str, ...] | None = None
        self._recheck_s = recheck_s
        self._clock = clock
        self._index: KnowledgeIndex | None = None
        self._revision = -1
        self._checked_at = -math.inf
        self._stale_after_s = stale_after_s
        self._rebuild_task: asyncio.Future[KnowledgeIndex] | None = None

    async def index(self) -> KnowledgeIndex:
        """Return the index of the published articles as they are now.

        Rebuilds it (off the event loop) when the revision counter moved. With
        ``stale_after_s`` set, a caller waits that long for a rebuild and then
        gets the previous index while the rebuild goes on.
        """
        now = self._clock()
        if self._index is not None and now - self._checked_at < self._recheck_s:
            return self._index
        revision = await self.repository.revision()
        self._checked_at = now
        if self._index is not None and revision == self._revision:
            return self._index
        rebuild = self._rebuild_task
        if rebuild is None or rebuild.done():
            rebuild = self._rebuild_task = asyncio.ensure_future(self._rebuild())
            rebuild.add_done_callback(_log_failed_rebuild)
        if self._index is None or self._stale_after_s is None:
            return await asyncio.shield(rebuild)
        try:
            return await asyncio.wait_for(asyncio.shield(rebuild), self._stale_after_s)
        except asyncio.TimeoutError:
            logger.info("answering from the previous index while it rebuilds")
            return self._index

    async def _rebuild(self) -> KnowledgeIndex:
        (
            built_revision,
            articles,
            labelled,
        ) = await self.repository.published_and_labelled()
        if self._index is None or built_revision != self._revision:
            self._index = await asyncio.to_thread(
                self._build, articles, labelled, self._index
            )
            self._revision = built_revision
            logger.info(
                "knowledge index rebuilt: %d articles, revision %d",
                len(self._index),
                built_revision,
            )
        return self._index

    def _build(
        self,
        articles: list[Article],
        labelled: list[LabelledQuestion],
        previous: KnowledgeIndex | None,
    ) -> KnowledgeIndex:
        """Build the index (in a worker thread); the negatives are read once.

        The index learns from the shipped labelled questions (the file
        baseline) and the trainers' labels in SQL.
        """
        if self._negatives is None:
            self._negatives = load_negatives(self._project_dir)
        return KnowledgeIndex.build(
            articles,
            self._settings,
            negatives=self._negatives,
            labelled=(*shipped_labelled(), *labelled),
            encoder=self._encoder,
            previous=previous,
        )

    async def search(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        exclude: Collection[str] = (),
        limit: int = 3,
        vector: np.ndarray | None = None,
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
            vector=vector,
        )

    async def answer(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        exclude: Collection[str] = (),
        vector: np.ndarray | None = None,
    ) -> Answer | None:
        """Choose the article that answers a message, if one is good enough.

        Args:
            query: The customer's message.
            intent: The intent the NLU predicted, if any.
            intent_confidence: The NLU's confidence in it.
            exclude: Slugs the customer already said did not help.
            vector: The message's embedding from the NLU pipeline, if any.

        Returns:
            The answer, or ``None`` below the score threshold: the caller
            should not guess, but ask or offer a person.
        """
        reply = await self.answer_or_suggest(
            query,
            intent=intent,
            intent_confidence=intent_confidence,
            exclude=exclude,
            vector=vector,
        )
        return reply if isinstance(reply, Answer) else None

    async def answer_or_suggest(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        exclude: Collection[str] = (),
        vector: np.ndarray | None = None,
    ) -> Answer | Suggestions | None:
        """Answer a message, or else offer the articles it may be about.

        Args:
            query: The customer's message.
            intent: The intent the NLU predicted, if any.
            intent_confidence: The NLU's confidence in it.
            exclude: Slugs the customer already said did not help.
            vector: The message's embedding from the NLU pipeline, if any
                (computed here otherwise).

        Returns:
            The answer when one reaches the threshold; else the plausible
            articles (:func:`plausible_hits`) to offer as choices; ``None``
            when nothing is plausible: the caller should ask or offer a
            person. When a rejected article would have ranked first, the
            offers must also score ``alternative_score_ratio`` times as much
            as it (a confident next answer is shown as before).
        """
        index = await self.index()
        if exclude and vector is None:
            vector = index.embed(query)  # once for both searches
        result = index.search(
            query,
            intent=intent,
            intent_confidence=intent_confidence,
            exclude=exclude,
            limit=MAX_SUGGESTIONS,
            vector=vector,
        )
        rejected_best = 0.0
        if exclude:
            unfiltered = index.search(
                query,
                intent=intent,
                intent_confidence=intent_confidence,
                limit=1,
                vector=vector,
            )
            top = unfiltered.hits[0] if unfiltered.hits else None
            if top is not None and top.slug in exclude:
                rejected_best = top.score
        if result.answer is not None:
            article = await self._as_published(index, result.answer.slug)
            if article is not None:
                return Answer(
                    article=article,
                    score=result.answer.score,
                    text=answer_text(article),
                )
        hits = plausible_hits(
            result, index.settings, intent, rejected_best=rejected_best
        )
        return Suggestions(tuple(hits), result.confidence) if hits else None

    async def answer_with(self, slug: str) -> Answer | None:
        """Answer with the article the customer chose, as it is published now.

        Args:
            slug: The chosen article's slug.

        Returns:
            The answer (score 1: the customer chose it), or ``None`` when no
            published article has that slug (it was unpublished or renamed
            since it was offered).
        """
        article = await self._as_published(await self.index(), slug)
        if article is None:
            return None
        return Answer(article=article, score=1.0, text=answer_text(article))

    async def _as_published(self, index: KnowledgeIndex, slug: str) -> Article | None:
        """An article as it is published now, even while the index rebuilds.

        From an index that is current, its own copy; from the previous index
        (a rebuild after an edit still running), the article read from SQL,
        so an edited answer is shown at once and an unpublished one not at all.
        """
        if index is not self._index or not self._rebuild_pending():
            return index.article(slug)
        try:
            stored = await self.repository.get(slug)
        except ArticleNotFound:
            return None
        return stored.article if stored.article.is_published else None

    def _rebuild_pending(self) -> bool:
        return self._rebuild_task is not None and not self._rebuild_task.done()

    async def record_feedback(
        self, conversation_id: str, slug: str, *, helped: bool
    ) -> None:
        """Store whether an article shown in a conversation helped."""
        await self.feedback.record(conversation_id, slug, helped=helped)


def _log_failed_rebuild(rebuild: asyncio.Future[KnowledgeIndex]) -> None:
    """Log a rebuild that failed after every caller stopped waiting for it."""
    if not rebuild.cancelled() and rebuild.exception() is not None:
        logger.warning("knowledge index rebuild failed", exc_info=rebuild.exception())


class SharedKnowledgeBase:
    """A :class:`KnowledgeBase` created on first use, from the ``BATON_`` settings.

    For processes without an application context, such as the action server:
    creating this object does nothing; the first :meth:`get` reads the
    settings and opens the database engine.

    Args:
        settings_factory: Returns the settings; :meth:`Settings.from_env` by
            default.
        search_settings: Ranking constants; the tuned defaults when omitted.
        encoder: The sentence encoder; the process's shared one when omitted.
    """

    def __init__(
        self,
        settings_factory: Callable[[], Settings] = Settings.from_env,
        search_settings: SearchSettings | None = None,
        *,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        self._settings_factory = settings_factory
        self._search_settings = search_settings
        self._encoder = encoder
        self._knowledge: KnowledgeBase | None = None

    async def get(self) -> KnowledgeBase:
        """Return the knowledge base, creating it (and its engine) once."""
        if self._knowledge is None:
            settings = self._settings_factory()
            engine = create_engine(settings.database_url)
            self._knowledge = KnowledgeBase(
                KnowledgeRepository(engine),
                self._search_settings,
                recheck_s=ACTION_SERVER_RECHECK_S,
                stale_after_s=ACTION_SERVER_STALE_AFTER_S,
                project_dir=settings.project_dir,
                encoder=self._encoder,
            )
        return self._knowledge

    async def close(self) -> None:
        """Dispose of the engine, if one was created."""
        if self._knowledge is not None:
            await self._knowledge.repository.engine.dispose()
            self._knowledge = None

"""Knowledge-base articles in SQL, with every version kept (SQLite and PostgreSQL).

``kb_articles`` holds the current version of each article, and
``kb_article_versions`` a copy of every version ever saved (the first one
included), so an edit can be reviewed or undone. Every change also bumps the
single ``kb_state.revision`` counter in the same transaction: search indexes
in any process compare it, one cheap query per request, and rebuild after an
edit, so the bot answers with the new text without a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db.models import (
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeState,
    aware,
    utcnow,
)
from bot.db.models import (
    LabelledQuestion as LabelledQuestionRow,
)
from bot.exceptions import Conflict
from bot.knowledge.articles import Article, KnowledgeError
from bot.knowledge.labelled import LabelledQuestion
from bot.knowledge.records import (
    CONTENT_FIELDS,
    EDITABLE_FIELDS,
    ArticleNotFound,
    ArticleVersion,
    ImportReport,
    StoredArticle,
)

kb_articles = KnowledgeArticle.__table__
kb_versions = KnowledgeArticleVersion.__table__
kb_state = KnowledgeState.__table__
kb_labelled = LabelledQuestionRow.__table__
#: The ``batch`` of a labelled question stored in SQL (a trainer's label).
SQL_BATCH = "console"


def _content(article: Article) -> dict[str, Any]:
    data = article.to_dict()
    return {name: data[name] for name in CONTENT_FIELDS}


def _stored(row: Any) -> StoredArticle:
    article = Article.from_dict(
        {name: getattr(row, name) for name in (*CONTENT_FIELDS, "version")}
    )
    return StoredArticle(
        article=article,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        updated_by=row.updated_by,
    )


async def _revision(connection: AsyncConnection) -> int:
    value = await connection.scalar(
        sa.select(kb_state.c.revision).where(kb_state.c.id == 1)
    )
    return int(value or 0)


async def _published(connection: AsyncConnection) -> list[Article]:
    rows = (
        await connection.execute(
            sa.select(kb_articles)
            .where(kb_articles.c.status == "published")
            .order_by(kb_articles.c.slug)
        )
    ).all()
    return [_stored(row).article for row in rows]


class KnowledgeRepository:
    """Reads and writes articles, their versions and the labelled questions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def revision(self) -> int:
        """Return the knowledge base's change counter (one indexed row read)."""
        async with self.engine.connect() as connection:
            return await _revision(connection)

    async def list_articles(
        self, *, status: str | None = None, query: str | None = None
    ) -> list[StoredArticle]:
        """Return the articles, sorted by slug.

        Args:
            status: Only ``published`` or only ``draft`` ones, if given.
            query: Only those whose slug or title contains this text
                (case-insensitive), if given.

        Returns:
            The current version of each matching article.
        """
        statement = sa.select(kb_articles).order_by(kb_articles.c.slug)
        if status is not None:
            statement = statement.where(kb_articles.c.status == status)
        if query:
            # autoescape: "%", "_" and the escape character are searched for
            # literally, not as LIKE wildcards.
            text = query.lower()
            statement = statement.where(
                sa.or_(
                    sa.func.lower(kb_articles.c.slug).contains(text, autoescape=True),
                    sa.func.lower(kb_articles.c.title).contains(text, autoescape=True),
                )
            )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [_stored(row) for row in rows]

    async def published(self) -> tuple[int, list[Article]]:
        """Return the revision and the published articles, read together.

        Returns:
            ``(revision, articles)`` from one transaction, so an index built
            from them is labelled with the right revision.
        """
        async with self.engine.begin() as connection:
            return await _revision(connection), await _published(connection)

    async def published_and_labelled(
        self,
    ) -> tuple[int, list[Article], list[LabelledQuestion]]:
        """Return the revision, the published articles and the labelled questions.

        Read in one transaction, like :meth:`published`: the labelled
        questions in SQL (trainers' labels) are part of what the revision
        counts.
        """
        async with self.engine.begin() as connection:
            revision = await _revision(connection)
            articles = await _published(connection)
            labelled = (
                await connection.execute(
                    sa.select(kb_labelled.c.text, kb_labelled.c.article_slug).order_by(
                        kb_labelled.c.id
                    )
                )
            ).all()
        return (
            revision,
            articles,
            [
                LabelledQuestion(text=row.text, slug=row.article_slug, batch=SQL_BATCH)
                for row in labelled
            ],
        )

    async def published_slugs(self, connection: AsyncConnection) -> set[str]:
        """The slugs of the published articles, read on the caller's connection."""
        return set(
            (
                await connection.execute(
                    sa.select(kb_articles.c.slug).where(
                        kb_articles.c.status == "published"
                    )
                )
            ).scalars()
        )

    async def add_labelled(
        self,
        connection: AsyncConnection,
        questions: Sequence[tuple[str, str | None, int | None]],
        *,
        author: str,
    ) -> None:
        """Store labelled questions in the caller's transaction, and bump.

        The caller's transaction makes the label and the revision change one
        step: every process's index rebuilds with the label, or none sees it.

        Args:
            connection: A connection inside the caller's transaction.
            questions: ``(text, slug or None for "none", annotation id)``.
            author: Who labelled them.
        """
        if not questions:
            return
        now = utcnow()
        await connection.execute(
            kb_labelled.insert(),
            [
                {
                    "text": text,
                    "article_slug": slug,
                    "annotation_id": annotation_id,
                    "created_by": author,
                    "created_at": now,
                }
                for text, slug, annotation_id in questions
            ],
        )
        await self._bump(connection)

    async def remove_labelled(
        self, connection: AsyncConnection, annotation_ids: Sequence[int]
    ) -> int:
        """Delete the labelled questions of some annotations, and bump if any.

        Returns:
            How many were deleted.
        """
        if not annotation_ids:
            return 0
        result = await connection.execute(
            kb_labelled.delete().where(kb_labelled.c.annotation_id.in_(annotation_ids))
        )
        if result.rowcount:
            await self._bump(connection)
        return int(result.rowcount or 0)

    async def get(self, slug: str) -> StoredArticle:
        """Return the current version of an article.

        Raises:
            ArticleNotFound: There is no article with this slug.
        """
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(kb_articles).where(kb_articles.c.slug == slug)
                )
            ).first()
        if row is None:
            raise ArticleNotFound(f"no article {slug!r}")
        return _stored(row)

    async def create(self, article: Article, *, author: str | None) -> StoredArticle:
        """Store a new article as its version 1.

        Args:
            article: The article (its ``version`` is ignored).
            author: Who wrote it (an email, or e.g. ``import``).

        Returns:
            The stored article.

        Raises:
            Conflict: ``duplicate_slug``: an article with this slug exists.
        """
        article = replace(article, version=1)
        try:
            async with self.engine.begin() as connection:
                await self._insert(connection, article, author)
                await self._bump(connection)
        except IntegrityError as error:
            raise Conflict(
                f"an article with slug {article.slug!r} exists",
                code="duplicate_slug",
            ) from error
        return await self.get(article.slug)

    async def update(
        self,
        slug: str,
        changes: Mapping[str, Any],
        *,
        author: str | None,
        expected_version: int | None = None,
    ) -> StoredArticle:
        """Save a new version of an article with some fields changed.

        Args:
            slug: The article to change.
            changes: New values of some of :data:`EDITABLE_FIELDS`.
            author: Who made the change.
            expected_version: If given, the version the editor started from;
                the edit is refused if someone saved another one meanwhile.

        Returns:
            The new current version (its number one higher). When nothing
            actually changes, the current version, unchanged.

        Raises:
            ArticleNotFound: There is no such article.
            KnowledgeError: A field is unknown or the result is invalid.
            Conflict: ``version_conflict``: ``expected_version`` is not current.
        """
        unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
        if unknown:
            raise KnowledgeError(
                f"field(s) that cannot be changed: {', '.join(unknown)}",
                code="unknown_field",
                field=unknown[0],
            )
        try:
            return await self._update(slug, changes, author, expected_version)
        except IntegrityError as error:
            # Two editors saved the same next version at once (SQLite does not
            # lock the row we read); the second one must reload.
            raise Conflict(
                f"article {slug!r} was changed meanwhile: reload it and edit again",
                code="version_conflict",
            ) from error

    async def _update(
        self,
        slug: str,
        changes: Mapping[str, Any],
        author: str | None,
        expected_version: int | None,
    ) -> StoredArticle:
        async with self.engine.begin() as connection:
            row = await self._lock(connection, slug)
            current = _stored(row).article
            if expected_version is not None and expected_version != current.version:
                raise Conflict(
                    f"article {slug!r} is at version {current.version}, "
                    f"not {expected_version}: reload it and edit again",
                    code="version_conflict",
                )
            edited = Article.from_dict(
                {**current.to_dict(), **changes, "version": current.version + 1}
            )
            if _content(edited) == _content(current):
                return _stored(row)
            now = utcnow()
            await connection.execute(
                kb_articles.update()
                .where(kb_articles.c.id == row.id)
                .values(
                    **{name: _content(edited)[name] for name in EDITABLE_FIELDS},
                    version=edited.version,
                    updated_at=now,
                    updated_by=author,
                )
            )
            await connection.execute(
                kb_versions.insert().values(
                    article_id=row.id,
                    version=edited.version,
                    content=_content(edited),
                    created_at=now,
                    author=author,
                )
            )
            await self._bump(connection)
        return await self.get(slug)

    async def restore(
        self, slug: str, version: int, *, author: str | None
    ) -> StoredArticle:
        """Save an old version's content as the article's newest version.

        Raises:
            ArticleNotFound: There is no such article or version.
        """
        old = await self.version(slug, version)
        content = _content(old.article)
        return await self.update(
            slug, {name: content[name] for name in EDITABLE_FIELDS}, author=author
        )

    async def versions(self, slug: str) -> list[ArticleVersion]:
        """Return every saved version of an article, newest first.

        Raises:
            ArticleNotFound: There is no such article.
        """
        async with self.engine.connect() as connection:
            article_id = await self._id(connection, slug)
            rows = (
                await connection.execute(
                    sa.select(kb_versions)
                    .where(kb_versions.c.article_id == article_id)
                    .order_by(kb_versions.c.version.desc())
                )
            ).all()
        return [self._version(row) for row in rows]

    async def version(self, slug: str, version: int) -> ArticleVersion:
        """Return one saved version of an article.

        Raises:
            ArticleNotFound: There is no such article or version.
        """
        async with self.engine.connect() as connection:
            article_id = await self._id(connection, slug)
            row = (
                await connection.execute(
                    sa.select(kb_versions).where(
                        kb_versions.c.article_id == article_id,
                        kb_versions.c.version == version,
                    )
                )
            ).first()
        if row is None:
            raise ArticleNotFound(f"article {slug!r} has no version {version}")
        return self._version(row)

    async def delete(self, slug: str) -> None:
        """Delete an article and its versions (unpublishing keeps them).

        Raises:
            ArticleNotFound: There is no such article.
        """
        async with self.engine.begin() as connection:
            result = await connection.execute(
                kb_articles.delete().where(kb_articles.c.slug == slug)
            )
            if result.rowcount == 0:
                raise ArticleNotFound(f"no article {slug!r}")
            # SQLite enforces ON DELETE CASCADE only with foreign keys on,
            # which every Baton connection sets; delete explicitly anyway.
            await connection.execute(
                kb_versions.delete().where(
                    kb_versions.c.article_id.not_in(sa.select(kb_articles.c.id))
                )
            )
            await self._bump(connection)

    async def import_articles(
        self, articles: Sequence[Article], *, author: str | None
    ) -> ImportReport:
        """Create the new articles and save a new version of the changed ones.

        Args:
            articles: Articles, e.g. read from files (their versions are
                ignored: the database keeps the history).
            author: Who imports them.

        Returns:
            The slugs created, updated and unchanged.
        """
        created, updated, unchanged = [], [], []
        existing = {
            stored.article.slug: stored.article for stored in await self.list_articles()
        }
        for article in articles:
            current = existing.get(article.slug)
            if current is None:
                await self.create(article, author=author)
                created.append(article.slug)
                continue
            content = _content(article)
            if content == _content(current):
                unchanged.append(article.slug)
                continue
            await self.update(
                article.slug,
                {name: content[name] for name in EDITABLE_FIELDS},
                author=author,
            )
            updated.append(article.slug)
        return ImportReport(tuple(created), tuple(updated), tuple(unchanged))

    async def seeded(self) -> bool:
        """Whether the seed articles were loaded once (see :meth:`seed_if_new`)."""
        async with self.engine.connect() as connection:
            value = await connection.scalar(
                sa.select(kb_state.c.seeded).where(kb_state.c.id == 1)
            )
        return bool(value)

    async def seed_if_new(self, articles: Iterable[Article]) -> int:
        """Load the seed articles once, into a knowledge base never seeded.

        Safe to call from several processes starting at once: the first to
        mark ``kb_state`` as seeded does it; an operator who deletes every
        article later does not get the seed back.

        Args:
            articles: The seed articles.

        Returns:
            How many articles were added (0 if it was seeded before).
        """
        added = 0
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                kb_state.update()
                .where(kb_state.c.id == 1, kb_state.c.seeded.is_(False))
                .values(seeded=True)
            )
            if claimed.rowcount == 0:
                return 0
            taken = set(
                (await connection.execute(sa.select(kb_articles.c.slug))).scalars()
            )
            for article in articles:
                if article.slug in taken:
                    continue
                await self._insert(connection, replace(article, version=1), "seed")
                added += 1
            await self._bump(connection)
        return added

    async def _insert(
        self, connection: AsyncConnection, article: Article, author: str | None
    ) -> None:
        now = utcnow()
        content = _content(article)
        result = await connection.execute(
            kb_articles.insert().values(
                **content,
                version=article.version,
                created_at=now,
                updated_at=now,
                updated_by=author,
            )
        )
        (article_id,) = result.inserted_primary_key
        await connection.execute(
            kb_versions.insert().values(
                article_id=article_id,
                version=article.version,
                content=content,
                created_at=now,
                author=author,
            )
        )

    async def _bump(self, connection: AsyncConnection) -> None:
        await connection.execute(
            kb_state.update()
            .where(kb_state.c.id == 1)
            .values(revision=kb_state.c.revision + 1)
        )

    async def _lock(self, connection: AsyncConnection, slug: str) -> Any:
        statement = sa.select(kb_articles).where(kb_articles.c.slug == slug)
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = (await connection.execute(statement)).first()
        if row is None:
            raise ArticleNotFound(f"no article {slug!r}")
        return row

    async def _id(self, connection: AsyncConnection, slug: str) -> int:
        article_id = await connection.scalar(
            sa.select(kb_articles.c.id).where(kb_articles.c.slug == slug)
        )
        if article_id is None:
            raise ArticleNotFound(f"no article {slug!r}")
        return int(article_id)

    @staticmethod
    def _version(row: Any) -> ArticleVersion:
        return ArticleVersion(
            article=Article.from_dict({**row.content, "version": row.version}),
            created_at=aware(row.created_at),
            author=row.author,
        )

"""Knowledge-base articles, their versions, and the change counter."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base, utcnow


class KnowledgeArticle(Base):
    """The current version of a knowledge-base article (bot/knowledge)."""

    __tablename__ = "kb_articles"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    slug = sa.Column(sa.String(80), nullable=False)
    title = sa.Column(sa.String(200), nullable=False)
    summary = sa.Column(sa.Text, nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    steps = sa.Column(sa.JSON, nullable=False, default=list)
    tags = sa.Column(sa.JSON, nullable=False, default=list)
    intents = sa.Column(sa.JSON, nullable=False, default=list)
    examples = sa.Column(sa.JSON, nullable=False, default=list)
    status = sa.Column(sa.String(16), nullable=False, default="published")
    version = sa.Column(sa.Integer, nullable=False, default=1)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by = sa.Column(sa.String(320))

    __table_args__ = (
        sa.UniqueConstraint("slug", name="uq_kb_articles_slug"),
        sa.CheckConstraint(
            "status in ('published', 'draft')", name="ck_kb_articles_status"
        ),
    )


class KnowledgeArticleVersion(Base):
    """Every saved version of an article, as the article's fields in JSON."""

    __tablename__ = "kb_article_versions"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    article_id = sa.Column(
        sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False
    )
    version = sa.Column(sa.Integer, nullable=False)
    content = sa.Column(sa.JSON, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    author = sa.Column(sa.String(320))

    __table_args__ = (
        sa.UniqueConstraint(
            "article_id", "version", name="uq_kb_article_versions_version"
        ),
    )


class KnowledgeState(Base):
    """One row: a counter bumped by every KB change, and whether it was seeded.

    Search indexes in other processes compare the counter to rebuild after an
    edit without a restart.
    """

    __tablename__ = "kb_state"

    id = sa.Column(sa.Integer, primary_key=True)
    revision = sa.Column(sa.Integer, nullable=False, default=0)
    seeded = sa.Column(sa.Boolean, nullable=False, default=False)

"""Customers' "did this help?" answers about the articles they were shown.

Written by the knowledge base when a customer answers under an article
(:meth:`bot.knowledge.KnowledgeBase.record_feedback`), read for the handoff
card; rows of the ``feedback`` table with ``kind = 'article'``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import Feedback, aware, utcnow
from bot.knowledge.records import ArticleFeedback

feedback = Feedback.__table__


class ArticleFeedbackRepository:
    """Stores and reads the customers' article feedback."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, conversation_id: str, slug: str, *, helped: bool) -> None:
        """Store a customer's "did this help?" answer about an article."""
        async with self.engine.begin() as connection:
            await connection.execute(
                feedback.insert().values(
                    conversation_id=conversation_id,
                    kind="article",
                    article_slug=slug,
                    helped=helped,
                    created_at=utcnow(),
                )
            )

    async def for_conversation(self, conversation_id: str) -> list[ArticleFeedback]:
        """Return a conversation's article feedback, oldest first."""
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(feedback)
                    .where(
                        feedback.c.conversation_id == conversation_id,
                        feedback.c.kind == "article",
                    )
                    .order_by(feedback.c.created_at, feedback.c.id)
                )
            ).all()
        return [
            ArticleFeedback(
                conversation_id=row.conversation_id,
                slug=row.article_slug,
                helped=bool(row.helped),
                created_at=aware(row.created_at),
            )
            for row in rows
        ]

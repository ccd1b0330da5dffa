"""Canned replies (``bot.canned``)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base, utcnow


class CannedReply(Base):
    """A reply the team shares: agents insert it by typing ``/`` and its shortcut."""

    __tablename__ = "canned_replies"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    shortcut = sa.Column(sa.String(40), nullable=False, unique=True)
    title = sa.Column(sa.String(120), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by = sa.Column(sa.String(320), nullable=False)

"""Limits shared by every hub (``bot.web.limits``, migration 0007)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base


class RateCounter(Base):
    """Events of a key in one fixed time window (Redis holds the same when set)."""

    __tablename__ = "rate_counters"

    key = sa.Column(sa.String(200), primary_key=True)
    window = sa.Column(sa.BigInteger, primary_key=True, autoincrement=False)
    count = sa.Column(sa.Integer, nullable=False)

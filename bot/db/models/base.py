"""The declarative base of every table, and the time helpers they share."""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

from sqlalchemy.orm import declarative_base

Base: Any = declarative_base()


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


@overload
def aware(value: dt.datetime) -> dt.datetime: ...


@overload
def aware(value: None) -> None: ...


@overload
def aware(value: dt.datetime | None) -> dt.datetime | None: ...


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """Return ``value`` as a timezone-aware UTC datetime (``None`` stays ``None``).

    Args:
        value: A datetime read from the database.

    Returns:
        ``value`` with UTC attached when it came back naive.
    """
    if value is None:
        return None
    # SQLite hands back naive datetimes; everything Baton stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)

"""Rows of the training tables as frozen records, and records as JSON.

The training records (annotations, jobs, models) are dataclasses whose
fields are named after their columns; one pair of functions maps a row to a
record (times made timezone-aware) and a record to its JSON shape (times in
ISO 8601), instead of a hand-written copy of each per record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, TypeVar

from bot.db.models import aware

Record = TypeVar("Record")


def from_row(kind: type[Record], row: Any, **columns: str) -> Record:
    """Build a record of ``kind`` from a row.

    Args:
        kind: A dataclass whose fields are the row's columns.
        row: A SQLAlchemy row.
        columns: Field → column, for fields named otherwise than their column.
    """
    mapping = row._mapping
    values = {}
    for item in dataclasses.fields(kind):  # type: ignore[arg-type]
        value = mapping[columns.get(item.name, item.name)]
        values[item.name] = aware(value) if isinstance(value, dt.datetime) else value
    return kind(**values)


def to_json(record: Any, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """A record's fields as JSON values (times in ISO 8601)."""
    return {
        item.name: _json(getattr(record, item.name))
        for item in dataclasses.fields(record)
        if item.name not in leave_out
    }


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


__all__ = ["from_row", "to_json"]

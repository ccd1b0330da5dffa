"""bench.training.inbox's accounting: what a read sends the database, and the
annotations analyzed when PostgreSQL's autovacuum would (SQLite, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.training.inbox import (
    ANALYZE_SCALE_FACTOR,
    ANALYZE_THRESHOLD,
    Traffic,
    analyze_annotations_when_due,
    dismiss,
)
from bot.db.models import Conversation, Message


async def test_traffic_counts_statements_and_round_trips(engine: Any) -> None:
    traffic = Traffic(engine)
    async with engine.connect() as connection:
        await connection.execute(sa.text("SELECT 1"))
        await connection.execute(sa.text("SELECT 2"))
    # A checkout, the transaction's start, two statements, its end.
    assert traffic.counts() == (2, 5)
    async with engine.begin() as connection:
        await connection.execute(sa.text("SELECT 3"))
    assert traffic.counts() == (3, 9)


async def one_message(engine: Any) -> int:
    now = dt.datetime.now(dt.timezone.utc)
    chat = secrets.token_hex(16)
    async with engine.begin() as connection:
        await connection.execute(
            Conversation.__table__.insert(),
            {
                "id": chat,
                "token_hash": secrets.token_hex(8),
                "state": "bot",
                "last_seq": 1,
                "user_verified": False,
                "created_at": now,
                "updated_at": now,
            },
        )
        result = await connection.execute(
            Message.__table__.insert(),
            {
                "conversation_id": chat,
                "seq": 1,
                "role": "customer",
                "text": "hello",
                "buttons": [],
                "meta": {},
                "created_at": now,
            },
        )
    return int(result.inserted_primary_key[0])


async def test_annotations_are_analyzed_once_autovacuum_would(engine: Any) -> None:
    if engine.dialect.name != "postgresql":
        assert not await analyze_annotations_when_due(engine)
        return
    message = await one_message(engine)
    # What other tests left on the shared database: analyzed or not, then
    # nothing is due.
    await analyze_annotations_when_due(engine)
    assert not await analyze_annotations_when_due(engine)

    async def known() -> float:
        async with engine.connect() as connection:
            return float(
                (
                    await connection.execute(
                        sa.text(
                            "SELECT greatest(reltuples, 0) FROM pg_class"
                            " WHERE oid = 'training_annotations'::regclass"
                        )
                    )
                ).scalar_one()
            )

    async def stored() -> int:
        async with engine.connect() as connection:
            return int(
                (
                    await connection.execute(
                        sa.text("SELECT count(*) FROM training_annotations")
                    )
                ).scalar_one()
            )

    before = await known()
    allowed = ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * before
    room = int(before + allowed) - await stored()
    if room:
        await dismiss(engine, [message] * room)
    assert not await analyze_annotations_when_due(engine)
    assert await known() == before
    await dismiss(engine, [message])
    assert await analyze_annotations_when_due(engine)
    assert await known() == await stored()
    assert not await analyze_annotations_when_due(engine)


def test_a_run_never_replaces_another_runs_figures(tmp_path: Path) -> None:
    from bench.training.results import record

    first = record("loop", {"run": 1}, results=tmp_path)
    other = record("inbox", {"run": 1}, results=tmp_path)
    second = record("loop", {"run": 2}, results=tmp_path)
    third = record("loop", {"run": 3}, results=tmp_path)
    assert first == other
    assert second.name == first.name.replace(".json", "b.json")
    assert third.name == first.name.replace(".json", "c.json")
    assert json.loads(first.read_text())["loop"] == {"run": 1}
    assert json.loads(first.read_text())["inbox"] == {"run": 1}
    assert json.loads(third.read_text())["loop"] == {"run": 3}

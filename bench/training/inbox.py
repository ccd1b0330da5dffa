"""The training inbox's query time with 100,000 stored turns (issue #14: p95 ≤ 200 ms).

``python -m bench.training inbox [--turns N] [--database-url URL]``

A fresh database (a SQLite file by default, as the embedded hub uses) is
migrated and seeded with the knowledge base as a hub does, then filled with
``--turns`` customer turns (the customer's message with what the NLU
understood, and the bot's reply, as the relay stores them) in conversations
of ten turns over the last 30 days. The customers' texts are the examples
of ``data/nlu`` with a conversation number in some, so that they are not all
the same; most turns are understood with confidence, some unsure or not
understood, and some conversations end with a handoff, a rejected article or
a low rating, at rates given below. The rows are written in bulk (the
services would take hours for this many): their shape is the relay's, each
customer message with the inbox flag the relay stores with it
(:func:`bot.conversations.inbox_flags.nlu_bits`) and, where the relay keeps
one, its sentence vector (a message the NLU flagged, and the last message of
a conversation handed over: the relay keeps the parse data's vector of a
turn that hands over). The NLU computed those vectors while it parsed the
messages; here the hub's encoder computes them (the same model), timed apart
as ``vectors_s``. The handoffs' and answers' flags are then applied as a hub
applies them (:func:`~bot.training.flags.apply_pending_events`, timed).

Then the inbox is read as the console reads it (:class:`bot.training.Inbox`
with the hub's knowledge base and sentence encoder): the default view
(newest first), the most frequent first, and one reason, each ``--repeat``
times after one warm-up read; the figures are seconds per read, with the
CPU seconds of each read (this process, and on PostgreSQL the server's
backends, from ``/proc``) and the statements and round trips it took
(:class:`Traffic`): on a shared machine a read waits for a core. On
PostgreSQL the planner's statistics are gathered as autovacuum would
(on by default; off on this machine's server): of the filled tables after
the fill (:func:`analyze`), of the annotations once the dismissals pass
its threshold (:func:`analyze_annotations_when_due`); ``--no-statistics``
reads without any. The
first read embeds the flagged messages without a stored vector (those a low
rating flagged) once and stores their vectors; its time is recorded as
``first_read_s``. Before it, the knowledge base's first index is built as a
hub builds it in the background when it starts
(:func:`bot.training.warm_up.warm_up_knowledge`: the sentence encoder
loaded, what the process holds frozen out of the garbage collector, the
index built), timed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import secrets
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.training.results import load_average, percentiles, record
from bot.conversations.inbox_flags import nlu_bits, stored_vector
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.db.models import (
    Conversation,
    Feedback,
    Handoff,
    Message,
    TrainingAnnotation,
)
from bot.knowledge import KnowledgeBase, KnowledgeRepository, load_seed
from bot.knowledge.embedding import SentenceEncoder, shared_encoder
from bot.training import Inbox, InboxFilter, Reason
from bot.training.flags import apply_pending_events
from bot.training.intents import NluRepository
from bot.training.nlu_data import read_nlu
from bot.training.repository import TrainingRepository
from bot.training.warm_up import warm_up_knowledge

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
TURNS_PER_CONVERSATION = 10
#: Of customer turns: not understood (nlu_fallback), and unsure (< 0.7).
FALLBACK_RATE = 0.03
UNSURE_RATE = 0.05
#: Of conversations: handed to a person, an article rejected, rated 1-2.
HANDOFF_RATE = 0.05
REJECTED_RATE = 0.02
LOW_RATING_RATE = 0.01
#: Where the figures' data come from.
DATA = (
    "synthetic turns (bench/training/inbox.py fill, seed 14): customer texts are "
    "the data/nlu examples as checked out (30 % with an order number added), "
    "conversations of 10 turns spread over the last 30 days, 3 % of turns "
    "nlu_fallback, 5 % unsure (0.5-0.69), 5 % of conversations handed over and "
    "resolved, 2 % with a rejected article, 1 % rated 1-2; written in bulk with "
    "the relay's flags and vectors (of the messages the NLU flagged and the last "
    "message of each conversation handed over, by the hub's encoder), events "
    "applied as a hub applies them"
)
#: Rows per INSERT.
BATCH = 5000


def phrasings() -> list[tuple[str, str]]:
    """(text, intent) of every example in data/nlu."""
    files = read_nlu(PROJECT_DIR / "data" / "nlu")
    return [
        (text, intent) for intent, texts in files.examples.items() for text in texts
    ]


async def fill(
    engine: Any, turns: int, seed: int = 14, encoder: SentenceEncoder | None = None
) -> dict[str, Any]:
    """Write ``turns`` customer turns with their bot replies; return counts.

    With ``encoder``, the messages whose vector the relay keeps get it
    (``vectors_s``: the time taken to compute them).
    """
    rng = random.Random(seed)
    pool = phrasings()
    intents = sorted({intent for _, intent in pool})
    now = dt.datetime.now(dt.timezone.utc)
    conversations: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    handoffs: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    counts = {"turns": 0, "fallback": 0, "unsure": 0}
    for number in range(-(-turns // TURNS_PER_CONVERSATION)):
        conversation_id = secrets.token_hex(16)
        started = now - dt.timedelta(seconds=rng.uniform(600, 30 * 86400))
        seq = 0
        at = started
        in_this = min(TURNS_PER_CONVERSATION, turns - counts["turns"])
        for _ in range(in_this):
            text, intent = rng.choice(pool)
            if rng.random() < 0.3:
                text = f"{text} (order {number})"
            draw = rng.random()
            if draw < FALLBACK_RATE:
                understood, confidence = "nlu_fallback", rng.uniform(0.2, 0.5)
                counts["fallback"] += 1
            elif draw < FALLBACK_RATE + UNSURE_RATE:
                understood, confidence = intent, rng.uniform(0.5, 0.69)
                counts["unsure"] += 1
            else:
                understood, confidence = intent, rng.uniform(0.75, 0.999)
            others = rng.sample([i for i in intents if i != understood], 2)
            ranking = [
                {"name": understood, "confidence": round(confidence, 4)},
                {"name": others[0], "confidence": round((1 - confidence) * 0.6, 4)},
                {"name": others[1], "confidence": round((1 - confidence) * 0.3, 4)},
            ]
            seq += 1
            at += dt.timedelta(seconds=rng.uniform(5, 60))
            messages.append(
                {
                    "conversation_id": conversation_id,
                    "seq": seq,
                    "role": "customer",
                    "text": text,
                    "buttons": [],
                    "meta": {
                        "_nlu": {
                            "intent": understood,
                            "confidence": round(confidence, 4),
                            "intent_ranking": ranking,
                        }
                    },
                    "client_id": secrets.token_hex(8),
                    "relay_state": "done",
                    "created_at": at,
                    # As the relay flags it when it stores what Rasa understood.
                    "inbox_flags": nlu_bits(
                        text,
                        {
                            "_nlu": {
                                "intent": understood,
                                "confidence": round(confidence, 4),
                            }
                        },
                    )
                    or None,
                }
            )
            seq += 1
            at += dt.timedelta(seconds=1)
            messages.append(
                {
                    "conversation_id": conversation_id,
                    "seq": seq,
                    "role": "bot",
                    "text": "Here is how to do that: ...",
                    "buttons": [],
                    "meta": {},
                    "client_id": None,
                    "relay_state": None,
                    "created_at": at,
                    "inbox_flags": None,
                }
            )
            counts["turns"] += 1
        conversations.append(
            {
                "id": conversation_id,
                "token_hash": secrets.token_hex(32),
                "state": "bot",
                "last_seq": seq,
                "user_verified": False,
                "created_at": started,
                "updated_at": at,
            }
        )
        draw = rng.random()
        if draw < HANDOFF_RATE:
            # The last turn handed over: the relay keeps its vector.
            messages[-2]["keep_vector"] = True
            handoffs.append(
                {
                    "conversation_id": conversation_id,
                    "reason": "customer_request",
                    "state": "resolved",
                    "priority": 0,
                    "created_at": at,
                    "closed_at": at + dt.timedelta(minutes=5),
                }
            )
        elif draw < HANDOFF_RATE + REJECTED_RATE:
            feedback.append(
                {
                    "conversation_id": conversation_id,
                    "kind": "article",
                    "score": None,
                    "helped": False,
                    "article_slug": "reset-password",
                    "created_at": at,
                }
            )
        elif draw < HANDOFF_RATE + REJECTED_RATE + LOW_RATING_RATE:
            feedback.append(
                {
                    "conversation_id": conversation_id,
                    "kind": "rating",
                    "score": rng.choice((1, 2)),
                    "helped": None,
                    "article_slug": None,
                    "created_at": at,
                }
            )
    vectors_s = 0.0
    if encoder is not None:
        started = time.perf_counter()
        kept = [m for m in messages if m["inbox_flags"] or m.get("keep_vector")]
        texts = sorted({m["text"] for m in kept})
        computed = {}
        for start in range(0, len(texts), 256):
            batch = texts[start : start + 256]
            computed.update(zip(batch, encoder.encode(batch, cache=False), strict=True))
        for message in kept:
            message["inbox_vector"] = stored_vector(computed[message["text"]])
        vectors_s = time.perf_counter() - started
    for message in messages:
        message.pop("keep_vector", None)
        message.setdefault("inbox_vector", None)
    async with engine.begin() as connection:
        for table, rows in (
            (Conversation.__table__, conversations),
            (Message.__table__, messages),
            (Handoff.__table__, handoffs),
            (Feedback.__table__, feedback),
        ):
            for start in range(0, len(rows), BATCH):
                await connection.execute(table.insert(), rows[start : start + BATCH])
    counts.update(
        conversations=len(conversations),
        message_rows=len(messages),
        handoffs=len(handoffs),
        feedback=len(feedback),
        vectors=sum(m["inbox_vector"] is not None for m in messages),
    )
    return {**counts, "vectors_s": round(vectors_s, 1)}


async def flag_one(
    engine: Any,
    rng: random.Random,
    pool: list[tuple[str, str]],
    encoder: SentenceEncoder | None = None,
) -> None:
    """Store one new customer message the NLU did not understand, flagged as
    the relay flags it, in a conversation of its own (the newest message);
    with ``encoder``, with its vector, as the relay keeps the parse data's."""
    text, _ = rng.choice(pool)
    text = f"{text} (order {rng.randrange(10**6)})"
    nlu = {"intent": "nlu_fallback", "confidence": round(rng.uniform(0.2, 0.5), 4)}
    conversation_id = secrets.token_hex(16)
    vector = (
        stored_vector(encoder.encode([text], cache=False)[0])
        if encoder is not None
        else None
    )
    now = dt.datetime.now(dt.timezone.utc)
    async with engine.begin() as connection:
        await connection.execute(
            Conversation.__table__.insert(),
            {
                "id": conversation_id,
                "token_hash": secrets.token_hex(32),
                "state": "bot",
                "last_seq": 1,
                "user_verified": False,
                "created_at": now,
                "updated_at": now,
            },
        )
        await connection.execute(
            Message.__table__.insert(),
            {
                "conversation_id": conversation_id,
                "seq": 1,
                "role": "customer",
                "text": text,
                "buttons": [],
                "meta": {
                    "_nlu": {
                        **nlu,
                        "intent_ranking": [
                            {"name": "nlu_fallback", "confidence": nlu["confidence"]}
                        ],
                    }
                },
                "client_id": secrets.token_hex(8),
                "relay_state": "done",
                "created_at": now,
                "inbox_flags": nlu_bits(text, {"_nlu": nlu}) or None,
                "inbox_vector": vector,
            },
        )


async def dismiss(engine: Any, message_ids: list[int]) -> None:
    """Dismiss messages as a trainer's group annotation does (its rows)."""
    now = dt.datetime.now(dt.timezone.utc)
    async with engine.begin() as connection:
        await connection.execute(
            TrainingAnnotation.__table__.insert(),
            [
                {
                    "message_id": message_id,
                    "kind": "dismiss",
                    "text": "",
                    "created_by": "bench",
                    "created_at": now,
                }
                for message_id in message_ids
            ],
        )


class Traffic:
    """What the engine sends the database: statements and round trips.

    Counted from SQLAlchemy's events: each statement, each transaction's
    start and end, and each connection taken from the pool (PostgreSQL's
    engine pings it first). On PostgreSQL each is a round trip to the
    server (a statement's first use on a connection adds one more, to
    prepare it, not counted); on SQLite they are calls into the library.
    """

    def __init__(self, engine: Any) -> None:
        self.statements = 0
        self.round_trips = 0
        target = engine.sync_engine
        sa.event.listen(target, "before_cursor_execute", self._statement)
        for name in ("begin", "commit", "rollback", "checkout"):
            sa.event.listen(target, name, self._trip)

    def _statement(self, *_: Any) -> None:
        self.statements += 1
        self.round_trips += 1

    def _trip(self, *_: Any) -> None:
        self.round_trips += 1

    def counts(self) -> tuple[int, int]:
        """Statements and round trips so far."""
        return self.statements, self.round_trips


#: The tables :func:`fill` writes.
FILLED = ("conversations", "messages", "handoffs", "feedback")
#: PostgreSQL's defaults for when autovacuum analyzes a table again: once
#: more rows than this changed since the last pass ...
ANALYZE_THRESHOLD = 50
#: ... plus this share of the rows it had then.
ANALYZE_SCALE_FACTOR = 0.1


async def analyze(engine: Any, tables: Sequence[str] = FILLED) -> float | None:
    """Gather the planner's statistics of ``tables``, as autovacuum would.

    Autovacuum (on by default) analyzes a table within a minute of
    :data:`ANALYZE_THRESHOLD` rows and :data:`ANALYZE_SCALE_FACTOR` of it
    changing: after the fill, the tables it wrote. This machine's server
    runs without autovacuum: a fill read at once was planned with no
    statistics (a parallel sequential scan of every message for each
    read's context turns). Returns the seconds taken (``None`` on SQLite,
    whose hub never runs ``ANALYZE``).
    """
    if engine.dialect.name != "postgresql":
        return None
    started = time.perf_counter()
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(sa.text(f"ANALYZE {', '.join(tables)}"))
    return round(time.perf_counter() - started, 2)


async def analyze_annotations_when_due(engine: Any) -> bool:
    """Analyze ``training_annotations`` when autovacuum would have by now.

    The reads' dismissals add annotations; autovacuum analyzes the table
    again once they pass its threshold (only inserts happen here, so the
    rows added since the last pass are the changes). Without that an
    annotations table planned as (nearly) empty made PostgreSQL check
    every flagged message against every annotation in a loop (50-100 ms a
    read at 280 annotations). Called between reads, outside their timing.
    Returns whether it analyzed.
    """
    if engine.dialect.name != "postgresql":
        return False
    async with engine.connect() as connection:
        stored = (
            await connection.execute(
                sa.text("SELECT count(*) FROM training_annotations")
            )
        ).scalar_one()
        known = (
            await connection.execute(
                sa.text(
                    "SELECT greatest(reltuples, 0) FROM pg_class"
                    " WHERE oid = 'training_annotations'::regclass"
                )
            )
        ).scalar_one()
    if stored - known <= ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * known:
        return False
    await analyze(engine, ["training_annotations"])
    return True


async def server_cpu_s(engine: Any) -> float | None:
    """CPU seconds the PostgreSQL backends serving this database have used.

    Read from ``/proc`` (the server runs on this machine); ``None`` for
    SQLite (its work is the process's own) or when a backend's figures
    cannot be read. Only the benchmark uses the scratch database, so its
    backends are the benchmark's connections.
    """
    if engine.dialect.name != "postgresql":
        return None
    async with engine.connect() as connection:
        pids = (
            await connection.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                )
            )
        ).scalars()
        total = 0
        for pid in pids:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                return None
            # The command name is in parentheses; utime and stime follow.
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def timed(
    inbox: Inbox,
    query: InboxFilter,
    repeat: int,
    engine: Any,
    encoder: SentenceEncoder | None = None,
    statistics: bool = True,
) -> dict[str, Any]:
    """Seconds per read of ``query`` (after one warm-up read), and its size.

    Three kinds of read: ``repeat`` reads of unchanged data (a trainer
    reloading the view or switching back to it; the inbox keeps what cannot
    change, so these reuse the previous read's groups and searches), then
    ``repeat`` reads each just after one new message was flagged
    (``after_new_flag``: the flagged list changed, so it is grouped again;
    with ``encoder`` the message is stored with its vector, as the relay
    stores it), then ``repeat`` reads each just after
    the first group shown was dismissed (``after_dismissing_a_group``).
    The worst p95 of the three counts.

    The warm-up read embeds the flagged messages that have no stored vector
    yet (those a low rating flagged, on the first read after the fill): its
    time is kept.
    Besides the wall time, each read's CPU time in this process (all its
    threads), its statements and round trips (:class:`Traffic`), and on
    PostgreSQL the server's CPU time for the reads of each kind, per read:
    on a shared machine the wall time includes waiting for a core, and for
    the server's answers. With ``statistics``, on PostgreSQL, the
    annotations the dismissals add are analyzed as autovacuum would
    (:func:`analyze_annotations_when_due`), between reads.
    """
    traffic = Traffic(engine)
    started = time.perf_counter()
    cpu = time.process_time()
    groups = await inbox.groups(query)
    first_s = time.perf_counter() - started
    first_cpu_s = time.process_time() - cpu

    async def read() -> tuple[float, float, float | None, int, int]:
        if statistics:
            await analyze_annotations_when_due(engine)
        before = await server_cpu_s(engine)
        statements, trips = traffic.counts()
        started = time.perf_counter()
        cpu = time.process_time()
        await inbox.groups(query)
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        now_statements, now_trips = traffic.counts()
        after = await server_cpu_s(engine)
        server = after - before if before is not None and after is not None else None
        return wall, used, server, now_statements - statements, now_trips - trips

    def summary(reads: list[tuple[float, float, float | None, int, int]]) -> dict:
        servers = [r[2] for r in reads if r[2] is not None]
        figures: dict[str, Any] = {
            "seconds": percentiles([r[0] for r in reads]),
            "cpu_seconds": percentiles([r[1] for r in reads]),
            "statements": percentiles([float(r[3]) for r in reads]),
            "round_trips": percentiles([float(r[4]) for r in reads]),
        }
        if servers:
            figures["server_cpu_s_per_read"] = round(sum(servers) / len(servers), 4)
        return figures

    unchanged = [await read() for _ in range(repeat)]
    # Each read after a new message was flagged: the list of flagged
    # messages changed, so nothing of a previous read's grouping holds.
    rng, pool = random.Random(repeat), phrasings()
    changed = []
    for _ in range(repeat):
        await flag_one(engine, rng, pool, encoder)
        changed.append(await read())
    # Each read after the trainer dismissed the first group shown (as the
    # console's group annotation stores it): the flagged list lost a group.
    dismissed = []
    for _ in range(repeat):
        shown = (await inbox.groups(query))[0]["group_id"]
        await dismiss(engine, [int(part) for part in shown.split(",")])
        dismissed.append(await read())
    return {
        "groups": len(groups),
        "messages": sum(group["count"] for group in groups),
        **summary(unchanged),
        "after_new_flag": summary(changed),
        "after_dismissing_a_group": summary(dismissed),
        "first_read_s": round(first_s, 2),
        "first_read_cpu_s": round(first_cpu_s, 2),
    }


async def run(
    turns: int, repeat: int, database_url: str | None, statistics: bool = True
) -> dict[str, Any]:
    """Fill a database with ``turns`` turns and time the inbox on it.

    With ``statistics`` (the default), PostgreSQL's planner statistics are
    gathered after the fill (:func:`analyze`).
    """
    with tempfile.TemporaryDirectory(prefix="baton-inbox-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'baton.db'}"
        engine = create_engine(url)
        try:
            await upgrade_database(engine)
            knowledge = KnowledgeBase(KnowledgeRepository(engine))
            await knowledge.repository.seed_if_new(load_seed())
            encoder = shared_encoder()
            started = time.perf_counter()
            counts = await fill(engine, turns, encoder=encoder)
            filled_s = time.perf_counter() - started
            # The handoffs and answers were written in bulk, not through
            # their services: their flags are applied as a hub would.
            started = time.perf_counter()
            async with engine.begin() as connection:
                applied = await apply_pending_events(connection)
            applied_s = time.perf_counter() - started
            analyzed_s = await analyze(engine) if statistics else None
            inbox = Inbox(
                TrainingRepository(
                    engine, knowledge.repository, NluRepository(engine, PROJECT_DIR)
                ),
                knowledge,
            )
            load_before = load_average()
            # What a hub's background build of the knowledge index at its
            # start costs (the index built), apart from the reads.
            started = time.perf_counter()
            cpu = time.process_time()
            if not await warm_up_knowledge(knowledge, freeze=True):
                raise RuntimeError("the knowledge index could not be built")
            index_first = {
                "seconds": round(time.perf_counter() - started, 2),
                "cpu_seconds": round(time.process_time() - cpu, 2),
            }
            reads = {
                "newest": await timed(
                    inbox, InboxFilter(), repeat, engine, encoder, statistics
                ),
                "frequent": await timed(
                    inbox,
                    InboxFilter(sort="frequent"),
                    repeat,
                    engine,
                    encoder,
                    statistics,
                ),
                "reason_fallback": await timed(
                    inbox,
                    InboxFilter(reason=Reason.FALLBACK),
                    repeat,
                    engine,
                    encoder,
                    statistics,
                ),
            }
        finally:
            await engine.dispose()
    worst = max(
        read[kind]["seconds"]["p95"] if kind else read["seconds"]["p95"]
        for read in reads.values()
        for kind in ("", "after_new_flag", "after_dismissing_a_group")
    )
    return {
        "database": "PostgreSQL" if database_url else "SQLite file (embedded)",
        "data": DATA,
        "stored": counts,
        "fill_s": round(filled_s, 1),
        "events_applied": {"conversations": applied, "seconds": round(applied_s, 2)},
        "planner_statistics": (
            f"ANALYZE {', '.join(FILLED)} after the fill ({analyzed_s} s), "
            "training_annotations when autovacuum would (between reads)"
            if analyzed_s is not None
            else "none gathered (SQLite: the hub never runs ANALYZE)"
            if not database_url
            else "none gathered (--no-statistics)"
        ),
        "knowledge_index_first_build": index_first,
        "reads": reads,
        "repeat": repeat,
        "target_p95_s": 0.2,
        "worst_p95_s": worst,
        "meets_target": worst <= 0.2,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the inbox benchmark and record it."""
    parser = argparse.ArgumentParser(prog="python -m bench.training inbox")
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--database-url", help="a PostgreSQL database to fill (default: SQLite)"
    )
    parser.add_argument(
        "--no-statistics",
        action="store_true",
        help="on PostgreSQL, read without ANALYZE after the fill (as before "
        "2026-12-04g: no planner statistics)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="a JSON file to add the figures to (default: today's "
        "bench/results/training-<date>.json)",
    )
    args = parser.parse_args(argv)
    figures = asyncio.run(
        run(args.turns, args.repeat, args.database_url, not args.no_statistics)
    )
    key = "inbox_postgresql" if args.database_url else "inbox"
    if args.output is None:
        print(record(key, figures))
    else:
        document = json.loads(args.output.read_text()) if args.output.is_file() else {}
        document[key] = figures
        args.output.write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        )
        print(args.output)
    for name, read in figures["reads"].items():
        print(f"{name}: {read['groups']} groups, {read['seconds']}")
    return 0

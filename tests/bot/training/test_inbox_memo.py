"""The inbox keeps only what cannot change between reads, and nothing stale.

A read keeps messages' vectors, the groups of one list of flagged messages
and a message's top articles in one knowledge index: an unchanged inbox is
read again without embedding, grouping or searching anew, while a newly
flagged message and a changed knowledge base show at the next read.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.training.inbox import dismiss
from bot.conversations.repository import ConversationRepository
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.knowledge import KnowledgeRepository
from bot.knowledge.embedding import DIMENSION, vector_to_parse_data
from bot.knowledge.search import Hit, Query, SearchResult
from bot.knowledge.service import KnowledgeBase
from bot.training import repository as training_repository
from bot.training.inbox import Grouping, Inbox, InboxFilter, group
from bot.training.repository import TrainingRepository
from tests.bot.conversations.test_inbox_vector import relayed as vector_relayed
from tests.bot.conversations.test_inbox_vector import unit
from tests.bot.training.test_inbox_flags import new_chat, relayed
from tests.conftest import scratch_postgres

WORDS = ("invoice", "password", "refund")


class WordEncoder:
    """A text's vector says which of :data:`WORDS` it has; texts are counted."""

    dimension = len(WORDS)

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str], cache: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        rows = np.array(
            [[float(word in text) for word in WORDS] for text in texts], np.float32
        )
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


class EditionIndex:
    """An index that answers every message with its edition's article."""

    def __init__(self, edition: int) -> None:
        self.edition = edition
        self.searched: list[str] = []

    def search_many(self, queries: Sequence[Query], limit: int) -> list[SearchResult]:
        self.searched.extend(query.text for query in queries)
        hit = Hit(f"edition-{self.edition}", 0.5, f"Edition {self.edition}")
        return [SearchResult(hits=[hit]) for _ in queries]


class Editions:
    """A knowledge base whose edits give a new index, as a revision does."""

    def __init__(self) -> None:
        self.current = EditionIndex(1)

    async def index(self) -> EditionIndex:
        return self.current

    def edit(self) -> None:
        self.current = EditionIndex(self.current.edition + 1)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """A migrated database of the test's own.

    The inbox reads every flagged message of its window, so no other test's
    messages may be in it (the shared PostgreSQL database of a run has them).
    """
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'memo.db'}"
        else:
            url = stack.enter_context(scratch_postgres("baton_memo"))
        engine = create_engine(url)
        await upgrade_database(engine)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.fixture
def chats(engine: Any) -> ConversationRepository:
    return ConversationRepository(engine)


def shown(groups: list[dict[str, Any]]) -> list[tuple[list[str], list[str]]]:
    """Each group's texts and article slugs."""
    return [
        (
            [item["text"] for item in group["items"]],
            [article["slug"] for article in group["articles"]],
        )
        for group in groups
    ]


async def test_a_read_reuses_what_cannot_change_and_shows_what_did(
    engine: Any, chats: ConversationRepository
) -> None:
    encoder, editions = WordEncoder(), Editions()
    inbox = Inbox(
        TrainingRepository(engine, KnowledgeRepository(engine)),
        cast(KnowledgeBase, editions),
        encoder=cast(Any, encoder),
    )
    query = InboxFilter(since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    chat = await new_chat(chats)
    await relayed(chats, chat, "my invoice is wrong", "nlu_fallback", 0.3)
    await relayed(chats, chat, "invoice charged twice", "billing", 0.6)
    await relayed(chats, chat, "forgot my password", "nlu_fallback", 0.2)

    first = await inbox.groups(query)
    assert shown(first) == [
        (["forgot my password"], ["edition-1"]),
        (["invoice charged twice", "my invoice is wrong"], ["edition-1"]),
    ]
    assert sorted(encoder.encoded) == [
        "forgot my password",
        "invoice charged twice",
        "my invoice is wrong",
    ]
    assert editions.current.searched == ["forgot my password", "invoice charged twice"]

    # Unchanged: the same answer, nothing embedded or searched again.
    assert await inbox.groups(query) == first
    assert len(encoder.encoded) == 3
    assert len(editions.current.searched) == 2

    # A new flagged message regroups the rest at once; only it is embedded,
    # and only the group it starts is searched for.
    await relayed(chats, chat, "invoice is missing", "nlu_fallback", 0.4)
    assert shown(await inbox.groups(query)) == [
        (
            ["invoice is missing", "invoice charged twice", "my invoice is wrong"],
            ["edition-1"],
        ),
        (["forgot my password"], ["edition-1"]),
    ]
    assert encoder.encoded[3:] == ["invoice is missing"]
    assert editions.current.searched[2:] == ["invoice is missing"]

    # An edited knowledge base (a new index) is searched again.
    editions.edit()
    assert [articles for _, articles in shown(await inbox.groups(query))] == [
        ["edition-2"]
    ] * 2
    assert len(editions.current.searched) == 2

    # Another inbox of the same database (another request) reuses the vectors.
    other = Inbox(
        TrainingRepository(engine, KnowledgeRepository(engine)),
        cast(KnowledgeBase, editions),
        encoder=cast(Any, encoder),
    )
    assert len(await other.groups(query)) == 2
    assert len(encoder.encoded) == 4


def clustered(rng: np.random.Generator, rows: int) -> np.ndarray:
    centres = rng.normal(size=(max(1, rows // 12), 64))
    picked = centres[rng.integers(0, len(centres), rows)]
    vectors = picked + rng.normal(scale=0.6, size=picked.shape)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("seed", range(12))
def test_a_grouping_carried_over_to_a_changed_list_is_the_fresh_one(
    seed: int,
) -> None:
    """New rows on top, whole groups or single members gone, older rows below."""
    rng = np.random.default_rng(seed)
    pool = clustered(rng, 900)
    if seed % 2:
        # New rows about something else: they take none of the rows below.
        pool[60:100] = clustered(rng, 40)
    before = list(range(100, 700))
    grouping = Grouping(0.7)
    grouping.extend(pool[before])
    gone: set[int] = set()
    for members in grouping.groups:
        draw = rng.random()
        if draw < 0.1:
            gone.update(members)  # the whole group annotated
        elif draw < 0.3 and len(members) > 1:
            gone.add(members[-1])  # one member annotated
    kept = [p for p in range(len(before)) if p not in gone][: 520 - 2 * seed]
    top = list(range(100 - [0, 1, 3, 40][seed % 4], 100))
    after = list(range(700, 700 + (seed % 3) * 30))
    rows = top + [before[p] for p in kept] + after
    assert grouping.followed(pool[rows], len(top), kept).groups == group(
        pool[rows], 0.7
    )


@pytest.mark.parametrize("unlike", [True, False])
def test_a_grouping_is_carried_over_for_the_benchmark_scale(unlike: bool) -> None:
    """One new row (unlike the rest, or not), one group annotated."""
    rng = np.random.default_rng(5)
    pool = clustered(rng, 2100)
    if unlike:
        pool[0] = -pool[1]
    grouping = Grouping(0.7)
    grouping.extend(pool[1:2001])
    gone = set(grouping.groups[3])
    kept = [p for p in range(2000) if p not in gone][:1999]
    rows = [0] + [p + 1 for p in kept]
    rows += list(range(2001, 2001 + 2000 - len(rows)))
    assert grouping.followed(pool[rows], 1, kept).groups == group(pool[rows], 0.7)


@pytest.mark.parametrize("seed", range(16))
def test_a_grouping_carried_over_through_many_changes_stays_the_fresh_one(
    seed: int,
) -> None:
    """Chained changes: new rows like kept groups' first rows (which they
    take, members and all), first rows annotated alone (their members grouped
    again, some starting groups), members annotated, older rows below."""
    rng = np.random.default_rng(100 + seed)
    pool = clustered(rng, 3000)
    rows = list(range(1000, 1600))
    grouping = Grouping(0.7)
    grouping.extend(pool[rows])
    fresh_rows = 1000  # rows 0..999 come in at the top, newest last
    bottom = 1600
    for _ in range(8):
        gone: set[int] = set()
        for members in grouping.groups:
            draw = rng.random()
            if draw < 0.05:
                gone.update(members)
            elif draw < 0.12:
                gone.add(members[0])  # only the first row annotated
            elif draw < 0.2 and len(members) > 1:
                gone.add(members[int(rng.integers(1, len(members)))])
        count = int(rng.integers(0, 4))
        top: list[int] = []
        for _ in range(count):
            fresh_rows -= 1
            # Like a kept group's first row, or like one of its members.
            members = grouping.groups[int(rng.integers(0, len(grouping.groups)))]
            like = rows[members[0] if rng.random() < 0.6 else members[-1]]
            noisy = pool[like] + rng.normal(scale=0.02, size=pool.shape[1])
            pool[fresh_rows] = noisy / np.linalg.norm(noisy)
            top.insert(0, fresh_rows)
        kept = [p for p in range(len(rows)) if p not in gone]
        below = list(range(bottom, bottom + int(rng.integers(0, 20))))
        bottom += len(below)
        rows = top + [rows[p] for p in kept] + below
        grouping = grouping.followed(pool[rows], len(top), kept)
        assert grouping.groups == group(pool[rows], 0.7)
        fresh = Grouping(0.7)
        fresh.extend(pool[rows])
        np.testing.assert_allclose(grouping.limits, fresh.limits, atol=1e-5)


async def test_reads_after_changes_equal_a_fresh_process_s(
    engine: Any, chats: ConversationRepository
) -> None:
    """New flags and dismissals (whole groups, or a group's first message
    alone, its members grouped again; stored as a group annotation stores
    them, :func:`bench.training.inbox.dismiss`) in random order: each read
    equals a read with nothing kept (another encoder: a memo of its own)."""
    rng = np.random.default_rng(7)
    editions = Editions()
    repository = TrainingRepository(engine, KnowledgeRepository(engine))
    kept = WordEncoder()
    inbox = Inbox(repository, cast(KnowledgeBase, editions), encoder=cast(Any, kept))
    query = InboxFilter(
        since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1), limit=200
    )

    flagged = 0

    async def flag() -> None:
        nonlocal flagged
        flagged += 1
        words = [w for w in WORDS if rng.random() < 0.5] or [WORDS[0]]
        chat = await new_chat(chats)
        await relayed(chats, chat, " ".join(words), "nlu_fallback", 0.3)

    for _ in range(24):
        await flag()
    moved = 0
    for _ in range(20):
        groups = await inbox.groups(query)
        fresh = Inbox(
            repository, cast(KnowledgeBase, editions), encoder=cast(Any, WordEncoder())
        )
        assert groups == await fresh.groups(query)
        draw = rng.random()
        if not groups or draw < 0.4:
            await flag()
            continue
        ids = [
            int(i)
            for i in groups[int(rng.integers(0, len(groups)))]["group_id"].split(",")
        ]
        if draw < 0.8 and len(ids) > 1:
            await dismiss(engine, ids[:1])  # the first message alone
            moved += 1
        else:
            await dismiss(engine, ids)
    assert moved
    fresh = Inbox(
        repository, cast(KnowledgeBase, editions), encoder=cast(Any, WordEncoder())
    )
    assert await inbox.groups(query) == await fresh.groups(query)
    # The kept inbox embedded each flagged message once.
    assert len(kept.encoded) == flagged


class CountingEncoder:
    """The inbox's model's size; counts the texts it is asked to embed."""

    dimension = DIMENSION

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str], cache: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        return np.stack([unit(sum(map(ord, text))) for text in texts])


async def test_after_a_dismissal_messages_moving_in_are_grouped_from_stored_vectors(
    engine: Any, chats: ConversationRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay stored each flagged message's vector (the NLU's): a read,
    also one after a dismissal brings older messages into the newest
    :data:`~bot.training.repository.MAX_INBOX_MESSAGES`, embeds nothing."""
    monkeypatch.setattr(training_repository, "MAX_INBOX_MESSAGES", 4)
    topics = [unit(100 + topic) for topic in range(3)]
    chat = await new_chat(chats)
    ids, topic_of = [], {}
    for number in range(9):
        noise = unit(200 + number) * 0.05
        vector = topics[number % 3] + noise
        message_id = await vector_relayed(
            chats,
            chat,
            "nlu_fallback",
            0.3,
            vector_to_parse_data(vector / np.linalg.norm(vector)),
        )
        ids.append(message_id)
        topic_of[message_id] = number % 3
    encoder, editions = CountingEncoder(), Editions()
    repository = TrainingRepository(engine, KnowledgeRepository(engine))
    inbox = Inbox(repository, cast(KnowledgeBase, editions), encoder=cast(Any, encoder))
    query = InboxFilter(since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))

    def members(groups: list[dict[str, Any]]) -> list[list[int]]:
        return [[item["message_id"] for item in g["items"]] for g in groups]

    first = members(await inbox.groups(query))
    assert sorted(i for group in first for i in group) == sorted(ids[-4:])
    await dismiss(engine, first[0])
    second = members(await inbox.groups(query))
    shown = {i for group in second for i in group}
    assert shown - set(ids[-4:]), "no older message moved into the newest four"
    assert len(shown) == 4
    # Grouped by the stored vectors: one topic per group.
    assert all(len({topic_of[i] for i in group}) == 1 for group in second)
    assert encoder.encoded == []
    fresh = CountingEncoder()
    again = Inbox(repository, cast(KnowledgeBase, editions), encoder=cast(Any, fresh))
    assert members(await again.groups(query)) == second
    assert fresh.encoded == []

    # A flagged message without a stored vector (no embedder in the NLU
    # pipeline) is embedded by the read that shows it, once.
    await vector_relayed(chats, chat, "nlu_fallback", 0.3, None)
    await inbox.groups(query)
    await again.groups(query)
    assert len(encoder.encoded) == 1
    assert fresh.encoded == []

"""The trainer's inbox: customer messages the bot struggled with, grouped.

A message is in the inbox for one or more :class:`Reason`: the NLU fell back
or was unsure (what the Baton channel stored with the message,
``meta["_nlu"]``); it was the customer's last message before a handoff; it
was answered with an article the customer said did not help; or it states
the problem of a conversation rated 1 or 2. Messages a trainer annotated
(and did not undo) leave the inbox.

Similar messages are grouped so that one decision labels many: greedy
clustering of their sentence embeddings (the knowledge base's encoder), each
message joining the most similar group whose first message is at least
:data:`GROUP_SIMILARITY` close, else starting a group. Every text a trainer
sees is masked (:func:`~bot.training.masking.mask`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import functools
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncEngine
from threadpoolctl import ThreadpoolController

from bot.contract import HandoffState
from bot.conversations.inbox_flags import (
    BITS,
    EVENT_BITS,
    nlu_reason_of,
    reasons_of,
    stored_vector,
    vector_of,
)
from bot.conversations.repository import MessageRecord
from bot.db.models import utcnow
from bot.handoff.card import REASON_TEXT, problem_statement, understood
from bot.knowledge.embedding import SentenceEncoder, shared_encoder
from bot.knowledge.search import KnowledgeIndex, Query, SearchResult
from bot.knowledge.service import KnowledgeBase
from bot.training.masking import mask
from bot.training.repository import (
    Evidence,
    HandoffEvent,
    InboxReader,
    InboxRow,
    TrainingRepository,
)


class Reason(str, enum.Enum):
    """Why a message is in the inbox."""

    FALLBACK = "fallback"
    LOW_CONFIDENCE = "low_confidence"
    HANDOFF = "handoff"
    KB_REJECTED = "kb_rejected"
    LOW_RATING = "low_rating"
    AGENT_RESOLVED = "agent_resolved"


#: Cosine of sentence embeddings at or above which two messages share a
#: group. Measured on the shipped labelled questions (bot/knowledge/labelled.yml,
#: 2,282 customer phrasings, every pair) with the knowledge base's joined
#: English + multilingual vectors: of the pairs at or above 0.7, 95.1 % carry
#: the same label (2,504 pairs); at 0.72 96.2 % (2,091), at 0.75 97.7 %
#: (1,570), at 0.65 90.9 %. The multilingual model's cosines of paraphrases
#: are lower than MiniLM's alone (whose 0.75 meant 96.7 % of 2,205 pairs):
#: "my invoice shows the wrong amount, mail [email]" and "the invoice shows a
#: wrong amount" are 0.73 apart. A wrong merge costs a trainer one undo, a
#: missed one a second click: 0.7.
GROUP_SIMILARITY = 0.7
#: Turns shown before and after the message.
CONTEXT_TURNS = 2
#: Longest agent reply quoted in an item's outcome.
AGENT_REPLY_CHARS = 280
#: How far back the inbox looks by default.
DEFAULT_SINCE = dt.timedelta(days=30)
#: Most articles suggested per group.
TOP_ARTICLES = 3
#: Groups returned at most.
MAX_GROUPS = 200
SORTS = ("newest", "frequent")
#: Rows grouped per step of :func:`group`.
_BLOCK = 256
#: How far below its limit a row's cosine with a new group must stay for a
#: grouping to be carried over (:meth:`Grouping.followed`).
_MARGIN = 1e-4
#: Messages' vectors kept in the process (3.5 KB each: about 29 MB), most
#: recently read first: a few views' newest flagged messages.
VECTORS_KEPT = 8_192
#: Lists of messages whose groups are kept (a few views; each with its
#: seeds' vectors, up to 7 MB).
_GROUPINGS_KEPT = 4
#: The most recent groupings a new list is carried over from (each try
#: costs a few milliseconds).
_CARRIED_FROM = 2
#: Messages' search results kept per knowledge index.
_SEARCHES_KEPT = 4_096


@dataclass(frozen=True)
class InboxFilter:
    """What the trainer asks for.

    Attributes:
        reason: Only messages in the inbox for this reason.
        since: Only events at or after this time (30 days back by default).
        sort: ``newest`` (latest message first) or ``frequent`` (largest
            group first).
        limit: Most groups.
    """

    reason: Reason | None = None
    since: dt.datetime | None = None
    sort: str = "newest"
    limit: int = 50


@dataclass
class _Item:
    message: MessageRecord
    transcript: list[MessageRecord]
    reasons: set[Reason] = field(default_factory=set)
    outcomes: list[str] = field(default_factory=list)
    handoff_reason: str | None = None

    def public(self) -> dict[str, Any]:
        nlu = understood(self.message)
        position = next(
            i for i, m in enumerate(self.transcript) if m.id == self.message.id
        )
        low = max(0, position - CONTEXT_TURNS)
        context = self.transcript[low : position + CONTEXT_TURNS + 1]
        return {
            "message_id": self.message.id,
            "conversation_id": self.message.conversation_id,
            "seq": self.message.seq,
            "text": _masked(self.message.text),
            "at": self.message.created_at.isoformat(),
            "reasons": sorted(reason.value for reason in self.reasons),
            "handoff_reason": self.handoff_reason,
            "intents": _intents(nlu),
            "context": [
                {
                    "seq": turn.seq,
                    "role": turn.role,
                    "text": _masked(turn.text),
                    "at": turn.created_at.isoformat(),
                    "current": turn.id == self.message.id,
                }
                for turn in context
            ],
            "outcome": self.outcomes,
        }


@functools.lru_cache(maxsize=16_384)
def _masked(text: str) -> str:
    """:func:`~bot.training.masking.mask`, kept for texts read again.

    A shown message's context turns and the bot's usual replies come back
    on every read.
    """
    return mask(text)


@functools.lru_cache(maxsize=256)
def _reasons(flags: int) -> frozenset[Reason]:
    """The reasons a message's inbox flags give."""
    return frozenset(Reason(reason) for reason in reasons_of(flags))


def _intents(nlu: dict[str, Any]) -> list[dict[str, Any]]:
    """The model's top intents with confidences, as stored with the turn."""
    ranking = nlu.get("intent_ranking")
    if isinstance(ranking, list) and ranking:
        return [
            {"name": str(entry.get("name")), "confidence": entry.get("confidence")}
            for entry in ranking[:3]
            if isinstance(entry, dict)
        ]
    if nlu.get("intent"):
        return [{"name": nlu["intent"], "confidence": nlu.get("confidence")}]
    return []


def nlu_reason(message: MessageRecord) -> Reason | None:
    """Whether what the NLU understood of a customer message is trouble."""
    reason = nlu_reason_of(message.text, message.meta)
    return Reason(reason) if reason else None


def _last_customer_before(
    transcript: Sequence[MessageRecord], moment: dt.datetime
) -> MessageRecord | None:
    said = [
        m
        for m in transcript
        if m.role == "customer" and m.text.strip() and m.created_at <= moment
    ]
    return said[-1] if said else None


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= AGENT_REPLY_CHARS:
        return text
    return text[: AGENT_REPLY_CHARS - 1].rstrip() + "…"


def _resolved(transcript: Sequence[MessageRecord], handoff: HandoffEvent) -> str:
    """What an agent did with a handed-over chat: the outcome and first reply.

    The agent's reply is the strongest hint of what the bot should have said.
    """
    replies = [
        m
        for m in transcript
        if m.role == "agent" and m.text.strip() and m.created_at >= handoff.created_at
    ]
    said = (
        f"; the agent's first reply: “{_shortened(mask(replies[0].text))}”"
        if replies
        else ""
    )
    how = (handoff.outcome or "").replace("_", " ")
    return (
        f"an agent resolved it ({how}){said}" if how else f"an agent resolved it{said}"
    )


def collect(evidence: Evidence) -> list[_Item]:
    """Turn what the repository read into inbox items, one per message."""
    items: dict[int, _Item] = {}

    def item(message: MessageRecord) -> _Item:
        found = items.get(message.id)
        if found is None:
            found = items[message.id] = _Item(
                message, evidence.transcripts[message.conversation_id]
            )
        return found

    for transcript in evidence.transcripts.values():
        for message in transcript:
            if message.role == "customer":
                reason = nlu_reason(message)
                if reason is not None:
                    entry = item(message)
                    entry.reasons.add(reason)
    for handoff in evidence.handoffs:
        transcript = evidence.transcripts.get(handoff.conversation_id, [])
        last = _last_customer_before(transcript, handoff.created_at)
        if last is not None:
            entry = item(last)
            entry.reasons.add(Reason.HANDOFF)
            entry.handoff_reason = handoff.reason
            entry.outcomes.append(
                "handed to a person: " + REASON_TEXT.get(handoff.reason, handoff.reason)
            )
            if handoff.state == HandoffState.RESOLVED:
                entry.reasons.add(Reason.AGENT_RESOLVED)
                entry.outcomes.append(_resolved(transcript, handoff))
    for event in evidence.feedback:
        transcript = evidence.transcripts.get(event.conversation_id, [])
        if event.kind == "article":
            shown = [
                m
                for m in transcript
                if m.role == "bot"
                and m.meta.get("article") == event.article_slug
                and m.created_at <= event.created_at
            ]
            asked = (
                _last_customer_before(transcript, shown[-1].created_at)
                if shown
                else None
            )
            if asked is not None:
                entry = item(asked)
                entry.reasons.add(Reason.KB_REJECTED)
                entry.outcomes.append(
                    f"answered with '{event.article_slug}': the customer said "
                    "it did not help"
                )
        else:
            problem = problem_statement(transcript)
            if problem is not None:
                entry = item(problem)
                entry.reasons.add(Reason.LOW_RATING)
                entry.outcomes.append(f"the conversation was rated {event.score}/5")
    return [
        entry for entry in items.values() if entry.message.id not in evidence.annotated
    ]


def group(vectors: np.ndarray, threshold: float = GROUP_SIMILARITY) -> list[list[int]]:
    """Greedy clustering: each row joins the closest group's first row.

    Row by row, in order: a row joins the group whose first row is the most
    similar (the earliest group on a tie) if that cosine is at least
    ``threshold``, else starts a group (:class:`Grouping`).

    Args:
        vectors: Unit-length rows, in the order groups should be seeded.
        threshold: Least cosine with a group's first row to join it.

    Returns:
        The groups, as row positions, each in input order.
    """
    grouping = Grouping(threshold)
    grouping.extend(vectors)
    return grouping.groups


class Grouping:
    """The greedy groups of rows so far (:func:`group`), open to more rows.

    Rows are added a block at a time (their cosines with the seeds so far in
    one product, then with the seeds the block itself starts, each row's
    best kept up to date as a seed starts rather than searched for row by
    row), which gives the same groups as one row at a time, in a fraction
    of the time.

    Attributes:
        threshold: Least cosine with a group's first row to join it.
        groups: The groups, as row positions, each in input order.
        seeds: The groups' first rows' vectors, in group order.
        limits: Per row, the cosine a group seeded before it must exceed
            for the row to join that group instead: its own group's cosine,
            or ``threshold`` for a seed (what :meth:`followed` checks).
    """

    def __init__(self, threshold: float = GROUP_SIMILARITY) -> None:
        self.threshold = threshold
        self.groups: list[list[int]] = []
        self.seeds = np.empty((0, 0), np.float32)
        self.limits: list[float] = []

    def extend(self, vectors: np.ndarray) -> None:
        """Add rows after the ones so far."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(vectors):
            return
        if not len(self.seeds):
            self.seeds = np.empty((0, vectors.shape[1]), np.float32)
        groups, threshold = self.groups, self.threshold
        first = len(self.limits)
        for start in range(0, len(vectors), _BLOCK):
            block = vectors[start : start + _BLOCK]
            size = len(block)
            # Per row: the best earlier seed (the first on a tie) and its cosine.
            if len(self.seeds):
                earlier = block @ self.seeds.T
                best_earlier = np.argmax(earlier, axis=1)
                choices = best_earlier.tolist()
                cosines = earlier[np.arange(size), best_earlier].tolist()
            else:
                choices, cosines = [-1] * size, [-np.inf] * size
            within = block @ block.T
            # Per row: the best cosine with a seed the block started above it,
            # kept up to date as each starts one.
            best_new = np.full(size, -np.inf, np.float32)
            started: list[int] = []  # rows of the block that started a group
            for offset in range(size):
                choice, cosine = choices[offset], cosines[offset]
                if started and best_new[offset] > cosine:
                    row = within[offset, started]
                    best = int(np.argmax(row))  # the first on a tie
                    choice, cosine = len(groups) - len(started) + best, float(row[best])
                if cosine >= threshold:
                    groups[choice].append(first + start + offset)
                    self.limits.append(float(cosine))
                    continue
                groups.append([first + start + offset])
                self.limits.append(threshold)
                np.maximum(
                    best_new[offset + 1 :],
                    within[offset + 1 :, offset],
                    out=best_new[offset + 1 :],
                )
                started.append(offset)
            self.seeds = np.concatenate([self.seeds, block[started]])

    def followed(self, vectors: np.ndarray, new: int, kept: Sequence[int]) -> Grouping:
        """This grouping carried over to a new list of rows.

        The new list (``vectors``) is ``new`` rows not seen before, then
        rows of this grouping (``kept``: their positions here, in order),
        then rows not seen before: a read's flagged messages once new ones
        came in at the top, some were annotated or left, and older ones came
        in at the bottom. The result is what :func:`group` gives for
        ``vectors``, found by revisiting only the kept rows whose group may
        differ. A kept row's group is the one of the seeds before it (the
        groups' first rows) it is most similar to; the seeds before it
        differ from before by the seeds *added* (the new rows' groups', and
        kept rows that start a group now) and the ones *removed* (not kept,
        or taken by an added seed). So a kept row

        - whose group's first row is still a seed keeps its group unless an
          added seed is more similar to it than its limit (:attr:`limits`:
          its group's cosine, or ``threshold`` for a seed), its cosines with
          the added seeds being computed in one product per block;
        - whose group's first row is removed is grouped again against all
          the seeds before it (it may start a group: a seed added);
        - that moves to an added seed's group leaves no mark on the rows
          after it, unless it was a seed: then its members are grouped again.

        A cosine within :data:`_MARGIN` of the decision it is compared with
        (the limit, the threshold or the runner-up), which float rounding
        might decide either way, makes the rows from there on grouped afresh
        (:meth:`extend`), as are the rows at the bottom.
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        threshold = self.threshold
        result = Grouping(threshold)
        result.extend(vectors[:new])
        end = new + len(kept)
        # Per row decided: the position of its group's first row, its limit.
        seed_of = np.arange(len(vectors))
        limits = np.zeros(len(vectors))
        for members in result.groups:
            seed_of[members] = members[0]
        limits[:new] = result.limits
        position = {old: new + index for index, old in enumerate(kept)}
        owner: dict[int, int] = {}
        for members in self.groups:
            seed = position.get(members[0], -1)
            for p in members:
                owner[p] = seed
        # Per kept row: its group's first row before (-1: not kept), limit.
        old_seed = np.array([owner[p] for p in kept], dtype=np.int64)
        old_limit = np.array([self.limits[p] for p in kept])
        added = [members[0] for members in result.groups]
        removed = np.zeros(len(vectors), dtype=bool)
        row = new
        while row < end:
            stop = min(row + _BLOCK, end)
            size = stop - row
            mine = old_seed[row - new : stop - new]
            limit = old_limit[row - new : stop - new]
            orphan = (mine < 0) | removed[np.maximum(mine, 0)]
            if added:
                cosines = vectors[row:stop] @ vectors[added].T
                choices = np.argmax(cosines, axis=1)
                best = cosines[np.arange(size), choices]
                events = orphan | (best > limit - _MARGIN)
            else:
                events = orphan
            hits = np.flatnonzero(events)
            calm = int(hits[0]) if len(hits) else size
            seed_of[row : row + calm] = mine[:calm]
            limits[row : row + calm] = limit[:calm]
            row += calm
            if calm == size:
                continue
            if orphan[calm]:
                earlier = np.flatnonzero(seed_of[:row] == np.arange(row))
                pick, top = 0, -np.inf  # no seed before it: it starts a group
                if len(earlier):
                    scores = vectors[earlier] @ vectors[row]
                    pick = int(np.argmax(scores))
                    top = float(scores[pick])
                    if abs(top - threshold) <= _MARGIN or (
                        top >= threshold
                        and np.count_nonzero(scores >= top - _MARGIN) > 1
                    ):
                        break
                if top >= threshold:
                    seed_of[row], limits[row] = earlier[pick], top
                else:
                    seed_of[row], limits[row] = row, threshold
                    added.append(row)
            else:
                scores = cosines[calm]
                top = float(best[calm])
                if abs(top - limit[calm]) <= _MARGIN or (
                    np.count_nonzero(scores >= top - _MARGIN) > 1
                ):
                    break
                seed_of[row], limits[row] = added[int(choices[calm])], top
                if mine[calm] == row:
                    removed[row] = True  # a seed no more: its members regrouped
            row += 1
        seeds = [p for p in range(row) if seed_of[p] == p]
        number = {seed: index for index, seed in enumerate(seeds)}
        result.groups = [[] for _ in seeds]
        for p, seed in enumerate(seed_of[:row].tolist()):
            result.groups[number[seed]].append(p)
        result.limits = limits[:row].tolist()
        result.seeds = vectors[seeds].reshape(-1, vectors.shape[1])
        result.extend(vectors[row:])
        return result


def group_id(message_ids: Sequence[int]) -> str:
    """The id of a group: its messages' ids (what a group annotation labels)."""
    return ",".join(str(message_id) for message_id in message_ids)


class Inbox:
    """Builds the inbox from the database and the knowledge base.

    Args:
        repository: Where conversations and annotations are read.
        knowledge: The knowledge base, for each group's top articles.
        encoder: The sentence encoder for grouping; the process's shared one
            when omitted.
    """

    def __init__(
        self,
        repository: TrainingRepository,
        knowledge: KnowledgeBase,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        self.repository = repository
        self.knowledge = knowledge
        self._encoder = encoder

    async def groups(self, query: InboxFilter) -> list[dict[str, Any]]:
        """The inbox's groups for ``query``, in the order asked for.

        Reads the flagged messages (``messages.inbox_flags``) and their
        sentence vectors (kept in the process once read; a message without
        a stored one, flagged since the last read, is embedded once and its
        vector stored), all on one connection. Transcripts and events are
        read for the groups shown only.
        """
        since = query.since or utcnow() - DEFAULT_SINCE
        bits = BITS[query.reason.value] if query.reason is not None else None
        encoder = self._encoder or shared_encoder()
        memo = _memo(self.repository.engine, encoder)
        async with self.repository.reading() as reader:
            rows = await reader.rows(since, bits)
            if not rows:
                return []
            vectors = await self._vectors(reader, rows, encoder, memo)
            with _one_blas_thread():
                clusters = memo.grouped(rows, vectors)
            if query.sort == "frequent":
                # Stable: groups of one size stay newest first.
                clusters.sort(key=lambda positions: -len(positions))
            clusters = clusters[: query.limit]
            shown = [rows[p] for positions in clusters for p in positions]
            records = await reader.messages([row.id for row in shown])
            # A conversation deleted since the first read leaves its messages
            # out.
            clusters = [
                kept
                for positions in clusters
                for kept in [[p for p in positions if rows[p].id in records]]
                if kept
            ]
            shown = [row for row in shown if row.id in records]
            items = await self._items(reader, shown, records, since)
        found = await self._articles(
            memo,
            [(rows[positions[0]], vectors[positions[0]]) for positions in clusters],
            records,
        )
        groups: list[dict[str, Any]] = []
        for positions, result in zip(clusters, found, strict=True):
            members = [items[rows[p].id] for p in positions]
            seed = members[0]
            reasons: dict[str, int] = {}
            for member in members:
                for reason in member.reasons:
                    reasons[reason.value] = reasons.get(reason.value, 0) + 1
            groups.append(
                {
                    "group_id": group_id([m.message.id for m in members]),
                    "text": _masked(seed.message.text),
                    "count": len(members),
                    "latest_at": seed.message.created_at.isoformat(),
                    "reasons": dict(sorted(reasons.items())),
                    "articles": [
                        {"slug": hit.slug, "title": hit.title, "score": hit.score}
                        for hit in result.hits
                    ],
                    "items": [member.public() for member in members],
                }
            )
        return groups

    async def _articles(
        self,
        memo: _Memo,
        seeds: Sequence[tuple[InboxRow, np.ndarray]],
        records: dict[int, MessageRecord],
    ) -> list[SearchResult]:
        """Each group's top articles: its first message searched for.

        The knowledge base is searched in one index (its revision checked
        once), the groups' first messages not searched in it before all at
        once (one pass over the index's matrices); a message's result in an
        index is kept, as the index and the message do not change.
        """
        index = await self.knowledge.index()
        searched = memo.searches.setdefault(index, {})
        keys, queries = [], []
        for row, vector in seeds:
            message = records[row.id]
            nlu = understood(message)
            query = Query(
                message.text,
                intent=nlu.get("intent"),
                intent_confidence=float(nlu.get("confidence") or 0.0),
                vector=vector,
            )
            keys.append((row.key, query.text, query.intent, query.intent_confidence))
            queries.append(query)
        todo = [i for i, key in enumerate(keys) if key not in searched]
        if todo:
            found = await asyncio.to_thread(
                _on_one_blas_thread,
                index.search_many,
                [queries[i] for i in todo],
                limit=TOP_ARTICLES,
            )
            if len(searched) + len(todo) > _SEARCHES_KEPT:
                searched.clear()
            searched.update(
                (keys[i], result) for i, result in zip(todo, found, strict=True)
            )
        return [searched[key] for key in keys]

    async def _vectors(
        self,
        reader: InboxReader,
        rows: list[InboxRow],
        encoder: SentenceEncoder,
        memo: _Memo,
    ) -> np.ndarray:
        """The rows' sentence vectors: kept, stored, or computed now and stored."""
        kept = memo.vectors
        vectors = np.zeros((len(rows), encoder.dimension), dtype=np.float32)
        unknown = []
        for position, row in enumerate(rows):
            key = row.key
            vector = kept.get(key)
            if vector is None:
                unknown.append(position)
            else:
                kept.move_to_end(key)
                vectors[position] = vector
        if not unknown:
            return vectors
        # Stored vectors (of this encoder) by position, read in one go.
        found = await reader.vectors([rows[p].id for p in unknown])
        stored = {
            position: vector
            for position in unknown
            if (vector := vector_of(found.get(rows[position].id), encoder.dimension))
            is not None
        }
        if stored:
            vectors[list(stored)] = np.stack(list(stored.values()))
        missing = [position for position in unknown if position not in stored]
        if missing:
            records = await reader.messages([rows[p].id for p in missing])
            texts = [
                records[rows[p].id].text if rows[p].id in records else ""
                for p in missing
            ]
            computed = await asyncio.to_thread(encoder.encode, texts, cache=False)
            vectors[missing] = computed
            await reader.store_vectors(
                [
                    (rows[p].id, stored_vector(v))
                    for p, v in zip(missing, computed, strict=True)
                ]
            )
        for position in unknown:
            kept[rows[position].key] = vectors[position].copy()
        while len(kept) > VECTORS_KEPT:
            kept.popitem(last=False)
        return vectors

    async def _items(
        self,
        reader: InboxReader,
        rows: list[InboxRow],
        records: dict[int, MessageRecord],
        since: dt.datetime,
    ) -> dict[int, _Item]:
        """The shown messages as inbox items, by message id.

        A message flagged by an event gets its reasons and outcomes from its
        conversation's transcript and events (:func:`collect`, as they stand
        now); one the NLU alone flagged, from its flags and the turns around it.
        """
        eventful = sorted(
            {row.conversation_id for row in rows if row.flags & EVENT_BITS}
        )
        items: dict[int, _Item] = {}
        if eventful:
            evidence = await reader.evidence(eventful, since)
            wanted = {row.id for row in rows}
            items.update(
                (entry.message.id, entry)
                for entry in collect(evidence)
                if entry.message.id in wanted
            )
        rest = [row for row in rows if row.id not in items]
        context = await reader.context([row.id for row in rest], CONTEXT_TURNS)
        for row in rest:
            message = records[row.id]
            items[row.id] = _Item(
                message,
                context.get(row.conversation_id) or [message],
                set(_reasons(row.flags)),
                handoff_reason=row.handoff_reason,
            )
        return items


class _Memo:
    """What inbox reads of one database with one encoder keep.

    Only what cannot change: messages' vectors (a message's text is never
    rewritten), the groups of one list of messages, a message's articles in
    one knowledge index (a changed knowledge base is a new index).
    """

    def __init__(self) -> None:
        self.vectors: OrderedDict[tuple[int, str, int], np.ndarray] = OrderedDict()
        self.groups: OrderedDict[tuple[tuple[int, str, int], ...], Grouping]
        self.groups = OrderedDict()
        self.searches: weakref.WeakKeyDictionary[KnowledgeIndex, dict[Any, Any]]
        self.searches = weakref.WeakKeyDictionary()

    def grouped(self, rows: Sequence[InboxRow], vectors: np.ndarray) -> list[list[int]]:
        """:func:`group` of the rows' vectors.

        Kept per list of rows; a new list is grouped from a kept grouping
        of an earlier one where that holds (:meth:`Grouping.followed`: new
        messages flagged, some annotated), else afresh.
        """
        keys = tuple(row.key for row in rows)
        grouping = self.groups.get(keys)
        if grouping is not None:
            self.groups.move_to_end(keys)
        else:
            for earlier, kept in list(reversed(self.groups.items()))[:_CARRIED_FROM]:
                grouping = _followed(earlier, kept, keys, vectors)
                if grouping is not None:
                    break
            else:
                grouping = Grouping()
                grouping.extend(vectors)
            self.groups[keys] = grouping
            while len(self.groups) > _GROUPINGS_KEPT:
                self.groups.popitem(last=False)
        return [list(positions) for positions in grouping.groups]


def _followed(
    earlier: tuple[tuple[int, str, int], ...],
    grouping: Grouping,
    keys: tuple[tuple[int, str, int], ...],
    vectors: np.ndarray,
) -> Grouping | None:
    """``grouping`` (of the rows ``earlier``) carried over to the rows ``keys``.

    When ``keys`` are new rows, then rows of ``earlier`` in their order, then
    new rows (:meth:`Grouping.followed`); else ``None``.
    """
    where = {key: position for position, key in enumerate(earlier)}
    new = 0
    while new < len(keys) and keys[new] not in where:
        new += 1
    kept: list[int] = []
    for key in keys[new:]:
        position = where.get(key)
        if position is None:
            break
        if kept and position <= kept[-1]:
            return None
        kept.append(position)
    if not kept or any(key in where for key in keys[new + len(kept) :]):
        return None
    return grouping.followed(vectors, new, kept)


@functools.lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread for a read's grouping and its groups' search.

    Their products are small (a block of 256 rows with the seeds, a few
    messages with the knowledge index): a second OpenBLAS thread saves
    little and, once woken, spins after them. On two shared cores a read
    right after a new flag took 0.23 s CPU (p50) with two BLAS threads,
    0.13 s with one (SQLite, 100,000 turns). The limit is the process's
    while it holds: another thread's product meanwhile runs on one thread
    too (the same result).
    """
    with _blas().limit(limits=1, user_api="blas"):
        yield


def _on_one_blas_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` with BLAS on one thread (in a worker)."""
    with _one_blas_thread():
        return function(*args, **kwargs)


_MEMOS: weakref.WeakKeyDictionary[
    Any, weakref.WeakKeyDictionary[SentenceEncoder, _Memo]
] = weakref.WeakKeyDictionary()


def _memo(engine: AsyncEngine, encoder: SentenceEncoder) -> _Memo:
    """The memo of reads of ``engine``'s database with ``encoder``."""
    per_encoder = _MEMOS.setdefault(engine.sync_engine, weakref.WeakKeyDictionary())
    found = per_encoder.get(encoder)
    if found is None:
        found = per_encoder[encoder] = _Memo()
    return found

"""Intents and their training examples: the committed baseline plus trainers' changes.

``data/nlu`` (read by :mod:`bot.training.nlu_data`) is the baseline; what
trainers change lives in SQL (``nlu_intents``, ``nlu_examples``) so that every
hub sees it, and :class:`NluRepository` is its one writer. An intent's
examples are the baseline's, less those removed, plus those added. Changes
are checked against the whole data set: an example may belong to one intent
only (Rasa's validation refuses the same text under two intents), a new
intent needs :data:`MIN_EXAMPLES` examples, and an intent that a rule, a
story or a slot uses cannot be deleted or renamed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db.models import NluExample, NluIntent, aware, utcnow
from bot.exceptions import BadRequest, Conflict, NotFound
from bot.training.nlu_data import NLU_DIR, NluFiles, intent_usage, read_nlu
from bot.training.validation import IntentChange

intent_rows = NluIntent.__table__
example_rows = NluExample.__table__

#: Fewest examples a new intent may start with: fewer teach the classifier
#: nothing it can tell apart from its neighbours.
MIN_EXAMPLES = 5
#: Key of the PostgreSQL advisory lock that serialises changes to the data.
_LOCK_KEY = 0x6E6C7564


class IntentNotFound(NotFound):
    """No intent has this name."""

    code = "intent_not_found"


class ExampleNotFound(NotFound):
    """The intent has no such example."""

    code = "example_not_found"


class IntentInUse(Conflict):
    """A rule, a story or a slot uses the intent."""

    code = "intent_in_use"


@dataclass(frozen=True)
class Example:
    """One example of an intent and where it comes from."""

    text: str
    #: ``baseline`` (``data/nlu``) or ``trainer`` (added in SQL).
    source: str
    annotation_id: int | None = None
    created_by: str | None = None
    created_at: dt.datetime | None = None

    def public(self) -> dict[str, Any]:
        """The JSON shape of the example in API answers."""
        return {
            "text": self.text,
            "source": self.source,
            "annotation_id": self.annotation_id,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


@dataclass
class TrainingData:
    """The intents as Rasa will learn them: baseline plus trainers' changes.

    Attributes:
        baseline: The committed files' intents.
        examples: Each intent's examples (baseline order, then added ones).
        created: Intents trainers created (not in the baseline).
        deleted: Baseline intents trainers deleted → the new name of a
            renamed one (``None``: deleted).
        removed: Baseline examples trainers removed, per intent.
    """

    baseline: NluFiles
    examples: dict[str, list[Example]] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    deleted: dict[str, str | None] = field(default_factory=dict)
    removed: dict[str, set[str]] = field(default_factory=dict)

    def intent_of(self, text: str) -> str | None:
        """The intent that has ``text`` as an example, if any."""
        for name, examples in self.examples.items():
            if any(example.text == text for example in examples):
                return name
        return None

    def texts(self, name: str) -> list[str]:
        """The example texts of an intent."""
        return [example.text for example in self.examples[name]]

    def changed(self, name: str) -> bool:
        """Whether trainers changed this intent (or created it)."""
        return (
            name in self.created
            or bool(self.removed.get(name))
            or any(example.source == "trainer" for example in self.examples[name])
        )


class NluRepository:
    """The one writer of ``nlu_intents`` and ``nlu_examples``."""

    def __init__(self, engine: AsyncEngine, project_dir: Path) -> None:
        self.engine = engine
        self.project_dir = project_dir

    def baseline(self) -> NluFiles:
        """The committed NLU files' intents."""
        return read_nlu(self.project_dir / NLU_DIR)

    async def lock(self, connection: AsyncConnection) -> None:
        """Serialise changes to the training data across hubs (PostgreSQL)."""
        if connection.dialect.name == "postgresql":
            await connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
            )

    async def data(self, connection: AsyncConnection | None = None) -> TrainingData:
        """The training data: the baseline with trainers' changes applied."""
        if connection is None:
            async with self.engine.connect() as fresh:
                return await self.data(fresh)
        baseline = self.baseline()
        intents = (await connection.execute(sa.select(intent_rows))).all()
        changes = (
            await connection.execute(
                sa.select(example_rows).order_by(example_rows.c.id)
            )
        ).all()
        data = TrainingData(baseline=baseline)
        data.created = {row.name for row in intents if row.state == "created"}
        data.deleted = {
            row.name: row.renamed_to for row in intents if row.state == "deleted"
        }
        for row in changes:
            if row.change == "removed":
                data.removed.setdefault(row.intent, set()).add(row.text)
        for name, texts in baseline.examples.items():
            if name in data.deleted:
                continue
            gone = data.removed.get(name, set())
            data.examples[name] = [
                Example(text, "baseline") for text in texts if text not in gone
            ]
        for name in sorted(data.created):
            data.examples.setdefault(name, [])
        for row in changes:
            if row.change == "added" and row.intent in data.examples:
                data.examples[row.intent].append(
                    Example(
                        row.text,
                        "trainer",
                        annotation_id=row.annotation_id,
                        created_by=row.created_by,
                        created_at=aware(row.created_at),
                    )
                )
        return data

    async def add(
        self,
        connection: AsyncConnection,
        name: str,
        texts: Iterable[str],
        *,
        author: str,
        annotation_id: int | None = None,
    ) -> None:
        """Add examples to an intent (a removed baseline example comes back)."""
        now = utcnow()
        for text in texts:
            restored = await connection.execute(
                example_rows.delete().where(
                    example_rows.c.intent == name,
                    example_rows.c.text == text,
                    example_rows.c.change == "removed",
                )
            )
            if restored.rowcount:
                continue  # a removed baseline example is back
            await connection.execute(
                example_rows.insert().values(
                    intent=name,
                    text=text,
                    change="added",
                    annotation_id=annotation_id,
                    created_by=author,
                    created_at=now,
                )
            )

    async def remove(
        self,
        connection: AsyncConnection,
        name: str,
        texts: Iterable[str],
        *,
        author: str,
    ) -> None:
        """Remove examples: an added one goes, a baseline one is marked removed."""
        baseline = set(self.baseline().examples.get(name, []))
        now = utcnow()
        for text in texts:
            await connection.execute(
                example_rows.delete().where(
                    example_rows.c.intent == name,
                    example_rows.c.text == text,
                    example_rows.c.change == "added",
                )
            )
            if text in baseline:
                await connection.execute(
                    example_rows.insert().values(
                        intent=name,
                        text=text,
                        change="removed",
                        created_by=author,
                        created_at=now,
                    )
                )

    async def remove_annotated(
        self, connection: AsyncConnection, annotation_ids: Sequence[int]
    ) -> None:
        """Remove the examples that these annotations added."""
        await connection.execute(
            example_rows.delete().where(
                example_rows.c.annotation_id.in_(annotation_ids)
            )
        )

    async def mark_intent(
        self,
        connection: AsyncConnection,
        name: str,
        state: str | None,
        *,
        author: str,
        renamed_to: str | None = None,
    ) -> None:
        """Record an intent as ``created`` or ``deleted``, or forget it (``None``)."""
        await connection.execute(intent_rows.delete().where(intent_rows.c.name == name))
        if state is not None:
            await connection.execute(
                intent_rows.insert().values(
                    name=name,
                    state=state,
                    renamed_to=renamed_to,
                    changed_by=author,
                    changed_at=utcnow(),
                )
            )

    async def drop_examples(self, connection: AsyncConnection, name: str) -> None:
        """Forget every change to an intent's examples."""
        await connection.execute(
            example_rows.delete().where(example_rows.c.intent == name)
        )

    async def clear(self, connection: AsyncConnection) -> None:
        """Forget every trainer's change (before an import replaces them)."""
        await connection.execute(example_rows.delete())
        await connection.execute(intent_rows.delete())


class Intents:
    """Browse and change intents (checked against the whole data set)."""

    def __init__(self, repository: NluRepository) -> None:
        self.repository = repository

    async def data(self) -> TrainingData:
        """The training data as Rasa will learn it."""
        return await self.repository.data()

    def _usage(self) -> dict[str, list[str]]:
        return intent_usage(self.repository.project_dir)

    async def summaries(self) -> list[dict[str, Any]]:
        """Every intent with its number of examples and where it is used."""
        data = await self.repository.data()
        usage = self._usage()
        return [
            {
                "name": name,
                "examples": len(examples),
                "source": "trainer" if name in data.created else "baseline",
                "changed": data.changed(name),
                "used_by": usage.get(name, []),
            }
            for name, examples in sorted(data.examples.items())
        ]

    async def detail(self, name: str) -> dict[str, Any]:
        """One intent with its examples.

        Raises:
            IntentNotFound: No intent has this name.
        """
        data = await self.repository.data()
        return self._detail(data, name)

    def _detail(self, data: TrainingData, name: str) -> dict[str, Any]:
        if name not in data.examples:
            renamed = data.deleted.get(name)
            hint = f" (renamed to {renamed!r})" if renamed else ""
            raise IntentNotFound(f"no intent {name!r}{hint}")
        return {
            "name": name,
            "source": "trainer" if name in data.created else "baseline",
            "changed": data.changed(name),
            "used_by": self._usage().get(name, []),
            "examples": [example.public() for example in data.examples[name]],
            "removed": sorted(data.removed.get(name, set())),
        }

    @staticmethod
    def _check_free(data: TrainingData, name: str, texts: Iterable[str]) -> None:
        for text in texts:
            owner = data.intent_of(text)
            if owner is not None and owner != name:
                raise Conflict(
                    f"{text!r} is an example of {owner!r} already: an example "
                    "belongs to one intent",
                    code="example_in_other_intent",
                )

    async def create(
        self, name: str, texts: list[str], *, author: str
    ) -> dict[str, Any]:
        """Create an intent with its first examples.

        Raises:
            BadRequest: ``too_few_examples`` (below :data:`MIN_EXAMPLES`).
            Conflict: ``intent_exists``, ``example_in_other_intent``.
        """
        if len(texts) < MIN_EXAMPLES:
            raise BadRequest(
                f"a new intent needs at least {MIN_EXAMPLES} examples "
                f"({len(texts)} given): the model cannot learn it from fewer",
                code="too_few_examples",
            )
        async with self.repository.engine.begin() as connection:
            await self.repository.lock(connection)
            data = await self.repository.data(connection)
            if name in data.examples:
                raise Conflict(f"intent {name!r} exists already", code="intent_exists")
            self._check_free(data, name, texts)
            if name in data.baseline.examples:
                # A deleted baseline intent comes back with these examples.
                await self.repository.mark_intent(connection, name, None, author=author)
                await self.repository.drop_examples(connection, name)
                baseline = data.baseline.examples[name]
                await self.repository.remove(
                    connection,
                    name,
                    [t for t in baseline if t not in texts],
                    author=author,
                )
                await self.repository.add(
                    connection,
                    name,
                    [t for t in texts if t not in baseline],
                    author=author,
                )
            else:
                await self.repository.mark_intent(
                    connection, name, "created", author=author
                )
                await self.repository.add(connection, name, texts, author=author)
            return self._detail(await self.repository.data(connection), name)

    async def change(
        self, name: str, change: IntentChange, *, author: str
    ) -> dict[str, Any]:
        """Change an intent's examples and/or rename it, all or nothing.

        Raises:
            IntentNotFound, ExampleNotFound, IntentInUse, Conflict
            (``duplicate_example``, ``example_in_other_intent``,
            ``intent_exists``), BadRequest (``too_few_examples``).
        """
        async with self.repository.engine.begin() as connection:
            await self.repository.lock(connection)
            data = await self.repository.data(connection)
            self._detail(data, name)  # IntentNotFound
            current = data.texts(name)
            if change.examples is not None:
                wanted = list(change.examples)
            else:
                missing = [text for text in change.remove if text not in current]
                if missing:
                    raise ExampleNotFound(
                        f"{missing[0]!r} is not an example of {name!r}"
                    )
                present = [text for text in change.add if text in current]
                if present:
                    raise Conflict(
                        f"{present[0]!r} is an example of {name!r} already",
                        code="duplicate_example",
                    )
                wanted = [t for t in current if t not in change.remove] + change.add
            self._check_free(data, name, wanted)
            if len(wanted) < MIN_EXAMPLES:
                raise BadRequest(
                    f"an intent keeps at least {MIN_EXAMPLES} examples "
                    f"({len(wanted)} would be left); delete the intent instead",
                    code="too_few_examples",
                )
            await self.repository.remove(
                connection, name, [t for t in current if t not in wanted], author=author
            )
            await self.repository.add(
                connection, name, [t for t in wanted if t not in current], author=author
            )
            target = name
            if change.rename_to is not None and change.rename_to != name:
                target = await self._rename(
                    connection, data, name, change.rename_to, author
                )
            return self._detail(await self.repository.data(connection), target)

    async def _rename(
        self,
        connection: AsyncConnection,
        data: TrainingData,
        name: str,
        new_name: str,
        author: str,
    ) -> str:
        self._refuse_if_used(name, "renamed")
        if new_name in data.examples:
            raise Conflict(f"intent {new_name!r} exists already", code="intent_exists")
        texts = (await self.repository.data(connection)).texts(name)
        await self._delete(connection, data, name, author, renamed_to=new_name)
        await self.repository.mark_intent(
            connection, new_name, "created", author=author
        )
        await self.repository.drop_examples(connection, new_name)
        await self.repository.add(connection, new_name, texts, author=author)
        return new_name

    def _refuse_if_used(self, name: str, verb: str) -> None:
        places = self._usage().get(name)
        if places:
            raise IntentInUse(
                f"intent {name!r} cannot be {verb}: it is used by " + "; ".join(places)
            )

    async def _delete(
        self,
        connection: AsyncConnection,
        data: TrainingData,
        name: str,
        author: str,
        renamed_to: str | None = None,
    ) -> None:
        await self.repository.drop_examples(connection, name)
        if name in data.baseline.examples:
            await self.repository.mark_intent(
                connection, name, "deleted", author=author, renamed_to=renamed_to
            )
        else:
            await self.repository.mark_intent(connection, name, None, author=author)

    async def delete(self, name: str, *, author: str) -> None:
        """Delete an intent and its examples.

        Raises:
            IntentNotFound: No intent has this name.
            IntentInUse: A rule, story or slot uses it (the places are named).
        """
        async with self.repository.engine.begin() as connection:
            await self.repository.lock(connection)
            data = await self.repository.data(connection)
            self._detail(data, name)
            self._refuse_if_used(name, "deleted")
            await self._delete(connection, data, name, author)


__all__ = [
    "MIN_EXAMPLES",
    "Example",
    "ExampleNotFound",
    "IntentInUse",
    "IntentNotFound",
    "Intents",
    "NluRepository",
    "TrainingData",
]

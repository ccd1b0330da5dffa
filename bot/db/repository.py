"""What every repository shares: its engine, and running one statement.

A repository reads with :meth:`Repository.first`, :meth:`Repository.rows` or
:meth:`Repository.scalar` (each on its own connection) and writes with
:meth:`Repository.write`, whose transaction turns a broken unique constraint
into the caller's :class:`~bot.exceptions.Conflict`. Work that needs several
statements in one transaction still opens ``self.engine.begin()`` itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from bot.exceptions import Conflict

__all__ = ["Repository"]


class Repository:
    """A repository of some tables: the one writer of each of them."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Keep the engine every query runs on."""
        self.engine = engine

    async def first(self, query: Executable) -> Row | None:
        """The first row ``query`` returns, or ``None``."""
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).first()

    async def rows(self, query: Executable) -> list[Row]:
        """Every row ``query`` returns."""
        async with self.engine.connect() as connection:
            return list((await connection.execute(query)).all())

    async def scalar(self, query: Executable) -> Any:
        """The one value ``query`` returns (it must return exactly one)."""
        async with self.engine.connect() as connection:
            return (await connection.execute(query)).scalar_one()

    async def write(
        self, statement: Executable, *, taken: Conflict | None = None
    ) -> CursorResult:
        """Run ``statement`` in its own transaction.

        Args:
            statement: An ``INSERT``, ``UPDATE`` or ``DELETE``.
            taken: Raised (from the database's error) when the database
                refuses the statement for a constraint (a unique key already
                taken); without it that error propagates.
        """
        try:
            async with self.engine.begin() as connection:
                return await connection.execute(statement)
        except IntegrityError as error:
            if taken is None:
                raise
            raise taken from error

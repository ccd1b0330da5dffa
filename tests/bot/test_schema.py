"""The models and the migrations describe one schema.

Alembic's comparison of ``Base.metadata`` with a database migrated to the
newest revision finds nothing to add, drop or change: every table a module
queries is declared in :mod:`bot.db.models`, as its migration made it.
"""

from __future__ import annotations

import warnings
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db.models import Base

#: Tables in the database that are not the hub's: Rasa's SQL tracker store
#: keeps its ``events`` in the same database in production (the test run's
#: PostgreSQL database, too, once a production stack has run).
NOT_OURS = frozenset({"events"})


def ours(name: Any, type_: str, parent_names: Any) -> bool:
    """Compare the hub's own tables (and what belongs to them) only."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return table not in NOT_OURS


async def test_the_models_are_the_migrated_schema(engine: Any) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": ours}
        )
        with warnings.catch_warnings():
            # SQLite cannot reflect the expression index on user e-mails.
            warnings.simplefilter("ignore")
            return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        found = await connection.run_sync(differences)
    assert found == []

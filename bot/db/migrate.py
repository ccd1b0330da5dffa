"""Apply Alembic migrations, automatically at start and from the command line."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Key of the PostgreSQL advisory lock that serialises migrations of several
#: hub instances starting at once.
_MIGRATION_LOCK_KEY = 0x6261746F6E


def alembic_config() -> Config:
    """Return the Alembic configuration for Baton's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision``.

    Args:
        engine: The hub's engine.
        revision: Target revision; the newest by default.
    """
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": _MIGRATION_LOCK_KEY},
            )
        await connection.run_sync(_upgrade, revision)


def _upgrade(connection: sa.engine.Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)

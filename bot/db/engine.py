"""Async SQLAlchemy engines for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.exceptions import ConfigurationError


def async_url(url: str) -> str:
    """Map a plain database URL to the async driver Baton uses for it.

    Args:
        url: ``sqlite:///path`` or ``postgresql://...`` (any driver suffix).

    Returns:
        The same URL with the ``aiosqlite`` or ``asyncpg`` driver.
    """
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return str(parsed.set(drivername="sqlite+aiosqlite"))
    if backend == "postgresql":
        return str(parsed.set(drivername="postgresql+asyncpg"))
    raise ConfigurationError(f"unsupported database {backend!r}")


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one writer commits; foreign keys are off
    # by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def private_sqlite_file(path: Path) -> None:
    """Create a SQLite file readable by its owner only (0600), in a 0700 folder.

    The files hold password hashes and transcripts. SQLite creates its
    ``-wal`` and ``-shm`` files with the database file's permissions.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for existing in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        # Another process may remove its -wal/-shm between a check and chmod.
        with contextlib.suppress(FileNotFoundError):
            existing.chmod(0o600)


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine for ``url``, preparing SQLite files as needed.

    Args:
        url: The configured (sync-form) database URL.

    Returns:
        An :class:`AsyncEngine`; the caller disposes of it.
    """
    driver_url = async_url(url)
    parsed = make_url(driver_url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_sqlite_file(Path(parsed.database))
        engine = create_async_engine(
            driver_url, connect_args={"timeout": 30}, future=True
        )
        sa.event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_async_engine(
        driver_url, pool_size=10, max_overflow=20, pool_pre_ping=True, future=True
    )

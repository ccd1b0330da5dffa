"""Which database errors are a restart (retry: 503) and which are bugs (500)."""

from __future__ import annotations

import asyncpg.exceptions
import pytest
import sqlalchemy.exc

from bot.web.errors import database_unavailable


def wrapped(error: BaseException) -> sqlalchemy.exc.DBAPIError:
    """As SQLAlchemy's asyncpg dialect hands it to the hub."""
    try:
        raise error
    except BaseException as cause:
        wrapper = sqlalchemy.exc.DBAPIError("SELECT 1", {}, cause)
        wrapper.__cause__ = cause
        return wrapper


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        ConnectionResetError("reset by peer"),
    ],
    ids=["admin-shutdown", "starting-up", "connection-gone", "reset"],
)
def test_a_server_going_away_is_retryable(error: BaseException) -> None:
    assert database_unavailable(wrapped(error)) is not None


def test_a_broken_query_is_not_called_unavailable() -> None:
    error = asyncpg.exceptions.UniqueViolationError("duplicate key value")
    assert database_unavailable(wrapped(error)) is None
    assert database_unavailable(ValueError("bug")) is None

"""Turning exceptions into JSON error answers, in exactly one place."""

from __future__ import annotations

import logging
import re
from typing import Any

import sqlalchemy.exc
from sanic import Sanic
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.exceptions import BatonError, DependencyUnavailable, RateLimited

logger = logging.getLogger(__name__)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def error_body(code: str, message: str) -> dict[str, Any]:
    """The public JSON shape of an error."""
    return {"error": {"code": code, "message": message}}


def error_frame(error: BatonError, **extra: Any) -> dict[str, Any]:
    """The WebSocket frame for an error."""
    frame: dict[str, Any] = {"type": "error", "code": error.code}
    frame["message"] = error.message
    if isinstance(error, RateLimited):
        frame["retry_after_s"] = round(error.retry_after_s, 1)
    frame.update({k: v for k, v in extra.items() if v is not None})
    return frame


def database_unavailable(exception: BaseException) -> DependencyUnavailable | None:
    """A lost or refused database connection, as the retryable error it is.

    While PostgreSQL restarts, the requests it cuts off (and those that find
    it not yet back) fail; the client may safely retry them (sends carry
    idempotency keys), so they are told so with a 503, not a 500. The error
    and its causes are looked at: SQLAlchemy wraps asyncpg's "terminating
    connection due to administrator command" or "the database system is
    starting up" in a plain ``DBAPIError`` it does not mark as a lost
    connection.
    """
    import asyncpg.exceptions

    going_away = (
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.TimeoutError,
        ConnectionError,
        # A pooled connection cut in the middle of an operation fails
        # its pre-ping with asyncpg's own error, not SQLAlchemy's.
        asyncpg.exceptions.InternalClientError,
        asyncpg.exceptions.InterfaceError,
        asyncpg.exceptions.OperatorInterventionError,
        asyncpg.exceptions.PostgresConnectionError,
    )
    seen: set[int] = set()
    current: BaseException | None = exception
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, going_away) or (
            isinstance(current, sqlalchemy.exc.DBAPIError)
            and current.connection_invalidated
        ):
            return DependencyUnavailable(
                "the database is unavailable; please try again"
            )
        orig = getattr(current, "orig", None)
        current = (
            orig
            if isinstance(orig, BaseException)
            else current.__cause__ or current.__context__
        )
    return None


def handle_exception(request: Request, exception: Exception) -> HTTPResponse:
    """Answer any exception with ``{"error": {"code", "message"}}``."""
    unavailable = database_unavailable(exception)
    if unavailable is not None:
        logger.warning("database unavailable on %s: %s", request.path, exception)
        exception = unavailable
    if isinstance(exception, BatonError):
        headers = {}
        if isinstance(exception, RateLimited):
            headers["Retry-After"] = str(max(1, round(exception.retry_after_s)))
        return json(exception.to_dict(), status=exception.status, headers=headers)
    if isinstance(exception, SanicException):
        status = getattr(exception, "status_code", 500) or 500
        code = _snake(type(exception).__name__).removesuffix("_error")
        if status >= 500:
            logger.error("server error on %s", request.path, exc_info=exception)
        # Sanic's own headers, e.g. the ``Allow`` of a 405.
        headers = dict(getattr(exception, "headers", None) or {})
        return json(
            error_body(code, str(exception) or code), status=status, headers=headers
        )
    logger.error("unhandled error on %s", request.path, exc_info=exception)
    return json(
        error_body("internal_error", "something went wrong on our side"), status=500
    )


class PathOnlyErrorHandler(ErrorHandler):
    """Sanic's error handler, logging the path of a failed request, not its URL.

    Sanic logs the whole URL of a request whose handler raised (a WebSocket
    handler's exceptions never reach :func:`handle_exception`), and query
    strings carry conversation tokens.
    """

    @staticmethod
    def log(request: Request, exception: BaseException) -> None:
        """Log an exception a handler raised, naming only the request's path."""
        if getattr(exception, "quiet", False) and not getattr(
            request.app.config, "NOISY_EXCEPTIONS", False
        ):
            return
        logger.error("unhandled error on %s", request.path, exc_info=exception)


def install(app: Sanic) -> None:
    """Register the error handler on ``app``."""
    app.error_handler = PathOnlyErrorHandler()
    app.error_handler.add(Exception, handle_exception)

"""The exception hierarchy of the hub.

Every error a client can cause is a :class:`BatonError` subclass that carries its
HTTP status and a stable machine-readable ``code``; ``bot.web.errors`` turns
them into ``{"error": {"code", "message"}}`` answers in exactly one place.
"""

from __future__ import annotations


class BatonError(Exception):
    """Root of all errors raised by Baton."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, dict[str, str]]:
        """Return the public JSON shape of this error."""
        return {"error": {"code": self.code, "message": self.message}}


class BadRequest(BatonError):
    """The request is malformed or fails validation."""

    status = 400
    code = "bad_request"


class Unauthorized(BatonError):
    """Credentials are missing or wrong."""

    status = 401
    code = "unauthorized"


class Forbidden(BatonError):
    """The caller is known but may not do this."""

    status = 403
    code = "forbidden"


class NotFound(BatonError):
    """The addressed resource does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class Conflict(BatonError):
    """The request conflicts with the current state of the resource."""

    status = 409
    code = "conflict"


class PayloadTooLarge(BatonError):
    """A message or frame is over its size limit."""

    status = 413
    code = "too_large"


class RateLimited(BatonError):
    """The caller went over a rate limit."""

    status = 429
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after_s: float, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class DependencyUnavailable(BatonError):
    """A backing service (Rasa, the action server, the database) failed."""

    status = 503
    code = "unavailable"


class ConfigurationError(BatonError):
    """The configuration is invalid; raised at start-up, never to a client."""

    code = "configuration_error"

"""Password hashing with argon2id, and the rules new passwords must meet.

Hashing and verifying are deliberately slow (tens of milliseconds of CPU);
callers on the event loop run them in a worker thread.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.exceptions import BadRequest

MIN_PASSWORD_LENGTH = 10
#: Longer inputs are refused before hashing: argon2 would accept them, but
#: hashing megabytes on request is a cheap way to burn the server's CPU.
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of checking a password.

    Attributes:
        ok: Whether the password matches.
        new_hash: A fresh hash to store when the stored one uses outdated
            parameters; ``None`` when the stored hash is fine (or no match).
    """

    ok: bool
    new_hash: str | None = None


def validate_new_password(password: str) -> None:
    """Refuse a password that is too short or too long to be set.

    Raises:
        BadRequest: With code ``weak_password`` or ``bad_password``.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(
            f"a password may have at most {MAX_PASSWORD_LENGTH} characters",
            code="bad_password",
        )


class Passwords:
    """Hashes and verifies passwords (argon2id, argon2-cffi's defaults)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()

    def hash(self, password: str) -> str:
        """Return the argon2id hash of ``password`` to store."""
        return self.hasher.hash(password)

    @functools.cached_property
    def _dummy_hash(self) -> str:
        # Verified against when the account does not exist, so that an
        # unknown email takes as long to refuse as a wrong password.
        return self.hasher.hash("no account has this password")

    def verify(self, stored_hash: str | None, password: str) -> PasswordCheck:
        """Check ``password`` against ``stored_hash`` in constant-ish time.

        Args:
            stored_hash: The account's hash; ``None`` when there is no such
                account (a dummy hash is verified instead, and the check fails).
            password: The password as typed.

        Returns:
            Whether it matches, and a rehash when the parameters are outdated.
        """
        candidate = password[:MAX_PASSWORD_LENGTH]
        target = stored_hash if stored_hash is not None else self._dummy_hash
        try:
            self.hasher.verify(target, candidate)
        except (VerificationError, InvalidHashError):
            return PasswordCheck(ok=False)
        if stored_hash is None or len(password) > MAX_PASSWORD_LENGTH:
            return PasswordCheck(ok=False)
        if self.hasher.check_needs_rehash(stored_hash):
            return PasswordCheck(ok=True, new_hash=self.hasher.hash(password))
        return PasswordCheck(ok=True)

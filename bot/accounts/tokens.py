"""One-time codes, reset tokens and the e-mail keys: made, hashed, compared.

Codes are six digits, short-lived and mailed; only a salted HMAC of each is
kept (six digits are too few for a plain hash to hide them). Reset tokens are
256 random bits, so their SHA-256 is enough. Every comparison is
:func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_DIGITS = 6
#: Kept apart from any other HMAC made with the same secret.
_CODE_PURPOSE = b"baton account code v1\n"
_EMAIL_PURPOSE = b"baton account email v1\n"


def new_code() -> str:
    """A random six-digit code, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_salt() -> str:
    """A random salt for one code's hash."""
    return secrets.token_hex(16)


def code_hash(secret: bytes, salt: str, code: str) -> str:
    """The stored form of ``code``: HMAC-SHA256 under the secret and the salt."""
    key = secret + salt.encode()
    return hmac.new(key, _CODE_PURPOSE + code.encode(), hashlib.sha256).hexdigest()


def code_matches(secret: bytes, salt: str, stored: str, typed: str) -> bool:
    """Whether ``typed`` is the code stored as ``stored`` (constant time)."""
    return hmac.compare_digest(code_hash(secret, salt, typed), stored)


def normalize_code(text: str) -> str | None:
    """The digits of a typed code ("123 456", "123-456"), or ``None``."""
    digits = "".join(ch for ch in text if ch.isdigit())
    rest = "".join(ch for ch in text if not ch.isdigit() and ch not in " -.\t")
    if rest or len(digits) != CODE_DIGITS:
        return None
    return digits


def email_key(secret: bytes, email: str) -> str:
    """An HMAC of the normalised e-mail, to count requests without keeping it."""
    message = _EMAIL_PURPOSE + normalize_email(email).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def normalize_email(email: str) -> str:
    """The e-mail as accounts are keyed: trimmed, lower case."""
    return email.strip().lower()


def new_token() -> str:
    """A reset link's token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a reset token."""
    return hashlib.sha256(token.encode()).hexdigest()


def mask_email(email: str) -> str:
    """The e-mail as the customer and agents see it: ``a•••@example.com``."""
    local, at, domain = email.strip().partition("@")
    if not at or not local:
        return "•••"
    return f"{local[0]}•••@{domain}"

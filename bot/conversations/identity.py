"""A website's signature of its signed-in customer (who they are, until when).

The website signs the user's id, name and e-mail with the site secret; the
hub checks the signature when a conversation is created, and only then shows
the customer as verified to agents. See the README for the recipe.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

from bot.exceptions import BadRequest, Unauthorized

logger = logging.getLogger(__name__)

#: The first line of the signed identity message; it keeps these signatures
#: apart from any other HMAC made with the same site secret.
IDENTITY_VERSION = "baton-identity-v2"


def identity_message(user_id: str, name: str, email: str, expires: int) -> str:
    r"""The text a website signs for a signed-in user (see :func:`sign_identity`).

    One line per field, in this order, with a missing name or e-mail as an
    empty line: ``"baton-identity-v2\n{id}\n{name}\n{email}\n{expires}"``.
    No field may contain a line break, so no two identities share a message.
    """
    return f"{IDENTITY_VERSION}\n{user_id}\n{name}\n{email}\n{expires}"


def sign_identity(
    secret: str, user_id: str, expires: int, *, name: str = "", email: str = ""
) -> str:
    """The ``user_hash`` a website computes for a signed-in user.

    ``hex(HMAC-SHA256(secret, identity_message(id, name, email, expires)))``
    (UTF-8), where ``expires`` is the Unix time (whole seconds) after which the
    signature is refused and name and e-mail are exactly the strings sent in
    ``user`` (empty when not sent). Everything shown to agents as verified is
    covered.
    """
    message = identity_message(user_id, name, email, expires).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_legacy_identity(secret: str, user_id: str, expires: int) -> str:
    """The former ``user_hash``, over ``f"{user_id}:{expires}"`` only.

    It vouches for the user id and nothing else, so it verifies a
    conversation only when no name or e-mail is sent beside it.
    """
    message = f"{user_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _signed_field(user: dict[str, Any], key: str) -> str:
    value = user.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"user.{key} must be a string", code="bad_identity")
    if "\n" in value or "\r" in value:
        raise BadRequest(
            f"a signed user.{key} may not contain a line break", code="bad_identity"
        )
    return value


def verify_identity(
    secret: str,
    user: dict[str, Any],
    expires: Any,
    user_hash: Any,
    now: float,
    max_lifetime_s: float,
) -> bool:
    """Check a website's signature of a user's identity.

    Args:
        secret: The site secret.
        user: The ``user`` object sent (``id``, optional ``name``, ``email``).
        expires: ``user_expires`` as sent.
        user_hash: ``user_hash`` as sent.
        now: The current Unix time.
        max_lifetime_s: How far ahead of ``now`` ``expires`` may be.

    Returns:
        Whether everything sent is vouched for: ``True`` for a signature by
        :func:`sign_identity`, or by :func:`sign_legacy_identity` with no name
        or e-mail beside the id; ``False`` for a valid legacy signature with a
        name or e-mail (kept, but not shown as verified).

    Raises:
        BadRequest: ``bad_identity``: the fields are missing or malformed.
        Unauthorized: ``identity_expired``, ``identity_too_long`` (expires
            past the lifetime cap) or ``identity_invalid`` (forged).
    """
    if not isinstance(user_hash, str) or not re.fullmatch(
        r"[0-9a-fA-F]{64}", user_hash
    ):
        raise BadRequest(
            "user_hash must be 64 hexadecimal characters", code="bad_identity"
        )
    if isinstance(expires, bool) or not isinstance(expires, int):
        raise BadRequest(
            "user_expires must be a Unix time in whole seconds", code="bad_identity"
        )
    user_id = _signed_field(user, "id")
    name = _signed_field(user, "name")
    email = _signed_field(user, "email")
    given = user_hash.lower()
    if hmac.compare_digest(
        sign_identity(secret, user_id, expires, name=name, email=email), given
    ):
        complete = True
    elif hmac.compare_digest(sign_legacy_identity(secret, user_id, expires), given):
        complete = not (name or email)
        if not complete:
            logger.warning(
                "an identity signed by the former id-only recipe came with a "
                "name or e-mail; the conversation is not marked verified "
                "(sign them too: see the README)"
            )
    else:
        raise Unauthorized(
            "the identity signature does not match", code="identity_invalid"
        )
    if expires <= now:
        raise Unauthorized(
            "the identity signature has expired", code="identity_expired"
        )
    if expires > now + max_lifetime_s:
        hours = max_lifetime_s / 3600
        raise Unauthorized(
            f"user_expires may be at most {hours:g} hours ahead",
            code="identity_too_long",
        )
    return complete

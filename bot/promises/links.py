"""Links that reopen one conversation, signed with the hub's secret.

A link carries the conversation id and an expiry, and an HMAC-SHA256 of both
under :attr:`bot.config.Settings.link_secret`. Whoever holds the link may
reopen that one conversation until it expires; changing any character of it
(another id, a later expiry) breaks the signature.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from bot.exceptions import BadRequest

#: Set apart from any other HMAC made with the same secret.
_PURPOSE = b"baton resume link v1\n"
_LINK = re.compile(r"^([A-Za-z0-9_-]{1,32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


class LinkRefused(BadRequest):
    """A resume link that is malformed, tampered with, or expired."""

    code = "bad_link"


@dataclass(frozen=True)
class ResumeLink:
    """What a valid link grants: one conversation, until ``expires_at``."""

    conversation_id: str
    expires_at: dt.datetime


def _signature(secret: bytes, conversation_id: str, expires: int) -> str:
    message = _PURPOSE + f"{conversation_id}.{expires}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_resume_link(
    secret: bytes, conversation_id: str, expires_at: dt.datetime
) -> str:
    """The link's token for ``conversation_id``, valid until ``expires_at``.

    Raises:
        ValueError: No secret to sign with.
    """
    if not secret:
        raise ValueError("no secret to sign resume links with")
    expires = int(expires_at.timestamp())
    return f"{conversation_id}.{expires}.{_signature(secret, conversation_id, expires)}"


def verify_resume_link(secret: bytes, token: str, now: dt.datetime) -> ResumeLink:
    """Check a link's token and return what it grants.

    Raises:
        LinkRefused: ``bad_link`` (malformed or tampered with) or
            ``link_expired``.
    """
    found = _LINK.fullmatch(token or "")
    if not secret or found is None:
        raise LinkRefused("this link is not valid", code="bad_link")
    conversation_id, expires_text, given = found.groups()
    expires = int(expires_text)
    if not hmac.compare_digest(_signature(secret, conversation_id, expires), given):
        raise LinkRefused("this link is not valid", code="bad_link")
    expires_at = dt.datetime.fromtimestamp(expires, dt.timezone.utc)
    if now >= expires_at:
        raise LinkRefused("this link has expired", code="link_expired")
    return ResumeLink(conversation_id, expires_at)

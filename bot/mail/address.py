"""Which e-mail addresses Baton may send to."""

from __future__ import annotations

import re

# Deliberately simple: one "@", no spaces or control characters, a dot in the
# domain. The SMTP server is the real judge; this catches typos and injection.
_EMAIL = re.compile(
    r"^[^@\s\x00-\x1f\x7f<>,;\"]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}$"
)


def valid_email(value: object) -> bool:
    """Whether ``value`` looks like an e-mail address we may send to."""
    return (
        isinstance(value, str) and len(value) <= 320 and bool(_EMAIL.fullmatch(value))
    )

"""Mask personal data in customer text before a trainer sees it.

Trainers need the words of a question, not who asked it: e-mail addresses,
phone numbers and card-like numbers (13 to 19 digits, spaces or dashes
between groups) are replaced by a placeholder. Card-like numbers are masked
before phone numbers, which would otherwise take a piece of them.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card number]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: 13-19 digits, possibly in groups separated by single spaces or dashes.
_CARD = re.compile(r"(?<![\w])(?:\d[ -]?){12,18}\d(?![\w])")
#: An optional +country code, then 7 or more digits with common separators.
_PHONE = re.compile(r"(?<![\w])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w])")


def mask(text: str) -> str:
    """Return ``text`` with e-mail addresses, phone and card numbers masked.

    Args:
        text: A customer's (or anyone's) message.

    Returns:
        The text with each such item replaced by a placeholder.
    """
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _CARD.sub(CARD_MASK, text)
    return _PHONE.sub(PHONE_MASK, text)

"""What of a customer's answer to the reset form may be kept (issue #16).

The e-mail and the one-time code a customer types are given to the assistant
once and never kept in clear: the transcript, the handoff card and the recap
show ``a•••@example.com`` and ``••••••``. The hub calls :func:`mask_answer`
on the message that answers the form's question
(:class:`~bot.contract.SecretAnswer`), before it stores it.
"""

from __future__ import annotations

import re

from bot.accounts.tokens import mask_email
from bot.contract import SecretAnswer

#: How a code is shown once typed: as many dots as it has digits.
MASKED_CODE = "••••••"
_EMAILS = re.compile(r"[^@\s,;:<>()\[\]\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}")
#: Four or more digits, maybe grouped ("123 456", "123-456"): too long to be
#: anything but the code (or a part of it) in an answer to the code question.
_DIGITS = re.compile(r"\d(?:[ .\-]?\d){3,}")


def mask_answer(question: str, text: str) -> str | None:
    """``text`` as it may be kept, given the question it answers.

    Args:
        question: A :class:`~bot.contract.SecretAnswer` value (other
            questions keep every answer as typed).
        text: What the customer typed.

    Returns:
        The text with every e-mail address (for the e-mail question) or
        every run of digits (for the code question) masked; ``None`` when
        there is nothing to mask, as in "talk to a person".
    """
    if question == SecretAnswer.EMAIL:
        pattern, masked = _EMAILS, lambda found: mask_email(found.group(0))
    elif question == SecretAnswer.CODE:
        pattern, masked = _DIGITS, lambda found: MASKED_CODE
    else:
        return None
    kept, count = pattern.subn(masked, text)
    return kept if count else None

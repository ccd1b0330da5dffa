"""What of an answer to the reset form is kept: e-mails and codes masked."""

from __future__ import annotations

import pytest

from bot.accounts.answers import mask_answer


@pytest.mark.parametrize(
    ("question", "typed", "kept"),
    [
        ("account_email", "Alice@Example.com", "A•••@Example.com"),
        (
            "account_email",
            "it's a.b+c@mail.example.org, thanks",
            "it's a•••@mail.example.org, thanks",
        ),
        ("account_email", "<bob@example.com>", "<b•••@example.com>"),
        ("account_email", "talk to a person", None),
        ("account_email", "I can't remember", None),
        ("account_code", "123456", "••••••"),
        ("account_code", "123 456", "••••••"),
        ("account_code", "the code is 123-456!", "the code is ••••••!"),
        ("account_code", "012345 or 998877", "•••••• or ••••••"),
        ("account_code", "I never got a code", None),
        ("account_code", "talk to a person", None),
        ("kb_query", "alice@example.com 123456", None),
    ],
)
def test_answers_keep_only_what_is_not_secret(
    question: str, typed: str, kept: str | None
) -> None:
    assert mask_answer(question, typed) == kept

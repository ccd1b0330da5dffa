"""Pure rules of the conversation service."""

from __future__ import annotations

import pytest

from bot.conversations.service import hash_token, text_for_assistant


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("/restart", "restart"),
        ('/request_human{"x":1}', 'request_human{"x":1}'),
        ("  /greet", "greet"),
        ("\t\n//session_start", "session_start"),
        ("\u2003/deny", "deny"),
        ("///", "?"),
        ("I forgot my password", "I forgot my password"),
        ("what does /help do?", "what does /help do?"),
        ("and/or", "and/or"),
    ],
)
def test_typed_text_never_reaches_rasa_as_a_command(typed: str, sent: str) -> None:
    assert text_for_assistant(typed) == sent
    assert not text_for_assistant(typed).strip().startswith("/")


def test_tokens_are_stored_hashed() -> None:
    assert hash_token("secret") != "secret"
    assert hash_token("secret") == hash_token("secret")
    assert len(hash_token("secret")) == 64

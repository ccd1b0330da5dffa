"""Codes, tokens and e-mail keys."""

from __future__ import annotations

import pytest

from bot.accounts.tokens import (
    code_hash,
    code_matches,
    email_key,
    mask_email,
    new_code,
    new_token,
    normalize_code,
    token_hash,
)

SECRET = b"k" * 32


def test_codes_are_six_digits_and_vary() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 150


def test_a_code_is_stored_salted_and_compared_by_hash() -> None:
    stored = code_hash(SECRET, "salt-a", "123456")
    assert "123456" not in stored
    assert stored != code_hash(SECRET, "salt-b", "123456")
    assert code_matches(SECRET, "salt-a", stored, "123456")
    assert not code_matches(SECRET, "salt-a", stored, "123457")
    assert not code_matches(b"another secret" * 3, "salt-a", stored, "123456")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),
        ("123-456", "123456"),
        ("012345", "012345"),
        ("12345", None),
        ("1234567", None),
        ("my code is 123456", None),
        ("alice@example.com", None),
    ],
)
def test_typed_codes_are_read_leniently_but_only_as_codes(
    typed: str, code: str | None
) -> None:
    assert normalize_code(typed) == code


def test_email_keys_ignore_case_and_do_not_contain_the_address() -> None:
    key = email_key(SECRET, " Alice@Example.com")
    assert key == email_key(SECRET, "alice@example.com")
    assert "alice" not in key
    assert key != email_key(SECRET, "bob@example.com")


def test_tokens_are_long_random_and_stored_as_sha256() -> None:
    token = new_token()
    assert len(token) >= 43 and token != new_token()
    assert token_hash(token) != token and len(token_hash(token)) == 64


def test_emails_are_masked_for_the_customer_and_agents() -> None:
    assert mask_email("alice@example.com") == "a•••@example.com"
    assert mask_email("nonsense") == "•••"

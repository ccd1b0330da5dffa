"""Password hashing: argon2id, rehash when outdated, no shortcut for strangers."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from bot.auth import MIN_PASSWORD_LENGTH, Passwords, validate_new_password
from bot.auth.passwords import MAX_PASSWORD_LENGTH
from bot.exceptions import BadRequest

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords()


@pytest.fixture(scope="module")
def stored(passwords: Passwords) -> str:
    return passwords.hash(PASSWORD)


def test_hashes_are_salted_argon2id(passwords: Passwords, stored: str) -> None:
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert passwords.hash(PASSWORD) != stored


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        (PASSWORD, True),
        (PASSWORD.upper(), False),
        (PASSWORD + " ", False),
        ("", False),
        (PASSWORD + "x" * MAX_PASSWORD_LENGTH, False),
    ],
)
def test_verify(passwords: Passwords, stored: str, typed: str, ok: bool) -> None:
    check = passwords.verify(stored, typed)
    assert check.ok is ok
    assert check.new_hash is None


@pytest.mark.parametrize("stored_hash", ["", "plain text", "$argon2id$v=19$broken"])
def test_a_damaged_hash_never_matches(passwords: Passwords, stored_hash: str) -> None:
    assert passwords.verify(stored_hash, PASSWORD).ok is False


@pytest.mark.parametrize("typed", [PASSWORD, "no account has this password", ""])
def test_unknown_accounts_are_checked_against_a_dummy_hash(typed: str) -> None:
    calls: list[str] = []

    class Spy(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(str(hash))
            return super().verify(hash, password)

    passwords = Passwords(Spy())
    assert passwords.verify(None, typed).ok is False
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_outdated_hashes_are_rehashed(passwords: Passwords) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    check = passwords.verify(old, PASSWORD)
    assert check.ok and check.new_hash is not None and check.new_hash != old
    assert passwords.verify(check.new_hash, PASSWORD).new_hash is None
    assert passwords.verify(old, "wrong password").new_hash is None


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("", "weak_password"),
        ("x" * (MIN_PASSWORD_LENGTH - 1), "weak_password"),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "bad_password"),
    ],
)
def test_new_passwords_are_checked(password: str, code: str) -> None:
    with pytest.raises(BadRequest) as error:
        validate_new_password(password)
    assert error.value.code == code


@pytest.mark.parametrize(
    "password",
    ["x" * MIN_PASSWORD_LENGTH, "baton-demo-pass", "y" * MAX_PASSWORD_LENGTH],
)
def test_acceptable_new_passwords(password: str) -> None:
    validate_new_password(password)

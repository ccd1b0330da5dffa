"""Resume links open one conversation, until they expire, and only unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.promises import LinkRefused, sign_resume_link, verify_resume_link

SECRET = b"k" * 32
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)


def test_a_signed_link_grants_its_conversation_until_it_expires() -> None:
    token = sign_resume_link(SECRET, "conv_1-A", NOW + dt.timedelta(hours=72))
    link = verify_resume_link(SECRET, token, NOW)
    assert link.conversation_id == "conv_1-A"
    assert link.expires_at == NOW + dt.timedelta(hours=72)


def _tampered(token: str) -> list[str]:
    conversation_id, expires, signature = token.split(".")
    flipped = ("A" if signature[5] != "A" else "B").join((signature[:5], signature[6:]))
    return [
        f"other_conversation.{expires}.{signature}",
        f"{conversation_id}.{int(expires) + 86400}.{signature}",
        f"{conversation_id}.{expires}.{flipped}",
        f"{conversation_id}.{expires}.{signature[:-1]}",
        f"{conversation_id}.{expires}",
        "",
        "../../etc/passwd",
    ]


@pytest.mark.parametrize("index", range(7))
def test_a_changed_link_is_refused(index: int) -> None:
    token = sign_resume_link(SECRET, "conv1", NOW + dt.timedelta(hours=1))
    with pytest.raises(LinkRefused) as refused:
        verify_resume_link(SECRET, _tampered(token)[index], NOW)
    assert refused.value.code == "bad_link"


def test_a_link_signed_with_another_secret_is_refused() -> None:
    token = sign_resume_link(b"x" * 32, "conv1", NOW + dt.timedelta(hours=1))
    with pytest.raises(LinkRefused) as refused:
        verify_resume_link(SECRET, token, NOW)
    assert refused.value.code == "bad_link"


def test_an_expired_link_is_refused_as_expired() -> None:
    token = sign_resume_link(SECRET, "conv1", NOW)
    with pytest.raises(LinkRefused) as refused:
        verify_resume_link(SECRET, token, NOW)
    assert refused.value.code == "link_expired"
    assert verify_resume_link(SECRET, token, NOW - dt.timedelta(seconds=1))


def test_without_a_secret_nothing_is_signed_or_accepted() -> None:
    with pytest.raises(ValueError):
        sign_resume_link(b"", "conv1", NOW)
    token = sign_resume_link(SECRET, "conv1", NOW + dt.timedelta(hours=1))
    with pytest.raises(LinkRefused):
        verify_resume_link(b"", token, NOW)

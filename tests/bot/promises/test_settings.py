"""The promise settings are read from BATON_ variables and validated."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import Settings
from bot.exceptions import ConfigurationError
from bot.promises import SchedulerPolicy


def test_defaults_and_values_are_read() -> None:
    assert Settings.from_env({}).promises.reminder_lead_minutes == 15
    settings = Settings.from_env(
        {
            "BATON_REMINDER_LEAD_MINUTES": "30",
            "BATON_ESCALATION_EMAILS": "Lead@Example.com, ops@example.com",
            "BATON_RESUME_LINK_HOURS": "24",
            "BATON_SECRET_KEY": "x" * 32,
            "BATON_PUBLIC_URL": "https://support.example.com/",
        }
    )
    policy = SchedulerPolicy.from_settings(settings)
    assert policy.reminder_lead == dt.timedelta(minutes=30)
    assert policy.escalation_emails == ("lead@example.com", "ops@example.com")
    assert policy.resume_link_lifetime == dt.timedelta(hours=24)
    assert policy.link_secret == b"x" * 32
    assert policy.base_url == "https://support.example.com"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REMINDER_LEAD_MINUTES", "0", "at least 1"),
        ("REMINDER_LEAD_MINUTES", "soon", "whole number"),
        ("ESCALATION_EMAILS", "lead@example.com, not-an-address", "e-mail"),
        ("RESUME_LINK_HOURS", "0", "at least 1"),
        ("SECRET_KEY", "short", "at least 32"),
        ("SCHEDULER_LEASE", "4", "twice"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env({f"BATON_{name}": value})
    assert f"BATON_{name}" in str(refused.value) and message in str(refused.value)


def test_links_are_signed_with_a_key_derived_from_the_rasa_token_without_one() -> None:
    derived = Settings(rasa_token="t" * 24).link_secret
    assert derived and derived != b"t" * 24
    assert Settings(rasa_token="t" * 24, secret_key="k" * 32).link_secret == b"k" * 32
    assert Settings().link_secret == b""

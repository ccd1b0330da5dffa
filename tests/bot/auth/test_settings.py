"""Session lifetimes and login limits come from BATON_* variables."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.auth import AuthPolicy
from bot.config import Settings
from bot.exceptions import ConfigurationError


def test_defaults() -> None:
    policy = AuthPolicy.from_settings(Settings.from_env({}))
    assert policy == AuthPolicy()
    assert policy.session_lifetime == dt.timedelta(hours=12)
    assert policy.idle_timeout == dt.timedelta(hours=2)
    assert (policy.max_failed_logins, policy.lockout) == (5, dt.timedelta(minutes=15))
    assert Settings.from_env({}).limits.logins_per_ip_per_minute == 10


def test_overrides() -> None:
    settings = Settings.from_env(
        {
            "BATON_SESSION_HOURS": "8",
            "BATON_SESSION_IDLE_MINUTES": "30",
            "BATON_LOGINS_PER_IP_PER_MINUTE": "20",
            "BATON_FAILED_LOGINS_BEFORE_LOCKOUT": "3",
            "BATON_LOCKOUT_MINUTES": "60",
        }
    )
    policy = AuthPolicy.from_settings(settings)
    assert policy.session_lifetime == dt.timedelta(hours=8)
    assert policy.idle_timeout == dt.timedelta(minutes=30)
    assert (policy.max_failed_logins, policy.lockout) == (3, dt.timedelta(hours=1))
    assert settings.limits.logins_per_ip_per_minute == 20


@pytest.mark.parametrize(
    "name",
    [
        "SESSION_HOURS",
        "SESSION_IDLE_MINUTES",
        "LOGINS_PER_IP_PER_MINUTE",
        "FAILED_LOGINS_BEFORE_LOCKOUT",
        "LOCKOUT_MINUTES",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "soon", "1.5"])
def test_invalid_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"BATON_{name}"):
        Settings.from_env({f"BATON_{name}": value})

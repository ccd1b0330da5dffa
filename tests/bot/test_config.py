"""Settings are read once from BATON_* variables and validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.exceptions import ConfigurationError


def test_defaults_are_the_embedded_setup(tmp_path: Path) -> None:
    settings = Settings.from_env({"BATON_PROJECT_DIR": str(tmp_path)})
    assert settings.host == "127.0.0.1" and settings.port == 8000
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'baton.db'}"
    assert settings.redis_url is None
    env = settings.rasa_environment()
    assert env["BATON_LOCK_STORE"] == "in_memory"
    assert env["BATON_TRACKER_URL"].endswith("var/rasa-tracker.db")
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_production_setup_shares_postgresql_and_redis() -> None:
    settings = Settings.from_env(
        {
            "BATON_DATABASE_URL": "postgresql://baton:pw@db:5432/baton",
            "BATON_REDIS_URL": "redis://:secret@cache:6380/2",
            "BATON_ALLOWED_ORIGINS": "https://shop.example, https://help.example/",
            "BATON_PORT": "9000",
        }
    )
    env = settings.rasa_environment()
    assert env["BATON_TRACKER_URL"] == "postgresql://baton:pw@db:5432/baton"
    assert (env["BATON_LOCK_STORE"], env["BATON_LOCK_REDIS_HOST"]) == ("redis", "cache")
    assert (env["BATON_LOCK_REDIS_PORT"], env["BATON_LOCK_REDIS_DB"]) == ("6380", "2")
    assert env["BATON_LOCK_REDIS_PASSWORD"] == "secret"
    assert settings.allowed_origins == ("https://shop.example", "https://help.example")
    assert settings.port == 9000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "-1"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://cache"),
        ("RASA_URL", "ftp://rasa"),
        ("RASA_TIMEOUT", "0"),
        ("LOG_LEVEL", "LOUD"),
        ("MAX_FRAME_BYTES", "10"),
        ("REGRESSION_MARGIN", "1.5"),
        ("REGRESSION_MARGIN", "-0.1"),
        ("REGRESSION_MARGIN", "some"),
    ],
)
def test_invalid_values_are_refused_with_the_variable_named(name, value) -> None:
    with pytest.raises(ConfigurationError, match=f"BATON_{name}"):
        Settings.from_env({f"BATON_{name}": value})


def test_a_fraction_may_be_zero_or_one() -> None:
    for value in ("0", "1", "0.25"):
        margin = Settings.from_env({"BATON_REGRESSION_MARGIN": value}).regression_margin
        assert margin == float(value)


def test_child_processes_inherit_the_environment_the_settings_were_read_from(
    tmp_path: Path,
) -> None:
    env = {
        "BATON_PROJECT_DIR": str(tmp_path),
        "PATH": "/opt/tools/bin",
        "USER": "maria",
        "BATON_LOCK_STORE": "stale",  # the settings' own value wins
    }
    settings = Settings.from_env(env)
    child = settings.child_environment(PYTHONUNBUFFERED="1")
    assert child["PATH"] == "/opt/tools/bin"
    assert child["BATON_LOCK_STORE"] == "in_memory"
    assert child["PYTHONUNBUFFERED"] == "1"
    assert settings.rasa_environment().items() <= child.items()
    assert settings.operator == "maria"
    assert settings.new_agent_password is None
    assert "maria" not in repr(settings)  # the environment holds secrets


def test_the_operator_and_a_scripted_password_come_from_the_environment() -> None:
    settings = Settings.from_env({"BATON_NEW_AGENT_PASSWORD": "a long passphrase"})
    assert settings.operator == "cli"  # no USER
    assert settings.new_agent_password == "a long passphrase"
    unset = Settings.from_env({"BATON_NEW_AGENT_PASSWORD": ""})
    assert unset.new_agent_password is None

"""``BATON_ACCOUNTS*`` settings, validated once at start."""

from __future__ import annotations

import pytest

from bot.accounts import BuiltinAccounts, WebhookAccounts, create_desk
from bot.config import Settings
from bot.exceptions import ConfigurationError

SECRET = "s" * 32


def test_the_default_keeps_the_article_only_answer() -> None:
    settings = Settings.from_env({})
    assert settings.accounts.provider == "none"
    assert not settings.accounts.enabled


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BATON_ACCOUNTS": "ldap"}, "must be one of none, builtin, webhook"),
        ({"BATON_ACCOUNTS": "webhook"}, "needs BATON_ACCOUNTS_WEBHOOK_URL"),
        (
            {
                "BATON_ACCOUNTS": "webhook",
                "BATON_ACCOUNTS_WEBHOOK_URL": "https://id.example.com/baton",
                "BATON_ACCOUNTS_WEBHOOK_SECRET": "short",
            },
            "at least 32 characters",
        ),
        (
            {
                "BATON_ACCOUNTS": "webhook",
                "BATON_ACCOUNTS_WEBHOOK_URL": "ftp://id.example.com",
                "BATON_ACCOUNTS_WEBHOOK_SECRET": SECRET,
            },
            "must start with one of http, https",
        ),
        ({"BATON_ACCOUNTS_CODE_ATTEMPTS": "0"}, "at least 1"),
        ({"BATON_ACCOUNTS_WEBHOOK_TIMEOUT": "soon"}, "must be a number"),
    ],
)
def test_bad_settings_are_refused_at_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_the_setting_picks_the_provider(tmp_path: object) -> None:
    builtin = Settings.from_env(
        {"BATON_ACCOUNTS": "Builtin", "BATON_SECRET_KEY": SECRET}
    )
    webhook = Settings.from_env(
        {
            "BATON_ACCOUNTS": "webhook",
            "BATON_ACCOUNTS_WEBHOOK_URL": "https://id.example.com/baton/",
            "BATON_ACCOUNTS_WEBHOOK_SECRET": SECRET,
            "BATON_ACCOUNTS_WEBHOOK_TIMEOUT": "2.5",
            "BATON_SECRET_KEY": SECRET,
        }
    )
    assert webhook.accounts.webhook_url == "https://id.example.com/baton"
    assert "webhook_secret" not in repr(webhook.accounts)
    engine, mailer = object(), object()
    desk = create_desk(builtin, engine, mailer)  # type: ignore[arg-type]
    assert desk is not None and isinstance(desk.provider, BuiltinAccounts)
    desk = create_desk(webhook, engine, mailer)  # type: ignore[arg-type]
    assert desk is not None and isinstance(desk.provider, WebhookAccounts)
    assert create_desk(Settings.from_env({}), engine, mailer) is None  # type: ignore[arg-type]


def test_codes_need_a_secret() -> None:
    settings = Settings.from_env({"BATON_ACCOUNTS": "builtin"})
    with pytest.raises(ConfigurationError, match="BATON_SECRET_KEY"):
        create_desk(settings, object(), object())  # type: ignore[arg-type]

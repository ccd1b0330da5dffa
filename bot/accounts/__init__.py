"""Self-service password reset and account unlock in the chat (issue #16).

- :mod:`bot.accounts.provider`: the account-provider interface;
  :mod:`bot.accounts.builtin` (accounts in the hub database) and
  :mod:`bot.accounts.webhook` (the company's system, signed calls) implement
  it; ``BATON_ACCOUNTS`` picks one (:func:`create_provider`), ``none`` keeps
  the article-only answer.
- :mod:`bot.accounts.desk`: codes, consent and changes, as the chat's
  actions (``actions/accounts.py``) use them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts.builtin import (
    RESET_PATH,
    BuiltinAccounts,
    LinkRefused,
    check_strength,
)
from bot.accounts.desk import (
    CodeCheck,
    CodeLimit,
    CodeSent,
    CodeStatus,
    ResetDesk,
    ResetDone,
    ResetLimited,
    consent_text,
    planned_changes,
)
from bot.accounts.provider import Account, AccountProvider, ProviderUnavailable
from bot.accounts.tokens import mask_email, normalize_code
from bot.accounts.webhook import WebhookAccounts
from bot.config import Settings
from bot.db.engine import create_engine
from bot.exceptions import ConfigurationError
from bot.mail import Mailer, OutboxRepository

__all__ = [
    "RESET_PATH",
    "Account",
    "AccountProvider",
    "BuiltinAccounts",
    "CodeCheck",
    "CodeLimit",
    "CodeSent",
    "CodeStatus",
    "LinkRefused",
    "ProviderUnavailable",
    "ResetDesk",
    "ResetDone",
    "ResetLimited",
    "SharedResetDesk",
    "WebhookAccounts",
    "check_strength",
    "consent_text",
    "create_desk",
    "create_provider",
    "mask_email",
    "normalize_code",
    "planned_changes",
]


def base_url(settings: Settings) -> str:
    """Where customers reach the hub: the first public URL, or its own origin."""
    urls = [url.strip() for url in settings.public_url.split(",") if url.strip()]
    return urls[0] if urls else settings.public_origins[0]


def create_provider(
    settings: Settings, engine: AsyncEngine, mailer: Mailer
) -> AccountProvider | None:
    """The provider ``BATON_ACCOUNTS`` names; ``None`` for ``none``."""
    accounts = settings.accounts
    if accounts.provider == "builtin":
        return BuiltinAccounts(
            engine, mailer, base_url(settings), link_minutes=accounts.link_minutes
        )
    if accounts.provider == "webhook":
        assert accounts.webhook_secret is not None  # checked by the settings
        return WebhookAccounts(
            accounts.webhook_url, accounts.webhook_secret, accounts.webhook_timeout_s
        )
    return None


def create_desk(
    settings: Settings, engine: AsyncEngine, mailer: Mailer
) -> ResetDesk | None:
    """The reset desk for ``settings``; ``None`` when ``BATON_ACCOUNTS=none``.

    Raises:
        ConfigurationError: No secret to key the codes with.
    """
    provider = create_provider(settings, engine, mailer)
    if provider is None:
        return None
    if not settings.link_secret:
        raise ConfigurationError(
            "BATON_ACCOUNTS needs BATON_SECRET_KEY (or BATON_RASA_TOKEN) to key "
            "its one-time codes"
        )
    return ResetDesk(provider, engine, mailer, settings.link_secret, settings.accounts)


class SharedResetDesk:
    """A :class:`ResetDesk` made on first use from the ``BATON_`` settings.

    For the action server, which has no application context: creating this
    does nothing; :meth:`get` reads the settings and opens the engine once.
    """

    def __init__(self, settings_factory: Callable[[], Settings] = Settings.from_env):
        self._settings_factory = settings_factory
        self._settings: Settings | None = None
        self._desk: ResetDesk | None = None

    @property
    def settings(self) -> Settings:
        """The settings, read once."""
        if self._settings is None:
            self._settings = self._settings_factory()
        return self._settings

    @property
    def enabled(self) -> bool:
        """Whether ``BATON_ACCOUNTS`` lets the bot reset passwords."""
        return self.settings.accounts.enabled

    async def get(self) -> ResetDesk | None:
        """The desk (``None`` when the feature is off)."""
        if self._desk is None and self.enabled:
            engine = create_engine(self.settings.database_url)
            mailer = Mailer(OutboxRepository(engine), self.settings.smtp)
            self._desk = create_desk(self.settings, engine, mailer)
        return self._desk

    async def close(self) -> None:
        """Finish pending mails, close the provider and the engine."""
        if self._desk is not None:
            await self._desk.drain()
            await self._desk.provider.close()
            await self._desk.engine.dispose()
            self._desk = None

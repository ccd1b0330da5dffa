"""The account-provider interface: find an account, send a reset, unlock it.

A provider is the company's identity system as the bot sees it. Two come
with Baton: :class:`bot.accounts.builtin.BuiltinAccounts` (accounts in the
hub's own database, with the reset page served by the hub) and
:class:`bot.accounts.webhook.WebhookAccounts` (signed HTTP calls to the
company's system). ``BATON_ACCOUNTS`` picks one (:func:`create_provider`).

A provider never tells the customer whether an e-mail has an account: only
the reset desk (:mod:`bot.accounts.desk`) talks to customers, and it answers
the same either way.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from bot.exceptions import DependencyUnavailable


class ProviderUnavailable(DependencyUnavailable):
    """The account system did not answer, answered late, or answered nonsense."""

    code = "accounts_unavailable"


@dataclass(frozen=True)
class Account:
    """An account as the provider describes it.

    Attributes:
        ref: The provider's id of the account (kept with the code).
        email: Where its mail goes.
        locked: Signing in is blocked (too many failed attempts).
        compromised: Flagged as taken over: only a person may help.
        two_factor_lost: Its owner lost the second factor: only a person.
    """

    ref: str
    email: str
    locked: bool = False
    compromised: bool = False
    two_factor_lost: bool = False

    @property
    def needs_person(self) -> bool:
        """Whether only a person may change this account."""
        return self.compromised or self.two_factor_lost


class AccountProvider(abc.ABC):
    """Finds customer accounts and changes them, as the company's system allows."""

    #: ``builtin`` or ``webhook``, as ``BATON_ACCOUNTS`` names it.
    name: str = ""

    @abc.abstractmethod
    async def lookup(self, email: str) -> Account | None:
        """The account with ``email``, or ``None`` when there is none.

        Raises:
            ProviderUnavailable: The account system failed.
        """

    @abc.abstractmethod
    async def get(self, ref: str) -> Account | None:
        """The account with the provider's id ``ref`` (``None``: gone since).

        Raises:
            ProviderUnavailable: The account system failed.
        """

    @abc.abstractmethod
    async def send_reset(
        self, account: Account, *, conversation_id: str, locale: str | None
    ) -> None:
        """Mail the account a reset link and sign its other devices out.

        Raises:
            ProviderUnavailable: The account system failed.
        """

    @abc.abstractmethod
    async def unlock(self, account: Account) -> None:
        """Let the account sign in again.

        Raises:
            ProviderUnavailable: The account system failed.
        """

    async def close(self) -> None:  # noqa: B027 (optional, not abstract)
        """Release connections (nothing by default)."""

"""The webhook account provider: signed HTTP(S) calls to the company's system.

Every call is a ``POST`` of a JSON body to ``BATON_ACCOUNTS_WEBHOOK_URL``
plus a path, signed so the company's system can tell it comes from Baton::

    X-Baton-Timestamp: <unix seconds>
    X-Baton-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

- ``/lookup`` ``{"email"}`` and ``/account`` ``{"id"}`` answer
  ``{"account": {"id", "email", "locked", "compromised", "two_factor_lost"}}``
  or ``{"account": null}``;
- ``/send-reset`` ``{"id", "conversation_id", "locale",
  "sign_out_other_devices": true}``: the company mails its own reset link;
- ``/unlock`` ``{"id"}``.

A 2xx answer is success; anything else, a timeout or a body that is not the
expected JSON raises :class:`~bot.accounts.provider.ProviderUnavailable`, and
the chat hands the customer to a person.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import aiohttp

from bot.accounts.provider import Account, AccountProvider, ProviderUnavailable

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Baton-Signature"
TIMESTAMP_HEADER = "X-Baton-Timestamp"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signature_valid(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_s: float = 300.0,
) -> bool:
    """Check a request's signature as the company's system should.

    Refuses a timestamp more than ``tolerance_s`` away from ``now`` (a
    replayed request) and compares in constant time.
    """
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _account(data: Any) -> Account | None:
    found = data.get("account") if isinstance(data, dict) else None
    if found is None and isinstance(data, dict) and "account" in data:
        return None
    if not isinstance(found, dict):
        raise ProviderUnavailable("the account system answered without an account")
    ref, email = found.get("id"), found.get("email")
    if not isinstance(ref, (str, int)) or not isinstance(email, str):
        raise ProviderUnavailable("the account system answered without id or email")
    return Account(
        ref=str(ref),
        email=email,
        locked=found.get("locked") is True,
        compromised=found.get("compromised") is True,
        two_factor_lost=found.get("two_factor_lost") is True,
    )


class WebhookAccounts(AccountProvider):
    """Asks the company's own system, over signed HTTP(S) calls.

    Args:
        url: Base URL of the company's endpoints.
        secret: The shared signing secret.
        timeout_s: How long one call may take before the chat hands over.
    """

    name = "webhook"

    def __init__(self, url: str, secret: str, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._secret = secret.encode()
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def _call(self, path: str, payload: dict[str, Any]) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        try:
            async with self._session.post(
                self.url + path, data=body, headers=headers
            ) as response:
                if response.status // 100 != 2:
                    raise ProviderUnavailable(
                        f"the account system answered {response.status} to {path}"
                    )
                text = await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("account webhook %s failed: %s", path, type(error).__name__)
            raise ProviderUnavailable(
                f"the account system did not answer {path}"
            ) from error
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError as error:
            raise ProviderUnavailable(
                f"the account system answered {path} with something not JSON"
            ) from error

    async def lookup(self, email: str) -> Account | None:
        """``POST /lookup``."""
        return _account(await self._call("/lookup", {"email": email}))

    async def get(self, ref: str) -> Account | None:
        """``POST /account``."""
        return _account(await self._call("/account", {"id": ref}))

    async def send_reset(
        self, account: Account, *, conversation_id: str, locale: str | None
    ) -> None:
        """``POST /send-reset``: the company mails its own link."""
        await self._call(
            "/send-reset",
            {
                "id": account.ref,
                "conversation_id": conversation_id,
                "locale": locale,
                "sign_out_other_devices": True,
            },
        )

    async def unlock(self, account: Account) -> None:
        """``POST /unlock``."""
        await self._call("/unlock", {"id": account.ref})

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

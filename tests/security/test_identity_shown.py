"""What agents are shown as a verified customer is what the website signed.

The signature rules themselves (forged, replayed for another user id,
expired, living past the cap: refused) are in
``tests/bot/web/test_identity.py``; here an agent reads the handoff card and
the conversation, through the API the console uses, for customers whose name
and e-mail the signature does or does not cover.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest

from bot.config import Limits
from tests.bot.web.test_agent_api import sign_in
from tests.bot.web.test_history_api import conversation
from tests.conftest import shared_hub

SECRET = "identity-secret-for-the-card-test"


def website_signature(secret: str, message: str) -> str:
    """What a website computes, from the recipe in the README."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_identity(
    secret: str, user_id: str, expires: int, *, name: str = "", email: str = ""
) -> str:
    """The ``user_hash`` over the id, name, e-mail and expiry."""
    return website_signature(
        secret, f"baton-identity-v2\n{user_id}\n{name}\n{email}\n{expires}"
    )


def sign_legacy_identity(secret: str, user_id: str, expires: int) -> str:
    """The former ``user_hash``, over the id and expiry only."""
    return website_signature(secret, f"{user_id}:{expires}")


hub = shared_hub(
    on_databases=False,
    identity_secret=SECRET,
    limits=Limits(logins_per_ip_per_minute=1000, conversations_per_ip_per_hour=1000),
)


def identity(signed: str) -> dict[str, Any]:
    """A customer Mallory claims to be Ada, signed as ``signed`` says."""
    user = {"id": "u-42", "name": "Ada Lovelace", "email": "ada@example.com"}
    expires = int(time.time()) + 600
    if signed == "everything":
        user_hash = sign_identity(
            SECRET, "u-42", expires, name=user["name"], email=user["email"]
        )
    elif signed == "the id only":
        user_hash = sign_legacy_identity(SECRET, "u-42", expires)
    else:
        return {"user": user}
    return {"user": user, "user_hash": user_hash, "user_expires": expires}


@pytest.mark.parametrize(
    ("signed", "verified"),
    [("everything", True), ("the id only", False), ("nothing", False)],
)
async def test_only_a_signature_of_what_is_shown_makes_it_verified(
    hub, signed: str, verified: bool
) -> None:
    agent = await sign_in(hub)
    conversation_id, handoff_id = await conversation(
        hub, "please look at my account", **identity(signed)
    )
    status, card = await agent.call(hub, "GET", f"/api/handoffs/{handoff_id}")
    assert status == 200, card
    assert card["customer"]["verified"] is verified
    assert (card["customer"]["name"], card["customer"]["email"]) == (
        "Ada Lovelace",
        "ada@example.com",
    )
    status, read = await agent.call(hub, "GET", f"/api/conversations/{conversation_id}")
    assert status == 200, read
    assert read["conversation"]["customer"]["verified"] is verified

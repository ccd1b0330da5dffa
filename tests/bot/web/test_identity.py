"""Signed customer identities: valid, forged, expired (and off without a secret).

The website computes ``user_hash = hex(HMAC-SHA256(secret, message))`` over
``"baton-identity-v2\n{id}\n{name}\n{email}\n{expires}"`` (a missing name or
e-mail is an empty line) and sends it with ``user_expires`` (Unix seconds) when
starting a conversation: everything agents are shown as verified is signed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
import pytest

from bot.config import Limits
from bot.conversations.identity import sign_identity, sign_legacy_identity
from tests.conftest import shared_hub
from tests.hub import RunningHub, running_hub

SECRET = "site-secret-for-tests"


# One hub per database for the module; the settings tests start hubs of their own.
hub = shared_hub(
    identity_secret=SECRET, limits=Limits(conversations_per_ip_per_hour=1000)
)


async def start(hub: RunningHub, body: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{hub.url}/api/conversations", data=json.dumps(body)
        ) as response:
            return response.status, await response.json()


def signed(user_id: str = "u-42", expires_in: int = 600, **user: str) -> dict:
    expires = int(time.time()) + expires_in
    return {
        "user": {"id": user_id, **user},
        "user_hash": sign_identity(
            SECRET,
            user_id,
            expires,
            name=user.get("name", ""),
            email=user.get("email", ""),
        ),
        "user_expires": expires,
    }


async def test_a_valid_signature_marks_the_customer_verified(hub) -> None:
    body = signed(name="Ada Lovelace", email="ada@example.com")
    status, answer = await start(hub, body)
    assert status == 201
    stored = await hub.ctx.conversations.repository.get(answer["conversation_id"])
    assert stored is not None and stored.user_verified
    assert (stored.user_id, stored.user_name, stored.user_email) == (
        "u-42",
        "Ada Lovelace",
        "ada@example.com",
    )
    # The same user without a signature is kept, but not verified.
    status, answer = await start(hub, {"user": {"id": "u-42"}})
    stored = await hub.ctx.conversations.repository.get(answer["conversation_id"])
    assert status == 201 and stored is not None and not stored.user_verified


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda b: b["user"].update(id="u-43"), id="other user"),
        pytest.param(lambda b: b["user"].update(name="Mallory"), id="other name"),
        pytest.param(
            lambda b: b["user"].update(email="mallory@evil.example"), id="other email"
        ),
        pytest.param(lambda b: b["user"].pop("email"), id="email dropped"),
        pytest.param(lambda b: b.update(user_expires=b["user_expires"] + 1), id="exp"),
        pytest.param(
            lambda b: b.update(user_hash=sign_identity("guess", "u-42", 1)), id="key"
        ),
        pytest.param(lambda b: b.update(user_hash="0" * 64), id="zeros"),
    ],
)
async def test_a_forged_signature_is_refused(hub, forge) -> None:
    body = signed(name="Ada Lovelace", email="ada@example.com")
    forge(body)
    status, answer = await start(hub, body)
    assert status == 401 and answer["error"]["code"] == "identity_invalid"


async def test_an_expired_signature_is_refused(hub) -> None:
    status, answer = await start(hub, signed(expires_in=-5))
    assert status == 401 and answer["error"]["code"] == "identity_expired"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"user_hash": "not hex"}, id="hash not hex"),
        pytest.param({"user_hash": 5}, id="hash not text"),
        pytest.param({"user_expires": "tomorrow"}, id="expires not a number"),
        pytest.param({"user_expires": None}, id="no expiry"),
        pytest.param({"user": {"name": "no id"}}, id="no user id"),
        pytest.param({"user": {"id": "u-42\nAda"}}, id="line break in a signed field"),
    ],
)
async def test_malformed_identities_get_clear_errors(hub, change) -> None:
    status, answer = await start(hub, {**signed(), **change})
    assert status == 400 and answer["error"]["code"] == "bad_identity"
    assert answer["error"]["message"]


async def test_without_a_secret_signatures_are_refused(hub_settings) -> None:
    async with running_hub(hub_settings) as plain:
        status, answer = await start(plain, signed())
    assert status == 400 and answer["error"]["code"] == "identity_unavailable"


async def test_an_id_only_signature_does_not_vouch_for_the_name_and_email(
    hub,
) -> None:
    # The former recipe signs the id alone: whoever holds one valid signature
    # could put any name and e-mail beside it (and have recaps mailed there).
    expires = int(time.time()) + 600
    body = {
        "user": {"id": "u-42", "name": "Mallory", "email": "mallory@evil.example"},
        "user_hash": sign_legacy_identity(SECRET, "u-42", expires),
        "user_expires": expires,
    }
    status, answer = await start(hub, body)
    assert status == 201
    stored = await hub.ctx.conversations.repository.get(answer["conversation_id"])
    assert stored is not None and not stored.user_verified
    assert (stored.user_name, stored.user_email) == ("Mallory", "mallory@evil.example")
    # Nothing is mailed to the unverified address without the customer asking.
    conversation = await hub.ctx.conversations.authenticate(
        answer["conversation_id"], answer["token"]
    )
    await hub.ctx.conversations.post_customer_text(conversation, "hello", None)
    with pytest.raises(Exception) as refused:
        await hub.ctx.conversations.request_recap(conversation, None)
    assert getattr(refused.value, "code", "") == "bad_email"


async def test_an_id_only_signature_still_verifies_a_bare_id(hub) -> None:
    # Websites signed before the name and e-mail were covered keep working
    # when they send the id alone: the signature covers all that is shown.
    expires = int(time.time()) + 600
    body = {
        "user": {"id": "u-42"},
        "user_hash": sign_legacy_identity(SECRET, "u-42", expires),
        "user_expires": expires,
    }
    status, answer = await start(hub, body)
    stored = await hub.ctx.conversations.repository.get(answer["conversation_id"])
    assert status == 201 and stored is not None and stored.user_verified


#: A day past the cap, and the last second of year 9999 (seconds from now,
#: worked out in the test so that the test's id does not change with time).
@pytest.mark.parametrize("expires", ["25h", "year 9999"])
async def test_a_signature_living_past_the_cap_is_refused(hub, expires) -> None:
    expires_in = 25 * 3600 if expires == "25h" else 253402300799 - int(time.time())
    status, answer = await start(hub, signed(expires_in=expires_in))
    assert status == 401 and answer["error"]["code"] == "identity_too_long"
    assert "24" in answer["error"]["message"]


async def test_the_lifetime_cap_is_a_setting(hub_settings, database_url) -> None:
    settings = hub_settings.with_changes(
        database_url=database_url, identity_secret=SECRET, identity_max_hours=48
    )
    async with running_hub(settings) as longer:
        status, _ = await start(longer, signed(expires_in=25 * 3600))
    assert status == 201

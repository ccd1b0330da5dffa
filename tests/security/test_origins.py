"""Origins are compared with the hub's configured public origins, never ``Host``.

A page on ``evil.example`` whose name resolves to the hub (DNS rebinding)
sends ``Host: evil.example`` and ``Origin: http://evil.example``: the two
agree, so a check that trusts ``Host`` lets it start conversations, sign in
and open sockets. The hub's own origins are ``BATON_PUBLIC_URL`` (by default
``http://127.0.0.1:PORT`` and ``http://localhost:PORT``) plus
``BATON_ALLOWED_ORIGINS`` for the customer API.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from tests.bot.auth.test_auth_api import PASSWORD, login, new_account
from tests.conftest import shared_hub
from tests.hub import RunningHub, running_hub

EVIL = {"Host": "evil.example", "Origin": "http://evil.example"}


# One hub for the module; the public-URL test starts one of its own.
hub = shared_hub(on_databases=False, allowed_origins=("https://shop.example",))


async def post(
    hub: RunningHub, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any], Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            hub.url + path, data=json.dumps(body), headers=headers
        ) as response:
            return response.status, await response.json(), response.headers


async def socket_refusal(hub: RunningHub, path: str, headers: dict[str, str]) -> Any:
    """The first frame of a socket opened with ``headers`` (then closed)."""
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(hub.ws_url + path, headers=headers) as ws:
            frame = await ws.receive_json(timeout=10)
            await ws.receive(timeout=10)
            return frame, ws.close_code


async def test_a_rebound_host_cannot_start_a_conversation(hub) -> None:
    status, body, headers = await post(hub, "/api/conversations", {}, EVIL)
    assert status == 403 and body["error"]["code"] == "bad_origin"
    assert "Access-Control-Allow-Origin" not in headers


async def test_a_rebound_host_cannot_sign_in(hub) -> None:
    email = await new_account(hub)
    status, body, _ = await post(
        hub, "/api/auth/login", {"email": email, "password": PASSWORD}, EVIL
    )
    assert status == 403 and body["error"]["code"] == "bad_origin"


async def test_a_rebound_host_cannot_open_the_customer_socket(hub) -> None:
    conversation_id, token = await hub.new_conversation()
    frame, close_code = await socket_refusal(
        hub, f"/api/conversations/{conversation_id}/ws?token={token}", EVIL
    )
    assert frame["code"] == "bad_origin" and close_code == 4403


async def test_a_rebound_host_cannot_open_the_console_socket(hub) -> None:
    session, _ = await login(hub, await new_account(hub))
    frame, close_code = await socket_refusal(
        hub, "/api/agent/ws", {**EVIL, "Cookie": f"baton_session={session}"}
    )
    assert frame["code"] == "bad_origin" and close_code == 4403


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
async def test_the_hub_s_own_origins_are_allowed_by_default(hub, name) -> None:
    origin = f"http://{name}:{hub.settings.port}"
    status, _, headers = await post(
        hub,
        "/api/conversations",
        {},
        {"Host": f"{name}:{hub.settings.port}", "Origin": origin},
    )
    assert status == 201 and headers["Access-Control-Allow-Origin"] == origin
    email = await new_account(hub)
    status, _, _ = await post(
        hub,
        "/api/auth/login",
        {"email": email, "password": PASSWORD},
        {"Origin": origin},
    )
    assert status == 200


async def test_an_allowed_origin_may_use_the_customer_api_only(hub) -> None:
    shop = {"Origin": "https://shop.example"}
    status, _, _ = await post(hub, "/api/conversations", {}, shop)
    assert status == 201
    session, _ = await login(hub, await new_account(hub))
    frame, _ = await socket_refusal(
        hub, "/api/agent/ws", {**shop, "Cookie": f"baton_session={session}"}
    )
    assert frame["code"] == "bad_origin"


async def test_a_configured_public_url_replaces_the_default(hub_settings) -> None:
    settings = hub_settings.with_changes(public_url="https://support.example.com")
    async with running_hub(settings) as public:
        status, _, _ = await post(
            public,
            "/api/conversations",
            {},
            {"Host": "support.example.com", "Origin": "https://support.example.com"},
        )
        assert status == 201
        local = f"http://127.0.0.1:{settings.port}"
        status, body, _ = await post(
            public, "/api/conversations", {}, {"Origin": local}
        )
        assert status == 403 and body["error"]["code"] == "bad_origin"


def test_the_public_origins_follow_the_settings() -> None:
    assert Settings.from_env({"BATON_PORT": "8123"}).public_origins == (
        "http://127.0.0.1:8123",
        "http://localhost:8123",
    )
    assert Settings.from_env(
        {"BATON_PUBLIC_URL": "https://a.example/, https://b.example:8443/chat"}
    ).public_origins == ("https://a.example", "https://b.example:8443")


def near_misses(port: int) -> list[str]:
    """Origins that look like an allowed one but are not."""
    return [
        "null",  # a sandboxed frame, a file:// page
        f"http://127.0.0.1:{port}.evil.example",
        f"https://127.0.0.1:{port}",
        f"http://127.0.0.1:{port + 1}",
        f"http://localhost:{port}@evil.example",
        "http://shop.example",
        "https://shop.example.evil.example",
        "https://evil-shop.example",
    ]


@pytest.mark.parametrize("socket", ["customer", "console"])
async def test_near_miss_origins_cannot_open_either_socket(hub, socket) -> None:
    if socket == "customer":
        conversation_id, token = await hub.new_conversation()
        path, headers = f"/api/conversations/{conversation_id}/ws?token={token}", {}
    else:
        session, _ = await login(hub, await new_account(hub))
        path, headers = "/api/agent/ws", {"Cookie": f"baton_session={session}"}
    for origin in near_misses(hub.settings.port):
        frame, close_code = await socket_refusal(
            hub, path, {**headers, "Origin": origin}
        )
        assert (frame["code"], close_code) == ("bad_origin", 4403), origin

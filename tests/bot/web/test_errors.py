"""The error handler: JSON answers, and logs without the query string."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from sanic import Sanic
from sanic.request import Request

from bot.web import errors
from tests.conftest import served


@pytest.fixture
async def failing_app() -> AsyncIterator[str]:
    """A server whose WebSocket handler fails; yields its base ws:// URL."""
    app = Sanic(f"errors_{secrets.token_hex(4)}")
    errors.install(app)

    @app.websocket("/ws")
    async def broken(request: Request, ws: Any) -> None:
        raise RuntimeError("the handler failed")

    async with served(app) as port:
        yield f"ws://127.0.0.1:{port}"


async def test_a_failed_socket_handler_is_logged_without_its_token(
    failing_app: str, caplog
) -> None:
    token = secrets.token_urlsafe(16)
    caplog.set_level(logging.DEBUG)
    async with websockets.connect(f"{failing_app}/ws?token={token}") as ws:
        await ws.wait_closed()
    hub_records = [
        r for r in caplog.records if not r.name.startswith("websockets.client")
    ]
    failures = [r for r in hub_records if r.exc_info]
    assert failures, "the failure is logged"
    assert any("/ws" in r.getMessage() for r in failures)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in hub_records)
    assert token not in logged

"""Test helpers: a hub served in-process, and a customer client for it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import websockets

from bot.config import Settings
from bot.web.app import create_app
from bot.web.context import Hub


@dataclass
class RunningHub:
    """A hub listening on loopback."""

    settings: Settings
    app: Any

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}"

    @property
    def ctx(self) -> Hub:
        hub: Hub = self.app.ctx.hub
        return hub

    async def new_conversation(self, **body: Any) -> tuple[str, str]:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.url}/api/conversations", json=body) as r:
                assert r.status == 201, await r.text()
                data = await r.json()
        return data["conversation_id"], data["token"]

    def socket(
        self, conversation_id: str, token: str, after: int = 0, **kw: Any
    ) -> Any:
        url = (
            f"{self.ws_url}/api/conversations/{conversation_id}/ws"
            f"?token={token}&after={after}"
        )
        return websockets.connect(url, max_size=2**22, **kw)


@contextlib.asynccontextmanager
async def running_hub(settings: Settings) -> AsyncIterator[RunningHub]:
    """Serve a hub for ``settings`` until the block ends."""
    app = create_app(settings)
    server = await app.create_server(
        host=settings.host,
        port=settings.port,
        return_asyncio_server=True,
        access_log=False,
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield RunningHub(settings, app)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


async def receive_until(
    ws: Any, predicate: Any, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Collect frames until one satisfies ``predicate``; return them all."""
    frames: list[dict[str, Any]] = []

    async def collect() -> None:
        while True:
            frame = json.loads(await ws.recv())
            frames.append(frame)
            if predicate(frame):
                return

    await asyncio.wait_for(collect(), timeout)
    return frames


async def drain(ws: Any, quiet_s: float = 0.5) -> list[dict[str, Any]]:
    """Collect frames until none arrives for ``quiet_s`` seconds."""
    frames = []
    while True:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), quiet_s)))
        except asyncio.TimeoutError:
            return frames

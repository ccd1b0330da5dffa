"""``GET /health``: the status of every dependency."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.web.context import Hub

health = Blueprint("health")


async def _check(probe: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    try:
        detail = await asyncio.wait_for(probe(), timeout=3)
    except Exception as error:
        reason = getattr(error, "message", None) or type(error).__name__
        return {"status": "down", "error": str(reason)}
    result: dict[str, Any] = {"status": "ok"}
    if isinstance(detail, dict):
        result.update(detail)
    return result


async def dependency_status(hub: Hub) -> dict[str, dict[str, Any]]:
    """Check the database, the bus, Rasa and the action server concurrently."""

    async def database() -> dict[str, Any]:
        async with hub.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
        return {"backend": hub.engine.dialect.name}

    async def bus() -> dict[str, Any]:
        await hub.bus.ping()
        return {"backend": "redis" if hub.settings.redis_url else "in-process"}

    async def rasa() -> dict[str, Any]:
        status = await hub.assistant.rasa_status()
        if not status.get("model_id"):
            raise RuntimeError("no model loaded")
        return {"model": status.get("model_id")}

    names = ("database", "bus", "rasa", "action_server")
    probes = (database, bus, rasa, hub.assistant.action_server_status)
    results = await asyncio.gather(*(_check(probe) for probe in probes))
    return dict(zip(names, results, strict=True))


@health.get("/health")
async def health_check(request: Request) -> HTTPResponse:
    """200 when every dependency is up, 503 with the same body otherwise."""
    checks = await dependency_status(request.app.ctx.hub)
    healthy = all(check["status"] == "ok" for check in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return json(body, status=200 if healthy else 503)

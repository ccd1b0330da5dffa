"""``GET /health``: whether every dependency is up and ready to answer.

Ready means ready to answer in normal time, not merely listening: Rasa has a
model loaded and warmed up (the Baton channel's readiness,
:mod:`bot.assistant.channel`), and the action server has built the
knowledge-base index and loaded the sentence encoder (its ``/ready``,
:mod:`bot.actions_server`). Until then the answer is 503, with the reason;
``baton run`` prints "Baton is running" only after a 200.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.exceptions import DependencyUnavailable
from bot.web.context import Hub, hub_of

health = Blueprint("health")

#: Seconds a dependency may take to answer its check.
PROBE_TIMEOUT_S = 3.0


async def _check(probe: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    try:
        detail = await asyncio.wait_for(probe(), timeout=PROBE_TIMEOUT_S)
    except DependencyUnavailable as error:
        # Up but not ready yet ("starting") is not the same news as down.
        status = "starting" if error.code == "not_ready" else "down"
        return {"status": status, "error": error.message}
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
        return {"model": status.get("model_id")}

    async def action_server() -> dict[str, Any]:
        ready = await hub.assistant.action_server_status()
        return {"articles": ready.get("articles")}

    names = ("database", "bus", "rasa", "action_server")
    probes = (database, bus, rasa, action_server)
    results = await asyncio.gather(*(_check(probe) for probe in probes))
    return dict(zip(names, results, strict=True))


@health.get("/health")
async def health_check(request: Request) -> HTTPResponse:
    """200 when every dependency is ready, 503 with the same body and the reason."""
    checks = await dependency_status(hub_of(request))
    waiting = {name: c for name, c in checks.items() if c["status"] != "ok"}
    body: dict[str, Any] = {"status": "degraded" if waiting else "ok", "checks": checks}
    if waiting:
        body["reason"] = "; ".join(
            f"{name} {check['status']}: {check['error']}"
            for name, check in waiting.items()
        )
    return json(body, status=503 if waiting else 200)

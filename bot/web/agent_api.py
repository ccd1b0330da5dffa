"""The agent side of the public contract: queue, handoffs, replies, live socket.

Every route needs a console session with the ``agent`` role (admins pass
too; trainers get ``403``), and every state-changing request its CSRF token
(``bot.web.auth_api.require_agent``). Acting on a conversation somebody else
holds is a ``409`` that names who holds it, and changes nothing.

``WS /api/agent/ws`` checks the origin here, then hands the connection to
:func:`bot.web.agent_socket.serve_console`, which checks the session (its
frames are described there); the endpoints are described in
``bot/web/openapi.yaml``.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.auth import AgentRecord
from bot.conversations.service import dumps, message_frame
from bot.db.models import utcnow
from bot.exceptions import BadRequest, Conflict, Forbidden
from bot.handoff.card import handoff_view
from bot.handoff.presence import PresenceTracker
from bot.handoff.repository import HandoffRecord
from bot.web.agent_socket import CLOSE_BASE, serve_console
from bot.web.auth_api import SESSION_COOKIE, require_agent
from bot.web.bodies import json_object
from bot.web.context import Hub, hub_of
from bot.web.errors import error_frame
from bot.web.origins import is_hub_origin

agent_api = Blueprint("agent_api")


def _presence(app: Sanic) -> PresenceTracker:
    tracker: PresenceTracker = app.ctx.agent_presence
    return tracker


@agent_api.get("/api/queue")
async def queue(request: Request) -> HTTPResponse:
    """The live queue, most urgent first, with follow-ups and who holds what."""
    await require_agent(request, "agent")
    return json_response(await hub_of(request).handoffs.queue())


@agent_api.get("/api/handoffs/<handoff_id:int>")
async def handoff_card(request: Request, handoff_id: int) -> HTTPResponse:
    """The handoff card: who, the transcript, what the bot understood and did."""
    await require_agent(request, "agent")
    return json_response(await hub_of(request).handoffs.card(handoff_id))


@agent_api.post("/api/handoffs/<handoff_id:int>/claim")
async def claim(request: Request, handoff_id: int) -> HTTPResponse:
    """Take a waiting conversation; of many agents exactly one wins (409)."""
    agent = await require_agent(request, "agent")
    hub = hub_of(request)
    handoff = await hub.handoffs.claim(handoff_id, agent.id, agent.name)
    await _audit(hub, agent, "handoff.claim", handoff, {})
    return json_response({"handoff": handoff_view(handoff, utcnow())})


@agent_api.post("/api/handoffs/<handoff_id:int>/transfer")
async def transfer(request: Request, handoff_id: int) -> HTTPResponse:
    """Give a conversation you hold to a colleague (``{"agent_id": N}``)."""
    agent = await require_agent(request, "agent")
    target = json_object(request).get("agent_id")
    if isinstance(target, bool) or not isinstance(target, int):
        raise BadRequest("agent_id must be a whole number", code="bad_agent_id")
    hub = hub_of(request)
    await _owned(hub, handoff_id, agent.id)
    handoff = await hub.handoffs.transfer(handoff_id, agent.id, target)
    await _audit(hub, agent, "handoff.transfer", handoff, {"to_agent_id": target})
    return json_response({"handoff": handoff_view(handoff, utcnow())})


@agent_api.post("/api/handoffs/<handoff_id:int>/handback")
async def hand_back(request: Request, handoff_id: int) -> HTTPResponse:
    """Return a conversation you hold to the bot."""
    agent = await require_agent(request, "agent")
    hub = hub_of(request)
    await _owned(hub, handoff_id, agent.id)
    handoff = await hub.handoffs.hand_back(handoff_id, agent.id)
    await _audit(hub, agent, "handoff.handback", handoff, {})
    return json_response({"handoff": handoff_view(handoff, utcnow())})


@agent_api.post("/api/handoffs/<handoff_id:int>/resolve")
async def resolve(request: Request, handoff_id: int) -> HTTPResponse:
    """Close a conversation you hold with an outcome (``{"outcome": ...}``)."""
    agent = await require_agent(request, "agent")
    outcome = json_object(request).get("outcome")
    hub = hub_of(request)
    await _owned(hub, handoff_id, agent.id)
    handoff = await hub.handoffs.resolve(handoff_id, agent.id, str(outcome or ""))
    await _audit(hub, agent, "handoff.resolve", handoff, {"outcome": handoff.outcome})
    return json_response({"handoff": handoff_view(handoff, utcnow())})


async def _audit(
    hub: Hub,
    agent: AgentRecord,
    action: str,
    handoff: HandoffRecord,
    detail: dict[str, Any],
) -> None:
    """Record who changed a conversation's owner, for later review."""
    await hub.auth.repository.record_audit(
        agent.email,
        action,
        f"conversation:{handoff.conversation_id}",
        {"handoff_id": handoff.id, **detail},
    )


async def _owned(hub: Hub, handoff_id: int, agent_id: int) -> None:
    """Refuse, naming the holder, to act on a handoff someone else holds."""
    handoff = await hub.handoffs.require(handoff_id)
    if handoff.state != "claimed":
        raise Conflict(
            f"this conversation is {handoff.state.replace('_', ' ')}, not claimed",
            code="not_claimed",
        )
    await hub.handoffs.holding(handoff.conversation_id, agent_id)


@agent_api.post("/api/conversations/<conversation_id:str>/messages")
async def agent_reply(request: Request, conversation_id: str) -> HTTPResponse:
    """Reply to the customer of a conversation you hold.

    Body ``{"text", "client_id"}``; a retry with the same ``client_id`` is
    stored once (``200`` instead of ``201``).
    """
    agent = await require_agent(request, "agent")
    body = json_object(request)
    message, created = await hub_of(request).handoffs.reply(
        conversation_id, agent.id, agent.name, body.get("text"), body.get("client_id")
    )
    return json_response(
        {"message": message_frame(message)}, status=201 if created else 200
    )


@agent_api.post("/api/conversations/<conversation_id:str>/notes")
async def add_note(request: Request, conversation_id: str) -> HTTPResponse:
    """An internal note on a conversation you hold; never sent to the customer."""
    agent = await require_agent(request, "agent")
    note = await hub_of(request).handoffs.add_note(
        conversation_id,
        agent.id,
        json_object(request).get("text"),
        require_owner=agent.role != "admin",
    )
    return json_response({"note": note.public()}, status=201)


def _console_origin_ok(request: Request) -> bool:
    # The console is served by the hub itself: no other site may open an
    # agent socket with the agent's cookie.
    return is_hub_origin(request, hub_of(request).settings)


@agent_api.websocket("/api/agent/ws")
async def agent_socket(request: Request, ws: Any) -> None:
    """The console's live connection (see the module docstring)."""
    if not _console_origin_ok(request):
        error = Forbidden("this origin may not connect", code="bad_origin")
        await ws.send(dumps(error_frame(error)))
        await ws.close(code=CLOSE_BASE + error.status, reason=error.code)
        return
    await serve_console(
        ws,
        hub_of(request),
        request.cookies.get(SESSION_COOKIE),
        _presence(request.app),
    )

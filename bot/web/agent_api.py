"""The agent side of the public contract: queue, handoffs, replies, live socket.

Every route needs a console session with the ``agent`` role (admins pass
too; trainers get ``403``), and every state-changing request its CSRF token
(``bot.web.auth_api.require_agent``). Acting on a conversation somebody else
holds is a ``409`` that names who holds it, and changes nothing.

``WS /api/agent/ws`` pushes, as JSON frames:

- ``{"type": "hello", "agent": {...}}`` then a ``queue`` frame at once;
- ``{"type": "queue", "queue": [...], "claimed": [...], "agents_online": N}``
  whenever the queue changes on any hub instance;
- ``{"type": "watching", "conversation_id", "held", "after": SEQ}``: from now
  on every message of that conversation with ``seq > after`` arrives on this
  socket (earlier ones are in the handoff card);
- ``{"type": "message", "conversation_id", ...}`` (the customer wire frame
  plus the conversation id) for conversations waiting in the queue or held
  by this agent, and ``typing``, ``status`` and ``note`` frames for the held
  ones;
- ``{"type": "error", "code", "message"}`` before a close (``4401`` when the
  session ends or the agent signs out, ``4403`` for a wrong origin or role).

The client may send ``{"type": "typing", "conversation_id"}`` (shown to the
customer of a conversation it holds) and ``{"type": "ping"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from websockets.connection import State
from websockets.exceptions import ConnectionClosed

from bot.auth import AgentRecord, Principal, require_role
from bot.bus import AGENTS_CHANNEL, RESYNC, Subscription, conversation_channel
from bot.conversations.service import dumps, message_frame
from bot.db.models import utcnow
from bot.exceptions import BadRequest, BatonError, Conflict, Forbidden, Unauthorized
from bot.handoff.card import handoff_view
from bot.handoff.presence import Console, PresenceTracker
from bot.handoff.repository import HandoffRecord
from bot.web.auth_api import SESSION_COOKIE, require_agent
from bot.web.bodies import json_object, parse_json
from bot.web.context import Hub
from bot.web.errors import error_frame
from bot.web.openapi_parts import CSRF_HEADER, SESSION, error_responses
from bot.web.origins import is_hub_origin

logger = logging.getLogger(__name__)

agent_api = Blueprint("agent_api")

#: How often an open agent socket re-checks its session (logout, expiry).
SESSION_CHECK_S = 5.0
_CLOSE_BASE = 4000
_MAX_FRAME_BYTES = 16 * 1024


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.ctx.hub
    return hub


def _presence(app: Sanic) -> PresenceTracker:
    tracker: PresenceTracker = app.ctx.agent_presence
    return tracker


def _is_open(ws: Any) -> Callable[[], bool]:
    """Whether the socket's connection is still open, from its protocol state.

    Sanic wakes a pending ``recv`` when a close frame or an end of stream
    arrives, but not when the connection is lost otherwise (a reset, a failed
    keep-alive ping) nor when ``recv`` starts after the close; the state is
    what tells.
    """
    return lambda: ws.connection.state is State.OPEN


@agent_api.get("/api/queue")
async def queue(request: Request) -> HTTPResponse:
    """The live queue, most urgent first, with follow-ups and who holds what."""
    await require_agent(request, "agent")
    return json_response(await _hub(request).handoffs.queue())


@agent_api.get("/api/handoffs/<handoff_id:int>")
async def handoff_card(request: Request, handoff_id: int) -> HTTPResponse:
    """The handoff card: who, the transcript, what the bot understood and did."""
    await require_agent(request, "agent")
    return json_response(await _hub(request).handoffs.card(handoff_id))


@agent_api.post("/api/handoffs/<handoff_id:int>/claim")
async def claim(request: Request, handoff_id: int) -> HTTPResponse:
    """Take a waiting conversation; of many agents exactly one wins (409)."""
    agent = await require_agent(request, "agent")
    hub = _hub(request)
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
    hub = _hub(request)
    await _owned(hub, handoff_id, agent.id)
    handoff = await hub.handoffs.transfer(handoff_id, agent.id, target)
    await _audit(hub, agent, "handoff.transfer", handoff, {"to_agent_id": target})
    return json_response({"handoff": handoff_view(handoff, utcnow())})


@agent_api.post("/api/handoffs/<handoff_id:int>/handback")
async def hand_back(request: Request, handoff_id: int) -> HTTPResponse:
    """Return a conversation you hold to the bot."""
    agent = await require_agent(request, "agent")
    hub = _hub(request)
    await _owned(hub, handoff_id, agent.id)
    handoff = await hub.handoffs.hand_back(handoff_id, agent.id)
    await _audit(hub, agent, "handoff.handback", handoff, {})
    return json_response({"handoff": handoff_view(handoff, utcnow())})


@agent_api.post("/api/handoffs/<handoff_id:int>/resolve")
async def resolve(request: Request, handoff_id: int) -> HTTPResponse:
    """Close a conversation you hold with an outcome (``{"outcome": ...}``)."""
    agent = await require_agent(request, "agent")
    outcome = json_object(request).get("outcome")
    hub = _hub(request)
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
    message, created = await _hub(request).handoffs.reply(
        conversation_id, agent.id, agent.name, body.get("text"), body.get("client_id")
    )
    return json_response(
        {"message": message_frame(message)}, status=201 if created else 200
    )


@agent_api.post("/api/conversations/<conversation_id:str>/notes")
async def add_note(request: Request, conversation_id: str) -> HTTPResponse:
    """An internal note on a conversation you hold; never sent to the customer."""
    agent = await require_agent(request, "agent")
    note = await _hub(request).handoffs.add_note(
        conversation_id,
        agent.id,
        json_object(request).get("text"),
        require_owner=agent.role != "admin",
    )
    return json_response({"note": note.public()}, status=201)


def _console_origin_ok(request: Request) -> bool:
    # The console is served by the hub itself: no other site may open an
    # agent socket with the agent's cookie.
    return is_hub_origin(request, _hub(request).settings)


@agent_api.websocket("/api/agent/ws")
async def agent_socket(request: Request, ws: Any) -> None:
    """The console's live connection (see the module docstring)."""
    hub = _hub(request)
    token = request.cookies.get(SESSION_COOKIE)
    try:
        if not _console_origin_ok(request):
            raise Forbidden("this origin may not connect", code="bad_origin")
        principal = await hub.auth.authenticate(token)
        require_role(principal.agent, "agent")
    except BatonError as error:
        await ws.send(dumps(error_frame(error)))
        await ws.close(code=_CLOSE_BASE + error.status, reason=error.code)
        return
    presence = _presence(request.app)
    console = Console(principal.agent.id, _is_open(ws))
    socket = AgentSocket(ws, hub, principal, token or "", presence, console)
    try:
        await presence.connected(console, principal.agent)
        await socket.run()
    finally:
        await presence.disconnected(console)


class _Watch:
    """One conversation this socket forwards, with the last seq it sent."""

    def __init__(self, last_seq: int, held: bool) -> None:
        self.last_seq = last_seq
        self.held = held
        self.task: asyncio.Task[None] | None = None


class AgentSocket:
    """Serves one agent's console socket."""

    def __init__(
        self,
        ws: Any,
        hub: Hub,
        principal: Principal,
        token: str,
        presence: PresenceTracker,
        console: Console,
    ) -> None:
        self.ws = ws
        self.hub = hub
        self.principal = principal
        self.agent = principal.agent
        self.token = token
        self.presence = presence
        self.console = console
        self._send_lock = asyncio.Lock()
        self._watches: dict[str, _Watch] = {}
        self._refresh_dirty = False
        self._refresh_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame; frames never interleave."""
        async with self._send_lock:
            await self.ws.send(dumps(frame))

    async def run(self) -> None:
        """Serve until the agent closes the socket or the session ends."""
        loop = asyncio.get_running_loop()
        async with self.hub.bus.subscribe(AGENTS_CHANNEL) as events:
            await self.send({"type": "hello", "agent": self.agent.public()})
            await self._refresh()
            tasks = [
                loop.create_task(self._pump_agents(events)),
                loop.create_task(self._check_session()),
                loop.create_task(self._receive()),
            ]
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._closed.set()
                for task in tasks:
                    task.cancel()
                for watch in self._watches.values():
                    if watch.task is not None:
                        watch.task.cancel()
                if self._refresh_task is not None:
                    self._refresh_task.cancel()
                pending = [t for t in tasks if not t.done()]
                pending += [w.task for w in self._watches.values() if w.task]
                if self._refresh_task is not None:
                    pending.append(self._refresh_task)
                for task in pending:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _pump_agents(self, events: Subscription) -> None:
        async for event in events:
            kind = event.get("type")
            try:
                if kind in {"queue", "presence", "resync"}:
                    self._schedule_refresh()
                elif kind == "note":
                    watch = self._watches.get(str(event.get("conversation_id")))
                    if watch is not None and watch.held:
                        await self.send(event)
            except ConnectionClosed:
                return

    def _schedule_refresh(self) -> None:
        """Recompute the queue soon; a burst of changes costs one query."""
        self._refresh_dirty = True
        if self._refresh_task is None or self._refresh_task.done():
            self._refresh_task = asyncio.get_running_loop().create_task(
                self._refresh_loop()
            )

    async def _refresh_loop(self) -> None:
        while self._refresh_dirty and not self._closed.is_set():
            self._refresh_dirty = False
            await asyncio.sleep(0)
            try:
                await self._refresh()
            except ConnectionClosed:
                return
            except Exception:
                logger.exception("agent socket: queue refresh failed")

    async def _refresh(self) -> None:
        """Send the queue and watch exactly the conversations it shows."""
        snapshot = await self.hub.handoffs.queue()
        wanted = {entry["conversation_id"]: False for entry in snapshot["queue"]}
        for entry in snapshot["claimed"]:
            if (entry["agent"] or {}).get("id") == self.agent.id:
                wanted[entry["conversation_id"]] = True
        for conversation_id in list(self._watches):
            if conversation_id not in wanted:
                dropped = self._watches.pop(conversation_id)
                if dropped.task is not None:
                    dropped.task.cancel()
        await self.send({"type": "queue", **snapshot})
        for conversation_id, held in wanted.items():
            watch = self._watches.get(conversation_id)
            if watch is None:
                await self._watch(conversation_id, held)
            elif watch.held != held:
                watch.held = held
                await self._announce_watch(conversation_id, watch)

    async def _watch(self, conversation_id: str, held: bool) -> None:
        # Read the last seq before subscribing, catch up right after: nothing
        # stored in between is lost, and the seq check drops duplicates.
        conversation = await self.hub.conversations.get(conversation_id)
        if conversation is None:
            return
        watch = _Watch(conversation.last_seq, held)
        self._watches[conversation_id] = watch
        await self._announce_watch(conversation_id, watch)
        ready = asyncio.Event()
        watch.task = asyncio.get_running_loop().create_task(
            self._pump_conversation(conversation_id, watch, ready)
        )
        await ready.wait()

    async def _announce_watch(self, conversation_id: str, watch: _Watch) -> None:
        await self.send(
            {
                "type": "watching",
                "conversation_id": conversation_id,
                "held": watch.held,
                "after": watch.last_seq,
            }
        )

    async def _pump_conversation(
        self, conversation_id: str, watch: _Watch, ready: asyncio.Event
    ) -> None:
        try:
            async with self.hub.bus.subscribe(
                conversation_channel(conversation_id)
            ) as events:
                ready.set()
                await self._catch_up(conversation_id, watch)
                async for event in events:
                    await self._forward(conversation_id, watch, event)
        except ConnectionClosed:
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("agent socket: conversation pump failed")
        finally:
            ready.set()

    async def _forward(
        self, conversation_id: str, watch: _Watch, event: dict[str, Any]
    ) -> None:
        kind = event.get("type")
        if event is RESYNC or kind == "resync":
            await self._catch_up(conversation_id, watch)
        elif kind == "message":
            seq = int(event.get("seq", 0))
            if seq <= watch.last_seq:
                return
            if seq > watch.last_seq + 1:
                await self._catch_up(conversation_id, watch)
                return
            watch.last_seq = seq
            await self.send({**event, "conversation_id": conversation_id})
        elif watch.held and kind in {"typing", "status"}:
            if kind == "typing" and event.get("role") == "agent":
                return
            await self.send({**event, "conversation_id": conversation_id})

    async def _catch_up(self, conversation_id: str, watch: _Watch) -> None:
        missed = await self.hub.conversations.messages_after(
            conversation_id, watch.last_seq
        )
        for message in missed:
            if message.seq <= watch.last_seq:
                continue
            watch.last_seq = message.seq
            await self.send(
                {**message_frame(message), "conversation_id": conversation_id}
            )

    async def _check_session(self) -> None:
        """Close the socket when the session ends (logout, expiry, disabled).

        Also ends the handler when the connection is gone although no pending
        ``recv`` was told (see :func:`_is_open`).
        """
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            if not self.console.is_open():
                return
            try:
                principal = await self.hub.auth.authenticate(self.token)
                require_role(principal.agent, "agent")
            except (Unauthorized, Forbidden) as error:
                with contextlib.suppress(ConnectionClosed):
                    await self.send(error_frame(error))
                    await self.ws.close(
                        code=_CLOSE_BASE + error.status, reason=error.code
                    )
                return
            self.principal = principal
            await self.presence.still_connected(principal.agent)

    async def _receive(self) -> None:
        while True:
            try:
                raw = await self.ws.recv()
            except ConnectionClosed:
                return
            if raw is None:
                continue
            try:
                await self._handle(raw)
            except BatonError as error:
                await self.send(error_frame(error))
            except ConnectionClosed:
                return
            except Exception:
                logger.exception("failed to handle an agent frame")
                await self.send(
                    {
                        "type": "error",
                        "code": "internal_error",
                        "message": "something went wrong on our side; please retry",
                    }
                )

    async def _handle(self, raw: str | bytes) -> None:
        if len(raw) > _MAX_FRAME_BYTES:
            raise BadRequest("the frame is too large", code="too_large")
        frame = parse_json(raw, "frame")
        if not isinstance(frame, dict):
            raise BadRequest('a frame is a JSON object with a "type"')
        kind = frame.get("type")
        # Activity on the console keeps the session from going idle.
        await self.hub.auth.touch(self.principal)
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "typing":
            conversation_id = str(frame.get("conversation_id") or "")
            watch = self._watches.get(conversation_id)
            if watch is None or not watch.held:
                raise BadRequest(
                    "you can only type in a conversation you hold", code="not_owner"
                )
            await self.hub.conversations.announce_typing(conversation_id, "agent")
        else:
            raise BadRequest(f"unknown frame type {kind!r}", code="unknown_type")


def _operation(
    summary: str,
    *,
    description: str = "",
    body: dict[str, Any] | None = None,
    ok: str = "200",
    errors: tuple[int, ...] = (401, 403, 404, 409),
    unsafe: bool = True,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": SESSION,
        "responses": {
            ok: {"description": "done", "content": {"application/json": {}}},
            **error_responses(*errors),
        },
    }
    if description:
        operation["description"] = description
    if unsafe:
        operation["parameters"] = [CSRF_HEADER]
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def add_agent_paths(document: dict[str, Any]) -> dict[str, Any]:
    """Add the agent endpoints to the OpenAPI ``document`` (in place)."""
    handoff_id = {
        "name": "handoff_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    conversation_id = {
        "name": "conversation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }

    def on_handoff(operation: dict[str, Any]) -> dict[str, Any]:
        return {
            **operation,
            "parameters": [handoff_id, *operation.get("parameters", [])],
        }

    def on_conversation(operation: dict[str, Any]) -> dict[str, Any]:
        parameters = [conversation_id, *operation.get("parameters", [])]
        return {**operation, "parameters": parameters}

    text_body = {
        "type": "object",
        "required": ["text"],
        "properties": {"text": {"type": "string"}, "client_id": {"type": "string"}},
    }
    paths = document.setdefault("paths", {})
    additions: dict[str, dict[str, Any]] = {
        "/api/queue": {
            "get": _operation(
                "The live queue (agents and admins)",
                description="Waiting handoffs and follow-ups, most urgent first "
                "(priority, waiting time, promised times), each with its reason, "
                "wait, summary, place in line and ETA, or due time, overdue flag "
                "and owner (unowned while no account can take chats); the "
                "handoffs agents hold; how many agents are online; and how many "
                "follow-ups have no owner.",
                errors=(401, 403),
                unsafe=False,
            )
        },
        "/api/handoffs/{handoff_id}": {
            "get": on_handoff(
                _operation(
                    "The handoff card",
                    description="Customer, transcript, per-turn intent and "
                    "confidence, slots, entities, KB articles shown and whether "
                    "they helped, bot actions, sentiment over time, reason, "
                    "summary, wait, internal notes.",
                    errors=(401, 403, 404),
                    unsafe=False,
                )
            )
        },
        "/api/handoffs/{handoff_id}/claim": {
            "post": on_handoff(
                _operation(
                    "Take a waiting conversation",
                    description="Exactly one of many agents wins; the others get "
                    "409 already_claimed naming who has it.",
                )
            )
        },
        "/api/handoffs/{handoff_id}/transfer": {
            "post": on_handoff(
                _operation(
                    "Give a conversation you hold to a colleague",
                    body={
                        "type": "object",
                        "required": ["agent_id"],
                        "properties": {"agent_id": {"type": "integer"}},
                    },
                    errors=(400, 401, 403, 404, 409),
                )
            )
        },
        "/api/handoffs/{handoff_id}/handback": {
            "post": on_handoff(_operation("Hand a conversation you hold to the bot"))
        },
        "/api/handoffs/{handoff_id}/resolve": {
            "post": on_handoff(
                _operation(
                    "Close a conversation you hold with an outcome",
                    body={
                        "type": "object",
                        "required": ["outcome"],
                        "properties": {
                            "outcome": {
                                "type": "string",
                                "enum": [
                                    "solved",
                                    "not_solved",
                                    "duplicate",
                                    "spam",
                                    "follow_up_sent",
                                ],
                            }
                        },
                    },
                    errors=(400, 401, 403, 404, 409),
                )
            )
        },
        "/api/conversations/{conversation_id}/messages": {
            "post": on_conversation(
                _operation(
                    "Reply to the customer of a conversation you hold",
                    description="Stored with the next seq and delivered to the "
                    "customer with the agent's name; a retry with the same "
                    "client_id is stored once (200 instead of 201).",
                    body=text_body,
                    ok="201",
                    errors=(400, 401, 403, 404, 409, 413),
                )
            )
        },
        "/api/conversations/{conversation_id}/notes": {
            "post": on_conversation(
                _operation(
                    "An internal note; never sent to the customer",
                    body=text_body,
                    ok="201",
                    errors=(400, 401, 403, 404, 409),
                )
            )
        },
    }
    for path, operations in additions.items():
        paths.setdefault(path, {}).update(operations)
    return document

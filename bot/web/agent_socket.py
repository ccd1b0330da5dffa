"""The agent console's live socket, ``WS /api/agent/ws``, once it is accepted.

It pushes, as JSON frames:

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
- ``{"type": "follow_up_reminder", "follow_up_id", "conversation_id",
  "agent_id", "agent_name", "due_at", "summary"}`` to the follow-up's owner
  shortly before it is due, and ``follow_up_overdue`` (same fields) to admins
  and the owner once it is overdue (:mod:`bot.promises`);
- ``{"type": "queue_left", "conversation_id", "handoff_id", "reason":
  "customer_left", "follow_up", "summary", "at"}`` when a customer stops
  waiting in the live queue (``follow_up``: they kept a follow-up instead);
- ``{"type": "error", "code", "message"}`` before a close (``4401`` when the
  session ends or the agent signs out, ``4403`` for a wrong origin or role);
- ``{"type": "error", "code": "unavailable", ...}`` without a close while the
  database is down, once per outage: the socket stays open, and once the
  database is back the console gets what it missed (the ``hello`` and
  ``queue`` of a console that connected during the outage).

The client may send ``{"type": "typing", "conversation_id"}`` (shown to the
customer of a conversation it holds) and ``{"type": "ping"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from websockets.connection import State
from websockets.exceptions import ConnectionClosed

from bot.auth import Principal, require_role
from bot.bus import AGENTS_CHANNEL, RESYNC, Subscription, conversation_channel
from bot.contract import INTERNAL_ERROR_FRAME
from bot.conversations.service import dumps, message_frame
from bot.exceptions import (
    BadRequest,
    BatonError,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
)
from bot.handoff.presence import Console, PresenceTracker
from bot.promises import OVERDUE_EVENT, QUEUE_LEFT_EVENT, REMINDER_EVENT
from bot.web.bodies import parse_json
from bot.web.context import Hub
from bot.web.errors import database_unavailable, error_frame

logger = logging.getLogger(__name__)

#: How often an open agent socket re-checks its session (logout, expiry).
SESSION_CHECK_S = 5.0
#: Close codes are this plus the HTTP status of the error (4401, 4403).
CLOSE_BASE = 4000
_MAX_FRAME_BYTES = 16 * 1024
#: While the database is down, the first pause between attempts (doubling).
RETRY_FIRST_S = 0.5
#: ... and the longest: how late a console may learn the database is back.
RETRY_MAX_S = 4.0

T = TypeVar("T")


def is_open(ws: Any) -> Callable[[], bool]:
    """Whether the socket's connection is still open, from its protocol state.

    Sanic wakes a pending ``recv`` when a close frame or an end of stream
    arrives, but not when the connection is lost otherwise (a reset, a failed
    keep-alive ping) nor when ``recv`` starts after the close; the state is
    what tells.
    """
    return lambda: ws.connection.state is State.OPEN


class Outage:
    """Waits out a database outage on behalf of one console socket.

    The console is told ``unavailable`` once per outage (not at each
    attempt) and the work is tried again, with growing pauses, until the
    database answers or the socket closes.
    """

    def __init__(
        self,
        send: Callable[[dict[str, Any]], Awaitable[None]],
        still_open: Callable[[], bool],
    ) -> None:
        self.send = send
        self.still_open = still_open
        self.told = False

    async def outlast(self, operation: Callable[[], Awaitable[T]]) -> T:
        """The result of ``operation``, once the database lets it finish.

        Raises:
            ConnectionClosed: The connection was lost meanwhile.
            Exception: Whatever else ``operation`` raises.
        """
        pause = RETRY_FIRST_S
        while True:
            try:
                result = await operation()
            except Exception as error:
                unavailable = database_unavailable(error)
                if unavailable is None:
                    raise
                if not self.still_open():
                    raise ConnectionClosed(None, None) from error
                if not self.told:
                    logger.warning("agent socket: waiting for the database: %s", error)
                    self.told = True
                    await self.send(error_frame(unavailable))
                await asyncio.sleep(pause)
                pause = min(RETRY_MAX_S, pause * 2)
            else:
                self.told = False
                return result


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
        self.outage = Outage(self.send, console.is_open)

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame; frames never interleave."""
        async with self._send_lock:
            await self.ws.send(dumps(frame))

    async def run(self) -> None:
        """Serve until the agent closes the socket or the session ends."""
        loop = asyncio.get_running_loop()
        async with self.hub.bus.subscribe(AGENTS_CHANNEL) as events:
            await self.send({"type": "hello", "agent": self.agent.public()})
            try:
                await self._refresh()
            except Exception as error:
                if database_unavailable(error) is None:
                    raise
                # The database went down since the session was read: the
                # queue comes when it is back.
                self._schedule_refresh()
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
                elif kind == REMINDER_EVENT:
                    if event.get("agent_id") == self.agent.id:
                        await self.send(event)
                elif kind == OVERDUE_EVENT:
                    if self.agent.role == "admin" or event.get("agent_id") == (
                        self.agent.id
                    ):
                        await self.send(event)
                elif kind == QUEUE_LEFT_EVENT:
                    await self.send(event)
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
                await self.outage.outlast(self._refresh)
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
        """Send what was stored after the last message sent, once readable."""
        missed = await self.outage.outlast(
            lambda: self.hub.conversations.messages_after(
                conversation_id, watch.last_seq
            )
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
                self.principal = principal
                await self.presence.still_connected(principal.agent)
            except (Unauthorized, Forbidden) as error:
                with contextlib.suppress(ConnectionClosed):
                    await self.send(error_frame(error))
                    await self.ws.close(
                        code=CLOSE_BASE + error.status, reason=error.code
                    )
                return
            except Exception as error:
                if database_unavailable(error) is None:
                    raise
                # A database restart is no reason to drop every console: the
                # session is checked again at the next round.
                logger.warning("agent socket: session check postponed: %s", error)

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
            except Exception as error:
                unavailable = database_unavailable(error)
                if unavailable is None:
                    logger.exception("failed to handle an agent frame")
                    await self.send(dict(INTERNAL_ERROR_FRAME))
                    continue
                # Retryable, as the HTTP side answers it (503 "unavailable").
                logger.warning("database unavailable for an agent frame: %s", error)
                await self.send(error_frame(unavailable))

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
            if not await self._holds(conversation_id):
                raise BadRequest(
                    "you can only type in a conversation you hold", code="not_owner"
                )
            await self.hub.conversations.announce_typing(conversation_id, "agent")
        else:
            raise BadRequest(f"unknown frame type {kind!r}", code="unknown_type")

    async def _holds(self, conversation_id: str) -> bool:
        """Whether this agent holds the conversation now.

        The watch says so once the queue has been refreshed; an agent who
        types the moment their claim returns is ahead of that refresh, so
        the handoffs are asked, as for a reply.
        """
        watch = self._watches.get(conversation_id)
        if watch is not None and watch.held:
            return True
        try:
            await self.hub.handoffs.holding(conversation_id, self.agent.id)
        except (Conflict, NotFound):
            return False
        return True


async def serve_console(
    ws: Any, hub: Hub, token: str | None, presence: PresenceTracker
) -> None:
    """Admit the agent whose session ``token`` is, then serve their console.

    A database outage neither refuses nor closes a console that connects
    during it: the session is read, and the console served, once the
    database is back.
    """
    admission = Outage(lambda frame: ws.send(dumps(frame)), is_open(ws))
    try:
        principal = await admission.outlast(lambda: hub.auth.authenticate(token))
        require_role(principal.agent, "agent")
    except BatonError as error:
        await ws.send(dumps(error_frame(error)))
        await ws.close(code=CLOSE_BASE + error.status, reason=error.code)
        return
    except ConnectionClosed:
        return
    console = Console(principal.agent.id, is_open(ws))
    socket = AgentSocket(ws, hub, principal, token or "", presence, console)
    try:
        await socket.outage.outlast(
            lambda: presence.connected(console, principal.agent)
        )
        await socket.run()
    except ConnectionClosed:
        return
    finally:
        await presence.disconnected(console)

"""The customer side of the public contract: conversations, history, WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from websockets.exceptions import ConnectionClosed

from bot.auth.service import mask_email
from bot.bus import AGENTS_CHANNEL, conversation_channel
from bot.contract import INTERNAL_ERROR_FRAME
from bot.conversations.repository import ConversationRecord
from bot.conversations.service import dumps, message_frame
from bot.exceptions import BadRequest, BatonError, Forbidden, PayloadTooLarge
from bot.mail import OutboxRecord
from bot.web.bodies import json_object, parse_json, whole_number
from bot.web.context import Hub, hub_of
from bot.web.errors import database_unavailable, error_frame
from bot.web.origins import origin_allowed

logger = logging.getLogger(__name__)

customer = Blueprint("customer", url_prefix="/api/conversations")

#: WebSocket close codes: 4000 + the HTTP status of the error.
_CLOSE_BASE = 4000
_TYPING_INTERVAL_S = 2.0
#: A queued customer's place in line and wait are recomputed at every change
#: of the queue (claims, new handoffs, agents coming and going, on any hub),
#: and at the latest this often, so a missed event costs seconds, not the wait.
STATUS_REFRESH_S = 10.0


def client_address(request: Request) -> str:
    """The customer's address (behind a trusted proxy: the forwarded one)."""
    return str(request.remote_addr or request.ip or "unknown")


def parse_after(raw: str | None) -> int:
    """Parse the ``after`` sequence number of a resume or history request."""
    return whole_number(raw, "after", default=0) or 0


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def customer_conversation(
    request: Request, conversation_id: str, *, may_not: str | None = None
) -> ConversationRecord:
    """The conversation a customer's request names, its bearer token checked.

    Args:
        request: The customer's request.
        conversation_id: The conversation in its path.
        may_not: For a request that changes something, what it does, said
            when the request's origin is not allowed ("this origin may not
            ..."); the origin is not checked when ``None``.

    Raises:
        Forbidden: ``bad_origin``.
        Unauthorized: A missing or wrong token.
        NotFound: No such conversation.
    """
    hub = hub_of(request)
    if may_not is not None and not origin_allowed(request, hub.settings):
        raise Forbidden(f"this origin may not {may_not}", code="bad_origin")
    return await hub.conversations.authenticate(conversation_id, _bearer(request))


@customer.post("")
async def create_conversation(request: Request) -> HTTPResponse:
    """Start a conversation; returns its id and bearer token."""
    hub = hub_of(request)
    if not origin_allowed(request, hub.settings):
        raise Forbidden("this origin may not start conversations", code="bad_origin")
    body = json_object(request)
    await hub.new_conversation_limiter.take(client_address(request))
    conversation, token = await hub.conversations.create(body)
    return json_response(
        {"conversation_id": conversation.id, "token": token}, status=201
    )


@customer.get("/<conversation_id:str>/messages")
async def list_messages(request: Request, conversation_id: str) -> HTTPResponse:
    """Messages after ``after`` and the current status."""
    hub = hub_of(request)
    after = parse_after(request.args.get("after"))
    conversation = await customer_conversation(request, conversation_id)
    return json_response(
        {
            "messages": await hub.conversations.history(conversation.id, after),
            "status": await hub.handoffs.status(conversation),
        }
    )


@customer.post("/<conversation_id:str>/recap")
async def request_recap(request: Request, conversation_id: str) -> HTTPResponse:
    """Mail the customer a recap of the conversation (``{"email": "..."}``)."""
    conversation = await customer_conversation(
        request, conversation_id, may_not="ask for recaps"
    )
    mail = await hub_of(request).conversations.request_recap(
        conversation, json_object(request).get("email")
    )
    return json_response(_recap_frame(mail), status=202)


def _recap_frame(mail: OutboxRecord) -> dict[str, Any]:
    """What the customer is told about their recap (the address masked)."""
    return {"type": "recap", "status": mail.status, "email": mask_email(mail.recipient)}


class _Outbox:
    """Sends frames to one socket in order, each message exactly once."""

    def __init__(self, ws: Any, hub: Hub, conversation_id: str, after: int) -> None:
        self.ws = ws
        self.hub = hub
        self.conversation_id = conversation_id
        self.last_seq = after
        self.last_status: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.ws.send(dumps(frame))
            if frame.get("type") == "status":
                self.last_status = frame

    async def refresh_status(self) -> None:
        """Send the status again if it changed (a queued customer's place)."""
        conversation = await self.hub.conversations.get(self.conversation_id)
        if conversation is None:
            return
        frame = await self.hub.handoffs.status(conversation)
        if frame != self.last_status:
            await self.send(frame)

    async def deliver(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "resync":
            await self.catch_up()
            conversation = await self.hub.conversations.get(self.conversation_id)
            if conversation is not None:
                await self.send(await self.hub.handoffs.status(conversation))
        elif kind == "message":
            seq = int(event.get("seq", 0))
            if seq <= self.last_seq:
                return
            if seq > self.last_seq + 1:
                await self.catch_up()
                return
            async with self._lock:
                await self.ws.send(dumps(event))
                self.last_seq = seq
        elif kind == "typing" and event.get("role") == "customer":
            return
        else:
            await self.send(event)

    async def catch_up(self) -> None:
        async with self._lock:
            missed = await self.hub.conversations.messages_after(
                self.conversation_id, self.last_seq
            )
            for message in missed:
                await self.ws.send(dumps(message_frame(message)))
                self.last_seq = message.seq


@customer.websocket("/<conversation_id:str>/ws")
async def conversation_socket(request: Request, ws: Any, conversation_id: str) -> None:
    """The customer's live connection: receive frames, push messages and status."""
    hub = hub_of(request)
    try:
        if not origin_allowed(request, hub.settings):
            raise Forbidden("this origin may not connect", code="bad_origin")
        after = parse_after(request.args.get("after"))
        conversation = await hub.conversations.authenticate(
            conversation_id, request.args.get("token")
        )
    except BatonError as error:
        await ws.send(dumps(error_frame(error)))
        await ws.close(code=_CLOSE_BASE + error.status, reason=error.code)
        return
    async with hub.bus.subscribe(conversation_channel(conversation.id)) as events:
        outbox = _Outbox(ws, hub, conversation.id, after)
        await outbox.catch_up()
        await outbox.send(await hub.handoffs.status(conversation))
        loop = asyncio.get_running_loop()
        tasks = [
            loop.create_task(_pump(events, outbox)),
            loop.create_task(_refresh_while_queued(hub, outbox)),
        ]
        try:
            await _receive(ws, hub, conversation, outbox, request)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


async def _pump(events: Any, outbox: _Outbox) -> None:
    async for event in events:
        try:
            await outbox.deliver(event)
        except ConnectionClosed:
            return


async def _refresh_while_queued(hub: Hub, outbox: _Outbox) -> None:
    async with hub.bus.subscribe(AGENTS_CHANNEL) as queue_changes:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await queue_changes.get(timeout=STATUS_REFRESH_S)
            if outbox.last_status.get("state") == "queued":
                if not await _refresh(outbox):
                    return


async def _refresh(outbox: _Outbox) -> bool:
    """Send a queued customer their new place; ``False`` once they are gone."""
    try:
        await outbox.refresh_status()
    except ConnectionClosed:
        return False
    except Exception:
        logger.warning("could not refresh a queued customer's status", exc_info=True)
    return True


async def _receive(
    ws: Any,
    hub: Hub,
    conversation: ConversationRecord,
    outbox: _Outbox,
    ws_request: Request,
) -> None:
    limits = hub.settings.limits
    address = client_address(ws_request)
    last_typing = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            raw = await ws.recv()
        except ConnectionClosed:
            return
        if raw is None:
            continue
        client_id = None
        try:
            if len(raw) > limits.max_frame_bytes:
                raise PayloadTooLarge(
                    f"frames are limited to {limits.max_frame_bytes} bytes"
                )
            frame = parse_json(raw, "frame")
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise BadRequest('a frame is a JSON object with a "type"')
            kind = frame["type"]
            client_id = frame.get("client_id")
            if kind == "typing":
                if loop.time() - last_typing >= _TYPING_INTERVAL_S:
                    last_typing = loop.time()
                    await hub.conversations.announce_typing(conversation.id, "customer")
                continue
            if kind not in {"message", "button", "rating", "recap"}:
                raise BadRequest(f"unknown frame type {kind!r}", code="unknown_type")
            # Counted per conversation and per address for every hub: a new
            # socket, or another hub, does not start the count again.
            if hub.conversation_messages is not None:
                await hub.conversation_messages.take(f"conversation:{conversation.id}")
            if hub.address_messages is not None:
                await hub.address_messages.take(f"address:{address}")
            await _handle(hub, conversation, kind, frame, outbox, address)
        except BatonError as error:
            await outbox.send(
                error_frame(
                    error, client_id=client_id if isinstance(client_id, str) else None
                )
            )
        except ConnectionClosed:
            return
        except Exception as error:
            unavailable = database_unavailable(error)
            if unavailable is None:
                logger.exception("failed to handle a customer frame")
                await outbox.send(dict(INTERNAL_ERROR_FRAME))
                continue
            logger.warning("database unavailable for a customer frame: %s", error)
            await outbox.send(
                error_frame(
                    unavailable,
                    client_id=client_id if isinstance(client_id, str) else None,
                )
            )


async def _handle(
    hub: Hub,
    conversation: ConversationRecord,
    kind: str,
    frame: dict[str, Any],
    outbox: _Outbox,
    address: str,
) -> None:
    service = hub.conversations
    if kind == "rating":
        await service.rate(conversation, frame.get("score"), frame.get("comment"))
        await outbox.send({"type": "rated", "score": frame.get("score")})
        return
    if kind == "recap":
        mail = await service.request_recap(conversation, frame.get("email"))
        await outbox.send(_recap_frame(mail))
        return
    if kind == "message":
        message, created = await service.post_customer_text(
            conversation,
            frame.get("text"),
            frame.get("client_id"),
            client_address=address,
        )
    else:
        message, created = await service.post_customer_button(
            conversation,
            frame.get("payload"),
            frame.get("client_id"),
            client_address=address,
        )
    if created:
        hub.relay.kick(conversation.id)
    elif message.seq > outbox.last_seq:
        # A retried send: the original is stored; make sure this client has it.
        await outbox.catch_up()

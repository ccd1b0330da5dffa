"""The Baton input channel, loaded by the Rasa server from ``credentials.yml``.

Like Rasa's REST channel, but made for the hub: it requires the shared token,
passes the hub's metadata through, reports a failed turn as an error instead
of an empty answer, and returns what the handoff card needs about the turn
(intent, confidence, entities, slots, actions run, frustration score).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from rasa.shared.core.events import ActionExecuted, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

_QUIET_ACTIONS = {"action_listen", "action_session_start"}


class TurnCollector(CollectingOutputChannel):
    """Collects the bot's messages of one turn, each message kept whole.

    Rasa's collector would split a message with text and a custom payload into
    two messages (and its text at blank lines); the hub needs the custom
    payload on the message it belongs to, e.g. the knowledge-base article an
    answer was taken from (``meta.article`` on the wire).
    """

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keep the message's text, buttons, image and custom payload together."""
        await self._persist_message(
            self._message(
                recipient_id,
                text=message.get("text") or None,
                image=message.get("image"),
                buttons=message.get("buttons") or message.get("quick_replies"),
                attachment=message.get("attachment"),
                custom=message.get("custom"),
            )
        )


class BatonInput(InputChannel):
    """Receives customer messages from the hub, one turn per request."""

    @classmethod
    def name(cls) -> str:
        """Name of the channel; its webhook is ``/webhooks/baton/webhook``."""
        return "baton"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Create the channel from its ``credentials.yml`` section."""
        token = str((credentials or {}).get("token") or "")
        return cls(token)

    def __init__(self, token: str) -> None:
        self.token = token

    def _authorised(self, request: Request) -> bool:
        if not self.token:
            return True
        header = request.headers.get("Authorization", "")
        return hmac.compare_digest(header, f"Bearer {self.token}")

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Return the webhook routes of the channel."""
        webhook = Blueprint("baton_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return _error(401, "unauthorized", "wrong or missing channel token")
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")
            text = body.get("message")
            if not isinstance(sender, str) or not isinstance(text, str):
                return _error(400, "bad_request", "sender and message are required")
            metadata = body.get("metadata")
            collector = TurnCollector()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=metadata if isinstance(metadata, dict) else None,
                    )
                )
            except Exception:
                logger.exception("turn failed for a conversation")
                return _error(502, "turn_failed", "the assistant failed this turn")
            turn = await _describe_turn(request, sender)
            return response.json({"messages": collector.messages, **turn})

        return webhook


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status)


async def _describe_turn(request: Request, sender: str) -> dict[str, Any]:
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return {}
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return {}
    actions: list[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted) and event.action_name:
            if event.action_name not in _QUIET_ACTIONS:
                actions.append(event.action_name)
    parse = tracker.latest_message.parse_data if tracker.latest_message else {}
    intent = parse.get("intent") or {}
    return {
        "intent": {
            "name": intent.get("name"),
            "confidence": intent.get("confidence"),
        },
        "entities": [
            {"entity": e.get("entity"), "value": e.get("value")}
            for e in parse.get("entities", [])
        ],
        "slots": {
            name: value
            for name, value in tracker.current_slot_values().items()
            if value is not None
        },
        "actions": list(reversed(actions)),
        "frustration": parse.get("frustration"),
        "paused": tracker.is_paused(),
    }

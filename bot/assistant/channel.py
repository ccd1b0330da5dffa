"""The Baton input channel, loaded by the Rasa server from ``credentials.yml``.

Like Rasa's REST channel, but made for the hub: it requires the shared token,
passes the hub's metadata through, reports a failed turn as an error instead
of an empty answer, and returns what the handoff card needs about the turn
(intent, confidence, entities, slots, actions run, frustration score) and the
message's sentence embedding, which the hub keeps for the trainers' inbox.

It also reports the custom actions that failed in the turn
(``failed_actions``). Rasa itself logs a failed action and carries on as if
it had run: with the action server down, "talk to a person" would still get
``utter_handoff``'s text while ``action_handoff``, which starts the handoff,
never ran. And Rasa waits up to five minutes for an action, so a hung action
server would hold the turn that long. Through :class:`GuardedActionEndpoint`
each action call has a deadline (``BATON_ACTION_TIMEOUT``) and a failure is
noted for the turn, so the hub can hand the conversation over itself.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import aiohttp
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.assistant import model_swap
from bot.config import Settings
from bot.contract import HUB_CHANNEL

logger = logging.getLogger(__name__)

_QUIET_ACTIONS = {"action_listen", "action_session_start"}
#: What the model parses once before it is ready (any short message will do).
WARM_UP_TEXT = "hello"
#: The status with which the action server rejects an action (a form's
#: validation, say): Rasa then predicts another action; it is no failure.
_REJECTED = 400

#: How much longer an action call may take while a new model loads.
LOADING_DEADLINE_FACTOR = 3

#: The failed actions of the turn this task is running, when it runs one for
#: the Baton channel (a context variable: turns of several conversations run
#: at once in the Rasa server, each in its own request task).
_turn_failures: ContextVar[list[str] | None] = ContextVar(
    "baton_turn_failures", default=None
)


def _action_name(body: Any) -> str:
    name = body.get("next_action") if isinstance(body, dict) else None
    return str(name or "unknown action")


class GuardedActionEndpoint(EndpointConfig):
    """The action server's endpoint with a deadline per call; failures are noted.

    A call that cannot connect, gets no answer within ``timeout_s`` or gets an
    error status (other than a rejection) raises what Rasa's ``RemoteAction``
    expects of a failed call, and adds the action's name to the failures of
    the turn. After the first failure in a turn, later calls fail at once:
    the server that just failed would only make the customer wait again.

    Args:
        endpoint: The ``action_endpoint`` of ``endpoints.yml``.
        timeout_s: Seconds one action call may take.
    """

    def __init__(self, endpoint: EndpointConfig, timeout_s: float) -> None:
        super().__init__(
            url=endpoint.url,
            params=endpoint.params,
            headers=endpoint.headers,
            basic_auth=endpoint.basic_auth,
            token=endpoint.token,
            token_name=endpoint.token_name,
            cafile=endpoint.cafile,
            **endpoint.kwargs,
        )
        self.type = endpoint.type
        self.timeout_s = timeout_s

    def deadline_s(self) -> float:
        """Seconds this call may take.

        Longer while a new model loads beside the running one, which slows
        every socket call of this process.
        """
        if model_swap.loading():
            return self.timeout_s * LOADING_DEADLINE_FACTOR
        return self.timeout_s

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call the action server, within the deadline (see the class)."""
        action = _action_name(kwargs.get("json"))
        failures = _turn_failures.get()
        if failures:
            failures.append(action)
            raise aiohttp.ClientConnectionError(
                "the action server already failed in this turn"
            )
        deadline = self.deadline_s()
        kwargs["timeout"] = aiohttp.ClientTimeout(total=deadline)
        try:
            return await super().request(
                method, subpath, content_type, compress, **kwargs
            )
        except ClientResponseError as error:
            if error.status != _REJECTED:
                _note_failure(action)
            raise
        except asyncio.TimeoutError as error:
            _note_failure(action)
            # A ClientError, which RemoteAction turns into a failed action;
            # a bare TimeoutError would fail the whole turn (slot mappings
            # run custom actions too, and catch only those).
            raise aiohttp.ServerTimeoutError(
                f"no answer from the action server in {deadline:g}s"
            ) from error
        except aiohttp.ClientError:
            _note_failure(action)
            raise


def _note_failure(action: str) -> None:
    logger.warning("custom action %s failed", action)
    failures = _turn_failures.get()
    if failures is not None:
        failures.append(action)


def guard_actions(agent: Any, timeout_s: float) -> None:
    """Make the agent call its action server through :class:`GuardedActionEndpoint`.

    Checked on every turn: loading a model through Rasa's API replaces the
    agent and its message processor, each with the endpoint of
    ``endpoints.yml``.

    Args:
        agent: Rasa's ``Agent`` (``app.ctx.agent``), or ``None`` before one
            is loaded.
        timeout_s: Seconds one action call may take.
    """
    if agent is None or agent.action_endpoint is None:
        return
    endpoint = agent.action_endpoint
    if not isinstance(endpoint, GuardedActionEndpoint):
        endpoint = GuardedActionEndpoint(endpoint, timeout_s)
        agent.action_endpoint = endpoint
    processor = getattr(agent, "processor", None)
    if processor is not None and processor.action_endpoint is not endpoint:
        processor.action_endpoint = endpoint


class TurnCollector(CollectingOutputChannel):
    """Collects the bot's messages of one turn, each message kept whole.

    Rasa's collector would split a message with text and a custom payload into
    two messages (and its text at blank lines); the hub needs the custom
    payload on the message it belongs to, e.g. the knowledge-base article an
    answer was taken from (``meta.article`` on the wire). The name of the
    domain response a message was made from (``response``, e.g.
    ``utter_handoff``) goes with it, so the hub can tell which is which.
    """

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keep the message's text, buttons, image and custom payload together."""
        kept = self._message(
            recipient_id,
            text=message.get("text") or None,
            image=message.get("image"),
            buttons=message.get("buttons") or message.get("quick_replies"),
            attachment=message.get("attachment"),
            custom=message.get("custom"),
        )
        response = message.get("utter_action")
        if isinstance(response, str) and response:
            kept["response"] = response
        await self._persist_message(kept)


class BatonInput(InputChannel):
    """Receives customer messages from the hub, one turn per request."""

    @classmethod
    def name(cls) -> str:
        """Name of the channel; its webhook is ``/webhooks/baton/webhook``."""
        return HUB_CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Create the channel from its ``credentials.yml`` section.

        The deadline of an action call is ``BATON_ACTION_TIMEOUT``.
        """
        token = str((credentials or {}).get("token") or "")
        return cls(token, action_timeout_s=Settings.from_env().action_timeout_s)

    def __init__(self, token: str, action_timeout_s: float = 5.0) -> None:
        self.token = token
        self.action_timeout_s = action_timeout_s
        #: The model whose NLU pipeline has run once (see :meth:`readiness`).
        self._warm_model: str | None = None
        self._warming: asyncio.Task[None] | None = None

    def readiness(self, agent: Any) -> tuple[bool, dict[str, Any]]:
        """Whether the assistant answers in normal time, and if not, why.

        Ready once a model is loaded and its NLU pipeline has parsed one
        message: the first parse of a model is several times slower than the
        next ones (graphs built, weights read), and a customer should not be
        the one to pay for it. A model that is not warm yet starts warming.

        Args:
            agent: Rasa's ``Agent``, or ``None`` before one is loaded.

        Returns:
            ``(ready, body)``: body ``{"status": "ready", "model_id"}``, or
            ``{"status": "warming", "reason"}``.
        """
        if agent is None or not agent.is_ready():
            return False, {"status": "warming", "reason": "no model loaded"}
        if agent.model_id != self._warm_model:
            self._start_warm_up(agent)
            return False, {"status": "warming", "reason": "warming up the model"}
        return True, {"status": "ready", "model_id": agent.model_id}

    def _start_warm_up(self, agent: Any) -> None:
        if self._warming is None or self._warming.done():
            self._warming = asyncio.get_running_loop().create_task(self._warm_up(agent))

    async def _warm_up(self, agent: Any) -> None:
        model_id = agent.model_id
        try:
            # Parsing only: no tracker is created, no action runs.
            await agent.parse_message(WARM_UP_TEXT)
        except Exception:
            logger.exception("the model failed to parse its warm-up message")
            return
        self._warm_model = model_id
        logger.info("model %s is warm", model_id)

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
        async def ready(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return _error(401, "unauthorized", "wrong or missing channel token")
            is_ready, body = self.readiness(getattr(request.app.ctx, "agent", None))
            return response.json(body, status=200 if is_ready else 503)

        @webhook.listener("after_server_start")
        async def warm_up_at_start(app: Any, _: Any) -> None:
            # The server loads its model before it starts (Rasa's own
            # before_server_start listener): warm it before anyone asks.
            self.readiness(getattr(app.ctx, "agent", None))

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
            guard_actions(
                getattr(request.app.ctx, "agent", None), self.action_timeout_s
            )
            failures: list[str] = []
            noted = _turn_failures.set(failures)
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
            finally:
                _turn_failures.reset(noted)
            turn = await _describe_turn(request, sender)
            return response.json(
                {"messages": collector.messages, **turn, "failed_actions": failures}
            )

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
        # The message's sentence embedding (bot/nlu/meaning.py's parse data
        # key), which the hub keeps with a message the trainers' inbox lists.
        "embedding": parse.get("embedding"),
        "paused": tracker.is_paused(),
    }

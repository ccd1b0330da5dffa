"""Real parts of Rasa's side, without a model: the Baton channel on loopback,
Rasa's own ``RemoteAction``, and action servers that are down, hung or failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic

from bot.assistant.channel import BatonInput
from tests.conftest import free_port, served

TOKEN = "channel-test-token"
#: utter_handoff's text (domain.yml), said before action_handoff runs.
HANDOFF_TEXT = "I'm bringing in a person from our support team."
#: The domain response each text of a turn comes from, as Rasa names it.
RESPONSES = {HANDOFF_TEXT: "utter_handoff"}


#: How long a "slow" action server takes to answer.
SLOW_ANSWER_S = 0.6


class ActionServer:
    """A real HTTP server on loopback playing an action server in some state."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.calls: list[str] = []
        self.port = free_port()
        self._server: asyncio.AbstractServer | None = None
        self._hung: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = json.loads(await reader.readexactly(length))
        self.calls.append(body["next_action"])
        if self.behaviour == "hung":
            self._hung.append(writer)  # accepted, never answered
            return
        if self.behaviour == "slow":
            await asyncio.sleep(SLOW_ANSWER_S)
        status, answer = {
            "ok": (200, {"events": [], "responses": [{"text": "done"}]}),
            "slow": (200, {"events": [], "responses": [{"text": "done"}]}),
            # action_handoff's answer: the custom message that asks for a person.
            "handing_over": (
                200,
                {
                    "events": [],
                    "responses": [
                        {"custom": {"handoff": {"reason": "customer_request"}}}
                    ],
                },
            ),
            "failing": (500, {"error": "boom"}),
            "rejecting": (400, {"action_name": body["next_action"], "error": "no"}),
        }[self.behaviour]
        data = json.dumps(answer).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> ActionServer:
        if self.behaviour != "down":
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", self.port
            )
        return self

    async def __aexit__(self, *_: object) -> None:
        for writer in self._hung:
            writer.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def run_action(name: str, endpoint: EndpointConfig) -> list[Any]:
    """Run a custom action as Rasa does, through ``RemoteAction``."""
    tracker = DialogueStateTracker("c-1", slots=[])
    domain = Domain.empty()
    return await RemoteAction(name, endpoint).run(
        CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator(domain.responses),
        tracker,
        domain,
    )


def processor_turn(
    app: Sanic, texts: list[str], action: str
) -> Callable[[UserMessage], Awaitable[None]]:
    """What Rasa's processor does in a rule's turn: say ``texts``, run ``action``.

    A failed action is logged and the turn goes on (rasa.core.processor's
    ``_run_action``): for "talk to a person", the customer would be told a
    person is coming by a turn whose action_handoff never ran.
    """

    async def on_new_message(message: UserMessage) -> None:
        for text in texts:
            said = {"text": text}
            if text in RESPONSES:
                said["utter_action"] = RESPONSES[text]
            await message.output_channel.send_response(message.sender_id, said)
        with contextlib.suppress(Exception):
            for event in await run_action(action, app.ctx.agent.action_endpoint):
                if isinstance(event, BotUttered):
                    await message.output_channel.send_response(
                        message.sender_id, event.message()
                    )

    return on_new_message


@contextlib.asynccontextmanager
async def channel_server(
    action_url: str,
    texts: tuple[str, ...] = (HANDOFF_TEXT,),
    action: str = "action_handoff",
) -> AsyncIterator[str]:
    """The Baton channel, served on loopback with a model-less Rasa agent.

    Yields the Rasa server's base URL (the channel is at ``/webhooks/baton``).
    """
    app = Sanic(f"channel_test_{free_port()}")
    channel = BatonInput(TOKEN, action_timeout_s=0.5)
    app.ctx.agent = Agent(action_endpoint=EndpointConfig(action_url))
    turn = processor_turn(app, list(texts), action)
    app.blueprint(channel.blueprint(turn), url_prefix="/webhooks/baton")
    async with served(app) as port:
        yield f"http://127.0.0.1:{port}"

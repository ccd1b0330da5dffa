"""The hub's HTTP client for the Rasa server and the action server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.contract import HANDOFF_KEY, HandoffReason
from bot.exceptions import DependencyUnavailable


@dataclass(frozen=True)
class BotMessage:
    """One message the assistant wants to send to the customer."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    #: The domain response it was made from (``utter_handoff``), if any.
    response: str | None = None


@dataclass(frozen=True)
class Turn:
    """The assistant's answer to one customer message and what it understood."""

    messages: list[BotMessage]
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    #: The frustration detector's verdict on the message (bot/nlu/frustration.py).
    frustration: dict[str, Any] | None = None
    #: Custom actions that failed in this turn (action server down, hung or
    #: failing): the turn's messages may promise what never happened.
    failed_actions: list[str] = field(default_factory=list)
    #: The message's sentence embedding as the NLU put it in the parse data
    #: (bot/nlu/meaning.py; ``None`` without one), for the trainers' inbox.
    embedding: dict[str, Any] | None = None

    @property
    def handoff_reason(self) -> str | None:
        """The reason given by the assistant for handing over, if it did."""
        for message in self.messages:
            handoff = message.custom.get(HANDOFF_KEY)
            if isinstance(handoff, dict):
                return str(handoff.get("reason") or HandoffReason.CUSTOMER_REQUEST)
        return None


def _parse_buttons(raw: Any) -> list[dict[str, str]]:
    buttons = []
    for button in raw if isinstance(raw, list) else []:
        if isinstance(button, dict) and button.get("payload"):
            buttons.append(
                {
                    "title": str(button.get("title") or button["payload"]),
                    "payload": str(button["payload"]),
                }
            )
    return buttons


def parse_turn(body: dict[str, Any]) -> Turn:
    """Build a :class:`Turn` from the Baton channel's JSON answer."""
    messages = []
    for raw in body.get("messages") or []:
        if not isinstance(raw, dict):
            continue
        custom = raw.get("custom") if isinstance(raw.get("custom"), dict) else {}
        text = raw.get("text")
        response = raw.get("response")
        messages.append(
            BotMessage(
                text=text if isinstance(text, str) else "",
                buttons=_parse_buttons(raw.get("buttons")),
                custom=custom or {},
                response=response if isinstance(response, str) else None,
            )
        )
    intent = body.get("intent") or {}
    confidence = intent.get("confidence")
    frustration = body.get("frustration")
    embedding = body.get("embedding")
    return Turn(
        messages=messages,
        intent=intent.get("name"),
        confidence=float(confidence) if confidence is not None else None,
        entities=list(body.get("entities") or []),
        slots=dict(body.get("slots") or {}),
        actions=[str(a) for a in body.get("actions") or []],
        frustration=frustration if isinstance(frustration, dict) else None,
        failed_actions=[str(a) for a in body.get("failed_actions") or []],
        embedding=embedding if isinstance(embedding, dict) else None,
    )


#: A turn still unanswered after this long makes the hub ask whether Rasa
#: answers at all (:meth:`RasaClient.send`).
LIVENESS_AFTER_S = 3.0
#: How long Rasa has to answer that question. A busy Rasa answers its root
#: page between turns, within seconds even on a loaded machine or while it
#: loads a new model beside the running one (:mod:`bot.assistant.model_swap`);
#: a frozen or hung one never does.
LIVENESS_TIMEOUT_S = 10.0
#: After Rasa did not answer, how long every call fails at once.
SILENT_FOR_S = 5.0


class RasaClient:
    """Sends customer turns to Rasa and checks the health of Rasa's processes.

    A turn may take up to ``timeout_s`` while Rasa is busy, but a Rasa that
    does not answer at all (frozen, hung, its host swapping) is found out
    within seconds: while a turn is outstanding Rasa's root page is asked
    for every ``liveness_after_s``; without an answer within
    ``liveness_timeout_s`` the turn fails, and for :data:`SILENT_FOR_S` every
    call fails at once rather than wait on the same silent server.
    """

    def __init__(
        self,
        rasa_url: str,
        action_server_url: str,
        token: str,
        timeout_s: float,
        *,
        liveness_after_s: float = LIVENESS_AFTER_S,
        liveness_timeout_s: float = LIVENESS_TIMEOUT_S,
    ) -> None:
        self._rasa_url = rasa_url
        self._action_server_url = action_server_url
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._liveness_after_s = liveness_after_s
        self._liveness_timeout_s = liveness_timeout_s
        self._silent_until = 0.0
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    async def send(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> Turn:
        """Run one turn of the conversation in Rasa.

        Args:
            conversation_id: Rasa's sender id.
            text: What the assistant should read (already made safe).
            metadata: Passed to Rasa with the message.

        Returns:
            The assistant's answer.

        Raises:
            DependencyUnavailable: Rasa is down, failed, timed out or does
                not answer at all.
        """
        self._check_not_silent()
        turn = asyncio.ensure_future(self._post_turn(conversation_id, text, metadata))
        try:
            while True:
                done, _ = await asyncio.wait({turn}, timeout=self._liveness_after_s)
                if done:
                    return turn.result()
                if not await self._answers():
                    self._silent_until = (
                        asyncio.get_running_loop().time() + SILENT_FOR_S
                    )
                    raise DependencyUnavailable(
                        "the assistant does not answer (frozen or hung)"
                    )
        finally:
            if not turn.done():
                turn.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await turn

    def _check_not_silent(self) -> None:
        if asyncio.get_running_loop().time() < self._silent_until:
            raise DependencyUnavailable("the assistant did not answer just now")

    async def _answers(self) -> bool:
        """Whether Rasa answers its root page (any status) in time."""
        try:
            async with self._client().get(
                f"{self._rasa_url}/",
                timeout=aiohttp.ClientTimeout(total=self._liveness_timeout_s),
            ) as response:
                await response.read()
                return True
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def _post_turn(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> Turn:
        url = f"{self._rasa_url}/webhooks/baton/webhook"
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        payload = {"sender": conversation_id, "message": text, "metadata": metadata}
        try:
            async with self._client().post(
                url, json=payload, headers=headers
            ) as response:
                if response.status != 200:
                    raise DependencyUnavailable(
                        f"the assistant answered HTTP {response.status}"
                    )
                body = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise DependencyUnavailable(
                f"the assistant is unreachable: {type(error).__name__}"
            ) from error
        if not isinstance(body, dict):
            raise DependencyUnavailable("the assistant sent an unexpected answer")
        return parse_turn(body)

    async def append_events(
        self, conversation_id: str, events: list[dict[str, Any]]
    ) -> None:
        """Append events (pause, resume, slots) to the conversation's tracker.

        Raises:
            DependencyUnavailable: Rasa is down, refused the events, or did
                not answer a moment ago.
        """
        self._check_not_silent()
        url = f"{self._rasa_url}/conversations/{conversation_id}/tracker/events"
        try:
            async with self._client().post(
                url,
                json=events,
                params={"token": self._token, "include_events": "NONE"},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as response:
                if response.status != 200:
                    raise DependencyUnavailable(
                        f"the assistant refused the events: HTTP {response.status}"
                    )
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise DependencyUnavailable(
                f"the assistant is unreachable: {type(error).__name__}"
            ) from error

    async def rasa_status(self) -> dict[str, Any]:
        """Return the Baton channel's readiness: a model loaded and warmed up.

        Returns:
            ``{"status": "ready", "model_id": ...}``.

        Raises:
            DependencyUnavailable: Rasa is down, or (code ``not_ready``) up
                but without a model or still warming it up, with the reason.
        """
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        return await self._get_json(f"{self._rasa_url}/webhooks/baton/", headers)

    async def action_server_status(self) -> dict[str, Any]:
        """Return the action server's readiness (``/ready``, :mod:`bot.actions_server`).

        Raises:
            DependencyUnavailable: The action server is down, or (code
                ``not_ready``) up but still warming up, with the reason.
        """
        return await self._get_json(f"{self._action_server_url}/ready")

    async def _get_json(
        self, url: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        try:
            async with self._client().get(
                url, headers=headers, timeout=aiohttp.ClientTimeout(total=3)
            ) as response:
                status, text = response.status, await response.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise DependencyUnavailable(type(error).__name__) from error
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if status != 200:
            raise _not_ready(status, body)
        if not isinstance(body, dict):
            raise DependencyUnavailable("the answer is not a JSON object")
        return body


def _not_ready(status: int, body: Any) -> DependencyUnavailable:
    """The error for a non-200 answer: ``not_ready`` when it says why (503)."""
    reason = body.get("reason") if isinstance(body, dict) else None
    if status == 503 and isinstance(reason, str) and reason:
        return DependencyUnavailable(reason, code="not_ready")
    return DependencyUnavailable(f"HTTP {status}")

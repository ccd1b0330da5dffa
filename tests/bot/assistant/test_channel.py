"""The Baton channel with real HTTP, without a Rasa model or server.

Rasa's own ``RemoteAction`` calls action servers that are down (a closed
port), hung (a socket that accepts and never answers) or failing (HTTP 500),
through :class:`GuardedActionEndpoint`; the channel's webhook is served by
sanic with a model-less Rasa ``Agent``, and its turn is what Rasa's processor
does when an action fails: the action's error is logged and the turn goes on.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from rasa.core.actions.action import ActionExecutionRejection
from rasa.core.agent import Agent
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.assistant import channel as channel_module
from bot.assistant import model_swap
from bot.assistant.channel import (
    LOADING_DEADLINE_FACTOR,
    GuardedActionEndpoint,
    guard_actions,
)
from tests.bot.assistant.rasa_parts import (
    HANDOFF_TEXT,
    SLOW_ANSWER_S,
    TOKEN,
    ActionServer,
    channel_server,
    run_action,
)


@contextlib.contextmanager
def in_a_turn() -> Any:
    """The failures noted while the block runs (as the webhook collects them)."""
    failures: list[str] = []
    token = channel_module._turn_failures.set(failures)
    try:
        yield failures
    finally:
        channel_module._turn_failures.reset(token)


@pytest.mark.parametrize("behaviour", ["down", "hung", "failing"])
async def test_a_failed_action_call_is_noted_and_fails_as_rasa_expects(
    behaviour: str,
) -> None:
    async with ActionServer(behaviour) as server:
        endpoint = GuardedActionEndpoint(EndpointConfig(server.url), timeout_s=0.5)
        with in_a_turn() as failures:
            # RasaException is what Rasa's processor and slot mappings catch
            # (a bare TimeoutError would fail the whole turn).
            with pytest.raises(RasaException):
                await run_action("action_handoff", endpoint)
    assert failures == ["action_handoff"]


async def test_after_one_failure_the_turn_does_not_wait_for_the_server_again() -> None:
    async with ActionServer("hung") as server:
        endpoint = GuardedActionEndpoint(EndpointConfig(server.url), timeout_s=0.5)
        with in_a_turn() as failures:
            with pytest.raises(RasaException):
                await run_action("action_check_frustration", endpoint)
            with pytest.raises(RasaException):
                await run_action("action_answer_from_kb", endpoint)
    assert failures == ["action_check_frustration", "action_answer_from_kb"]
    assert server.calls == ["action_check_frustration"]


@pytest.mark.parametrize("model_loading", [False, True])
async def test_a_new_model_loading_beside_the_running_one_extends_the_deadline(
    model_loading: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The load slows every socket call of Rasa's process, not the action
    # server: a slow answer is waited for while it runs, not otherwise.
    monkeypatch.setattr(model_swap, "_loads", int(model_loading))
    timeout_s = SLOW_ANSWER_S / 2
    assert timeout_s * LOADING_DEADLINE_FACTOR > SLOW_ANSWER_S
    async with ActionServer("slow") as server:
        endpoint = GuardedActionEndpoint(EndpointConfig(server.url), timeout_s)
        with in_a_turn() as failures:
            if model_loading:
                await run_action("action_answer_from_kb", endpoint)
            else:
                with pytest.raises(RasaException):
                    await run_action("action_answer_from_kb", endpoint)
    assert failures == ([] if model_loading else ["action_answer_from_kb"])


async def test_a_rejection_or_a_success_is_no_failure() -> None:
    async with ActionServer("rejecting") as server:
        endpoint = GuardedActionEndpoint(EndpointConfig(server.url), timeout_s=5)
        with in_a_turn() as failures:
            with pytest.raises(ActionExecutionRejection):
                await run_action("action_kb_feedback", endpoint)
    assert failures == []
    async with ActionServer("ok") as server:
        endpoint = GuardedActionEndpoint(EndpointConfig(server.url), timeout_s=5)
        with in_a_turn() as failures:
            events = await run_action("action_kb_feedback", endpoint)
    assert failures == []
    assert [e.text for e in events] == ["done"]


def test_the_agent_and_its_processor_get_the_guarded_endpoint() -> None:
    agent = Agent(action_endpoint=EndpointConfig("http://127.0.0.1:1/webhook"))
    guard_actions(agent, 3.0)
    guarded = agent.action_endpoint
    assert isinstance(guarded, GuardedActionEndpoint)
    assert (guarded.url, guarded.timeout_s) == ("http://127.0.0.1:1/webhook", 3.0)
    guard_actions(agent, 3.0)
    assert agent.action_endpoint is guarded
    guard_actions(None, 3.0)  # before Rasa has loaded an agent: nothing to do


async def ask_for_a_person(action_server: ActionServer) -> tuple[int, Any]:
    """Post "talk to a person" to the channel's webhook: (status, body)."""
    async with channel_server(action_server.url) as url:
        async with aiohttp.ClientSession() as client:
            async with client.post(
                f"{url}/webhooks/baton/webhook",
                json={"sender": "c-1", "message": "talk to a person"},
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as response:
                return response.status, await response.json()


@pytest.mark.parametrize("behaviour", ["down", "hung", "failing"])
async def test_the_webhook_reports_the_actions_that_failed(behaviour: str) -> None:
    async with ActionServer(behaviour) as action_server:
        status, body = await ask_for_a_person(action_server)
    assert status == 200, body
    assert body["messages"][0]["text"] == HANDOFF_TEXT
    assert body["messages"][0]["response"] == "utter_handoff"
    assert body["failed_actions"] == ["action_handoff"]


async def test_the_webhook_reports_no_failure_when_the_actions_ran() -> None:
    async with ActionServer("ok") as action_server:
        status, body = await ask_for_a_person(action_server)
    assert status == 200, body
    assert body["failed_actions"] == []
    assert action_server.calls == ["action_handoff"]


async def test_readiness_needs_the_token_and_a_loaded_model() -> None:
    async with channel_server("http://127.0.0.1:1/webhook") as url:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{url}/webhooks/baton/") as response:
                assert response.status == 401
            async with client.get(
                f"{url}/webhooks/baton/", headers={"Authorization": f"Bearer {TOKEN}"}
            ) as response:
                body = await response.json()
    assert response.status == 503
    assert body == {"status": "warming", "reason": "no model loaded"}


async def test_the_turn_reports_the_messages_embedding_from_the_parse_data() -> None:
    """The hub keeps it for the trainers' inbox (bot/nlu/meaning.py's key)."""
    embedding = {"model": "m", "dimension": 2, "vector": "AACAPwAAAAA="}
    tracker = DialogueStateTracker("c-1", slots=[])
    tracker.update(
        UserUttered(
            "blorp",
            parse_data={
                "intent": {"name": "nlu_fallback", "confidence": 0.3},
                "entities": [],
                "embedding": embedding,
            },
        )
    )

    class Store:
        async def retrieve(self, sender: str) -> DialogueStateTracker:
            return tracker

    request = SimpleNamespace(
        app=SimpleNamespace(
            ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=Store()))
        )
    )
    turn = await channel_module._describe_turn(request, "c-1")  # type: ignore[arg-type]
    assert turn["embedding"] == embedding
    assert turn["intent"] == {"name": "nlu_fallback", "confidence": 0.3}

"""Order and completeness of one conversation's messages across two hubs.

Scope 3: 200 customer messages in a burst while an agent holds the chat: all
stored, all delivered to the agent in order, no bot reply. Scope 5: the same
conversation open on both hubs (two tabs behind a load balancer), messages
alternating between them: order kept, nothing lost or doubled, on either
socket and in the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.hub import drain, receive_until
from tests.reliability.conftest import (
    Agent,
    HubProcess,
    Tab,
    agent_console,
    claim,
    create_agents,
    customer_socket,
    handed_over,
    handoff_id_of,
    history,
    message,
    sign_in,
)

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]

BURST = 200
ALTERNATING = 40


@pytest.fixture(scope="module")
def agent_email(hubs, postgres_url) -> str:
    return asyncio.run(create_agents(postgres_url, 1, "order"))[0]


@pytest.fixture
async def agent(hubs, agent_email, http) -> Agent:
    return await sign_in(http, hubs[1], agent_email)


@pytest.fixture
async def console(hubs, agent) -> AsyncIterator[Any]:
    """The agent's console socket on hub B."""
    async with agent_console(hubs[1], agent) as ws:
        yield ws


async def claimed(
    http: aiohttp.ClientSession, hub: HubProcess, agent: Agent, postgres_url: str
) -> tuple[str, str]:
    """A conversation handed over on ``hub`` and claimed by ``agent``."""
    conversation_id, token = await handed_over(hub)
    await claim(http, hub, agent, await handoff_id_of(postgres_url, conversation_id))
    return conversation_id, token


def customer_lines(frames: list[dict[str, Any]], conversation_id: str) -> list[str]:
    return [
        f["text"]
        for f in frames
        if f.get("type") == "message"
        and f.get("conversation_id") == conversation_id
        and f["role"] == "customer"
    ]


async def test_a_burst_reaches_the_agent_in_order_and_the_bot_stays_quiet(
    hubs, agent, console, postgres_url, http
) -> None:
    hub_a, hub_b = hubs
    conversation_id, token = await claimed(http, hub_b, agent, postgres_url)
    await receive_until(
        console,
        lambda f: (
            f.get("type") == "watching"
            and f.get("conversation_id") == conversation_id
            and f.get("held")
        ),
    )
    sent = [f"burst {n}" for n in range(BURST)]
    async with customer_socket(hub_a, conversation_id, token) as customer:
        await receive_until(customer, lambda f: f.get("type") == "status")
        for n, text in enumerate(sent):
            await customer.send(message(text, f"burst-{n}"))
        echoed = await receive_until(
            customer,
            lambda f: f.get("type") == "message" and f.get("client_id") == "burst-199",
            timeout=120,
        )
        echoed += await drain(customer, quiet_s=1.0)
    assert not [f for f in echoed if f.get("type") == "error"], echoed[:5]

    frames = await receive_until(
        console,
        lambda f: (
            f.get("type") == "message"
            and f.get("conversation_id") == conversation_id
            and f.get("text") == sent[-1]
        ),
        timeout=120,
    )
    frames += await drain(console, quiet_s=1.0)
    assert customer_lines(frames, conversation_id) == sent
    to_agent = [
        f["seq"]
        for f in frames
        if f.get("type") == "message" and f.get("conversation_id") == conversation_id
    ]
    assert to_agent == sorted(set(to_agent))

    stored = await history(http, hub_b, conversation_id, token)
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    customer = [m["text"] for m in stored if m["role"] == "customer"]
    assert customer == ["I need help", *sent]
    joined = next(m["seq"] for m in stored if "joined the chat" in m["text"])
    assert [m for m in stored if m["seq"] > joined and m["role"] != "customer"] == []
    assert not [m for m in stored if m["role"] == "bot"]


async def test_messages_alternating_between_hubs_keep_their_order(
    hubs, agent, postgres_url, http
) -> None:
    hub_a, hub_b = hubs
    conversation_id, token = await claimed(http, hub_a, agent, postgres_url)
    async with (
        customer_socket(hub_a, conversation_id, token) as on_a,
        customer_socket(hub_b, conversation_id, token) as on_b,
    ):
        tabs = [Tab(on_a), Tab(on_b)]
        sent = []
        for n in range(ALTERNATING):
            if n % 5 == 4:
                # The agent answers now and then, through either hub.
                hub = hubs[(n // 5) % 2]
                async with http.post(
                    f"{hub.url}/api/conversations/{conversation_id}/messages",
                    json={"text": f"agent {n}", "client_id": f"agent-{n}"},
                    headers=agent.headers,
                ) as response:
                    assert response.status in {200, 201}, await response.text()
                sent.append(f"agent {n}")
            # Each send waits for its own echo, so the order is defined.
            tab = tabs[n % 2]
            await tab.ws.send(message(f"turn {n}", f"turn-{n}"))
            await tab.wait_for(f"turn-{n}")
            sent.append(f"turn {n}")
        # And a last round sent on both at once, not waiting.
        together = [f"together {n}" for n in range(10)]
        for n, text in enumerate(together):
            await tabs[n % 2].ws.send(message(text, f"together-{n}"))
        for tab in tabs:
            await tab.wait_for("together-8")
            await tab.wait_for("together-9")
        await asyncio.sleep(1.0)

    stored = await history(http, hub_a, conversation_id, token)
    assert stored == await history(http, hub_b, conversation_id, token)
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    texts = [m["text"] for m in stored if m["role"] in {"customer", "agent"}]
    assert texts[: len(sent) + 1] == ["I need help", *sent]
    assert sorted(texts[len(sent) + 1 :]) == sorted(together)
    for tab in tabs:
        # Each tab saw every message once, in the stored order, no gaps.
        seen = [(m["seq"], m["text"]) for m in tab.messages()]
        assert seen == [(m["seq"], m["text"]) for m in stored], seen[-5:]

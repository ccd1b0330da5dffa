"""Two hub processes sharing PostgreSQL and Redis, as behind a load balancer.

The customer talks to hub A, the agent works on hub B: every message of the
exchange must arrive on the other side exactly once and in order, with
nothing but the database and the Redis bus between the two processes. Rasa
is not running, so the customer's first message is handed to people
(``bot_unavailable``), which is all this exchange needs.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from bench.stack import create_agent
from tests.bot.auth.test_auth_api import login
from tests.conftest import PROJECT_DIR, free_port
from tests.hub import drain, receive_until

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]

PASSWORD = "two hubs, one queue"
STARTUP_TIMEOUT_S = 120


@dataclass
class HubProcess:
    """A hub started with ``python -m bot serve``."""

    url: str
    ws_url: str
    process: subprocess.Popen[bytes]
    log: Path


def environment(postgres_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    down = f"http://127.0.0.1:{free_port()}"
    return {
        **os.environ,
        "BATON_DATABASE_URL": postgres_url,
        "BATON_REDIS_URL": redis_url,
        # Counted in Redis for every hub on it, so by every test of the run
        # sending from 127.0.0.1 (not this module's to decide): with the
        # default 120 messages a minute, a minute in which the other test
        # worker's stacks had sent more refused this module's first message
        # (a CI run: no relay, no handoff, a 20 s time-out).
        "BATON_CONVERSATIONS_PER_IP_PER_HOUR": "100000",
        "BATON_MESSAGES_PER_IP_PER_MINUTE": "100000",
        "BATON_LOGINS_PER_IP_PER_MINUTE": "100000",
        "BATON_DATA_DIR": str(data_dir),
        "BATON_RASA_URL": down,
        "BATON_ACTION_SERVER_URL": down,
        "BATON_RASA_TOKEN": "not-used-rasa-is-down",
        "BATON_PROJECT_DIR": str(PROJECT_DIR),
    }


def wait_answering(hub: HubProcess) -> None:
    """Wait until the hub answers HTTP (503: Rasa is down, as intended)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            pytest.fail(f"a hub exited early:\n{hub.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{hub.url}/health", timeout=3):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"a hub did not start:\n{hub.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def hubs(postgres_url, redis_url, tmp_path_factory) -> Iterator[list[HubProcess]]:
    data_dir = tmp_path_factory.mktemp("two-hubs")
    env = environment(postgres_url, redis_url, data_dir)
    started: list[HubProcess] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = data_dir / f"hub-{name}.log"
            with log.open("wb") as output:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot", "serve"],
                    cwd=PROJECT_DIR,
                    env={**env, "BATON_PORT": str(port)},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            started.append(
                HubProcess(
                    f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", process, log
                )
            )
        for hub in started:
            wait_answering(hub)
        yield started
    finally:
        for hub in started:
            hub.process.terminate()
        for hub in started:
            try:
                hub.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                hub.process.kill()


@pytest.fixture(scope="module")
def agent_email(hubs, postgres_url, redis_url, tmp_path_factory) -> str:
    """An agent account created with the command line, as an admin would."""
    email = f"two-hubs-{secrets.token_hex(3)}@example.com"
    env = environment(postgres_url, redis_url, tmp_path_factory.mktemp("cli"))
    env["BATON_NEW_AGENT_PASSWORD"] = PASSWORD
    create_agent(env, email, "Bea Beyond")
    return email


@pytest.fixture
async def agent_socket(hubs, agent_email) -> AsyncIterator[tuple[Any, str, str]]:
    """The agent signed in on hub B, with the console's live socket open."""
    hub_b = hubs[1]
    session, csrf = await login(hub_b, agent_email, PASSWORD)
    async with websockets.connect(
        f"{hub_b.ws_url}/api/agent/ws",
        extra_headers={"Cookie": f"baton_session={session}", "Origin": hub_b.url},
    ) as ws:
        await receive_until(ws, lambda f: f.get("type") == "queue")
        yield ws, session, csrf


async def agent_post(
    hub: HubProcess, path: str, session: str, csrf: str, body: dict[str, Any]
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as client:
        async with client.post(
            f"{hub.url}{path}",
            json=body,
            headers={"Cookie": f"baton_session={session}", "X-CSRF-Token": csrf},
        ) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status in {200, 201}, answer
            return answer


async def test_customer_on_one_hub_and_agent_on_another_lose_nothing(
    hubs, agent_socket
) -> None:
    hub_a, hub_b = hubs
    agent_ws, session, csrf = agent_socket
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{hub_a.url}/api/conversations", json={}) as response:
            assert response.status == 201
            created = await response.json()
    conversation_id, token = created["conversation_id"], created["token"]

    async with websockets.connect(
        f"{hub_a.ws_url}/api/conversations/{conversation_id}/ws?token={token}"
    ) as customer:
        await receive_until(customer, lambda f: f.get("type") == "status")
        await customer.send(
            json.dumps({"type": "message", "text": "I need help", "client_id": "c0"})
        )
        await receive_until(customer, lambda f: f.get("state") == "queued")

        # Hub B's agent sees the new handoff (through Redis) and claims it.
        queued = await receive_until(
            agent_ws,
            lambda f: (
                f.get("type") == "queue"
                and any(e["conversation_id"] == conversation_id for e in f["queue"])
            ),
        )
        entry = next(
            e for e in queued[-1]["queue"] if e["conversation_id"] == conversation_id
        )
        await agent_post(hub_b, f"/api/handoffs/{entry['id']}/claim", session, csrf, {})
        joined = await receive_until(customer, lambda f: f.get("state") == "agent")
        assert joined[-1]["agent"] == {"name": "Bea Beyond"}

        # Both ways, several times; a retried send must be stored once.
        for n in range(5):
            await agent_post(
                hub_b,
                f"/api/conversations/{conversation_id}/messages",
                session,
                csrf,
                {"text": f"agent says {n}", "client_id": f"a{n}"},
            )
            await customer.send(
                json.dumps(
                    {
                        "type": "message",
                        "text": f"customer says {n}",
                        "client_id": f"c{n + 1}",
                    }
                )
            )
        await customer.send(
            json.dumps(
                {"type": "message", "text": "customer says 4", "client_id": "c5"}
            )
        )
        seen_by_customer = await drain(customer, quiet_s=2.0)
    seen_by_agent = await drain(agent_ws, quiet_s=2.0)

    agent_lines = [
        f["text"]
        for f in seen_by_customer
        if f.get("type") == "message" and f["role"] == "agent"
    ]
    assert agent_lines == [f"agent says {n}" for n in range(5)]
    customer_lines = [
        f["text"]
        for f in seen_by_agent
        if f.get("type") == "message"
        and f.get("conversation_id") == conversation_id
        and f["role"] == "customer"
        and f["text"].startswith("customer says")
    ]
    assert customer_lines == [f"customer says {n}" for n in range(5)]

    # The database, read through either hub, holds each message once, in order.
    for hub in (hub_a, hub_b):
        async with aiohttp.ClientSession() as client:
            async with client.get(
                f"{hub.url}/api/conversations/{conversation_id}/messages",
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                history = (await response.json())["messages"]
        assert [m["seq"] for m in history] == list(range(1, len(history) + 1))
        texts = [m["text"] for m in history if m["role"] in {"customer", "agent"}]
        assert texts.count("customer says 4") == 1
        assert texts.count("agent says 4") == 1
        assert texts[0] == "I need help"

"""Measure customer message → agent WebSocket latency.

``python -m bench.handoff.run`` starts hubs as separate processes
(``python -m bot serve``), hands a conversation to an agent through the real
path (Rasa is deliberately unreachable, so the hub hands over by itself),
lets the agent claim it over the API and open the console socket, then sends
customer messages one at a time and times each from the customer's send to
the agent socket receiving it (persisted, published, forwarded). Three
set-ups:

- ``same-embedded``: one hub, SQLite and the in-process bus;
- ``same-redis``: one hub, PostgreSQL and Redis;
- ``cross-redis``: customer on hub A, agent on hub B, PostgreSQL and Redis.

Results (p50/p99 in ms, with the date and the machine) go to
``bench/handoff/results.json``. PostgreSQL and Redis are found at
``BATON_TEST_POSTGRES_URL`` / ``BATON_TEST_REDIS_URL`` (as in the tests); a
fresh database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Sequence
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import websockets

from bench.machine import machine
from bench.ports import free_port
from bench.stack import create_agent

HERE = Path(__file__).resolve().parent
PROJECT_DIR = HERE.parent.parent
RESULTS_PATH = HERE / "results.json"
POSTGRES_ADMIN_URL = os.environ.get(
    "BATON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BATON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "bench-password-123"
WARMUP = 20


def percentile(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    position = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[position]


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg2

    name = f"baton_bench_{secrets.token_hex(4)}"
    admin = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=3)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def hub_env(data_dir: Path, database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "BATON_DATA_DIR": str(data_dir),
        "BATON_DATABASE_URL": database_url,
        # Nothing listens there: the hub hands the chat to a person at once.
        "BATON_RASA_URL": f"http://127.0.0.1:{free_port()}",
        "BATON_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "BATON_MESSAGES_PER_MINUTE": "100000",
        "BATON_LOG_LEVEL": "WARNING",
    }
    env.pop("BATON_REDIS_URL", None)
    if redis_url:
        env["BATON_REDIS_URL"] = redis_url
    return env


@contextlib.contextmanager
def hubs(count: int, env: dict[str, str]) -> Iterator[list[str]]:
    """Start ``count`` hub processes on the same database and bus."""
    subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], cwd=PROJECT_DIR, env=env, check=True
    )
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "serve"],
                    cwd=PROJECT_DIR,
                    env={**env, "BATON_PORT": str(port)},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_listening(url)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def wait_listening(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/openapi.json", timeout=2).close()
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"the hub at {url} did not start")


async def login(client: aiohttp.ClientSession, url: str, email: str) -> tuple[str, str]:
    async with client.post(
        f"{url}/api/auth/login", json={"email": email, "password": PASSWORD}
    ) as response:
        response.raise_for_status()
        body = await response.json()
        cookies: SimpleCookie = SimpleCookie()
        for header in response.headers.getall("Set-Cookie", []):
            cookies.load(header)
    return cookies["baton_session"].value, body["csrf_token"]


@contextlib.asynccontextmanager
async def held_conversation(
    customer_url: str, agent_url: str, email: str
) -> AsyncIterator[tuple[Any, Any]]:
    """A customer socket and the socket of the agent who holds its chat."""
    async with aiohttp.ClientSession() as client:
        session, csrf = await login(client, agent_url, email)
        headers = {"Cookie": f"baton_session={session}", "X-CSRF-Token": csrf}
        async with client.post(
            f"{agent_url}/api/auth/presence",
            json={"presence": "online"},
            headers=headers,
        ) as response:
            response.raise_for_status()
        async with client.post(f"{customer_url}/api/conversations") as response:
            created = await response.json()
        conversation_id = created["conversation_id"]
        ws_base = customer_url.replace("http://", "ws://")
        customer = await websockets.connect(
            f"{ws_base}/api/conversations/{conversation_id}/ws?token={created['token']}"
        )
        await customer.send(
            json.dumps(
                {"type": "message", "text": "my notes vanished", "client_id": "0"}
            )
        )
        while json.loads(await customer.recv()).get("state") != "queued":
            pass
        async with client.get(f"{agent_url}/api/queue", headers=headers) as response:
            queue = await response.json()
        handoff_id = next(
            e["id"] for e in queue["queue"] if e["conversation_id"] == conversation_id
        )
        async with client.post(
            f"{agent_url}/api/handoffs/{handoff_id}/claim", headers=headers
        ) as response:
            response.raise_for_status()
        agent = await websockets.connect(
            f"{agent_url.replace('http://', 'ws://')}/api/agent/ws",
            extra_headers={"Cookie": f"baton_session={session}"},
        )
        while True:
            frame = json.loads(await agent.recv())
            if frame.get("type") == "watching" and frame.get("held"):
                break
        try:
            yield customer, agent
        finally:
            await customer.close()
            await agent.close()


async def measure(
    customer_url: str, agent_url: str, email: str, rounds: int
) -> list[float]:
    """Milliseconds from each customer send to the agent socket receiving it."""
    samples = []
    async with held_conversation(customer_url, agent_url, email) as (customer, agent):
        for n in range(WARMUP + rounds):
            client_id = f"b{n}"
            started = time.perf_counter()
            await customer.send(
                json.dumps(
                    {"type": "message", "text": f"ping {n}", "client_id": client_id}
                )
            )
            while True:
                frame = json.loads(await agent.recv())
                if frame.get("client_id") == client_id:
                    break
            if n >= WARMUP:
                samples.append((time.perf_counter() - started) * 1000)
            # Drain the customer's own echo so its socket never backs up.
            while True:
                echo = json.loads(await customer.recv())
                if echo.get("client_id") == client_id:
                    break
    return samples


def new_agent(env: dict[str, str]) -> str:
    email = f"bench-{secrets.token_hex(3)}@example.com"
    create_agent({**env, "BATON_NEW_AGENT_PASSWORD": PASSWORD}, email, "Bench Agent")
    return email


def summarise(samples: list[float]) -> dict[str, float]:
    return {
        "messages": len(samples),
        "p50_ms": round(percentile(samples, 0.50), 2),
        "p99_ms": round(percentile(samples, 0.99), 2),
        "mean_ms": round(statistics.fmean(samples), 2),
        "max_ms": round(max(samples), 2),
    }


def run_setup(name: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        if name == "same-embedded":
            env = hub_env(data_dir, f"sqlite:///{data_dir / 'baton.db'}", None)
            with hubs(1, env) as (url,):
                email = new_agent(env)
                samples = asyncio.run(measure(url, url, email, rounds))
            return summarise(samples)
        with postgres_database() as database_url:
            env = hub_env(data_dir, database_url, REDIS_URL)
            count = 2 if name == "cross-redis" else 1
            with hubs(count, env) as urls:
                email = new_agent(env)
                samples = asyncio.run(measure(urls[0], urls[-1], email, rounds))
            return summarise(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument(
        "--setups",
        nargs="+",
        default=["same-embedded", "same-redis", "cross-redis"],
    )
    args = parser.parse_args()
    results = {}
    for name in args.setups:
        results[name] = run_setup(name, args.rounds)
        print(name, results[name], flush=True)
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "what": "customer WebSocket send -> agent WebSocket receive, one "
        "message at a time, loopback; hubs are separate processes",
        "target_p99_ms": 20,
        "results": results,
    }
    RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

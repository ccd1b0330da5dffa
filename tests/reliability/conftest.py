"""Two hub processes on PostgreSQL and Redis, shared by the reliability suite.

The hubs are started once for the whole package with ``python -m bot serve``
(what each instance behind a load balancer runs) and Rasa deliberately not
running: a customer's first message is handed to people (``bot_unavailable``),
which gives the tests as many handoffs as they ask for without a model. Tests
that kill a hub restart it on the same port before they end.

The per-address limits are raised: every customer and agent of these tests
comes from 127.0.0.1, and the limits have their own tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
import sqlalchemy as sa
import websockets

from bot.auth.passwords import Passwords
from bot.auth.repository import AuthRepository
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from tests.conftest import PROJECT_DIR, free_port, unavailable
from tests.hub import receive_until

PASSWORD = "reliable agents, reliable queue"
STARTUP_TIMEOUT_S = 120
#: Limits far above what the tests send from their one address.
HIGH_LIMITS = {
    "BATON_CONVERSATIONS_PER_IP_PER_HOUR": "100000",
    "BATON_MESSAGES_PER_IP_PER_MINUTE": "100000",
    "BATON_MESSAGES_PER_MINUTE": "100000",
    "BATON_LOGINS_PER_IP_PER_MINUTE": "100000",
}


@dataclass
class HubProcess:
    """One hub started with ``python -m bot serve``; it can be killed and restarted."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"],
                cwd=PROJECT_DIR,
                env={**self.env, "BATON_PORT": str(self.port)},
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_answering(self) -> None:
        """Wait until the hub answers HTTP (503 is expected: Rasa is down)."""
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"hub {self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=3):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"hub {self.name} did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """``kill -9``: no shutdown, no cleanup, connections cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def hub_environment(
    database_url: str, redis_url: str | None, data_dir: Path
) -> dict[str, str]:
    """A hub's settings: this database and bus (in-process without Redis)."""
    down = f"http://127.0.0.1:{free_port()}"
    return {
        **{k: v for k, v in os.environ.items() if k != "BATON_REDIS_URL"},
        **HIGH_LIMITS,
        "BATON_DATABASE_URL": database_url,
        **({"BATON_REDIS_URL": redis_url} if redis_url else {}),
        "BATON_DATA_DIR": str(data_dir),
        "BATON_RASA_URL": down,
        "BATON_ACTION_SERVER_URL": down,
        "BATON_RASA_TOKEN": "not-used-rasa-is-down",
        # The relay lease of a killed hub (2 x this + 10 s) expires sooner.
        "BATON_RASA_TIMEOUT": "3",
        "BATON_PROJECT_DIR": str(PROJECT_DIR),
        # Rasa is down here: the background knowledge-index build would wait
        # five minutes for it and then spend ~10 s of CPU mid-test.
        "BATON_KNOWLEDGE_WARM_UP": "0",
    }


def start_hubs(env: dict[str, str], data_dir: Path) -> list[HubProcess]:
    hubs = [
        HubProcess(name, free_port(), env, data_dir / f"hub-{name}.log")
        for name in ("a", "b")
    ]
    # The first hub migrates the database; the second starts once it answers.
    for hub in hubs:
        hub.start()
        hub.wait_answering()
    return hubs


@pytest.fixture(scope="package")
def hubs(postgres_url, redis_url, tmp_path_factory) -> Iterator[list[HubProcess]]:
    """Hubs A and B sharing one PostgreSQL database and one Redis bus."""
    data_dir = tmp_path_factory.mktemp("reliability-hubs")
    started = start_hubs(hub_environment(postgres_url, redis_url, data_dir), data_dir)
    try:
        yield started
    finally:
        for hub in started:
            hub.stop()


class Served(Protocol):
    """Where a hub answers: a :class:`HubProcess` or a whole stack."""

    @property
    def url(self) -> str: ...

    @property
    def ws_url(self) -> str: ...


@dataclass(frozen=True)
class Agent:
    """A signed-in agent: the session cookie and CSRF token of a login."""

    email: str
    name: str
    session: str
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"baton_session={self.session}", "X-CSRF-Token": self.csrf}


async def create_agents(
    database_url: str, count: int, prefix: str, role: str = "agent"
) -> list[str]:
    """Create ``count`` agent accounts directly in the database; their emails."""
    engine = create_engine(database_url)
    try:
        await upgrade_database(engine)
        repository = AuthRepository(engine)
        password_hash = await asyncio.to_thread(Passwords().hash, PASSWORD)
        emails = []
        for n in range(count):
            email = f"{prefix}-{n}-{secrets.token_hex(3)}@example.com"
            await repository.create_agent(
                email, f"Agent {prefix} {n}", role, password_hash
            )
            emails.append(email)
        return emails
    finally:
        await engine.dispose()


async def sign_in(client: aiohttp.ClientSession, hub: Served, email: str) -> Agent:
    async with client.post(
        f"{hub.url}/api/auth/login", json={"email": email, "password": PASSWORD}
    ) as response:
        body = await response.json()
        assert response.status == 200, body
        session = response.cookies["baton_session"].value
    return Agent(email, body["agent"]["name"], session, body["csrf_token"])


async def new_conversation(
    client: aiohttp.ClientSession, hub: HubProcess
) -> tuple[str, str]:
    async with client.post(f"{hub.url}/api/conversations", json={}) as response:
        body = await response.json()
        assert response.status == 201, body
    return body["conversation_id"], body["token"]


def customer_socket(hub: HubProcess, conversation_id: str, token: str, after: int = 0):
    return websockets.connect(
        f"{hub.ws_url}/api/conversations/{conversation_id}/ws"
        f"?token={token}&after={after}",
        max_size=2**22,
    )


def message(text: str, client_id: str) -> str:
    return json.dumps({"type": "message", "text": text, "client_id": client_id})


async def handed_over(hub: HubProcess, text: str = "I need help") -> tuple[str, str]:
    """A new conversation whose first message (Rasa down) went to people."""
    async with aiohttp.ClientSession() as client:
        conversation_id, token = await new_conversation(client, hub)
    async with customer_socket(hub, conversation_id, token) as ws:
        await receive_until(ws, lambda f: f.get("type") == "status")
        await ws.send(message(text, "first"))
        await receive_until(
            ws, lambda f: f.get("state") in {"queued", "follow_up"}, timeout=60
        )
    return conversation_id, token


async def history(
    client: aiohttp.ClientSession, hub: HubProcess, conversation_id: str, token: str
) -> list[dict[str, Any]]:
    async with client.get(
        f"{hub.url}/api/conversations/{conversation_id}/messages",
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        body = await response.json()
        assert response.status == 200, body
    messages: list[dict[str, Any]] = body["messages"]
    return messages


async def handoff_id_of(postgres_url: str, conversation_id: str) -> int:
    """The open handoff of a conversation, read from the database."""
    from bot.handoff.repository import HandoffRepository

    engine = create_engine(postgres_url)
    try:
        handoff = await HandoffRepository(engine).current(conversation_id)
        assert handoff is not None, conversation_id
        return handoff.id
    finally:
        await engine.dispose()


async def claim(
    http: aiohttp.ClientSession, hub: Served, agent: Agent, handoff_id: int
) -> None:
    """``agent`` claims the handoff on ``hub``; it must win."""
    async with http.post(
        f"{hub.url}/api/handoffs/{handoff_id}/claim", json={}, headers=agent.headers
    ) as response:
        assert response.status == 200, await response.text()


@contextlib.asynccontextmanager
async def agent_console(hub: Served, agent: Agent) -> AsyncIterator[Any]:
    """The agent's console socket on ``hub``, once its first queue arrived."""
    async with websockets.connect(
        f"{hub.ws_url}/api/agent/ws",
        extra_headers={"Cookie": f"baton_session={agent.session}", "Origin": hub.url},
        max_size=2**22,
    ) as ws:
        await receive_until(ws, lambda f: f.get("type") == "queue")
        yield ws


class Tab:
    """A socket whose frames are all kept, read in the background."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
                self._arrived.set()

    async def wait_for(self, client_id: str, timeout: float = 20.0) -> None:
        await self.eventually(lambda f: f.get("client_id") == client_id, timeout)

    async def eventually(self, predicate: Any, timeout: float = 60.0) -> None:
        """Wait until a frame that satisfies ``predicate`` has arrived."""

        async def seen() -> None:
            while not any(predicate(f) for f in self.frames):
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(seen(), timeout)

    def messages(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == "message"]


async def rows(database_url: str, query: sa.sql.Select) -> list[Any]:
    """Run one SELECT on the database and return its rows."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(query)).all())
    finally:
        await engine.dispose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200)
    ) as client:
        yield client


@dataclass
class PrivateRedis:
    """A redis-server of this test run's own, on a free port, never saved.

    Redis on 6379 is shared by everyone on the machine: outages are made by
    stopping this one.
    """

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        pytest.fail("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture(scope="module")
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed (apt-get install redis-server)")
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of this test run's own (initdb in a temporary dir).

    The server on 5432 is shared by everyone on the machine: restarts are
    made on this one. PostgreSQL refuses to run as root; as root the cluster
    belongs to the ``postgres`` account.
    """

    def __init__(self, directory: Path) -> None:
        binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        found = shutil.which("pg_ctl") or (str(binaries[-1]) if binaries else None)
        if found is None:
            unavailable("PostgreSQL's pg_ctl", FileNotFoundError("pg_ctl"))
        self.bin = Path(str(found)).parent
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            self.as_owner = ["runuser", "-u", "postgres", "--"]
            shutil.chown(directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
        )

    def _ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            *("-D", str(self.data), "-l", str(self.directory / "server.log")),
            *("-o", options, "-w", *extra, action),
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Restart at once, closing every client connection (``-m fast``)."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    # Not under pytest's temporary folder: its parents are private to the
    # user running the tests, and the cluster's owner must reach it.
    directory = Path(tempfile.mkdtemp(prefix="baton-postgres-"))
    try:
        try:
            server = PrivatePostgres(directory)
            server.start()
        except (subprocess.CalledProcessError, OSError) as error:
            unavailable("a private PostgreSQL cluster (initdb, pg_ctl)", error)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)

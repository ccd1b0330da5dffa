"""Helpers of the stack tests: an agent over the HTTP API the console uses,
and reads of the stack's database.

The fixtures ``seeded`` (the demo accounts) and ``console`` (the demo agent
signed in) are in ``tests/e2e/conftest.py``, on the module's ``stack``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
import websockets

from tests.conftest import PROJECT_DIR

DEMO_AGENT = "agent@demo.baton"
DEMO_PASSWORD = "baton-demo-pass"


class Console:
    """An agent signed in over HTTP."""

    def __init__(self, stack: Any, session: str, csrf: str) -> None:
        self.stack, self.session, self.csrf = stack, session, csrf

    async def call(
        self, method: str, path: str, body: Any = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Cookie": f"baton_session={self.session}", "X-CSRF-Token": self.csrf}
        async with aiohttp.ClientSession() as client:
            async with client.request(
                method, f"{self.stack.url}{path}", json=body, headers=headers
            ) as response:
                text = await response.text()
                return response.status, json.loads(text) if text else {}

    def socket(self) -> Any:
        return websockets.connect(
            f"{self.stack.ws_url}/api/agent/ws",
            extra_headers={"Cookie": f"baton_session={self.session}"},
        )


async def sign_in(stack: Any, email: str, password: str) -> Console:
    """Sign ``email`` in over HTTP and set them online."""
    async with aiohttp.ClientSession() as client:
        async with client.post(
            f"{stack.url}/api/auth/login",
            json={"email": email, "password": password},
        ) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
            cookies: SimpleCookie = SimpleCookie()
            for header in response.headers.getall("Set-Cookie", []):
                cookies.load(header)
    agent = Console(stack, cookies["baton_session"].value, body["csrf_token"])
    status, _ = await agent.call("POST", "/api/auth/presence", {"presence": "online"})
    assert status == 200
    return agent


def seed_demo(stack: Any) -> None:
    """The demo accounts, created with the command line as an operator would."""
    env = {
        **os.environ,
        "BATON_DATA_DIR": str(stack.data_dir),
        "BATON_DATABASE_URL": stack.database_url,
    }
    subprocess.run(
        [sys.executable, "-m", "bot", "seed-demo"], cwd=PROJECT_DIR, env=env, check=True
    )


def stack_rows(stack: Any, statement: Any, **params: Any) -> list[Any]:
    """The rows ``statement`` (SQL text or a select) reads from the stack's database."""
    if isinstance(statement, str):
        statement = sa.text(statement)
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(statement, params).all())
    finally:
        engine.dispose()


def handoffs_of(stack: Any, conversation_id: str) -> list[tuple[int, str, str]]:
    """The conversation's handoffs as (id, reason, state), oldest first."""
    rows = stack_rows(
        stack,
        "SELECT id, reason, state FROM handoffs WHERE conversation_id = :c ORDER BY id",
        c=conversation_id,
    )
    return [(int(row[0]), str(row[1]), str(row[2])) for row in rows]


def stack_processes(data_dir: Path) -> Iterator[tuple[int, list[bytes], list[bytes]]]:
    """The processes a stack on ``data_dir`` runs: (pid, command line, environment).

    Matched by ``BATON_DATA_DIR`` in their environment; a process that ended
    or is not ours to read is passed over.
    """
    marker = f"BATON_DATA_DIR={data_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ:
            yield int(entry.name), cmdline, environ


def watch_problems(page: Any) -> list[str]:
    """Collect the page's script errors and Content-Security-Policy reports.

    They gather in ``page.problems`` (returned too), which a test expects empty.
    """
    page.problems = []
    page.on(
        "console",
        lambda m: (
            page.problems.append(m.text) if "Content Security" in m.text else None
        ),
    )
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    return page.problems

"""Fuzzing the hub: no request gets a 5xx, no frame an internal error (issue #12).

Every documented operation is called with generated valid and invalid
inputs (schemathesis' positive and negative modes), as a customer holding a
real conversation's token and as a signed-in admin (session cookie and CSRF
token), against a hub process of its own (``python -m bot serve``, SQLite,
Rasa down). A bad request must be a 4xx with the error body, never a 500.

Hypothesis then writes frames for both WebSockets (customer and agent):
oversized, invalid UTF-8 (binary), NUL and lone surrogates, JSON nested
20,000 deep, unknown types, wrong field types. None may make the hub answer
``internal_error``, and a customer connected the whole time is still served.

CI runs a few examples per operation and a few dozen frames;
``BATON_FUZZ_EXAMPLES`` asks for more (``make bench``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from tests.conftest import free_port
from tests.reliability.conftest import (
    PASSWORD,
    HubProcess,
    create_agents,
    hub_environment,
)

pytestmark = pytest.mark.stack

EXAMPLES = int(os.environ.get("BATON_FUZZ_EXAMPLES", "4"))
FULL = "BATON_FUZZ_EXAMPLES" in os.environ
SOCKET_EXAMPLES = 10 * EXAMPLES
#: How the socket tests run: each example against the one running hub.
SOCKET_FUZZ = settings(
    max_examples=SOCKET_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
KNOWN_TYPES = ["message", "button", "typing", "rating", "recap", "ping"]
#: Not fuzzed: signing the fuzzer's own session out ends the run's coverage,
#: and ``/health`` answers 503 by design here (Rasa is not running).
EXCLUDED = [("GET", "/health"), ("POST", "/api/auth/logout")]
#: Nor what would train or deploy a model (minutes of both cores).
EXCLUDED_PATHS = r"^/api/(training/jobs|models)"


class Fuzzed:
    """The hub under fuzzing and the credentials the cases carry."""

    def __init__(self, hub: HubProcess) -> None:
        self.hub = hub
        self.http = requests.Session()
        created = self.http.post(f"{hub.url}/api/conversations", json={}).json()
        self.conversation_id: str = created["conversation_id"]
        self.token: str = created["token"]
        email = asyncio.run(
            create_agents(hub.env["BATON_DATABASE_URL"], 1, "fuzzer", role="admin")
        )[0]
        login = self.http.post(
            f"{hub.url}/api/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.session = login.cookies["baton_session"]
        self.csrf = login.json()["csrf_token"]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> Iterator[Fuzzed]:
    data_dir = tmp_path_factory.mktemp("fuzz-hub")
    env = hub_environment(f"sqlite:///{data_dir / 'baton.db'}", None, data_dir)
    hub = HubProcess("fuzz", free_port(), env, data_dir / "hub.log")
    hub.start()
    try:
        hub.wait_answering()
        yield Fuzzed(hub)
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def api(fuzzed: Fuzzed) -> Any:
    schema = schemathesis.openapi.from_url(f"{fuzzed.hub.url}/api/openapi.json")
    if not FULL:
        # The coverage phase's boundary cases, dozens per operation, are the
        # larger part of a run: kept for ``make bench``, left out of CI.
        schema.config.phases.coverage.enabled = False
    return schema


schema = schemathesis.pytest.from_fixture("api").exclude(path_regex=EXCLUDED_PATHS)
for _method, _path in EXCLUDED:
    schema = schema.exclude(method=_method, path=_path)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_hub_fail(case: Any, fuzzed: Fuzzed) -> None:
    if "conversation_id" in (case.path_parameters or {}):
        # Fuzz what is sent about a real conversation, not only 404s.
        case.path_parameters["conversation_id"] = fuzzed.conversation_id
    headers = {
        "Authorization": f"Bearer {fuzzed.token}",
        "X-CSRF-Token": fuzzed.csrf,
    }
    response = case.call(
        headers=headers, cookies={"baton_session": fuzzed.session}, timeout=30
    )
    case.validate_response(response, checks=[not_a_server_error])


def json_frames() -> st.SearchStrategy[str]:
    """Frames as a hostile client could write them (text frames)."""
    any_text = st.text(st.characters(codec=None), max_size=300)
    hostile_text = st.text(
        st.characters(blacklist_categories=()), max_size=300
    ) | st.sampled_from(["\x00", "\ud800", "\udfff\x00", "/restart", ""])
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | any_text,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4)
        ),
        max_leaves=12,
    )
    typed = st.fixed_dictionaries(
        {"type": st.sampled_from(KNOWN_TYPES) | any_text},
        optional={
            "text": hostile_text | values,
            "payload": hostile_text | values,
            "client_id": hostile_text | values,
            "score": values,
            "comment": hostile_text | values,
            "email": hostile_text | values,
        },
    )
    depth = st.integers(1, 20000)
    return st.one_of(
        typed.map(json.dumps),
        values.map(json.dumps),
        any_text,
        depth.map(lambda n: "[" * n + "]" * n),
        depth.map(lambda n: '{"type":' * n + "1" + "}" * n),
        st.integers(60_000, 300_000).map(
            lambda n: json.dumps({"type": "message", "text": "x" * n})
        ),
    )


def binary_frames() -> st.SearchStrategy[bytes]:
    """Binary frames: invalid UTF-8, NUL bytes, JSON as bytes."""
    return st.binary(max_size=2000) | st.sampled_from(
        [b"\xff\xfe", b'{"type": "message", "text": "\xc3\x28"}', b"\x00" * 10]
    )


async def probe(ws_url: str, frame: str | bytes) -> list[dict[str, Any]]:
    """Send one frame on a new socket; the frames the hub answers with."""
    answers = []
    async with websockets.connect(ws_url, max_size=2**22) as ws:
        await ws.recv()
        await ws.send(frame)
        with contextlib.suppress(asyncio.TimeoutError, websockets.ConnectionClosed):
            while True:
                answers.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3)))
    return answers


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop of its own: hypothesis drives these tests synchronously."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def bystander(fuzzed: Fuzzed, loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    """Another customer, connected the whole time."""
    created = fuzzed.http.post(f"{fuzzed.hub.url}/api/conversations", json={}).json()
    url = (
        f"{fuzzed.hub.ws_url}/api/conversations/{created['conversation_id']}/ws"
        f"?token={created['token']}"
    )

    async def connect() -> Any:
        ws = await websockets.connect(url)
        await ws.recv()
        return ws

    ws = loop.run_until_complete(connect())
    yield ws
    loop.run_until_complete(ws.close())


@given(frame=json_frames() | binary_frames())
@SOCKET_FUZZ
def test_no_frame_makes_the_customer_socket_fail(
    fuzzed: Fuzzed, loop: asyncio.AbstractEventLoop, bystander: Any, frame: Any
) -> None:
    url = (
        f"{fuzzed.hub.ws_url}/api/conversations/{fuzzed.conversation_id}/ws"
        f"?token={fuzzed.token}&after=1000000"
    )
    answers = loop.run_until_complete(probe(url, frame))
    assert not [a for a in answers if a.get("code") == "internal_error"], answers

    # Another customer of the same hub is still served.
    async def still_served() -> None:
        await bystander.send(json.dumps({"type": "typing"}))
        await asyncio.wait_for(await bystander.ping(), 10)

    loop.run_until_complete(still_served())


@given(frame=json_frames() | binary_frames())
@SOCKET_FUZZ
def test_no_frame_makes_the_agent_socket_fail(
    fuzzed: Fuzzed, loop: asyncio.AbstractEventLoop, frame: Any
) -> None:
    async def send() -> list[dict[str, Any]]:
        answers = []
        async with websockets.connect(
            f"{fuzzed.hub.ws_url}/api/agent/ws",
            extra_headers={
                "Cookie": f"baton_session={fuzzed.session}",
                "Origin": fuzzed.hub.url,
            },
            max_size=2**22,
        ) as ws:
            await ws.send(frame)
            with contextlib.suppress(asyncio.TimeoutError, websockets.ConnectionClosed):
                while True:
                    answers.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3)))
        return answers

    answers = loop.run_until_complete(send())
    assert not [a for a in answers if a.get("code") == "internal_error"], answers

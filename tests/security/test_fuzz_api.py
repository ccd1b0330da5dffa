"""Schemathesis over the hub's OpenAPI document: no request gets a 5xx (issue #12).

Every documented operation is called with generated valid and invalid
inputs (schemathesis' positive and negative modes), as a customer holding a
real conversation's token and as a signed-in admin (session cookie and CSRF
token), against a hub process of its own (``python -m bot serve``, SQLite,
Rasa down). A bad request must be a 4xx with the error body, never a 500.

CI runs a few examples per operation; ``make bench`` sets
``BATON_FUZZ_EXAMPLES`` for a fuller run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
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
    return schemathesis.openapi.from_url(f"{fuzzed.hub.url}/api/openapi.json")


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

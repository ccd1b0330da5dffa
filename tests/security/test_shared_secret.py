"""The action server runs nothing for a caller without the shared secret.

However the path is spelled: Sanic also routes ``/webhook/`` to rasa_sdk's
``/webhook``, and a check of the exact path let that spelling run any action
for any conversation id. Only the probes (``/ready``, ``/health``) are open.
Rasa's own HTTP API, and both servers as real processes, are checked on the
running stack (``tests/e2e/test_stack.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.actions_server import TOKEN_HEADER
from bot.config import Settings
from bot.knowledge import SharedKnowledgeBase
from tests.bot.test_actions_server import action_server

SECRET = "the-shared-secret-of-this-test"
CALL = {
    "next_action": "action_default_ask_rephrase",
    "sender_id": "c-1",
    "tracker": {
        "sender_id": "c-1",
        "slots": {},
        "latest_message": {},
        "events": [],
        "paused": False,
        "active_loop": {},
    },
    "domain": {},
    "version": "3.6.2",
}


@pytest.fixture(scope="module")
async def url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    folder: Path = tmp_path_factory.mktemp("actions")
    knowledge = SharedKnowledgeBase(
        lambda: Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'b.db'}")
    )
    async with action_server(knowledge, token=SECRET) as running:
        yield running


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/webhook"),
        ("POST", "/webhook/"),
        ("POST", "/webhook?next_action=x"),
        ("POST", "/./webhook"),
        ("GET", "/actions"),
    ],
)
@pytest.mark.parametrize("sent", [None, "", "wrong", SECRET.upper()])
async def test_no_spelling_of_a_path_runs_anything_without_the_secret(
    url: str, method: str, path: str, sent: str | None
) -> None:
    headers = {} if sent is None else {TOKEN_HEADER: sent}
    async with aiohttp.ClientSession() as client:
        async with client.request(
            method, url + path, json=CALL, headers=headers
        ) as response:
            body = await response.json()
    assert response.status == 401, body
    assert body["error"]["code"] == "unauthorized" and "responses" not in body


@pytest.mark.parametrize("path", ["/webhook", "/webhook/"])
async def test_the_secret_opens_the_webhook(url: str, path: str) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.post(
            url + path, json=CALL, headers={TOKEN_HEADER: SECRET}
        ) as response:
            body = await response.json()
    assert response.status == 200, body
    assert body["responses"][0]["text"].startswith("Sorry, I still didn't"), body


@pytest.mark.parametrize("path", ["/ready", "/health"])
async def test_the_probes_stay_open(url: str, path: str) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.get(url + path) as response:
            assert response.status in {200, 503}

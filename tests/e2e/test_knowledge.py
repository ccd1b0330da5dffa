"""Knowledge-base answers through the real stack: Rasa, actions, hub, database."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

from tests.conftest import PROJECT_DIR
from tests.e2e.test_stack import connect, is_bot, say, start
from tests.hub import drain, receive_until

pytestmark = pytest.mark.stack

PASSWORD = "a long enough password"


def articles_shown(frames: list[dict[str, Any]]) -> list[str]:
    return [
        f["meta"]["article"] for f in frames if is_bot(f) and "article" in f["meta"]
    ]


async def click(ws: Any, frames: list[dict[str, Any]], title: str) -> list[dict]:
    """Click the latest offered button with this title; return what follows."""
    offered = [b for f in frames if is_bot(f) for b in f["buttons"]]
    button = [b for b in offered if b["title"] == title][-1]
    await ws.send(
        json.dumps(
            {
                "type": "button",
                "payload": button["payload"],
                "client_id": secrets.token_hex(6),
            }
        )
    )
    return await receive_until(ws, is_bot, timeout=60) + await drain(ws, 1.5)


def create_account(stack: Any, role: str) -> str:
    email = f"kb-{role}-{secrets.token_hex(3)}@example.com"
    command = ["create-agent", "--email", email, "--name", "Editor", "--role", role]
    subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "BATON_DATA_DIR": str(stack.data_dir),
            "BATON_DATABASE_URL": stack.database_url,
            "BATON_NEW_AGENT_PASSWORD": PASSWORD,
            "BATON_LOG_LEVEL": "WARNING",
        },
        check=True,
        capture_output=True,
    )
    return email


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("how do I get my money back", "refund-request"),
        ("my notes aren't showing up on my other laptop", "sync-not-working"),
    ],
)
async def test_paraphrases_get_the_expected_article(
    stack: Any, question: str, slug: str
) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, question, "q-1")
    assert articles_shown(frames) == [slug]
    texts = [f["text"] for f in frames if is_bot(f)]
    assert texts[-1] == "Did that solve your problem?"
    assert [b["title"] for b in frames[-1]["buttons"]] == ["Yes, thanks", "No"]


async def test_two_rejected_answers_hand_over_to_a_person(stack: Any) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, "my notes are not syncing", "s-1")
        first = articles_shown(frames)
        assert first == ["sync-not-working"]
        frames = await click(ws, frames, "No")
        second = articles_shown(frames)
        assert len(second) == 1 and second != first
        await ws.send(
            json.dumps({"type": "button", "payload": "/deny", "client_id": "no-2"})
        )
        handed = await receive_until(
            ws, lambda f: f.get("state") in {"queued", "follow_up"}, 60
        )
    assert any(
        is_bot(f) and "person from our support team" in f["text"] for f in handed
    )


async def test_an_edited_article_changes_the_next_answer(stack: Any) -> None:
    email = create_account(stack, "trainer")
    new_summary = f"Refunds are handled in 3 days now ({secrets.token_hex(3)})."
    # unsafe=True: keep the session cookie of a host given by IP address.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(
            f"{stack.url}/api/auth/login",
            json={"email": email, "password": PASSWORD},
        ) as response:
            assert response.status == 200, await response.text()
            csrf = (await response.json())["csrf_token"]
        async with http.put(
            f"{stack.url}/api/kb/articles/refund-request",
            json={"summary": new_summary},
            headers={"X-CSRF-Token": csrf},
        ) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["article"]["summary"] == new_summary
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, "how do I get my money back", "r-1")
    answer = next(f for f in frames if is_bot(f) and f["meta"].get("article"))
    assert answer["meta"]["article"] == "refund-request"
    assert answer["text"].startswith(new_summary)

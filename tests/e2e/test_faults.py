"""Rasa or the action server down, hung or slow, with the real stack.

One stack for the module (``python -m bot run``, embedded defaults). Its hub
waits 120 s for a Rasa turn (``BATON_RASA_TIMEOUT``), far longer than these
tests wait for a handoff: a handoff that arrives is decided from the failed
actions Rasa reports, or by the hub finding that Rasa does not answer at all,
not by the hub giving up on a slow turn. Processes are frozen with SIGSTOP
(hung: they accept connections and never answer) and resumed with SIGCONT
(slow: what they were asked is then answered, late), or killed (down; the
supervisor restarts them a few seconds later).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bench.stack import health
from bot.db.engine import create_engine
from bot.training.models import file_digest, model_rows
from tests.conftest import PROJECT_DIR
from tests.e2e.conftest import Stack, ensure_model, started
from tests.e2e.test_handoff import (
    child_pid,
    handed_over,
    handoffs_of,
    rasa_server_pid,
    send,
)
from tests.e2e.test_handoff import wait_healthy as wait_recovered
from tests.e2e.test_stack import connect, is_bot, start
from tests.hub import drain, receive_until
from tests.reliability.conftest import (
    Tab,
    agent_console,
    claim,
    create_agents,
    handoff_id_of,
    message,
    sign_in,
)

pytestmark = pytest.mark.stack

#: Far above the action deadline (BATON_ACTION_TIMEOUT, 5 s) and the time
#: these tests allow for a handoff, so the hub's own timeout cannot be what
#: hands over.
RASA_TIMEOUT_S = 120
HANDOFF_WAIT_S = 60
QUESTIONS = ["talk to a person", "I forgot my password"]
MODEL_PULL_S = 2
#: Customers chatting while the model is replaced, and what each says in turn.
SWAP_CUSTOMERS = 4
SWAP_LINES = ["hello", "how do I change my email address?", "thanks"]
#: Lines each customer still says once Rasa runs the new model.
AFTER_SWAP = 2


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_model()
    data_dir = tmp_path_factory.mktemp("stack-faults")
    yield from started(
        {
            "BATON_RASA_TIMEOUT": str(RASA_TIMEOUT_S),
            # A deployed model reaches Rasa within seconds (the model swap).
            "BATON_MODEL_PULL_SECONDS": str(MODEL_PULL_S),
        },
        data_dir,
        "embedded",
    )


def action_server_pid(data_dir: Path) -> int:
    return child_pid(data_dir, b"bot.actions_server")


@contextlib.contextmanager
def frozen(pid: int) -> Iterator[None]:
    """SIGSTOP ``pid`` for the block; SIGCONT after, whatever happens."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


def stored_messages(stack: Stack, conversation_id: str) -> list[Any]:
    """The stored messages of the conversation, in order."""
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    sa.text(
                        "SELECT seq, role, text, relay_state FROM messages "
                        "WHERE conversation_id = :c ORDER BY seq"
                    ),
                    {"c": conversation_id},
                )
            )
    finally:
        engine.dispose()


def stored_roles(stack: Stack, conversation_id: str) -> list[str]:
    """Who said each stored message of the conversation, in order."""
    return [m.role for m in stored_messages(stack, conversation_id)]


async def ask(stack: Stack, text: str) -> tuple[str, list[dict[str, Any]]]:
    """Say ``text`` in a new conversation; the frames up to the handoff."""
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await send(ws, text, "q1")
        frames = await receive_until(ws, handed_over, timeout=HANDOFF_WAIT_S)
        frames += await drain(ws, quiet_s=1.0)
    return conversation_id, frames


def assert_handed_over_with_one_clear_message(
    stack: Stack, conversation_id: str, frames: list[dict[str, Any]]
) -> None:
    assert [reason for _, reason, _ in handoffs_of(stack, conversation_id)] == [
        "bot_unavailable"
    ], frames
    system = [f["text"] for f in frames if f.get("role") == "system"]
    assert any("having trouble" in line for line in system), frames
    # One clear message: no "I'm bringing in a person" from a turn whose
    # handoff action never ran, no answer the knowledge base never gave.
    assert not [f for f in frames if is_bot(f)], frames


async def assert_everyone_reaches_a_person(stack: Stack) -> None:
    for text in QUESTIONS:
        conversation_id, frames = await ask(stack, text)
        assert_handed_over_with_one_clear_message(stack, conversation_id, frames)


async def test_a_hung_action_server_hands_every_question_to_a_person(stack) -> None:
    with frozen(action_server_pid(stack.data_dir)):
        await assert_everyone_reaches_a_person(stack)
    await asyncio.to_thread(wait_recovered, stack.url)


async def test_a_frozen_rasa_is_found_out_and_every_question_reaches_a_person(
    stack,
) -> None:
    # Rasa accepts the hub's connections and never answers; the hub's own
    # deadline (120 s here) is far off: the hub finds out that Rasa does not
    # answer even its root page and hands over.
    asked = []
    with frozen(rasa_server_pid(stack.data_dir)):
        for text in QUESTIONS:
            conversation_id, frames = await ask(stack, text)
            asked.append(conversation_id)
            assert_handed_over_with_one_clear_message(stack, conversation_id, frames)
    await asyncio.to_thread(wait_recovered, stack.url)
    # Resumed, Rasa runs the turns it was sent while frozen; what it says
    # then is nobody's to hear: the hub stored no bot reply.
    for conversation_id in asked:
        assert "bot" not in stored_roles(stack, conversation_id)


async def test_a_slow_action_finishing_after_an_agent_took_over_stays_unsaid(
    stack,
) -> None:
    email = (await create_agents(stack.database_url, 1, "faults"))[0]
    async with aiohttp.ClientSession() as http:
        agent = await sign_in(http, stack, email)
        async with agent_console(stack, agent) as console_ws:
            console = Tab(console_ws)
            conversation_id, token = await start(stack)
            async with connect(stack, conversation_id, token) as ws:
                customer = Tab(ws)
                # The action server is slow: it answers what it was asked
                # only once resumed, after Rasa's action deadline and after
                # an agent took the chat.
                with frozen(action_server_pid(stack.data_dir)):
                    await ws.send(message("I forgot my password", "slow-1"))
                    await customer.eventually(handed_over, HANDOFF_WAIT_S)
                    handoff_id = await handoff_id_of(
                        stack.database_url, conversation_id
                    )
                    await claim(http, stack, agent, handoff_id)
                    await customer.eventually(lambda f: f.get("state") == "agent")
                await asyncio.to_thread(wait_recovered, stack.url)
                await ws.send(message("are you still there?", "slow-2"))
                await console.eventually(
                    lambda f: f.get("text") == "are you still there?"
                )
                await asyncio.sleep(2.0)
    assert not [f for f in customer.frames if is_bot(f)], customer.frames
    to_agent = [
        f for f in console.messages() if f.get("conversation_id") == conversation_id
    ]
    assert [f["role"] for f in to_agent if f["role"] == "bot"] == []
    roles = stored_roles(stack, conversation_id)
    assert "bot" not in roles, roles
    assert roles.count("customer") == 2, roles
    assert [reason for _, reason, _ in handoffs_of(stack, conversation_id)] == [
        "bot_unavailable"
    ]


async def test_a_dead_action_server_hands_every_question_to_a_person(stack) -> None:
    pid = action_server_pid(stack.data_dir)
    os.kill(pid, signal.SIGKILL)
    # The supervisor restarts it after a pause and a start of several
    # seconds; the questions are asked at once, while nothing listens.
    await assert_everyone_reaches_a_person(stack)
    await asyncio.to_thread(wait_recovered, stack.url)


def copy_of_model(source: Path, target: Path) -> str:
    """The shipped model under a new model id (Rasa tells models apart by it)."""
    model_id = uuid.uuid4().hex
    with tarfile.open(source) as original, tarfile.open(target, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member) if member.isfile() else None
            if member.name.lstrip("/") == "metadata.json" and data is not None:
                metadata = json.loads(data.read())
                metadata["model_id"] = model_id
                raw = json.dumps(metadata).encode()
                member.size = len(raw)
                data = io.BytesIO(raw)
            copy.addfile(member, data)
    return model_id


async def register_model(stack: Stack, path: Path) -> str:
    """Record ``path`` as a trained model, as a training job would."""
    version = f"swap-{uuid.uuid4().hex[:8]}"
    engine = create_engine(stack.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                model_rows.insert().values(
                    version=version,
                    path=str(path),
                    sha256=file_digest(path),
                    size=path.stat().st_size,
                    fingerprint="copy of the shipped model",
                    config="",
                    metrics={},
                    trained_by="tests",
                )
            )
    finally:
        await engine.dispose()
    return version


async def rasa_model(stack: Stack) -> str | None:
    """The model Rasa runs, as the hub's ``/health`` reports it."""
    _, body = await asyncio.to_thread(health, stack.url)
    model: str | None = body.get("checks", {}).get("rasa", {}).get("model")
    return model


async def say_and_hear(ws: Any, text: str, client_id: str) -> list[dict[str, Any]]:
    """Say ``text``; the frames up to its answer (or a handoff)."""
    await send(ws, text, client_id)
    frames = await receive_until(ws, lambda f: f.get("client_id") == client_id)
    seq = frames[-1]["seq"]
    # Its answer: a bot message after it, not the tail of the one before.
    return frames + await receive_until(
        ws,
        lambda f: (is_bot(f) and f["seq"] > seq) or handed_over(f),
        timeout=HANDOFF_WAIT_S,
    )


@dataclass
class Chat:
    """What one customer said while the model was replaced, and how it went."""

    conversation_id: str
    said: list[str] = field(default_factory=list)
    #: Lines the bot answered once Rasa ran the new model.
    answered_after_swap: int = 0
    handed_over: bool = False


async def chat_until(stack: Stack, name: str, swapped: asyncio.Event) -> Chat:
    """Say one line after another, each once answered, until ``AFTER_SWAP``
    lines are answered on the new model, or the chat is handed over."""
    conversation_id, token = await start(stack)
    chat = Chat(conversation_id)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        while chat.answered_after_swap < AFTER_SWAP:
            after_swap = swapped.is_set()
            text = f"{SWAP_LINES[len(chat.said) % len(SWAP_LINES)]} ({name})"
            frames = await say_and_hear(ws, text, f"{name}-{len(chat.said)}")
            chat.said.append(text)
            if any(handed_over(f) for f in frames):
                chat.handed_over = True
                return chat
            chat.answered_after_swap += after_swap
    return chat


async def test_a_model_deployed_under_load_loses_and_doubles_nothing(
    stack, tmp_path
) -> None:
    path = tmp_path / "swapped.tar.gz"
    new_model = await asyncio.to_thread(
        copy_of_model, PROJECT_DIR / "models" / "baton.tar.gz", path
    )
    version = await register_model(stack, path)
    email = (await create_agents(stack.database_url, 1, "deployer", "admin"))[0]
    swapped = asyncio.Event()
    chats = [
        asyncio.create_task(chat_until(stack, f"c{n}", swapped))
        for n in range(SWAP_CUSTOMERS)
    ]
    async with aiohttp.ClientSession() as http:
        admin = await sign_in(http, stack, email)
        await asyncio.sleep(2.0)  # everyone is chatting
        async with http.post(
            f"{stack.url}/api/models/{version}/deploy",
            json={"override_reason": "a model swap under load (tests)"},
            headers=admin.headers,
        ) as response:
            assert response.status == 200, await response.text()
        try:
            while await rasa_model(stack) != new_model:
                for chat in chats:
                    if chat.done():
                        await chat  # its failure, told
                await asyncio.sleep(0.5)
            swapped.set()
            results = await asyncio.gather(*chats)
        finally:
            async with http.post(
                f"{stack.url}/api/models/{version}/rollback", headers=admin.headers
            ) as response:
                assert response.status == 200, await response.text()
    # The bot kept answering across the swap (a machine too loaded to keep
    # an action call within its deadline while a model loads may hand some
    # customers over, with one clear message: counted, not hidden).
    assert [chat for chat in results if not chat.handed_over], results
    for chat in results:
        stored = stored_messages(stack, chat.conversation_id)
        # Nothing lost or doubled, in order.
        assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
        assert [m.text for m in stored if m.role == "customer"] == chat.said
        # Every line answered once: its turn relayed, an answer before the
        # next line, no answer twice.
        relayed = {m.relay_state for m in stored if m.role == "customer"}
        assert relayed <= ({"done", "failed"} if chat.handed_over else {"done"})
        turns: list[list[str]] = []
        for m in stored:
            if m.role == "customer":
                turns.append([])
            else:
                turns[-1].append(m.text)
        assert all(turns), turns
        assert all(len(set(answer)) == len(answer) for answer in turns), turns
        system = [m.text for m in stored if m.role == "system"]
        assert len(system) == chat.handed_over, system
    await asyncio.to_thread(wait_recovered, stack.url)

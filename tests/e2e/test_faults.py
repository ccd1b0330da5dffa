"""The action server down or hung, with the real stack: nobody is stranded.

One stack for the module (``python -m bot run``, embedded defaults). Its hub
waits 120 s for a Rasa turn (``BATON_RASA_TIMEOUT``), far longer than these
tests wait for a handoff: a handoff that arrives is the one decided from the
failed actions Rasa reports, not the hub giving up on Rasa. The action server
is frozen with SIGSTOP (hung: it accepts connections and never answers) or
killed (down; the supervisor restarts it a few seconds later).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack, ensure_model, started
from tests.e2e.test_handoff import handed_over, handoffs_of, send
from tests.e2e.test_handoff import wait_healthy as wait_recovered
from tests.e2e.test_stack import connect, is_bot, start
from tests.hub import drain, receive_until

pytestmark = pytest.mark.stack

#: Far above the action deadline (BATON_ACTION_TIMEOUT, 5 s) and the time
#: these tests allow for a handoff, so the hub's own timeout cannot be what
#: hands over.
RASA_TIMEOUT_S = 120
HANDOFF_WAIT_S = 60
QUESTIONS = ["talk to a person", "I forgot my password"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_model()
    data_dir = tmp_path_factory.mktemp("stack-faults")
    yield from started(
        {"BATON_RASA_TIMEOUT": str(RASA_TIMEOUT_S)}, data_dir, "embedded"
    )


def action_server_pid(data_dir: Path) -> int:
    """The action server of this module's stack (matched by its data dir)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"bot.actions_server" not in cmdline:
            continue
        if f"BATON_DATA_DIR={data_dir}".encode() in environ:
            return int(entry.name)
    pytest.fail("the stack's action server was not found")


async def ask(stack: Stack, text: str) -> tuple[str, list[dict[str, Any]]]:
    """Say ``text`` in a new conversation; the frames up to the handoff."""
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await send(ws, text, "q1")
        frames = await receive_until(ws, handed_over, timeout=HANDOFF_WAIT_S)
        frames += await drain(ws, quiet_s=1.0)
    return conversation_id, frames


async def assert_everyone_reaches_a_person(stack: Stack) -> None:
    for text in QUESTIONS:
        conversation_id, frames = await ask(stack, text)
        assert [reason for _, reason, _ in handoffs_of(stack, conversation_id)] == [
            "bot_unavailable"
        ], text
        system = [f["text"] for f in frames if f.get("role") == "system"]
        assert any("having trouble" in line for line in system), (text, frames)
        # One clear message: no "I'm bringing in a person" from a turn whose
        # handoff action never ran, no answer the knowledge base never gave.
        assert not [f for f in frames if is_bot(f)], (text, frames)


async def test_a_hung_action_server_hands_every_question_to_a_person(stack) -> None:
    pid = action_server_pid(stack.data_dir)
    os.kill(pid, signal.SIGSTOP)
    try:
        await assert_everyone_reaches_a_person(stack)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    await asyncio.to_thread(wait_recovered, stack.url)


async def test_a_dead_action_server_hands_every_question_to_a_person(stack) -> None:
    pid = action_server_pid(stack.data_dir)
    os.kill(pid, signal.SIGKILL)
    # The supervisor restarts it after a pause and a start of several
    # seconds; the questions are asked at once, while nothing listens.
    await assert_everyone_reaches_a_person(stack)
    await asyncio.to_thread(wait_recovered, stack.url)

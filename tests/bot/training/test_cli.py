"""``baton inbox``: the inbox's groups in a terminal."""

from __future__ import annotations

import asyncio

import pytest

from bot.cli import main
from tests.bot.training.helpers import conversation, quiet_relay, turn
from tests.hub import RunningHub


async def test_baton_inbox_prints_the_groups(
    hub: RunningHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await quiet_relay(hub)
    for text in (
        "my invoice shows the wrong amount",
        "the invoice shows a wrong amount",
    ):
        await turn(
            hub, await conversation(hub), text, intent="nlu_fallback", confidence=0.3
        )
    monkeypatch.setenv("BATON_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("BATON_DATA_DIR", str(hub.settings.data_dir))
    assert await asyncio.to_thread(main, ["inbox"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1
    assert printed[0].split()[:4] == ["2", "fallback", "x2", "billing-invoice"]
    assert await asyncio.to_thread(main, ["inbox", "--reason", "handoff"]) == 0
    assert capsys.readouterr().out.strip() == "the inbox is empty"

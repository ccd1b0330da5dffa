"""The process runner with real child processes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot import runner
from bot.rasa_server import rasa_arguments
from bot.runner import Child, Runner


async def test_a_crashed_child_is_reported_restarted_then_given_up(
    hub_settings, capsys, monkeypatch
) -> None:
    monkeypatch.setattr(runner, "MAX_RESTARTS", 2)
    crashing = Child(
        "flaky", [sys.executable, "-c", "print('boom'); raise SystemExit(3)"], {}
    )
    steady = Child("steady", [sys.executable, "-c", "import time; time.sleep(60)"], {})
    supervisor = Runner(hub_settings, [crashing, steady])
    code = await asyncio.wait_for(supervisor.run(), timeout=30)
    out = capsys.readouterr().out
    assert code == 1
    assert "[flaky] boom" in out
    assert "flaky exited with code 3; restarting" in out
    assert "giving up after 2 restarts" in out
    assert steady.process is not None and steady.process.returncode is not None


async def test_stopping_stops_every_child(hub_settings) -> None:
    children = [
        Child(name, [sys.executable, "-c", "import time; time.sleep(60)"], {})
        for name in ("one", "two")
    ]
    supervisor = Runner(hub_settings, children)
    task = asyncio.get_running_loop().create_task(supervisor.run())
    await asyncio.sleep(1)
    supervisor.stopping.set()
    assert await asyncio.wait_for(task, timeout=30) == 0
    assert all(c.process.returncode is not None for c in children)


def test_run_refuses_to_start_without_a_model(hub_settings, tmp_path, capsys) -> None:
    settings = hub_settings.with_changes(model_dir=tmp_path / "no-models")
    assert runner.run(settings, {}) == 2
    assert "no trained model" in capsys.readouterr().out


def test_the_token_is_in_no_process_list(hub_settings) -> None:
    settings = hub_settings.with_changes(rasa_token="-secret-starts-with-a-dash")
    for child in runner.children(settings, Path("m.tar.gz"), {}):
        assert not any("secret" in argument for argument in child.argv)
        assert child.env["BATON_RASA_TOKEN"] == "-secret-starts-with-a-dash"
    rasa = next(
        c for c in runner.children(settings, Path("m.tar.gz"), {}) if c.name == "rasa"
    )
    assert rasa.argv[1:3] == ["-m", "bot.rasa_server"]
    assert rasa.env["RASA_TELEMETRY_ENABLED"] == "false"


def test_the_rasa_entry_point_hands_the_token_to_rasa_intact() -> None:
    arguments = rasa_arguments(["run", "--enable-api"], "-starts-with-a-dash")
    assert arguments == ["run", "--enable-api", "--auth-token=-starts-with-a-dash"]


@pytest.mark.parametrize(
    ("arguments", "token"),
    [
        (["run"], ""),
        (["run", "--auth-token=x"], "x"),
        (["run", "--auth-token", "x"], "x"),
    ],
)
def test_the_rasa_entry_point_refuses_a_missing_or_visible_token(
    arguments: list[str], token: str
) -> None:
    with pytest.raises(SystemExit):
        rasa_arguments(arguments, token)


def test_the_banner_names_every_page_and_the_demo_sign_in(capsys) -> None:
    runner.banner(
        "http://127.0.0.1:8000",
        [("agent@demo.baton", "agent"), ("admin@demo.baton", "admin")],
        "demo-pass",
    )
    out = capsys.readouterr().out
    assert "chat widget:  http://127.0.0.1:8000/\n" in out
    assert "http://127.0.0.1:8000/console" in out
    assert "http://127.0.0.1:8000/health" in out
    assert "(password demo-pass)" in out
    assert "agent    agent@demo.baton" in out
    assert "admin    admin@demo.baton" in out


def test_without_demo_accounts_the_banner_shows_no_password(capsys) -> None:
    runner.banner("http://127.0.0.1:8000", [], "demo-pass")
    assert "demo-pass" not in capsys.readouterr().out

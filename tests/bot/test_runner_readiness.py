"""``baton run`` says "running" only when ``/health`` says every part is ready."""

from __future__ import annotations

from aiohttp import web

from bot import runner
from bot.runner import Child, Runner
from tests.conftest import free_port

STARTING = {
    "status": "degraded",
    "checks": {
        "rasa": {"status": "down", "error": "ClientConnectorError"},
        "action_server": {
            "status": "starting",
            "error": "building the knowledge-base index",
        },
    },
}


async def test_running_is_printed_only_after_health_is_200(
    hub_settings, capsys
) -> None:
    answers = [(503, STARTING)] * 3 + [(200, {"status": "ok", "checks": {}})]
    served: list[int] = []

    async def health(_: web.Request) -> web.Response:
        status, body = answers[min(len(served), len(answers) - 1)]
        served.append(status)
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_get("/health", health)
    app_runner = web.AppRunner(app)
    await app_runner.setup()
    settings = hub_settings.with_changes(port=free_port())
    await web.TCPSite(app_runner, "127.0.0.1", settings.port).start()
    try:
        await Runner(settings, [])._announce_when_ready()
    finally:
        await app_runner.cleanup()
    out = capsys.readouterr().out
    assert served == [503, 503, 503, 200]
    # Said once, though seen three times; the part that is merely down is
    # no news while the processes start.
    assert out.count("not ready yet") == 1
    assert "not ready yet: action_server: building the knowledge-base index" in out
    assert out.index("not ready yet") < out.index("Baton is running.")


def test_the_action_server_is_started_with_its_warm_up(hub_settings) -> None:
    from pathlib import Path

    actions: Child = next(
        c
        for c in runner.children(hub_settings, Path("m.tar.gz"), {})
        if c.name == "actions"
    )
    assert actions.argv[1:5] == ["-m", "bot.actions_server", "--actions", "actions"]

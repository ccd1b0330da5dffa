"""``/health`` tells the truth: 503 with the reason until every part can answer.

The hub checks the real Baton channel (served with a model-less Rasa agent,
:mod:`tests.bot.assistant.rasa_parts`) and the real action server entry point
(:mod:`bot.actions_server`) whose knowledge base is not there yet.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.config import Settings
from bot.knowledge import SharedKnowledgeBase
from tests.bot.assistant.rasa_parts import TOKEN, channel_server
from tests.bot.test_actions_server import action_server
from tests.hub import running_hub


async def test_health_is_503_with_the_reason_while_rasa_and_actions_warm_up(
    hub_settings: Settings, tmp_path: Path
) -> None:
    # An empty SQLite file: the action server cannot build its index yet.
    empty = f"sqlite:///{tmp_path / 'not-migrated.db'}"
    knowledge = SharedKnowledgeBase(lambda: Settings(database_url=empty))
    async with action_server(knowledge) as actions_url:
        async with channel_server(f"{actions_url}/webhook") as rasa_url:
            settings = hub_settings.with_changes(
                rasa_url=rasa_url, rasa_token=TOKEN, action_server_url=actions_url
            )
            async with running_hub(settings) as hub:
                async with aiohttp.ClientSession() as client:
                    async with client.get(f"{hub.url}/health") as response:
                        body = await response.json()
    assert response.status == 503
    checks = body["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["rasa"] == {"status": "starting", "error": "no model loaded"}
    assert checks["action_server"]["status"] == "starting"
    assert checks["action_server"]["error"].startswith("warm-up failed")
    assert "rasa starting: no model loaded" in body["reason"]
    assert "action_server starting: warm-up failed" in body["reason"]


async def test_a_part_that_does_not_answer_is_down(hub) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{hub.url}/health") as response:
            body = await response.json()
    assert response.status == 503
    assert body["checks"]["rasa"]["status"] == "down"
    assert body["checks"]["action_server"]["status"] == "down"
    assert "rasa down" in body["reason"]

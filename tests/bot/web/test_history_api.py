"""Searching and reading past conversations over HTTP, on SQLite and PostgreSQL.

PostgreSQL is shared by the whole run, so every search here looks for a word
made up for the test.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.config import Limits, Settings
from bot.conversations.identity import sign_identity
from bot.handoff.service import OUTCOMES
from bot.web.openapi import document
from tests.bot.auth.test_auth_api import call
from tests.bot.web.test_agent_api import Agent, handed_off, sign_in
from tests.hub import RunningHub, running_hub

SECRET = "history-test-identity-secret"


@pytest.fixture
async def hub(hub_settings: Settings, database_url: str) -> AsyncIterator[RunningHub]:
    settings = hub_settings.with_changes(
        database_url=database_url,
        limits=Limits(logins_per_ip_per_minute=1000),
        identity_secret=SECRET,
    )
    async with running_hub(settings) as running:
        yield running


async def conversation(hub: RunningHub, text: str, **body: Any) -> tuple[str, int]:
    """A conversation with one customer message, handed to people (no Rasa)."""
    conversation_id, _, handoff_id = await handed_off(hub, text, locale=None, **body)
    return conversation_id, handoff_id


async def resolved(
    hub: RunningHub, agent: Agent, text: str, outcome: str, **body: Any
) -> str:
    conversation_id, handoff_id = await conversation(hub, text, **body)
    status, answer = await agent.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim")
    assert status == 200, answer
    status, answer = await agent.call(
        hub, "POST", f"/api/handoffs/{handoff_id}/resolve", json={"outcome": outcome}
    )
    assert status == 200, answer
    return conversation_id


async def search(who: Agent, hub: RunningHub, **params: Any) -> dict[str, Any]:
    status, answer = await who.call(hub, "GET", "/api/conversations", params=params)
    assert status == 200, answer
    return answer


def ids(answer: dict[str, Any]) -> list[str]:
    return [row["conversation_id"] for row in answer["conversations"]]


async def test_search_by_text_email_outcome_agent_date_and_pages(hub) -> None:
    ann, bob = await sign_in(hub), await sign_in(hub)
    word = f"zebra{secrets.token_hex(3)}"
    email = f"cleo-{secrets.token_hex(3)}@example.com"
    first = await resolved(
        hub,
        ann,
        f"my {word} invoice is wrong",
        "solved",
        user={"name": "Cleo Park", "email": email},
    )
    second = await resolved(
        hub,
        bob,
        f"the {word} invoice again",
        "not_solved",
        user={"name": "Cleo Park", "email": email.upper()},
    )
    third, _ = await conversation(hub, f"is the {word}% discount real?")

    everything = await search(ann, hub, q=word)
    assert ids(everything) == [third, second, first]
    row = everything["conversations"][2]
    assert row["customer"] == {"name": "Cleo Park", "email": email, "verified": False}
    assert row["first_question"] == f"my {word} invoice is wrong"
    assert row["match"] == f"my {word} invoice is wrong"
    assert row["state"] == "resolved"
    assert row["handoff"]["outcome"] == "solved"
    assert row["handoff"]["agent"] == {"id": ann.id, "name": ann.name}
    assert everything["conversations"][0]["handoff"]["outcome"] is None

    # The customer's name or e-mail is searched as well as the messages.
    assert set(ids(await search(ann, hub, q=email[:12]))) == {first, second}
    assert ids(await search(ann, hub, q=word, outcome="solved")) == [first]
    assert ids(await search(ann, hub, q=word, agent=str(bob.id))) == [second]
    assert ids(await search(ann, hub, email=email.upper())) == [second, first]
    assert ids(await search(ann, hub, q=word, state="queued")) == [third]
    # % and _ are matched as themselves, not as wildcards.
    assert ids(await search(ann, hub, q=f"{word}%")) == [third]
    assert ids(await search(ann, hub, q=f"{word[:3]}_{word[4:]}")) == []

    today = dt.datetime.now(dt.timezone.utc).date()
    same_day = await search(ann, hub, q=word, **{"from": str(today), "to": str(today)})
    assert ids(same_day) == [third, second, first]
    tomorrow = str(today + dt.timedelta(days=1))
    assert ids(await search(ann, hub, q=word, **{"from": tomorrow})) == []
    assert ids(await search(ann, hub, q=word, to=str(today - dt.timedelta(1)))) == []

    page = await search(ann, hub, q=word, limit="2")
    assert ids(page) == [third, second] and page["next_cursor"]
    rest = await search(ann, hub, q=word, limit="2", cursor=page["next_cursor"])
    assert ids(rest) == [first] and rest["next_cursor"] is None


BAD_SEARCHES = [
    ({"q": "x"}, "bad_q"),
    ({"q": "x" * 201}, "bad_q"),
    ({"q": ["invoice", "refund"]}, "bad_q"),
    ({"email": "not-an-address"}, "bad_email"),
    ({"from": "yesterday"}, "bad_from"),
    ({"to": "2026-02-30"}, "bad_to"),
    ({"from": "2026-12-03", "to": "2026-12-01"}, "bad_range"),
    ({"outcome": "great"}, "bad_outcome"),
    ({"agent": "ann"}, "bad_agent"),
    ({"agent": "99999999999"}, "bad_agent"),
    ({"state": "open"}, "bad_state"),
    ({"limit": "0"}, "bad_limit"),
    ({"cursor": "yesterday"}, "bad_cursor"),
    ({"cursor": "-5.abc"}, "bad_cursor"),
    ({"cursor": "1."}, "bad_cursor"),
    ({"customer": "cleo"}, "bad_parameter"),
]


async def test_a_bad_search_is_a_clear_400(hub) -> None:
    ann = await sign_in(hub)
    for params, code in BAD_SEARCHES:
        query = [
            (name, value)
            for name, values in params.items()
            for value in (values if isinstance(values, list) else [values])
        ]
        status, answer = await ann.call(hub, "GET", "/api/conversations", params=query)
        assert (status, answer["error"]["code"]) == (400, code), (params, answer)


async def test_only_agents_and_admins_search_and_read(hub) -> None:
    trainer = await sign_in(hub, "trainer")
    for path in (
        "/api/conversations",
        "/api/conversations/some-conversation",
        "/api/conversations/some-conversation/earlier",
    ):
        status, answer = await trainer.call(hub, "GET", path)
        assert (status, answer["error"]["code"]) == (403, "forbidden"), path
        status, answer, _ = await call(hub, "GET", path)
        assert status == 401, path
    admin = await sign_in(hub, "admin")
    status, answer = await admin.call(hub, "GET", "/api/conversations")
    assert status == 200, answer


async def test_a_conversation_opens_read_only_with_handoffs_and_notes(hub) -> None:
    ann = await sign_in(hub)
    word = f"okapi{secrets.token_hex(3)}"
    conversation_id, handoff_id = await conversation(hub, f"my {word} broke")
    await ann.call(hub, "POST", f"/api/handoffs/{handoff_id}/claim")
    status, _ = await ann.call(
        hub,
        "POST",
        f"/api/conversations/{conversation_id}/notes",
        json={"text": "customer on the old plan"},
    )
    assert status == 201
    status, answer = await ann.call(
        hub,
        "POST",
        f"/api/conversations/{conversation_id}/messages",
        json={"text": "A new one is on its way.", "client_id": "a1"},
    )
    assert status in (200, 201), answer
    await ann.call(
        hub, "POST", f"/api/handoffs/{handoff_id}/resolve", json={"outcome": "solved"}
    )
    before = await hub.ctx.conversations.get(conversation_id)

    status, answer = await ann.call(hub, "GET", f"/api/conversations/{conversation_id}")
    assert status == 200, answer
    assert answer["conversation"]["state"] == "resolved"
    texts = [(m["role"], m["text"]) for m in answer["messages"]]
    assert ("customer", f"my {word} broke") in texts
    assert ("agent", "A new one is on its way.") in texts
    assert [m["seq"] for m in answer["messages"]] == sorted(
        m["seq"] for m in answer["messages"]
    )
    (handoff,) = answer["handoffs"]
    assert (handoff["outcome"], handoff["agent"]["name"]) == ("solved", ann.name)
    assert [note["text"] for note in answer["notes"]] == ["customer on the old plan"]
    assert await hub.ctx.conversations.get(conversation_id) == before

    status, answer = await ann.call(hub, "GET", "/api/conversations/nosuchthing")
    assert (status, answer["error"]["code"]) == (404, "unknown_conversation")


async def test_earlier_conversations_of_a_verified_customer_or_the_same_email(
    hub,
) -> None:
    ann = await sign_in(hub)
    user_id = f"user-{secrets.token_hex(4)}"
    expires = int(time.time()) + 600

    def verified(name: str) -> dict[str, Any]:
        return {
            "user": {"id": user_id, "name": name},
            "user_expires": expires,
            "user_hash": sign_identity(SECRET, user_id, expires, name=name),
        }

    older = await resolved(hub, ann, "first time here", "solved", **verified("Dee"))
    # Someone typing the same user id without a signature is not the customer.
    impostor, _ = await conversation(hub, "hello", user={"id": user_id})
    current, _ = await conversation(hub, "me again", **verified("Dee"))
    status, answer = await ann.call(hub, "GET", f"/api/conversations/{current}/earlier")
    assert status == 200, answer
    assert answer["matched_by"] == "verified_identity"
    assert ids(answer) == [older]
    assert impostor not in ids(answer)

    email = f"eve-{secrets.token_hex(3)}@example.com"
    typed = await resolved(hub, ann, "hi", "spam", user={"email": email})
    again, _ = await conversation(hub, "hi again", user={"email": email.title()})
    status, answer = await ann.call(hub, "GET", f"/api/conversations/{again}/earlier")
    assert (answer["matched_by"], ids(answer)) == ("email", [typed])

    anonymous, _ = await conversation(hub, "who am I")
    status, answer = await ann.call(
        hub, "GET", f"/api/conversations/{anonymous}/earlier"
    )
    assert (status, answer) == (200, {"matched_by": None, "conversations": []})


def test_the_documented_outcomes_are_the_code() -> None:
    (search,) = [
        p
        for p in document()["paths"]["/api/conversations"]["get"]["parameters"]
        if p["name"] == "outcome"
    ]
    assert search["schema"]["enum"] == list(OUTCOMES)

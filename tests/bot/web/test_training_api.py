"""The trainer's inbox and annotations on a real hub (SQLite and PostgreSQL).

The inbox is filled through the hub's services (tests/bot/training/helpers).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Limits
from bot.db.models import (
    AuditEntry,
    LabelledQuestion,
    NluExample,
    NluIntent,
    TrainingAnnotation,
)
from bot.knowledge import KnowledgeBase, KnowledgeRepository
from tests.bot.auth.test_auth_api import call, login, new_account
from tests.bot.training.helpers import (
    NEW_EXAMPLES,
    clear_labels,
    clear_training_data,
    conversation,
    quiet_relay,
    turn,
)
from tests.conftest import shared_hub
from tests.hub import RunningHub

INBOX = "/api/training/inbox"
ANNOTATIONS = "/api/training/annotations"
INTENTS = "/api/training/intents"


# One hub per database for the module, its relay stopped; each test starts
# without labels or intent changes.
module_hub = shared_hub(name="module_hub", limits=Limits(logins_per_ip_per_minute=1000))


@pytest.fixture
async def hub(module_hub: RunningHub) -> AsyncIterator[RunningHub]:
    await quiet_relay(module_hub)
    await clear_labels(module_hub)
    await clear_training_data(module_hub.ctx.engine)
    yield module_hub
    await clear_labels(module_hub)
    await clear_training_data(module_hub.ctx.engine)


@pytest.fixture
async def trainer(hub: RunningHub) -> tuple[str, str]:
    return await login(hub, await new_account(hub, "trainer"))


@pytest.fixture
def since() -> str:
    """Only this test's conversations (PostgreSQL is shared by the run): from
    now, not a second back, which took in the last test's messages when it had
    just ended (seen in a run of the training tests before this module)."""
    return dt.datetime.now(dt.timezone.utc).isoformat()


async def inbox(
    hub: RunningHub, trainer: tuple[str, str], since: str, **args: str
) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={v}" for k, v in {"since": since, **args}.items())
    status, body, _ = await call(
        hub, "GET", f"{INBOX}?{query.replace('+', '%2B')}", session=trainer[0]
    )
    assert status == 200, body
    groups: list[dict[str, Any]] = body["groups"]
    return groups


async def annotate(
    hub: RunningHub, trainer: tuple[str, str], **body: Any
) -> tuple[int, dict[str, Any]]:
    status, answer, _ = await call(
        hub, "POST", ANNOTATIONS, session=trainer[0], csrf=trainer[1], json=body
    )
    return status, answer


async def undo(
    hub: RunningHub, trainer: tuple[str, str], annotation_id: int
) -> tuple[int, dict[str, Any]]:
    status, answer, _ = await call(
        hub,
        "DELETE",
        f"{ANNOTATIONS}/{annotation_id}",
        session=trainer[0],
        csrf=trainer[1],
    )
    return status, answer


async def count(hub: RunningHub, table: Any) -> int:
    async with hub.ctx.engine.connect() as connection:
        return int(
            await connection.scalar(sa.select(sa.func.count()).select_from(table))
        )


def texts(groups: list[dict[str, Any]]) -> list[list[str]]:
    return [[item["text"] for item in group["items"]] for group in groups]


async def test_the_inbox_shows_each_kind_of_trouble_masked_and_grouped(
    hub: RunningHub, trainer: tuple[str, str], since: str
) -> None:
    first = await conversation(hub)
    await turn(hub, first, "hello", intent="greet", confidence=0.99, reply="Hi!")
    await turn(
        hub,
        first,
        "my invoice shows the wrong amount, write to jane.doe@example.com",
        intent="nlu_fallback",
        confidence=0.41,
    )
    second = await conversation(hub)
    await turn(
        hub,
        second,
        "the invoice shows a wrong amount",
        intent="nlu_fallback",
        confidence=0.38,
    )
    unsure = await conversation(hub)
    await turn(
        hub,
        unsure,
        "can you ring me on +44 20 7946 0958 about it",
        intent="request_human",
        confidence=0.55,
    )
    handed = await conversation(hub)
    await turn(
        hub,
        handed,
        "a person please, my card 4111 1111 1111 1111 was charged twice",
        intent="request_human",
        confidence=0.97,
        reply="I am passing you to a colleague.",
    )
    assert await hub.ctx.handoffs.start(handed.id, "customer_request") is not None
    rejected = await conversation(hub)
    await turn(
        hub,
        rejected,
        "how do I get my notes out as pdf",
        intent="export_notes",
        confidence=0.93,
        reply="Export your notes from the File menu.",
        article="export-notes",
    )
    await hub.ctx.knowledge.record_feedback(rejected.id, "export-notes", helped=False)
    rated = await conversation(hub)
    await turn(
        hub,
        rated,
        "the desktop app crashes every time I open a notebook",
        intent="app_slow",
        confidence=0.91,
        reply="Try updating the desktop app.",
        article="app-slow",
    )
    await hub.ctx.conversations.rate(rated, 2, "useless")

    groups = await inbox(hub, trainer, since)
    shown = texts(groups)
    assert sorted(map(len, shown), reverse=True)[0] == 2
    invoice = next(g for g in groups if g["count"] == 2)
    assert sorted(invoice["reasons"].items()) == [("fallback", 2)]
    assert sorted(item["text"] for item in invoice["items"]) == [
        "my invoice shows the wrong amount, write to [email]",
        "the invoice shows a wrong amount",
    ]
    assert invoice["articles"][0]["slug"] == "billing-invoice"
    assert invoice["items"][0]["intents"] == [
        {"name": "nlu_fallback", "confidence": 0.38}
    ]
    # Context: the turns around the message, masked, the message marked.
    context = next(
        item["context"] for item in invoice["items"] if "[email]" in item["text"]
    )
    assert [turn["role"] for turn in context] == ["customer", "bot", "customer", "bot"]
    assert [turn["current"] for turn in context] == [False, False, True, False]
    # Only the words shown are checked: ids, times and confidences are
    # numbers that may contain "4111" by chance.
    words = " ".join(
        [item["text"] for group in groups for item in group["items"]]
        + [
            turn["text"]
            for group in groups
            for item in group["items"]
            for turn in item["context"]
        ]
    )
    assert "jane.doe" not in words
    assert "4111" not in words and "7946" not in words
    assert "[card number]" in words

    by_reason = {
        reason: item
        for group in groups
        for item in group["items"]
        for reason in item["reasons"]
    }
    assert set(by_reason) == {
        "fallback",
        "low_confidence",
        "handoff",
        "kb_rejected",
        "low_rating",
    }
    assert by_reason["low_confidence"]["text"] == "can you ring me on [phone] about it"
    handoff = by_reason["handoff"]
    assert handoff["text"] == "a person please, my card [card number] was charged twice"
    assert handoff["handoff_reason"] == "customer_request"
    assert handoff["outcome"] == ["handed to a person: the customer asked for a person"]
    assert by_reason["kb_rejected"]["text"] == "how do I get my notes out as pdf"
    assert "did not help" in by_reason["kb_rejected"]["outcome"][0]
    assert by_reason["low_rating"]["outcome"] == ["the conversation was rated 2/5"]
    assert "hello" not in str(shown)

    # Filters and order.
    only = await inbox(hub, trainer, since, reason="handoff")
    assert texts(only) == [[handoff["text"]]]
    assert (
        await inbox(
            hub,
            trainer,
            (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat(),
        )
        == []
    )
    newest = await inbox(hub, trainer, since)
    assert newest[0]["items"][0]["text"].startswith("the desktop app crashes")
    frequent = await inbox(hub, trainer, since, sort="frequent")
    assert frequent[0]["count"] == 2
    assert len(await inbox(hub, trainer, since, limit="2")) == 2


async def test_annotations_label_dismiss_and_undo(
    hub: RunningHub, trainer: tuple[str, str], since: str
) -> None:
    chat = await conversation(hub)
    lost = await turn(
        hub, chat, "my bill has a weird charge", intent="nlu_fallback", confidence=0.3
    )
    other = await conversation(hub)
    chatter = await turn(
        hub, other, "what is the weather on mars", intent="nlu_fallback", confidence=0.2
    )
    third = await conversation(hub)
    noise = await turn(hub, third, "asdf qwerty", intent="nlu_fallback", confidence=0.1)
    revision = await hub.ctx.knowledge.repository.revision()

    status, body = await annotate(
        hub, trainer, message_id=lost.id, article="billing-invoice"
    )
    assert status == 201, body
    (labelled,) = body["annotations"]
    assert (labelled["kind"], labelled["article"], labelled["message_id"]) == (
        "article",
        "billing-invoice",
        lost.id,
    )
    assert labelled["created_by"].startswith("trainer-") and labelled["created_at"]
    assert await hub.ctx.knowledge.repository.revision() == revision + 1

    status, body = await annotate(
        hub, trainer, message_id=chatter.id, out_of_scope=True
    )
    assert status == 201 and body["annotations"][0]["kind"] == "out_of_scope"
    status, body = await annotate(hub, trainer, message_id=noise.id, dismiss=True)
    assert status == 201 and body["annotations"][0]["kind"] == "dismiss"
    dismissed = body["annotations"][0]["id"]
    # A dismissal teaches the search nothing: no revision bump for it.
    assert await hub.ctx.knowledge.repository.revision() == revision + 2

    async with hub.ctx.engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(
                    LabelledQuestion.__table__.c.text,
                    LabelledQuestion.__table__.c.article_slug,
                ).order_by(LabelledQuestion.__table__.c.id)
            )
        ).all()
        audit = (
            (
                await connection.execute(
                    sa.select(AuditEntry.__table__.c.action).where(
                        AuditEntry.__table__.c.action.like("training.%")
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [tuple(row) for row in rows] == [
        ("my bill has a weird charge", "billing-invoice"),
        ("what is the weather on mars", None),
    ]
    assert audit == ["training.annotate"] * 3
    assert await inbox(hub, trainer, since) == []

    status, body = await annotate(hub, trainer, message_id=lost.id, dismiss=True)
    assert (status, body["error"]["code"]) == (409, "already_annotated")

    status, body = await undo(hub, trainer, labelled["id"])
    assert status == 200, body
    assert body["annotation"]["undone_by"] == labelled["created_by"]
    assert await count(hub, LabelledQuestion.__table__) == 1
    assert await hub.ctx.knowledge.repository.revision() == revision + 3
    assert texts(await inbox(hub, trainer, since)) == [["my bill has a weird charge"]]
    status, body = await undo(hub, trainer, labelled["id"])
    assert (status, body["error"]["code"]) == (409, "already_undone")
    status, body = await undo(hub, trainer, dismissed)
    assert status == 200
    assert await hub.ctx.knowledge.repository.revision() == revision + 3
    # Undone, a message may be labelled again.
    status, body = await annotate(hub, trainer, message_id=lost.id, dismiss=True)
    assert status == 201


async def test_a_group_is_labelled_with_one_decision(
    hub: RunningHub, trainer: tuple[str, str], since: str
) -> None:
    for text in (
        "my invoice shows the wrong amount",
        "the invoice shows a wrong amount",
        "wrong amount on my invoice",
    ):
        await turn(
            hub, await conversation(hub), text, intent="nlu_fallback", confidence=0.3
        )
    (group,) = await inbox(hub, trainer, since)
    assert group["count"] == 3
    status, body = await annotate(
        hub, trainer, group_id=group["group_id"], article="billing-invoice"
    )
    assert status == 201, body
    assert len(body["annotations"]) == 3
    assert await count(hub, LabelledQuestion.__table__) == 3
    assert await inbox(hub, trainer, since) == []


async def test_an_article_label_changes_the_next_answer_without_training(
    hub: RunningHub, trainer: tuple[str, str]
) -> None:
    question = "the thing with the yellow banner and the card"
    # Another process's knowledge base on the same database.
    elsewhere = KnowledgeBase(KnowledgeRepository(hub.ctx.engine))
    for knowledge in (hub.ctx.knowledge, elsewhere):
        before = await knowledge.answer(question)
        assert before is None or before.slug != "payment-failed"
    message = await turn(
        hub, await conversation(hub), question, intent="nlu_fallback", confidence=0.2
    )
    status, body = await annotate(
        hub, trainer, message_id=message.id, article="payment-failed"
    )
    assert status == 201, body
    for knowledge in (hub.ctx.knowledge, elsewhere):
        after = await knowledge.answer(question)
        assert after is not None and after.slug == "payment-failed"
    status, _ = await undo(hub, trainer, body["annotations"][0]["id"])
    assert status == 200
    again = await elsewhere.answer(question)
    assert again is None or again.slug != "payment-failed"


async def assert_trainers_only(
    hub: RunningHub, *requests: tuple[str, str, Any]
) -> None:
    """Each request is refused to an agent (403) and to no session (401)."""
    agent = await login(hub, await new_account(hub, "agent"))
    for method, path, body in requests:
        status, answer, _ = await call(
            hub, method, path, session=agent[0], csrf=agent[1], json=body
        )
        assert (status, answer["error"]["code"]) == (403, "forbidden"), path
        status, answer, _ = await call(hub, method, path, json=body)
        assert status == 401, path


async def test_only_trainers_and_admins_may_use_the_inbox(
    hub: RunningHub, since: str
) -> None:
    message = await turn(
        hub,
        await conversation(hub),
        "zzz strange",
        intent="nlu_fallback",
        confidence=0.1,
    )
    await assert_trainers_only(
        hub,
        ("GET", INBOX, None),
        ("POST", ANNOTATIONS, {"message_id": message.id, "dismiss": True}),
        ("DELETE", f"{ANNOTATIONS}/1", None),
    )
    admin = await login(hub, await new_account(hub, "admin"))
    status, answer, _ = await call(
        hub, "GET", f"{INBOX}?since={since.replace('+', '%2B')}", session=admin[0]
    )
    assert status == 200 and texts(answer["groups"]) == [["zzz strange"]]
    status, answer, _ = await call(
        hub,
        "POST",
        ANNOTATIONS,
        session=admin[0],
        json={"message_id": message.id, "dismiss": True},
    )
    assert (status, answer["error"]["code"]) == (403, "csrf_failed")
    assert await count(hub, TrainingAnnotation.__table__) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "one_target"),
        ({"article": "billing-invoice"}, 400, "one_target"),
        ({"message_id": "MID"}, 400, "one_label"),
        ({"message_id": "MID", "group_id": "MID", "dismiss": True}, 400, "one_target"),
        (
            {"message_id": "MID", "article": "billing-invoice", "out_of_scope": True},
            400,
            "one_label",
        ),
        ({"message_id": "MID", "intent": "track order"}, 400, "bad_intent"),
        ({"message_id": "MID", "intent": "no_such_intent"}, 404, "intent_not_found"),
        ({"message_id": "MID", "intent": "greet", "dismiss": True}, 400, "one_label"),
        ({"message_id": "MID", "out_of_scope": False}, 400, "bad_out_of_scope"),
        ({"message_id": "MID", "dismiss": "yes"}, 400, "bad_dismiss"),
        ({"message_id": "MID", "article": "Not A Slug"}, 400, "bad_article"),
        ({"message_id": "MID", "article": "no-such-article"}, 404, "article_not_found"),
        ({"message_id": "MID", "article": "DRAFT"}, 400, "article_not_published"),
        ({"message_id": "x", "dismiss": True}, 400, "bad_message_id"),
        ({"message_id": True, "dismiss": True}, 400, "bad_message_id"),
        ({"message_id": 2_000_000_000, "dismiss": True}, 404, "message_not_found"),
        ({"message_id": "BOT", "dismiss": True}, 404, "message_not_found"),
        ({"group_id": "MID,x", "dismiss": True}, 400, "bad_group_id"),
        ({"group_id": "", "dismiss": True}, 400, "bad_group_id"),
        ({"group_id": "MID,2000000000", "dismiss": True}, 404, "message_not_found"),
        ({"message_id": "MID", "dismiss": True, "note": "x"}, 400, "unknown_field"),
    ],
)
async def test_bad_annotations_are_refused_and_change_nothing(
    hub: RunningHub,
    trainer: tuple[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    message = await turn(
        hub,
        await conversation(hub),
        "odd question",
        intent="nlu_fallback",
        confidence=0.2,
    )
    seed = await hub.ctx.knowledge.repository.get("billing-invoice")
    draft = f"draft-{message.id}"
    await hub.ctx.knowledge.repository.create(
        replace(seed.article, slug=draft, status="draft"), author="test"
    )
    # The bot's reply is stored right after the customer's message.
    names = {"MID": message.id, "BOT": message.id + 1, "DRAFT": draft}

    def fill(key: str, value: Any) -> Any:
        if key == "group_id":
            return ",".join(str(names.get(part, part)) for part in value.split(","))
        return names.get(value, value) if isinstance(value, str) else value

    sent = {key: fill(key, value) for key, value in body.items()}
    revision = await hub.ctx.knowledge.repository.revision()
    answer_status, answer = await annotate(hub, trainer, **sent)
    assert (answer_status, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["message"]
    assert await count(hub, TrainingAnnotation.__table__) == 0
    assert await count(hub, LabelledQuestion.__table__) == 0
    assert await count(hub, NluExample.__table__) == 0
    assert await hub.ctx.knowledge.repository.revision() == revision


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("reason=bored", "bad_reason"),
        ("since=yesterday", "bad_since"),
        ("sort=random", "bad_sort"),
        ("limit=0", "bad_limit"),
        ("limit=x", "bad_limit"),
    ],
)
async def test_bad_inbox_queries_are_refused(
    hub: RunningHub, trainer: tuple[str, str], query: str, code: str
) -> None:
    status, body, _ = await call(hub, "GET", f"{INBOX}?{query}", session=trainer[0])
    assert (status, body["error"]["code"]) == (400, code)


async def test_undoing_an_unknown_annotation_is_404(
    hub: RunningHub, trainer: tuple[str, str]
) -> None:
    status, body = await undo(hub, trainer, 2_000_000_000)
    assert (status, body["error"]["code"]) == (404, "annotation_not_found")
    status, body, _ = await call(
        hub,
        "DELETE",
        f"{ANNOTATIONS}/x",
        session=trainer[0],
        csrf=trainer[1],
    )
    assert status == 400


async def test_the_endpoints_are_in_the_openapi_document(hub: RunningHub) -> None:
    status, body, _ = await call(hub, "GET", "/api/openapi.json")
    assert status == 200
    assert set(body["paths"][INBOX]) == {"get"}
    assert set(body["paths"][ANNOTATIONS]) == {"post"}
    assert set(body["paths"][f"{ANNOTATIONS}/{{annotation_id}}"]) == {"delete"}


async def audit_actions(hub: RunningHub, session: str) -> list[tuple[str, str]]:
    """The intent changes in the audit log by the account of ``session``."""
    status, me, _ = await call(hub, "GET", "/api/auth/me", session=session)
    assert status == 200
    table = AuditEntry.__table__
    async with hub.ctx.engine.connect() as connection:
        return [
            (row.action, row.subject)
            for row in await connection.execute(
                sa.select(table.c.action, table.c.subject)
                .where(
                    table.c.action.like("training.intent%"),
                    table.c.actor == me["agent"]["email"],
                )
                .order_by(table.c.id)
            )
        ]


async def test_intents_are_browsed_created_changed_and_deleted(
    hub: RunningHub, trainer: tuple[str, str]
) -> None:
    session, csrf = trainer
    status, body, _ = await call(hub, "GET", INTENTS, session=session)
    assert status == 200 and body["min_examples"] == 5
    listed = {item["name"]: item for item in body["intents"]}
    assert listed["greet"]["examples"] > 50 and listed["greet"]["used_by"]
    status, body, _ = await call(
        hub,
        "POST",
        INTENTS,
        session=session,
        csrf=csrf,
        json={"name": "track_order", "examples": NEW_EXAMPLES},
    )
    assert status == 201, body
    assert [e["text"] for e in body["intent"]["examples"]] == NEW_EXAMPLES
    status, body, _ = await call(
        hub,
        "PUT",
        f"{INTENTS}/track_order",
        session=session,
        csrf=csrf,
        json={"add": ["where's my stuff"], "name": "order_status"},
    )
    assert status == 200, body
    assert body["intent"]["name"] == "order_status"
    status, body, _ = await call(hub, "GET", f"{INTENTS}/order_status", session=session)
    assert len(body["intent"]["examples"]) == 6
    status, body, _ = await call(
        hub, "DELETE", f"{INTENTS}/greet", session=session, csrf=csrf
    )
    assert (status, body["error"]["code"]) == (409, "intent_in_use")
    assert "data/stories/support.yml: story" in body["error"]["message"]
    status, body, _ = await call(
        hub, "DELETE", f"{INTENTS}/order_status", session=session, csrf=csrf
    )
    assert status == 204
    status, body, _ = await call(hub, "GET", f"{INTENTS}/order_status", session=session)
    assert (status, body["error"]["code"]) == (404, "intent_not_found")
    assert await audit_actions(hub, session) == [
        ("training.intent_create", "track_order"),
        ("training.intent_change", "track_order"),
        ("training.intent_delete", "order_status"),
    ]


#: Bad intent requests: method, path under INTENTS, body, status, code.
BAD_INTENT_REQUESTS: list[tuple[str, str, Any, int, str]] = [
    (
        "POST",
        "",
        {"name": "track order", "examples": NEW_EXAMPLES},
        400,
        "bad_intent",
    ),
    (
        "POST",
        "",
        {"name": "track_order", "examples": NEW_EXAMPLES[:4]},
        400,
        "too_few_examples",
    ),
    (
        "POST",
        "",
        {"name": "track_order", "examples": [*NEW_EXAMPLES, ""]},
        400,
        "bad_example",
    ),
    (
        "POST",
        "",
        {"name": "track_order", "examples": [*NEW_EXAMPLES, NEW_EXAMPLES[0]]},
        400,
        "duplicate_example",
    ),
    (
        "POST",
        "",
        {"name": "track_order", "examples": [*NEW_EXAMPLES, "hello"]},
        409,
        "example_in_other_intent",
    ),
    ("POST", "", {"name": "greet", "examples": NEW_EXAMPLES}, 409, "intent_exists"),
    ("POST", "", {"name": "track_order"}, 400, "missing_field"),
    (
        "POST",
        "",
        {"name": "track_order", "examples": "x", "x": 1},
        400,
        "unknown_field",
    ),
    ("PUT", "/no_such_intent", {"add": ["hi there you"]}, 404, "intent_not_found"),
    ("PUT", "/Greet", {"add": ["hi there you"]}, 400, "bad_intent"),
    ("PUT", "/greet", {}, 400, "nothing_to_change"),
    ("PUT", "/greet", {"add": ["  "]}, 400, "bad_example"),
    (
        "PUT",
        "/greet",
        {"remove": ["not an example at all"]},
        404,
        "example_not_found",
    ),
    (
        "PUT",
        "/greet",
        {"examples": ["hi"], "add": ["yo"]},
        400,
        "examples_or_changes",
    ),
    ("PUT", "/greet", {"name": "hello_there"}, 409, "intent_in_use"),
    ("DELETE", "/no_such_intent", None, 404, "intent_not_found"),
]


async def test_bad_intent_changes_are_refused_and_change_nothing(
    hub: RunningHub, trainer: tuple[str, str]
) -> None:
    before = (await call(hub, "GET", INTENTS, session=trainer[0]))[:2]
    for method, path, body, status, code in BAD_INTENT_REQUESTS:
        answer_status, answer, _ = await call(
            hub,
            method,
            f"{INTENTS}{path}",
            session=trainer[0],
            csrf=trainer[1],
            json=body,
        )
        assert (answer_status, answer["error"]["code"]) == (status, code), answer
        assert answer["error"]["message"]
    assert (await call(hub, "GET", INTENTS, session=trainer[0]))[:2] == before
    assert await count(hub, NluExample.__table__) == 0
    assert await count(hub, NluIntent.__table__) == 0
    assert await audit_actions(hub, trainer[0]) == []


async def test_only_trainers_and_admins_may_change_intents(hub: RunningHub) -> None:
    create = {"name": "track_order", "examples": NEW_EXAMPLES}
    await assert_trainers_only(
        hub,
        ("GET", INTENTS, None),
        ("POST", INTENTS, create),
        ("GET", f"{INTENTS}/greet", None),
        ("PUT", f"{INTENTS}/greet", {"add": ["hiya there"]}),
        ("DELETE", f"{INTENTS}/greet", None),
    )
    admin = await login(hub, await new_account(hub, "admin"))
    status, answer, _ = await call(hub, "POST", INTENTS, session=admin[0], json=create)
    assert (status, answer["error"]["code"]) == (403, "csrf_failed")
    status, answer, _ = await call(
        hub, "POST", INTENTS, session=admin[0], csrf=admin[1], json=create
    )
    assert status == 201


async def test_an_intent_label_becomes_a_training_example_until_undone(
    hub: RunningHub, trainer: tuple[str, str]
) -> None:
    texts = [
        "my invoice is in the wrong currency",
        "my invoice  is in the wrong currency",
    ]
    messages = [
        await turn(
            hub, await conversation(hub), text, intent="nlu_fallback", confidence=0.3
        )
        for text in texts
    ]
    status, body = await annotate(
        hub,
        trainer,
        group_id=",".join(str(m.id) for m in messages),
        intent="billing_question",
    )
    assert status == 201, body
    assert {a["kind"] for a in body["annotations"]} == {"intent"}
    assert {a["intent"] for a in body["annotations"]} == {"billing_question"}
    status, detail, _ = await call(
        hub, "GET", f"{INTENTS}/billing_question", session=trainer[0]
    )
    added = [e for e in detail["intent"]["examples"] if e["source"] == "trainer"]
    # Both messages read the same once spaces are tidied: one example.
    assert [e["text"] for e in added] == ["my invoice is in the wrong currency"]
    assert added[0]["annotation_id"] == body["annotations"][0]["id"]
    status, _ = await undo(hub, trainer, body["annotations"][0]["id"])
    assert status == 200
    status, detail, _ = await call(
        hub, "GET", f"{INTENTS}/billing_question", session=trainer[0]
    )
    assert not any(e["source"] == "trainer" for e in detail["intent"]["examples"])
    # The same text under another intent is refused: one intent per example.
    await call(
        hub,
        "PUT",
        f"{INTENTS}/refund_request",
        session=trainer[0],
        csrf=trainer[1],
        json={"add": ["my invoice is in the wrong currency"]},
    )
    status, body = await annotate(
        hub, trainer, message_id=messages[0].id, intent="billing_question"
    )
    assert (status, body["error"]["code"]) == (409, "example_in_other_intent")


async def test_a_chat_an_agent_resolved_shows_the_agents_reply(
    hub: RunningHub, trainer: tuple[str, str], since: str
) -> None:
    handed = await conversation(hub)
    await turn(
        hub,
        handed,
        "my sync is stuck at 99 percent since yesterday",
        intent="sync_problem",
        confidence=0.62,
        reply="Let me pass you to a colleague.",
    )
    record = await hub.ctx.handoffs.start(handed.id, "customer_request")
    assert record is not None
    agent = await hub.ctx.auth.create_agent(
        f"resolver-{uuid.uuid4().hex[:8]}@example.com",
        "Rae Resolver",
        "agent",
        "a-long-password-14",
    )
    await hub.ctx.handoffs.claim(record.id, agent.id, "Rae")
    await hub.ctx.handoffs.reply(
        handed.id,
        agent.id,
        "Rae",
        "Sign out and in again under Settings > Sync, then write to me at "
        "rae@example.com if it stays stuck.",
        "c-1",
    )
    await hub.ctx.handoffs.resolve(record.id, agent.id, "solved")
    waiting = await conversation(hub)
    await turn(
        hub,
        waiting,
        "a person please, the export is broken",
        intent="request_human",
        confidence=0.95,
        reply="Let me pass you to a colleague.",
    )
    assert await hub.ctx.handoffs.start(waiting.id, "customer_request") is not None

    groups = await inbox(hub, trainer, since)
    items = {item["text"]: item for group in groups for item in group["items"]}
    resolved = items["my sync is stuck at 99 percent since yesterday"]
    assert resolved["reasons"] == ["agent_resolved", "handoff", "low_confidence"]
    assert resolved["outcome"] == [
        "handed to a person: the customer asked for a person",
        "an agent resolved it (solved); the agent's first reply: “Sign out and "
        "in again under Settings > Sync, then write to me at [email] if it "
        "stays stuck.”",
    ]
    # A chat still waiting for a person is not one an agent resolved.
    assert items["a person please, the export is broken"]["reasons"] == ["handoff"]
    only = await inbox(hub, trainer, since, reason="agent_resolved")
    assert texts(only) == [["my sync is stuck at 99 percent since yesterday"]]

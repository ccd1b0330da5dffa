"""Fill a hub's training inbox through its real services.

Each customer turn is stored the way the relay stores it (the customer's
message, then the bot's reply with what Rasa understood, ``post_bot_turn``);
handoffs, "did this help?" answers and ratings through their services. The
hub's relay is stopped first, so no message of these conversations is sent
to a Rasa server (none runs in these tests).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from bot.conversations.repository import ConversationRecord, MessageRecord, NewMessage
from bot.db.models import LabelledQuestion, NluExample, NluIntent, TrainingAnnotation
from tests.conftest import IN_CI, PROJECT_DIR
from tests.hub import RunningHub

#: Five examples of an intent the shipped data does not have (a new intent
#: needs five).
NEW_EXAMPLES = [
    "where is my parcel",
    "has my order shipped yet",
    "track my delivery",
    "when will my package arrive",
    "my shipment has not arrived",
]

#: The model ``make model`` trains (CI trains it before the tests).
SHIPPED_MODEL = PROJECT_DIR / "models" / "baton.tar.gz"


async def quiet_relay(hub: RunningHub) -> None:
    """Stop the hub's relay: these conversations never reach Rasa."""
    await hub.ctx.relay.stop()


async def conversation(hub: RunningHub) -> ConversationRecord:
    record, _ = await hub.ctx.conversations.create({})
    return record


async def turn(
    hub: RunningHub,
    chat: ConversationRecord,
    text: str,
    *,
    intent: str,
    confidence: float,
    reply: str = "Sorry, I did not get that. Could you rephrase it?",
    article: str | None = None,
) -> MessageRecord:
    """A customer message and the bot's reply, with what the NLU understood."""
    message, created = await hub.ctx.conversations.post_customer_text(
        chat, text, uuid.uuid4().hex
    )
    assert created
    meta: dict[str, Any] = {"article": article} if article else {}
    stored = await hub.ctx.conversations.post_bot_turn(
        chat.id,
        message,
        [NewMessage(role="bot", text=reply, meta=meta)],
        {"_nlu": {"intent": intent, "confidence": confidence}},
    )
    assert stored, "the bot's reply was not stored"
    return message


async def clear_labels(hub: RunningHub) -> None:
    """Remove every trainer's label (PostgreSQL is shared by a whole run)."""
    async with hub.ctx.engine.begin() as connection:
        await connection.execute(sa.delete(LabelledQuestion.__table__))
        await connection.execute(sa.delete(NluExample.__table__))
        await connection.execute(sa.delete(TrainingAnnotation.__table__))


async def clear_training_data(engine: Any) -> None:
    """Remove every trainer's change to intents (PostgreSQL is shared by a run)."""
    async with engine.begin() as connection:
        await connection.execute(sa.delete(NluExample.__table__))
        await connection.execute(sa.delete(NluIntent.__table__))


def need_shipped_model() -> None:
    """Skip without models/baton.tar.gz, or fail in CI (which trains it first)."""
    if not SHIPPED_MODEL.is_file():
        message = "no shipped model (models/baton.tar.gz): run make model"
        if IN_CI:
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(message)


def report(
    accuracy: float,
    *,
    passed: tuple[str, ...] = ("Greeting", "Locked account"),
    failed: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An evaluation report as bot.training.evaluation writes it."""
    return {
        "messages": 20,
        "accuracy": accuracy,
        "macro_f1": accuracy,
        "per_intent": {
            "greet": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 10},
            "account_locked": {
                "precision": accuracy,
                "recall": accuracy,
                "f1": accuracy,
                "support": 10,
            },
        },
        "confused": [],
        "stories": {"passed": list(passed), "failed": list(failed)},
    }


def evaluation(
    candidate: dict[str, Any],
    live: dict[str, Any],
    live_sha256: str,
    live_version: str | None = None,
) -> dict[str, Any]:
    """A model's evaluation against the live model with this SHA-256."""
    return {
        "held_out": {"messages": 20, "stories": "tests/test_stories.yml"},
        "candidate": candidate,
        "live": {**live, "version": live_version, "sha256": live_sha256},
        "evaluated_at": "2026-12-03T10:00:00+00:00",
    }

"""Fixtures of the promise tests: a database of their own, a clock, a scheduler.

The scheduler acts on every follow-up in its database, so each test gets a
fresh one (SQLite, and a new PostgreSQL database) rather than the run's
shared PostgreSQL database, where other tests leave follow-ups behind.
"""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.assistant.client import RasaClient
from bot.auth import AuthRepository
from bot.bus import InMemoryEventBus
from bot.config import Limits, Smtp
from bot.conversations.repository import ConversationRepository
from bot.conversations.service import ConversationService
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.db.models import Agent, FollowUp, utcnow
from bot.handoff.hours import SupportHours
from bot.handoff.repository import HandoffRepository
from bot.handoff.service import HandoffPolicy, HandoffService
from bot.knowledge import ArticleFeedbackRepository
from bot.mail import Mailer, OutboxRepository
from bot.promises import PromiseRepository, PromiseScheduler, SchedulerPolicy, SqlLease
from tests.conftest import scratch_postgres

SECRET = b"s" * 32
LEAD = dt.timedelta(minutes=15)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, moment: dt.datetime) -> None:
        self.now = moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


_MIGRATED: set[str] = set()
_SQLITE_TEMPLATE: Path | None = None


async def emptied(engine: Any) -> None:
    """Migrate the promise tests' PostgreSQL database once, empty it each time."""
    url = str(engine.url)
    if url not in _MIGRATED:
        await upgrade_database(engine)
        _MIGRATED.add(url)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "TRUNCATE conversations, agents, mail_outbox, scheduler_leases "
                "RESTART IDENTITY CASCADE"
            )
        )


@pytest.fixture(scope="session")
def promises_postgres_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of the promise tests only, migrated once."""
    with scratch_postgres("baton_promises") as url:
        yield url


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def own_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Any]:
    """An empty migrated database for one test (PostgreSQL: emptied)."""
    if request.param == "sqlite":
        # Migrated once per run, copied for each test (a copy is ~1 ms).
        if _SQLITE_TEMPLATE is None or not _SQLITE_TEMPLATE.exists():
            template = tmp_path / "template.db"
            engine = create_engine(f"sqlite:///{template}")
            await upgrade_database(engine)
            await engine.dispose()
            globals()["_SQLITE_TEMPLATE"] = template
        assert _SQLITE_TEMPLATE is not None
        shutil.copyfile(_SQLITE_TEMPLATE, tmp_path / "promises.db")
        engine = create_engine(f"sqlite:///{tmp_path / 'promises.db'}")
    else:
        engine = create_engine(request.getfixturevalue("promises_postgres_url"))
        await emptied(engine)
    yield engine
    await engine.dispose()


def closed_now() -> SupportHours:
    """Support hours that are never open today: every handoff is a follow-up."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    tomorrow = (utcnow() + dt.timedelta(days=1)).weekday()
    return SupportHours.parse(f"{days[tomorrow]} 09:00-17:00", "UTC")


@pytest.fixture
async def handoffs(own_engine: Any) -> AsyncIterator[HandoffService]:
    """The real handoff service on the test's database, outside hours."""
    conversations = ConversationService(
        ConversationRepository(own_engine), InMemoryEventBus(), Limits()
    )
    # Nothing listens there: pausing the tracker fails quietly, as designed.
    assistant = RasaClient("http://127.0.0.1:9", "http://127.0.0.1:9", "t", 1.0)
    service = HandoffService(
        HandoffRepository(own_engine),
        conversations,
        assistant,
        HandoffPolicy(hours=closed_now(), follow_up_within=dt.timedelta(hours=4)),
        accounts=AuthRepository(own_engine),
        feedback=ArticleFeedbackRepository(own_engine),
    )
    yield service
    await assistant.close()


def smtp_of(smtp_server: Any) -> Smtp:
    controller, _ = smtp_server
    return Smtp(host="127.0.0.1", port=controller.port, security="none", timeout_s=5)


@pytest.fixture
def make_scheduler(
    own_engine: Any, handoffs: HandoffService, clock: Clock, smtp_server: Any
) -> Callable[..., PromiseScheduler]:
    """Schedulers on the test's database, sharing one lease and the clock."""
    lease_name = f"promises-{secrets.token_hex(4)}"

    def make(
        holder: str = "hub-a",
        *,
        escalation_emails: tuple[str, ...] = ("boss@example.com",),
        ttl: dt.timedelta = dt.timedelta(seconds=30),
        smtp: Smtp | None = None,
    ) -> PromiseScheduler:
        return PromiseScheduler(
            PromiseRepository(own_engine),
            SqlLease(own_engine, lease_name, holder, ttl),
            Mailer(OutboxRepository(own_engine), smtp or smtp_of(smtp_server)),
            handoffs.conversations,
            handoffs.conversations.bus,
            SchedulerPolicy(
                reminder_lead=LEAD,
                escalation_emails=escalation_emails,
                resume_link_lifetime=dt.timedelta(hours=72),
                link_secret=SECRET,
                base_url="http://support.example",
            ),
            handoffs=handoffs,
            now=clock,
        )

    return make


async def add_agent(
    engine: Any, *, role: str = "agent", presence: str = "offline"
) -> tuple[int, str]:
    """A new account; returns its id and (unique) address."""
    email = f"{role}-{secrets.token_hex(4)}@example.com"
    async with engine.begin() as connection:
        result = await connection.execute(
            Agent.__table__.insert().values(
                email=email,
                name=f"Ann {email[:10]}",
                password_hash="x",
                role=role,
                active=True,
                presence=presence,
                created_at=utcnow(),
            )
        )
    return int(result.inserted_primary_key[0]), email


async def new_follow_up(
    handoffs: HandoffService, **details: Any
) -> tuple[str, int, dt.datetime]:
    """A conversation handed over outside hours: ``(id, follow-up id, due)``."""
    conversation_id = secrets.token_urlsafe(16)
    await handoffs.conversations.repository.create(conversation_id, "hash", **details)
    handoff = await handoffs.start(conversation_id, "customer_request")
    assert handoff is not None and handoff.state == "follow_up"
    assert handoff.due_at is not None
    async with handoffs.repository.engine.connect() as connection:
        follow_up_id = (
            await connection.execute(
                sa.select(FollowUp.id).where(
                    FollowUp.conversation_id == conversation_id
                )
            )
        ).scalar_one()
    return conversation_id, int(follow_up_id), handoff.due_at


@dataclass(frozen=True)
class Owned:
    """A follow-up owned by a new agent (the only one that can take chats)."""

    owner: int
    owner_email: str
    conversation_id: str
    due: dt.datetime


@pytest.fixture
async def owned(own_engine: Any, handoffs: HandoffService) -> Owned:
    """A new agent, then a follow-up (it is theirs: nobody else can own it)."""
    owner, owner_email = await add_agent(own_engine)
    conversation_id, _, due = await new_follow_up(handoffs)
    return Owned(owner, owner_email, conversation_id, due)


@pytest.fixture
def inbox(smtp_server: Any) -> Any:
    """What the test's SMTP server received."""
    return smtp_server[1]

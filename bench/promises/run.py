"""Measure the promise scheduler: reminder delay, and its cost when idle.

``python -m bench.promises.run`` uses a fresh PostgreSQL database (at
``BATON_TEST_POSTGRES_URL``, as the tests) and a real SMTP server (aiosmtpd),
and runs the real scheduler (:class:`bot.promises.PromiseScheduler`) with its
default round interval (``BATON_SCHEDULER_INTERVAL``, 5 s) and the real clock:

1. **Reminder delay**: ``--reminders`` follow-ups (default 300), each owned by
   its own agent, whose reminder time (due minus lead) falls 5-60 s after the
   start; the delay is the SMTP server's receipt of the owner's reminder minus
   that time (target p99 <= 30 s).
2. **Cost with many open follow-ups**: ``--open`` follow-ups (default 10,000)
   due in two days (nothing to remind), customers already asked; the CPU time
   of this process and the wall time per round, as a share of one core at one
   round per interval (target <= 1 %), for this process and for the
   PostgreSQL server processes serving it (read from ``/proc``). The first
   round, which records 10,000 promises, is reported apart. Wall time per
   round is given too; on a shared, loaded machine it is mostly waiting.

The data is made here (synthetic follow-ups inserted with SQL). Results go to
``bench/results/promises.json`` with the date and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import secrets
import statistics
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from bench.ports import free_port
from bot.bus import InMemoryEventBus
from bot.config import Limits, Smtp
from bot.conversations.repository import ConversationRepository
from bot.conversations.service import ConversationService
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.db.models import Agent, Conversation, FollowUp, PromiseNotice, utcnow
from bot.mail import Mailer, OutboxRepository
from bot.promises import PromiseRepository, PromiseScheduler, SchedulerPolicy, SqlLease

RESULTS_PATH = Path(__file__).resolve().parents[1] / "results" / "promises.json"
POSTGRES_ADMIN_URL = os.environ.get(
    "BATON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
LEAD = dt.timedelta(minutes=15)
INTERVAL_S = 5.0


class Arrivals:
    """An aiosmtpd handler that notes when each recipient's mail arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for recipient in envelope.rcpt_tos:
            self.at.setdefault(recipient, time.time())
        return "250 OK"


def database_cpu_s(admin: Any, database: str) -> dict[int, float]:
    """CPU seconds used so far by each server process of ``database``.

    Read from ``/proc`` (PostgreSQL runs on this machine), so the database's
    share of the scheduler's cost is measured, not guessed from wall time.
    """
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        )
        pids = [row[0] for row in cursor.fetchall()]
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def add_follow_ups(
    engine: Any, dues: list[dt.datetime], owners: list[int]
) -> None:
    """Conversations handed over as follow-ups, customers already asked."""
    now = utcnow()
    rows = [
        (secrets.token_urlsafe(16), due, owner)
        for due, owner in zip(dues, owners, strict=True)
    ]
    async with engine.begin() as connection:
        await connection.execute(
            Conversation.__table__.insert(),
            [
                {
                    "id": cid,
                    "token_hash": "x",
                    "state": "follow_up",
                    "last_seq": 0,
                    "user_verified": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for cid, _, _ in rows
            ],
        )
        await connection.execute(
            FollowUp.__table__.insert(),
            [
                {
                    "conversation_id": cid,
                    "owner_id": owner,
                    "due_at": due,
                    "channel": "email",
                    "created_at": now,
                }
                for cid, due, owner in rows
            ],
        )
        ids = (
            await connection.execute(
                sa.select(FollowUp.__table__.c.id).where(
                    FollowUp.__table__.c.conversation_id.in_([r[0] for r in rows])
                )
            )
        ).scalars()
        await connection.execute(
            PromiseNotice.__table__.insert(),
            [
                {"follow_up_id": i, "kind": "ask", "target": "", "created_at": now}
                for i in ids
            ],
        )


async def add_agents(engine: Any, count: int) -> list[tuple[int, str]]:
    made = []
    async with engine.begin() as connection:
        for _ in range(count):
            email = f"owner-{secrets.token_hex(5)}@example.com"
            result = await connection.execute(
                Agent.__table__.insert().values(
                    email=email,
                    name="Owner",
                    password_hash="x",
                    role="agent",
                    active=True,
                    presence="offline",
                    created_at=utcnow(),
                )
            )
            made.append((int(result.inserted_primary_key[0]), email))
    return made


def scheduler_for(engine: Any, smtp: Smtp, holder: str) -> PromiseScheduler:
    conversations = ConversationService(
        ConversationRepository(engine), InMemoryEventBus(), Limits()
    )
    return PromiseScheduler(
        PromiseRepository(engine),
        SqlLease(engine, "promises", holder, dt.timedelta(seconds=30)),
        Mailer(OutboxRepository(engine), smtp),
        conversations,
        conversations.bus,
        SchedulerPolicy(
            reminder_lead=LEAD,
            escalation_emails=("boss@example.com",),
            resume_link_lifetime=dt.timedelta(hours=72),
            link_secret=b"b" * 32,
            base_url="http://127.0.0.1:8000",
            interval_s=INTERVAL_S,
        ),
    )


async def reminder_delay(url: str, smtp: Smtp, arrivals: Arrivals, count: int) -> dict:
    engine = create_engine(url)
    owners = await add_agents(engine, count)
    start = utcnow()
    reminder_at = [
        start + dt.timedelta(seconds=random.uniform(5, 60)) for _ in range(count)
    ]
    await add_follow_ups(
        engine, [at + LEAD for at in reminder_at], [owner for owner, _ in owners]
    )
    scheduler = scheduler_for(engine, smtp, "bench-delay")
    scheduler.start()
    deadline = time.time() + 120
    while time.time() < deadline and not all(e in arrivals.at for _, e in owners):
        await asyncio.sleep(0.5)
    await scheduler.stop()
    await engine.dispose()
    delays = [
        arrivals.at[email] - at.timestamp()
        for (_, email), at in zip(owners, reminder_at, strict=True)
        if email in arrivals.at
    ]
    return {
        "reminders": count,
        "received": len(delays),
        "interval_s": INTERVAL_S,
        "load_average_during_run": round(os.getloadavg()[0], 1),
        "delay_s": {
            "p50": round(statistics.median(delays), 2),
            "p99": round(percentile(delays, 0.99), 2),
            "max": round(max(delays), 2),
        },
    }


async def idle_cost(
    url: str, smtp: Smtp, count: int, rounds: int, admin: Any, database: str
) -> dict:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "TRUNCATE conversations, agents, mail_outbox, scheduler_leases CASCADE"
            )
        )
    owners = await add_agents(engine, 50)
    due = utcnow() + dt.timedelta(days=2)
    for start in range(0, count, 2000):
        size = min(2000, count - start)
        await add_follow_ups(
            engine,
            [due] * size,
            [owners[i % 50][0] for i in range(start, start + size)],
        )
    async with engine.connect() as connection:
        # As a long-running database would have: statistics for the planner.
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(sa.text("ANALYZE"))
    scheduler = scheduler_for(engine, smtp, "bench-cost")
    cpu, wall = time.process_time(), time.perf_counter()
    first_round = await scheduler.tick()
    first: dict[str, float] = {
        "cpu_s": round(time.process_time() - cpu, 3),
        "wall_s": round(time.perf_counter() - wall, 3),
        "promises_recorded": first_round.recorded,
    }
    cpu_times, wall_times = [], []
    before = database_cpu_s(admin, database)
    for _ in range(rounds):
        cpu, wall = time.process_time(), time.perf_counter()
        done = await scheduler.tick()
        cpu_times.append(time.process_time() - cpu)
        wall_times.append(time.perf_counter() - wall)
        assert done.held and done.reminded == 0
    after = database_cpu_s(admin, database)
    database_round = (
        sum(used - before.get(pid, 0.0) for pid, used in after.items()) / rounds
    )
    await scheduler.lease.release()
    await engine.dispose()
    cpu_round = statistics.median(cpu_times)
    wall_round = statistics.median(wall_times)
    return {
        "open_follow_ups": count,
        "first_round": first,
        "rounds": rounds,
        "per_round_s": {
            "hub_cpu": round(cpu_round, 4),
            "database_cpu": round(database_round, 4),
            "wall": round(wall_round, 4),
        },
        "share_of_a_core": {
            "hub_cpu": round(cpu_round / INTERVAL_S, 5),
            "database_cpu": round(database_round / INTERVAL_S, 5),
            "hub_and_database_cpu": round((cpu_round + database_round) / INTERVAL_S, 5),
        },
        "load_average_during_run": round(os.getloadavg()[0], 1),
    }


async def main(args: argparse.Namespace) -> dict:
    import psycopg2

    name = f"baton_bench_promises_{secrets.token_hex(4)}"
    admin = psycopg2.connect(POSTGRES_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    arrivals = Arrivals()
    controller = Controller(arrivals, hostname="127.0.0.1", port=free_port())
    controller.start()
    smtp = Smtp(host="127.0.0.1", port=controller.port, security="none", timeout_s=10)
    try:
        engine = create_engine(url)
        await upgrade_database(engine)
        await engine.dispose()
        delay = await reminder_delay(url, smtp, arrivals, args.reminders)
        cost = await idle_cost(url, smtp, args.open, args.rounds, admin, name)
    finally:
        controller.stop()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "database": "PostgreSQL (fresh database, synthetic follow-ups)",
        "reminder_delay": delay,
        "idle_cost": cost,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=300)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    results = asyncio.run(main(parser.parse_args()))
    RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))

"""Soak: many customers and agents on the real stack for minutes (issue #12).

``python -m bench.soak.run`` (``make bench-soak``) starts the stack as
``make run`` does (:func:`bench.stack.running_stack`), then runs an asyncio
load generator against it:

- customers (default 150) each open a conversation and a WebSocket and send
  messages (default 20) spread over the run, questions taken from the
  held-out sets in ``bench/e2e``; a reply is the first bot, agent or system
  message, or the status of a handoff, after the customer's message;
- agents (default 10) sign in, open the console socket, claim what waits,
  answer every customer message of the chats they hold and resolve a chat
  after three answers.

It records the error rate (error frames, refused requests, replies that never
came, dropped sockets), reply latency p50/p95/p99, and the resident memory of
every process of the stack at the start and at the end, in
``bench/results/soak-<date>.json``. Nothing is asserted: the figures go in
the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import websockets
import yaml

from bench.stack import (
    PROJECT_DIR,
    RunningStack,
    create_agent,
    running_stack,
    stack_settings,
)

RESULTS_DIR = PROJECT_DIR / "bench" / "results"
QUESTION_FILES = [
    PROJECT_DIR / "bench" / "e2e" / "questions.yml",
    PROJECT_DIR / "bench" / "e2e" / "validation.yml",
]
REPLY_TIMEOUT_S = 60.0
PASSWORD = "soak test agent password"
#: A chat an agent holds is resolved after this many answers.
ANSWERS_PER_CHAT = 3


@dataclass
class Tally:
    """What the load generator saw."""

    sent: int = 0
    replies: int = 0
    latencies_s: list[float] = field(default_factory=list)
    error_frames: dict[str, int] = field(default_factory=dict)
    refused_requests: int = 0
    no_reply: int = 0
    dropped_sockets: int = 0
    #: Why sockets closed under the customers and agents ("code reason").
    close_reasons: dict[str, int] = field(default_factory=dict)
    #: Messages sent while waiting in the queue for a person: no answer is due
    #: until an agent takes the chat, so each counts once the hub has stored it
    #: (its echo with the customer's client_id came back), not as a reply.
    stored_while_waiting: int = 0
    stored_s: list[float] = field(default_factory=list)
    #: Customers handed to people (at least once).
    handoffs: int = 0
    claims: int = 0
    claim_conflicts: int = 0
    agent_replies: int = 0

    def error(self, code: str) -> None:
        self.error_frames[code] = self.error_frames.get(code, 0) + 1

    def dropped(self, closed: BaseException) -> None:
        self.dropped_sockets += 1
        received = getattr(closed, "rcvd", None)
        reason = (
            f"{received.code} {received.reason}".strip()
            if received is not None
            else type(closed).__name__
        )
        self.close_reasons[reason] = self.close_reasons.get(reason, 0) + 1


def load_questions() -> list[str]:
    texts = []
    for path in QUESTION_FILES:
        data = yaml.safe_load(path.read_text())
        texts += [q["text"] for q in data["questions"]]
    return texts


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return round(ordered[index], 3)


def process_memory(supervisor: int) -> dict[str, float]:
    """Resident memory (MB) of the supervisor and every process under it."""
    memory: dict[str, float] = {}
    pids = [supervisor]
    seen = set()
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        rss_kb = next(
            (
                int(line.split()[1])
                for line in status.splitlines()
                if line.startswith("VmRSS:")
            ),
            0,
        )
        args = [a.decode(errors="replace") for a in cmdline if a]
        name = next((a for a in args if a.startswith("bot.") or a == "bot"), args[0])
        if "-m" in args:
            name = " ".join(args[args.index("-m") + 1 : args.index("-m") + 3])
        memory[f"{name} [{pid}]"] = round(rss_kb / 1024, 1)
        pids += [int(c) for c in children]
    return memory


class Customer:
    """One customer: a conversation, a socket, messages spread over the run."""

    def __init__(self, stack: RunningStack, tally: Tally, number: int) -> None:
        self.stack = stack
        self.tally = tally
        self.number = number
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.handed = False
        #: The conversation's state as the last status frame said.
        self.state = "bot"
        #: Where this customer is, reported for those still busy at the deadline.
        self.stage = "arriving"

    async def run(
        self, http: aiohttp.ClientSession, questions: list[str], pace_s: float
    ) -> None:
        self.stage = "creating"
        async with http.post(f"{self.stack.url}/api/conversations", json={}) as r:
            if r.status != 201:
                self.tally.refused_requests += 1
                return
            created = await r.json()
        url = (
            f"{self.stack.ws_url}/api/conversations/{created['conversation_id']}/ws"
            f"?token={created['token']}"
        )
        try:
            async with websockets.connect(url, max_size=2**22) as ws:
                reader = asyncio.get_running_loop().create_task(self._read(ws))
                try:
                    for n, text in enumerate(questions):
                        self.stage = "pausing"
                        await asyncio.sleep(random.uniform(0.5, 1.5) * pace_s)
                        self.stage = "waiting for a reply"
                        await self._say(ws, text, f"soak-{self.number}-{n}")
                    self.stage = "closing"
                finally:
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader
        except (websockets.ConnectionClosed, OSError) as closed:
            self.tally.dropped(closed)
        self.stage = "done"

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "error":
                    self.tally.error(str(frame.get("code")))
                if frame.get("type") == "status" and frame.get("state"):
                    self.state = str(frame["state"])
                if frame.get("state") in {"queued", "follow_up"} and not self.handed:
                    self.handed = True
                    self.tally.handoffs += 1
                await self.frames.put(frame)
        except websockets.ConnectionClosed as closed:
            self.tally.dropped(closed)

    async def _say(self, ws: Any, text: str, client_id: str) -> None:
        while not self.frames.empty():
            self.frames.get_nowait()
        waiting_for_person = self.state in {"queued", "follow_up"}
        started = time.monotonic()
        await ws.send(
            json.dumps({"type": "message", "text": text, "client_id": client_id})
        )
        self.tally.sent += 1
        deadline = started + REPLY_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.tally.no_reply += 1
                return
            try:
                frame = await asyncio.wait_for(self.frames.get(), remaining)
            except asyncio.TimeoutError:
                self.tally.no_reply += 1
                return
            if frame.get("type") == "error" and frame.get("client_id") == client_id:
                return
            stored = (
                frame.get("type") == "message"
                and frame.get("role") == "customer"
                and frame.get("client_id") == client_id
            )
            if waiting_for_person and stored:
                self.tally.stored_while_waiting += 1
                self.tally.stored_s.append(time.monotonic() - started)
                return
            handed = frame.get("type") == "status" and frame.get("state") in {
                "queued",
                "follow_up",
            }
            replied = frame.get("type") == "message" and frame.get("role") in {
                "bot",
                "agent",
                "system",
            }
            if handed or replied:
                self.tally.replies += 1
                self.tally.latencies_s.append(time.monotonic() - started)
                return


class AgentWorker:
    """One agent: claims what waits, answers, resolves after a few answers."""

    def __init__(self, stack: RunningStack, tally: Tally, email: str) -> None:
        self.random = random.Random(email)
        self.stack = stack
        self.tally = tally
        self.email = email
        self.answers: dict[str, int] = {}
        self.handoff_of: dict[str, int] = {}

    async def run(self, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        async with http.post(
            f"{self.stack.url}/api/auth/login",
            json={"email": self.email, "password": PASSWORD},
        ) as r:
            if r.status != 200:
                self.tally.refused_requests += 1
                return
            body = await r.json()
            session = r.cookies["baton_session"].value
        headers = {
            "Cookie": f"baton_session={session}",
            "X-CSRF-Token": body["csrf_token"],
        }
        async with websockets.connect(
            f"{self.stack.ws_url}/api/agent/ws",
            extra_headers={"Cookie": headers["Cookie"], "Origin": self.stack.url},
            max_size=2**22,
        ) as ws:
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                except asyncio.TimeoutError:
                    continue
                except websockets.ConnectionClosed as closed:
                    self.tally.dropped(closed)
                    return
                await self._on(http, headers, frame)

    async def _post(
        self, http: aiohttp.ClientSession, headers: dict[str, str], path: str, body: Any
    ) -> tuple[int, Any]:
        async with http.post(
            f"{self.stack.url}{path}", json=body, headers=headers
        ) as r:
            return r.status, await r.json()

    async def _on(
        self,
        http: aiohttp.ClientSession,
        headers: dict[str, str],
        frame: dict[str, Any],
    ) -> None:
        kind = frame.get("type")
        if kind == "queue":
            # People pick different chats from a shared queue, not all the
            # first one (which only measures claim conflicts).
            waiting = frame.get("queue", [])
            for entry in self.random.sample(waiting, min(1, len(waiting))):
                status, _ = await self._post(
                    http, headers, f"/api/handoffs/{entry['id']}/claim", {}
                )
                if status == 200:
                    self.tally.claims += 1
                    self.handoff_of[entry["conversation_id"]] = entry["id"]
                elif status == 409:
                    self.tally.claim_conflicts += 1
                else:
                    self.tally.refused_requests += 1
        elif kind == "message" and frame.get("role") == "customer":
            conversation_id = frame.get("conversation_id")
            handoff_id = self.handoff_of.get(str(conversation_id))
            if handoff_id is None:
                return
            status, _ = await self._post(
                http,
                headers,
                f"/api/conversations/{conversation_id}/messages",
                {
                    "text": "Thanks, I'm looking into it.",
                    "client_id": secrets.token_hex(8),
                },
            )
            if status not in {200, 201}:
                self.tally.refused_requests += 1
                return
            self.tally.agent_replies += 1
            self.answers[conversation_id] = self.answers.get(conversation_id, 0) + 1
            if self.answers[conversation_id] >= ANSWERS_PER_CHAT:
                await self._post(
                    http,
                    headers,
                    f"/api/handoffs/{handoff_id}/resolve",
                    {"outcome": "solved"},
                )
                self.handoff_of.pop(str(conversation_id), None)


def create_agents(stack: RunningStack, count: int) -> list[str]:
    env = {**stack_settings(stack), "BATON_NEW_AGENT_PASSWORD": PASSWORD}
    emails = []
    for n in range(count):
        email = f"soak-agent-{n}-{secrets.token_hex(2)}@example.com"
        create_agent(env, email, f"Soak Agent {n}")
        emails.append(email)
    return emails


async def soak(
    stack: RunningStack, customers: int, messages: int, agents: int, duration_s: float
) -> dict[str, Any]:
    tally = Tally()
    questions = load_questions()
    emails = await asyncio.to_thread(create_agents, stack, agents)
    memory_start = process_memory(stack.pid)
    stop = asyncio.Event()
    pace_s = duration_s / messages
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        agent_tasks = [
            asyncio.create_task(AgentWorker(stack, tally, email).run(http, stop))
            for email in emails
        ]

        crowd = [Customer(stack, tally, n) for n in range(customers)]

        async def one(customer: Customer) -> None:
            # Customers arrive over the first tenth of the run.
            await asyncio.sleep(random.uniform(0, duration_s / 10))
            texts = random.sample(questions, messages)
            await customer.run(http, texts, pace_s)

        # However slow the stack, the run ends: a customer still busy well
        # after the last reply could have come is counted, with where it was.
        deadline = duration_s * 1.6 + REPLY_TIMEOUT_S * 2
        _, busy = await asyncio.wait(
            [asyncio.create_task(one(c)) for c in crowd], timeout=deadline
        )
        for task in busy:
            task.cancel()
        stuck: dict[str, int] = {}
        for customer in crowd:
            if customer.stage != "done":
                stuck[customer.stage] = stuck.get(customer.stage, 0) + 1
        stop.set()
        _, busy_agents = await asyncio.wait(agent_tasks, timeout=30)
        for task in busy_agents:
            task.cancel()
    elapsed = time.monotonic() - started
    memory_end = process_memory(stack.pid)
    errors = (
        sum(tally.error_frames.values())
        + tally.refused_requests
        + tally.no_reply
        + tally.dropped_sockets
        + sum(stuck.values())
    )
    figures = asdict(tally)
    latencies = figures.pop("latencies_s")
    stored = figures.pop("stored_s")
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "customers": customers,
        "messages_per_customer": messages,
        "agents": agents,
        "planned_duration_s": duration_s,
        "elapsed_s": round(elapsed, 1),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": list(os.getloadavg()),
        "error_rate": round(errors / max(tally.sent, 1), 4),
        "reply_s": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "mean": round(statistics.mean(latencies), 3) if latencies else None,
            "count": len(latencies),
        },
        "stored_while_waiting_s": {
            "p50": percentile(stored, 50),
            "p95": percentile(stored, 95),
            "p99": percentile(stored, 99),
            "count": len(stored),
        },
        "tally": figures,
        "customers_unfinished_at_deadline": stuck,
        "memory_mb": {"start": memory_start, "end": memory_end},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=150)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--postgres", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--redis", help="Redis URL (default: in-process bus)")
    parser.add_argument("--output", type=Path, help="where the JSON goes")
    parser.add_argument("--keep-log", type=Path, help="copy the stack's log here")
    args = parser.parse_args(argv)
    env = {
        # Every simulated customer comes from 127.0.0.1.
        "BATON_CONVERSATIONS_PER_IP_PER_HOUR": "100000",
        "BATON_MESSAGES_PER_IP_PER_MINUTE": "100000",
        "BATON_LOGINS_PER_IP_PER_MINUTE": "1000",
    }
    if args.postgres:
        env["BATON_DATABASE_URL"] = args.postgres
    if args.redis:
        env["BATON_REDIS_URL"] = args.redis
    with running_stack(env) as stack:
        try:
            result = asyncio.run(
                soak(
                    stack, args.customers, args.messages, args.agents, args.minutes * 60
                )
            )
        finally:
            if args.keep_log:
                args.keep_log.write_bytes(stack.log.read_bytes())
    result["database"] = "postgresql" if args.postgres else "sqlite"
    result["bus"] = "redis" if args.redis else "in-process"
    day = dt.date.today().isoformat()
    output = args.output or RESULTS_DIR / f"soak-{day}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps({k: result[k] for k in ("error_rate", "reply_s", "tally")}, indent=2)
    )
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

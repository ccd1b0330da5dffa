"""Measure the first answers after a fresh start of the whole stack.

``python -m bench.coldstart.run`` starts Baton as ``make run`` does
(``python -m bot run``, the embedded defaults, a fresh data directory, so the
database is new and the seed articles are loaded), waits until ``GET /health``
answers 200, then asks the same knowledge-base question ("I forgot my
password") in ten new conversations, one after the other, through the
customer WebSocket, and times each from the send to the bot's answer (the
message with ``meta.article``). A question handed to a person instead (the
assistant did not answer in time) is recorded as such.

The target: the first answer after a start arrives as fast as the tenth.
Results, with the date and the machine, go to ``bench/coldstart/results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
import websockets

from bench.machine import machine
from bench.stack import running_stack

HERE = Path(__file__).resolve().parent
RESULTS_PATH = HERE / "results.json"
QUESTION = "I forgot my password"
ANSWER_TIMEOUT_S = 120.0


class HealthLog:
    """What ``/health`` said while the stack started, one entry per change."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.seen: list[dict[str, Any]] = []

    def __call__(self, status: int, body: dict[str, Any]) -> None:
        """Record the answer if it differs from the previous one."""
        reasons = {
            name: check.get("error")
            for name, check in (body.get("checks") or {}).items()
            if check.get("status") != "ok"
        }
        last = self.seen[-1] if self.seen else None
        if last is None or last["status"] != status or last["down"] != reasons:
            self.seen.append(
                {
                    "after_s": round(time.monotonic() - self.started, 1),
                    "status": status,
                    "down": reasons,
                }
            )


async def ask(url: str, text: str) -> dict[str, Any]:
    """Ask ``text`` in a new conversation; time the answer or the handoff."""
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{url}/api/conversations", json={}) as response:
            created = await response.json()
    ws_url = url.replace("http://", "ws://")
    async with websockets.connect(
        f"{ws_url}/api/conversations/{created['conversation_id']}/ws"
        f"?token={created['token']}"
    ) as ws:
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "text": text, "client_id": "q"}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S))
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            if frame.get("type") == "message" and frame.get("role") == "bot":
                article = (frame.get("meta") or {}).get("article")
                return {"ms": elapsed_ms, "outcome": "answer", "article": article}
            if frame.get("type") == "status" and frame.get("state") != "bot":
                return {"ms": elapsed_ms, "outcome": f"handed over ({frame['state']})"}


def run_stack(questions: int) -> dict[str, Any]:
    startup = HealthLog()
    with running_stack(on_status=startup) as stack:
        healthy_s = round(time.monotonic() - startup.started, 1)
        answers = []
        for n in range(questions):
            answers.append(asyncio.run(ask(stack.url, QUESTION)))
            print(n + 1, answers[-1], flush=True)
    later = [a["ms"] for a in answers[1:] if a["outcome"] == "answer"]
    return {
        "healthy_after_s": healthy_s,
        "health_on_the_way": startup.seen,
        "first": answers[0],
        "tenth": answers[min(9, len(answers) - 1)],
        "median_of_the_others_ms": round(statistics.median(later), 1)
        if later
        else None,
        "answers": answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument(
        "--no-save", action="store_true", help="print only, keep results.json"
    )
    args = parser.parse_args()
    result = run_stack(args.questions)
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "what": f"fresh `python -m bot run` (embedded defaults, new data dir); "
        f"after /health is 200, {QUESTION!r} in {args.questions} new "
        "conversations one after another, customer WebSocket send -> bot answer",
        **result,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "answers"}, indent=2))
    if not args.no_save:
        RESULTS_PATH.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

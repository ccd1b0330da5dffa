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
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import websockets

HERE = Path(__file__).resolve().parent
PROJECT_DIR = HERE.parent.parent
RESULTS_PATH = HERE / "results.json"
QUESTION = "I forgot my password"
STARTUP_TIMEOUT_S = 600.0
ANSWER_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(url: str) -> tuple[int, dict[str, Any]]:
    """The hub's ``/health`` status and body (0 when it does not answer)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (OSError, ValueError):
        return 0, {}


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> list[dict[str, Any]]:
    """Poll ``/health`` once a second until 200; return what it said on the way."""
    seen: list[dict[str, Any]] = []
    started = time.monotonic()
    while time.monotonic() - started < STARTUP_TIMEOUT_S:
        if process.poll() is not None:
            raise RuntimeError("the stack exited before it was healthy")
        status, body = health(url)
        reasons = {
            name: check.get("error")
            for name, check in (body.get("checks") or {}).items()
            if check.get("status") != "ok"
        }
        if not seen or seen[-1]["status"] != status or seen[-1]["down"] != reasons:
            seen.append(
                {
                    "after_s": round(time.monotonic() - started, 1),
                    "status": status,
                    "down": reasons,
                }
            )
        if status == 200:
            return seen
        time.sleep(1)
    raise RuntimeError(f"not healthy after {STARTUP_TIMEOUT_S:.0f}s: {seen[-1:]}")


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
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        port = free_port()
        env = {
            **os.environ,
            "BATON_PORT": str(port),
            "BATON_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "BATON_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
            "BATON_DATA_DIR": str(data_dir),
            "BATON_PROJECT_DIR": str(PROJECT_DIR),
        }
        for name in ("BATON_DATABASE_URL", "BATON_REDIS_URL"):
            env.pop(name, None)
        log = data_dir / "stack.log"
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=PROJECT_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            startup = wait_healthy(url, process)
            healthy_s = round(time.monotonic() - started, 1)
            answers = []
            for n in range(questions):
                answers.append(asyncio.run(ask(url, QUESTION)))
                print(n + 1, answers[-1], flush=True)
        except Exception:
            print(log.read_text()[-4000:], file=sys.stderr)
            raise
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    later = [a["ms"] for a in answers[1:] if a["outcome"] == "answer"]
    return {
        "healthy_after_s": healthy_s,
        "health_on_the_way": startup,
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
        "machine": {
            "system": f"{platform.system()} {platform.machine()}",
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
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

"""Runs Rasa, the action server and the hub together, for ``make run``.

Each child's output is prefixed with its name. A child that dies is reported
with its exit code and restarted (a few times, with a growing pause); Ctrl-C or
SIGTERM stops all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot.config import Settings

MAX_RESTARTS = 5
READY_TIMEOUT_S = 300.0


@dataclass
class Child:
    """A supervised process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    pumps: list[asyncio.Task[None]] = field(default_factory=list)


def latest_model(model_dir: Path) -> Path | None:
    """Return the newest trained model in ``model_dir``, if any."""
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


def children(settings: Settings, model: Path, base_env: dict[str, str]) -> list[Child]:
    """The three processes of a Baton deployment on one machine."""
    python = sys.executable
    env = {**base_env, **settings.rasa_environment()}
    rasa_port = str(urlsplit(settings.rasa_url).port or 5005)
    action_port = str(urlsplit(settings.action_server_url).port or 5055)
    project = settings.project_dir
    return [
        # Our entry point rather than ``python -m rasa_sdk``: it warms the
        # knowledge index up at start and says when it is ready (/ready).
        Child(
            "actions",
            [
                python,
                "-m",
                "bot.actions_server",
                "--actions",
                "actions",
                "-p",
                action_port,
            ],
            env,
        ),
        Child(
            "rasa",
            [
                python,
                "-m",
                # ``rasa`` itself, with the token from the environment rather
                # than on the command line, where every local user sees it.
                "bot.rasa_server",
                "run",
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                rasa_port,
                # Not loaded: with a model server in endpoints.yml (the hub,
                # which serves this file until a deploy) Rasa loads only what
                # it pulls from there, once (tests/e2e/test_stack.py).
                "--model",
                str(model),
                "--endpoints",
                str(project / "endpoints.yml"),
                "--credentials",
                str(project / "credentials.yml"),
            ],
            env,
        ),
        Child("hub", [python, "-m", "bot", "serve"], env),
    ]


class Runner:
    """Starts, watches and stops the children."""

    def __init__(
        self,
        settings: Settings,
        children: list[Child],
        demo_logins: list[tuple[str, str]] | None = None,
        demo_password: str = "",
    ) -> None:
        self.settings = settings
        self.children = children
        self.demo_logins = demo_logins or []
        self.demo_password = demo_password
        self.stopping = asyncio.Event()
        self.failed = False

    async def run(self) -> int:
        """Run until interrupted; return the exit status."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.stopping.set)
        for child in self.children:
            await self._spawn(child)
        watchers = [loop.create_task(self._watch(child)) for child in self.children]
        ready = loop.create_task(self._announce_when_ready())
        await self.stopping.wait()
        ready.cancel()
        say("stopping…")
        await self._terminate_all()
        for watcher in watchers:
            watcher.cancel()
        return 1 if self.failed else 0

    async def _spawn(self, child: Child) -> None:
        child.process = await asyncio.create_subprocess_exec(
            *child.argv,
            cwd=str(self.settings.project_dir),
            env=child.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        assert child.process.stdout is not None
        child.pumps = [
            asyncio.get_running_loop().create_task(
                _prefix_output(child.name, child.process.stdout)
            )
        ]

    async def _watch(self, child: Child) -> None:
        while not self.stopping.is_set():
            assert child.process is not None
            code = await child.process.wait()
            if self.stopping.is_set():
                return
            for pump in child.pumps:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pump, timeout=2)
            if child.restarts >= MAX_RESTARTS:
                say(
                    f"{child.name} exited with code {code}; giving up after "
                    f"{MAX_RESTARTS} restarts"
                )
                self.failed = True
                self.stopping.set()
                return
            child.restarts += 1
            pause = min(30, 2**child.restarts)
            say(
                f"{child.name} exited with code {code}; restarting in {pause}s "
                f"({child.restarts}/{MAX_RESTARTS})"
            )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=pause)
            if self.stopping.is_set():
                return
            await self._spawn(child)

    async def _announce_when_ready(self) -> None:
        """Print the banner once ``/health`` is 200: every part can answer.

        Until then, say what is still starting whenever that changes (the
        action server's warm-up takes a while with many articles).
        """
        hub_url = f"http://{self.settings.host}:{self.settings.port}"
        if self.settings.host in {"0.0.0.0", "::"}:
            hub_url = f"http://127.0.0.1:{self.settings.port}"
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        last_reason = ""
        async with aiohttp.ClientSession() as session:
            while asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(
                    aiohttp.ClientError, asyncio.TimeoutError, ValueError
                ):
                    async with session.get(
                        f"{hub_url}/health", timeout=aiohttp.ClientTimeout(total=5)
                    ) as response:
                        if response.status == 200:
                            banner(hub_url, self.demo_logins, self.demo_password)
                            return
                        reason = waiting_for(await response.json())
                        if reason and reason != last_reason:
                            say(f"not ready yet: {reason}")
                            last_reason = reason
                await asyncio.sleep(1)
        say(f"not healthy after {READY_TIMEOUT_S:.0f}s: see {hub_url}/health")

    async def _terminate_all(self) -> None:
        running = [
            c.process
            for c in self.children
            if c.process is not None and c.process.returncode is None
        ]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(
                asyncio.gather(*(p.wait() for p in running)), timeout=15
            )
        except asyncio.TimeoutError:
            for process in running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


async def _prefix_output(name: str, stream: asyncio.StreamReader) -> None:
    prefix = f"[{name}] ".encode()
    while True:
        line = await stream.readline()
        if not line:
            return
        sys.stdout.buffer.write(prefix + line)
        sys.stdout.buffer.flush()


def waiting_for(health: object) -> str:
    """What a 503 ``/health`` body says is still starting (``starting`` checks).

    Parts that are down are left out: while the processes start, each is
    down for a moment, which is no news.
    """
    checks = health.get("checks") if isinstance(health, dict) else None
    if not isinstance(checks, dict):
        return ""
    return "; ".join(
        f"{name}: {check.get('error')}"
        for name, check in checks.items()
        if isinstance(check, dict) and check.get("status") == "starting"
    )


def say(text: str) -> None:
    """Print a line of the runner's own."""
    print(f"[baton] {text}", flush=True)


def banner(
    hub_url: str, demo_logins: list[tuple[str, str]], demo_password: str
) -> None:
    """Print where to go once everything is up, and how to sign in."""
    lines = [
        "",
        "Baton is running.",
        f"  Demo website with the chat widget:  {hub_url}/",
        f"  Agent and trainer console:          {hub_url}/console",
        f"  Health of every process:            {hub_url}/health",
        f"  API description (OpenAPI):          {hub_url}/api/openapi.json",
    ]
    if demo_logins:
        lines.append(f"Demo sign-in for the console (password {demo_password}):")
        lines.extend(f"  {role:<8} {email}" for email, role in demo_logins)
    lines += ["Press Ctrl-C to stop everything.", ""]
    print("\n".join(lines), flush=True)


def run(
    settings: Settings,
    base_env: dict[str, str],
    demo_logins: list[tuple[str, str]] | None = None,
    demo_password: str = "",
) -> int:
    """Run the whole system in the foreground.

    Args:
        settings: The configuration.
        base_env: The environment the children inherit.
        demo_logins: ``(email, role)`` of demo accounts to show once ready.
        demo_password: Their password.

    Returns:
        The exit status.
    """
    model = latest_model(settings.model_dir)
    if model is None:
        say(f"no trained model in {settings.model_dir}: run `make model` first")
        return 2
    if not settings.rasa_token:
        # One token per run, shared by the hub and Rasa, never printed.
        settings = settings.with_changes(rasa_token=secrets.token_urlsafe(24))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = {**base_env, "BATON_RASA_TOKEN": settings.rasa_token}
    say(f"model {model.name}; starting the action server, Rasa and the hub")
    runner = Runner(
        settings, children(settings, model, env), demo_logins, demo_password
    )
    return asyncio.run(runner.run())

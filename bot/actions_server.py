"""The action server: rasa_sdk's, warmed up before it says it is ready.

``python -m bot.actions_server --actions actions`` (what ``baton run``
starts) serves a package's actions as ``python -m rasa_sdk --actions
actions`` does, with the same application (``rasa_sdk.endpoint.create_app``:
``/webhook``, ``/actions``, ``/health``), and adds:

- **Warm-up.** Once the server listens, it builds the knowledge-base index
  and loads the sentence encoder in the background, by answering one
  question the way ``action_answer_from_kb`` does
  (``actions.knowledge.shared_knowledge``). Otherwise the first customer
  question after a start waits for that: about ten seconds for the seed on
  two cores, over a minute at 1,000 articles. A warm-up that fails (the
  database not reachable yet) is tried again after a growing pause.
- **Readiness.** ``GET /ready`` answers 503 ``{"status": "warming",
  "reason"}`` until then and 200 ``{"status": "ready", "articles",
  "warm_up_s"}`` after; the hub's ``/health`` reads it. ``/health`` stays
  rasa_sdk's liveness check.

It listens where ``BATON_ACTION_SERVER_URL`` says (``127.0.0.1:5055`` by
default); ``-p`` sets another port. rasa_sdk's other options (``--cors``,
TLS, logging) work as they do there. One worker: the readiness is that of
the process that answers.

This is the one module of ``bot`` that imports ``actions``: it starts that
process, as :mod:`bot.runner` starts the others.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rasa_sdk import utils as sdk_utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import (
    create_app as create_sdk_app,
)
from rasa_sdk.endpoint import (
    create_argument_parser,
    create_ssl_context,
)
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.config import Settings
from bot.knowledge import SharedKnowledgeBase

logger = logging.getLogger(__name__)

#: What the warm-up asks: any support question runs the whole answering path.
WARM_UP_QUESTION = "I forgot my password"
#: Pauses between attempts of a failed warm-up: 1, 2, 4, then 5 seconds (at
#: a first start the hub may not have created the tables yet).
RETRY_MAX_S = 5.0
#: Longest reason shown for a failed warm-up (a database error can be long).
REASON_MAX_CHARS = 200


@dataclass
class Readiness:
    """Whether the action server answers in normal time, and if not, why."""

    ready: bool = False
    reason: str = "building the knowledge-base index"
    articles: int = 0
    warm_up_s: float = 0.0

    def body(self) -> dict[str, Any]:
        """The ``/ready`` answer."""
        if self.ready:
            return {
                "status": "ready",
                "articles": self.articles,
                "warm_up_s": self.warm_up_s,
            }
        return {"status": "warming", "reason": self.reason}


class KnowledgeNotSeeded(RuntimeError):
    """The hub has created the tables but not yet written the seed articles."""


async def warm_up(knowledge: SharedKnowledgeBase) -> int:
    """Build the index and load the encoder, as the first answer would.

    Args:
        knowledge: The knowledge base the actions answer from.

    Returns:
        How many published articles the index holds.
    """
    base = await knowledge.get()
    if not await base.repository.seeded():
        # Tables made, seed not yet written: an index now would be empty.
        raise KnowledgeNotSeeded("the hub has not seeded the knowledge base yet")
    index = await base.index()
    # One search runs what answering runs: the encoder's first forward pass
    # and every scorer's first use.
    await base.answer_or_suggest(WARM_UP_QUESTION)
    return len(index)


async def keep_warming(
    readiness: Readiness,
    warm: Callable[[], Awaitable[int]],
    *,
    retry_max_s: float = RETRY_MAX_S,
) -> None:
    """Warm up until it succeeds, saying in ``readiness`` why it is not ready.

    Args:
        readiness: Updated as the warm-up goes.
        warm: The warm-up; returns the number of articles indexed.
        retry_max_s: Longest pause between two attempts.
    """
    started = time.monotonic()
    pause = 1.0
    while True:
        try:
            articles = await warm()
        except Exception as error:
            # Not ready: the actions would fail the same way. Say why, retry.
            first_line = (str(error).splitlines() or [""])[0]
            readiness.reason = (
                f"warm-up failed, retrying ({type(error).__name__}: {first_line})"
            )[:REASON_MAX_CHARS]
            logger.warning("warm-up failed, retrying in %.0fs: %s", pause, error)
            await asyncio.sleep(pause)
            pause = min(retry_max_s, pause * 2)
            continue
        readiness.articles = articles
        readiness.warm_up_s = round(time.monotonic() - started, 1)
        readiness.ready = True
        logger.info(
            "ready: knowledge index of %d articles built in %.1fs",
            articles,
            readiness.warm_up_s,
        )
        return


#: The header Rasa sends the shared secret in (``endpoints.yml``).
TOKEN_HEADER = "X-Baton-Token"
#: Paths anyone may call: readiness and liveness probes, which run nothing.
_OPEN_PATHS = frozenset({"/ready", "/health"})


def create_app(
    actions: str,
    knowledge: SharedKnowledgeBase | None = None,
    cors_origins: str | list[str] | None = None,
    auto_reload: bool = False,
    token: str = "",
) -> Sanic:
    """rasa_sdk's application for ``actions``, with warm-up and ``/ready``.

    Args:
        actions: The actions package (``actions``).
        knowledge: The knowledge base to warm; the one the actions use
            (``actions.knowledge.shared_knowledge``) when omitted.
        cors_origins: As for rasa_sdk (none by default: only Rasa calls it).
        auto_reload: As for rasa_sdk.
        token: The shared secret (``BATON_RASA_TOKEN``) a caller of
            ``/webhook`` must send in :data:`TOKEN_HEADER`; without one, any
            local process could run any action for any conversation. Empty:
            not checked (a warning is logged).

    Returns:
        The application; the warm-up starts when it starts serving.
    """
    app = create_sdk_app(actions, cors_origins=cors_origins, auto_reload=auto_reload)
    if knowledge is None:
        from actions.knowledge import shared_knowledge

        knowledge = shared_knowledge
    warmed: SharedKnowledgeBase = knowledge
    readiness = Readiness()
    app.ctx.readiness = readiness

    async def ready(_: Request) -> HTTPResponse:
        return json(readiness.body(), status=200 if readiness.ready else 503)

    async def start_warming(app: Sanic, _: Any) -> None:
        # A task, not the listener itself: the server answers /ready (and
        # the actions that need no index) while the index is being built.
        app.ctx.warming = asyncio.get_running_loop().create_task(
            keep_warming(readiness, lambda: warm_up(warmed))
        )

    async def stop_warming(app: Sanic, _: Any) -> None:
        task = getattr(app.ctx, "warming", None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await warmed.close()

    async def require_token(request: Request) -> HTTPResponse | None:
        # Everything but the probes: a list of what to protect misses
        # spellings the router also takes ("/webhook/" ran any action).
        if request.path in _OPEN_PATHS:
            return None
        given = request.headers.get(TOKEN_HEADER, "")
        if hmac.compare_digest(given.encode(), token.encode()):
            return None
        return json(
            {"error": {"code": "unauthorized", "message": "wrong or missing token"}},
            status=401,
        )

    if token:
        app.register_middleware(require_token, "request")
    else:
        logger.warning("BATON_RASA_TOKEN is not set: /webhook is not protected")
    app.add_route(ready, "/ready", methods=["GET"])
    app.register_listener(start_warming, "after_server_start")
    app.register_listener(stop_warming, "before_server_stop")
    return app


def listen_address(settings: Settings, port: int | None) -> tuple[str, int]:
    """Where the action server listens: ``BATON_ACTION_SERVER_URL``'s host and port.

    Args:
        settings: The configuration.
        port: A port given on the command line, which wins.
    """
    parts = urlsplit(settings.action_server_url)
    return parts.hostname or "127.0.0.1", port or parts.port or 5055


def main(argv: Sequence[str] | None = None) -> None:
    """Run the action server (see the module's docstring)."""
    parser: argparse.ArgumentParser = create_argument_parser()
    # rasa_sdk's default port would hide BATON_ACTION_SERVER_URL's.
    parser.set_defaults(port=None, actions="actions")
    args = parser.parse_args(argv)
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    sdk_utils.configure_colored_logging(args.loglevel)
    sdk_utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    sdk_utils.update_sanic_log_level()
    settings = Settings.from_env()
    host, port = listen_address(settings, args.port)
    app = create_app(
        args.actions,
        cors_origins=args.cors,
        auto_reload=args.auto_reload,
        token=settings.rasa_token,
    )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("action server on %s:%d, warming up", host, port)
    app.run(host, port, ssl=ssl, workers=1, access_log=False)


if __name__ == "__main__":
    main()

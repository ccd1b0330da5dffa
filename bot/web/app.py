"""The hub's Sanic application factory."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse, empty

from bot.accounts import create_desk
from bot.accounts.answers import mask_answer
from bot.assistant.client import RasaClient
from bot.auth import AuthPolicy, AuthRepository, AuthService
from bot.bus import create_bus
from bot.config import Settings
from bot.conversations.repository import ConversationRepository
from bot.conversations.service import ConversationService
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.handoff.hours import SupportHours
from bot.handoff.presence import ConsoleLeases, PresenceTracker
from bot.handoff.repository import HandoffRepository
from bot.handoff.service import HandoffPolicy, HandoffService, OwnershipSweep
from bot.knowledge import (
    ArticleFeedbackRepository,
    KnowledgeBase,
    KnowledgeRepository,
    load_seed,
)
from bot.mail import Mailer, OutboxRepository
from bot.promises import (
    PromiseDesk,
    PromiseRepository,
    PromiseScheduler,
    SchedulerPolicy,
    create_lease,
)
from bot.relay import Relay
from bot.training.warm_up import warm_up_knowledge
from bot.web import bodies, errors
from bot.web.account_reset import account_reset
from bot.web.admin_api import admin_api
from bot.web.agent_api import agent_api
from bot.web.auth_api import auth_api
from bot.web.canned_api import canned_api
from bot.web.context import Hub
from bot.web.customer import customer
from bot.web.health import dependency_status, health
from bot.web.history_api import history_api
from bot.web.intents_api import intents_api
from bot.web.kb_api import kb_api
from bot.web.limits import KeyedLimiter, SharedLimiter, create_counter
from bot.web.models_api import jobs_api, models_api
from bot.web.openapi import openapi
from bot.web.origins import origin_allowed
from bot.web.outbox_api import outbox_api
from bot.web.pages import CONTENT_SECURITY_POLICY, pages, transport_headers
from bot.web.promises_api import promises_api
from bot.web.training_api import training_api

logger = logging.getLogger("bot.access")

_app_counter = 0


def create_app(settings: Settings, *, name: str | None = None) -> Sanic:
    """Create the hub application for ``settings``.

    Resources (database engine, event bus, HTTP client) are created when the
    server starts and closed when it stops; creating the app does no I/O.

    Args:
        settings: The configuration.
        name: Sanic application name (unique per process).

    Returns:
        The application, ready for ``app.run`` or a test client.
    """
    global _app_counter
    _app_counter += 1
    app = Sanic(name or f"baton_hub_{_app_counter}")
    app.config.ACCESS_LOG = False  # our own log below never shows tokens
    app.config.WEBSOCKET_MAX_SIZE = settings.limits.max_frame_bytes * 4
    app.config.REQUEST_MAX_SIZE = 1024 * 1024
    app.config.KEEP_ALIVE_TIMEOUT = 30
    if settings.trust_proxy:
        app.config.PROXIES_COUNT = 1
    app.ctx.settings = settings

    errors.install(app)
    app.blueprint(customer)
    app.blueprint(history_api)
    app.blueprint(canned_api)
    app.blueprint(auth_api)
    app.blueprint(agent_api)
    app.blueprint(admin_api)
    app.blueprint(kb_api)
    app.blueprint(pages)
    app.blueprint(health)
    app.blueprint(openapi)
    app.blueprint(outbox_api)
    app.blueprint(training_api)
    app.blueprint(promises_api)
    app.blueprint(intents_api)
    app.blueprint(jobs_api)
    app.blueprint(models_api)
    app.blueprint(account_reset)
    # CORS preflight of the customer API, for widgets on allowed origins.
    app.add_route(_preflight, "/api/conversations", methods=["OPTIONS"])
    app.add_route(
        _preflight,
        "/api/conversations/<conversation_id:str>/messages",
        methods=["OPTIONS"],
    )
    app.add_route(
        _preflight,
        "/api/conversations/<conversation_id:str>/recap",
        methods=["OPTIONS"],
    )
    app.add_route(
        _preflight,
        "/api/conversations/<conversation_id:str>/contact",
        methods=["OPTIONS"],
    )
    app.add_route(
        _preflight,
        "/api/conversations/<conversation_id:str>/leave",
        methods=["OPTIONS"],
    )

    app.register_listener(_start, "before_server_start")
    app.register_listener(_after_start, "after_server_start")
    app.register_listener(_before_stop, "before_server_stop")
    app.register_listener(_stop, "after_server_stop")
    app.register_middleware(_stamp_request, "request")
    app.register_middleware(bodies.check_path_numbers, "request")
    app.register_middleware(_secure_response, "response")
    return app


async def _start(app: Sanic, _: Any) -> None:
    settings: Settings = app.ctx.settings
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    bus = create_bus(settings.redis_url)
    assistant = RasaClient(
        settings.rasa_url,
        settings.action_server_url,
        settings.rasa_token,
        settings.rasa_timeout_s,
    )
    mailer = Mailer(OutboxRepository(engine), settings.smtp)
    # Self-service password reset (BATON_ACCOUNTS): the reset page and
    # customer sign-in of the built-in provider; None when it is off.
    app.ctx.reset_desk = create_desk(settings, engine, mailer)
    service = ConversationService(
        ConversationRepository(engine),
        bus,
        settings.limits,
        identity_secret=settings.identity_secret,
        identity_max_hours=settings.identity_max_hours,
        mailer=mailer,
        mask_answer=mask_answer,
    )
    knowledge = KnowledgeBase(KnowledgeRepository(engine))
    # The first start loads the seed articles; later starts keep the edits
    # (and need not read the seed files).
    if not await knowledge.repository.seeded():
        await knowledge.repository.seed_if_new(load_seed())
    accounts = AuthRepository(engine)
    handoffs = HandoffService(
        HandoffRepository(engine),
        service,
        assistant,
        HandoffPolicy(
            hours=SupportHours.parse(settings.support_hours, settings.timezone),
            follow_up_within=dt.timedelta(hours=settings.follow_up_hours),
        ),
        accounts=accounts,
        feedback=ArticleFeedbackRepository(engine),
    )
    relay = Relay(
        service,
        handoffs,
        assistant,
        owner=settings.instance_id,
        lease_s=settings.rasa_timeout_s * 2 + 10,
    )
    counter = create_counter(engine, settings.redis_url)
    # New conversations and logins per address: counted in memory, and for
    # every hub at once in Redis when there is one (several hubs need it for
    # their bus anyway); a single hub's counts stay in the process.
    shared = counter if settings.redis_url else None
    app.ctx.hub = Hub(
        settings=settings,
        engine=engine,
        bus=bus,
        assistant=assistant,
        conversations=service,
        handoffs=handoffs,
        relay=relay,
        ownership=OwnershipSweep(handoffs),
        new_conversation_limiter=KeyedLimiter(
            settings.limits.conversations_per_ip_per_hour,
            3600.0,
            "new conversations",
            shared=shared,
            name="conversations",
        ),
        auth=AuthService(accounts, AuthPolicy.from_settings(settings)),
        login_limiter=KeyedLimiter(
            settings.limits.logins_per_ip_per_minute,
            60.0,
            "login attempts",
            shared=shared,
            name="logins",
        ),
        knowledge=knowledge,
    )
    app.ctx.hub.conversation_messages = SharedLimiter(
        counter, settings.limits.messages_per_minute, 60.0, "messages"
    )
    app.ctx.hub.address_messages = SharedLimiter(
        counter,
        settings.limits.messages_per_ip_per_minute,
        60.0,
        "messages from your address",
    )
    app.ctx.agent_presence = PresenceTracker(
        app.ctx.hub.auth, bus, ConsoleLeases(engine), settings.instance_id
    )
    promises = PromiseRepository(engine)
    app.ctx.promises = PromiseDesk(
        promises, service, settings.link_secret, handoffs=handoffs
    )
    app.ctx.promise_scheduler = PromiseScheduler(
        promises,
        create_lease(
            engine,
            settings.redis_url,
            "promises",
            settings.instance_id,
            dt.timedelta(seconds=settings.promises.lease_s),
        ),
        mailer,
        service,
        bus,
        SchedulerPolicy.from_settings(settings),
        handoffs=handoffs,
    )


async def _after_start(app: Sanic, _: Any) -> None:
    app.ctx.hub.relay.start()
    app.ctx.hub.ownership.start()
    app.ctx.agent_presence.start()
    app.ctx.promise_scheduler.start()
    app.ctx.knowledge_warm_up = None
    hub: Hub = app.ctx.hub
    if hub.settings.knowledge_warm_up:
        # The trainers' inbox's first read no longer builds the index; the
        # hub's start and customers do not wait for it (bot.training.warm_up).
        async def assistant_ready() -> bool:
            checks = await dependency_status(hub)
            return all(
                checks[name]["status"] == "ok" for name in ("rasa", "action_server")
            )

        app.ctx.knowledge_warm_up = asyncio.ensure_future(
            warm_up_knowledge(hub.knowledge, assistant_ready, freeze=True)
        )


async def _before_stop(app: Sanic, _: Any) -> None:
    warm_up: asyncio.Future[bool] | None = getattr(app.ctx, "knowledge_warm_up", None)
    if warm_up is not None and not warm_up.done():
        warm_up.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await warm_up
    hub: Hub | None = getattr(app.ctx, "hub", None)
    if hub is not None:
        await hub.relay.stop()
        await hub.ownership.stop()
        await app.ctx.agent_presence.stop()
        await app.ctx.promise_scheduler.stop()


async def _stop(app: Sanic, _: Any) -> None:
    hub: Hub | None = getattr(app.ctx, "hub", None)
    if hub is None:
        return
    await hub.assistant.close()
    if app.ctx.reset_desk is not None:
        await app.ctx.reset_desk.drain()
        await app.ctx.reset_desk.provider.close()
    if hub.conversation_messages is not None:
        await hub.conversation_messages.counter.close()
    await hub.bus.close()
    await hub.engine.dispose()


async def _preflight(request: Request, conversation_id: str = "") -> HTTPResponse:
    return empty(status=204)


async def _stamp_request(request: Request) -> None:
    request.ctx.started = time.perf_counter()


async def _secure_response(request: Request, response: BaseHTTPResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.update(transport_headers(request, request.app.ctx.settings.trust_proxy))
    if (response.content_type or "").startswith("text/html"):
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "SAMEORIGIN"
    origin = request.headers.get("Origin")
    if (
        origin
        and request.path.startswith("/api/conversations")
        and origin_allowed(request, request.app.ctx.settings)
    ):
        headers["Access-Control-Allow-Origin"] = origin
        headers["Vary"] = "Origin"
        headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    started = getattr(request.ctx, "started", None)
    elapsed_ms = (time.perf_counter() - started) * 1000 if started else 0.0
    # The path only: query strings carry conversation tokens.
    logger.info(
        "%s %s %s %.1fms", request.method, request.path, response.status, elapsed_ms
    )

"""Resources of a running hub, created at start and kept on ``app.ctx``."""

from __future__ import annotations

from dataclasses import dataclass

from sanic import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.assistant.client import RasaClient
from bot.auth import AuthService
from bot.bus import EventBus
from bot.config import Settings
from bot.conversations.service import ConversationService
from bot.handoff.service import HandoffService, OwnershipSweep
from bot.knowledge import KnowledgeBase
from bot.relay import Relay
from bot.web.limits import KeyedLimiter, SharedLimiter


@dataclass
class Hub:
    """Everything a request handler may use."""

    settings: Settings
    engine: AsyncEngine
    bus: EventBus
    assistant: RasaClient
    conversations: ConversationService
    handoffs: HandoffService
    relay: Relay
    ownership: OwnershipSweep
    new_conversation_limiter: KeyedLimiter
    auth: AuthService
    login_limiter: KeyedLimiter
    knowledge: KnowledgeBase
    #: Customer messages per conversation, and per client address, counted
    #: for every hub at once (SQL, or Redis when configured).
    conversation_messages: SharedLimiter | None = None
    address_messages: SharedLimiter | None = None


def hub_of(request: Request) -> Hub:
    """Return the hub of the app serving ``request``.

    Args:
        request: A request to one of the hub's routes.

    Returns:
        The resources created at start (see ``bot.web.app``).
    """
    hub: Hub = request.app.ctx.hub
    return hub

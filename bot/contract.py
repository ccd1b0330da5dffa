"""The wire contract, spelled once: states, reasons and frame shapes.

Imported by the hub and by the Rasa actions alike, so this module imports
nothing but the standard library. The Enums are ``str`` valued: a member is
equal to, hashes like and serialises to JSON as its value, so the wire and
the database see the same strings as before (DESIGN.md, public contract).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal, TypedDict


class WireEnum(str, Enum):
    """A ``str`` Enum whose ``str()`` is its value, as on the wire."""

    def __str__(self) -> str:
        return str(self.value)


class ConversationState(WireEnum):
    """Who owns a conversation."""

    BOT = "bot"
    QUEUED = "queued"
    FOLLOW_UP = "follow_up"
    AGENT = "agent"
    RESOLVED = "resolved"


class HandoffState(WireEnum):
    """Where a handoff stands: waiting, promised, owned, or closed three ways."""

    QUEUED = "queued"
    FOLLOW_UP = "follow_up"
    CLAIMED = "claimed"
    HANDED_BACK = "handed_back"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


#: Handoffs still waiting for a person or owned by one.
OPEN_HANDOFF_STATES = (
    HandoffState.QUEUED,
    HandoffState.FOLLOW_UP,
    HandoffState.CLAIMED,
)


class HandoffReason(WireEnum):
    """Why the bot hands over; the hub shows it on the agent's handoff card.

    ``DANGER`` (someone may be in danger: self-harm, threats, abuse) is never
    promised for later: it waits at the top of the live queue, in hours or
    not, and the customer is pointed to emergency services meanwhile.
    """

    DANGER = "danger"
    CUSTOMER_REQUEST = "customer_request"
    FALLBACK = "fallback"
    SENSITIVE = "sensitive"
    FRUSTRATION = "frustration"
    KB_REJECTED = "kb_rejected"
    BOT_UNAVAILABLE = "bot_unavailable"


#: Key of the custom bot message that asks the hub for a person:
#: ``{"handoff": {"reason": ...}}``.
HANDOFF_KEY = "handoff"


class HandoffRequest(TypedDict):
    """The body of the custom message an action sends to hand over."""

    reason: str


class HandoffMessage(TypedDict):
    """The custom bot message ``{"handoff": {"reason": ...}}``."""

    handoff: HandoffRequest


class _MessageFrameRequired(TypedDict):
    type: Literal["message"]
    seq: int
    role: str
    text: str
    buttons: list[dict[str, str]]
    meta: dict[str, Any]
    at: str


class MessageFrame(_MessageFrameRequired, total=False):
    """A stored message as the customer's and the agent's sockets get it."""

    client_id: str
    conversation_id: str


class AgentOnStatus(TypedDict):
    """The agent named in a status frame."""

    name: str


class _StatusFrameRequired(TypedDict):
    type: Literal["status"]
    state: str


class StatusFrame(_StatusFrameRequired, total=False):
    """Who owns the conversation, the place in line and the honest wait."""

    position: int
    eta_s: int
    agent: AgentOnStatus
    due_at: str
    #: ``True`` while the open handoff is one where someone may be in danger
    #: (:attr:`HandoffReason.DANGER`): leaving the queue changes nothing
    #: then, so the widget does not offer it. Absent otherwise.
    danger: bool


class TypingFrame(TypedDict):
    """Someone (``bot`` or ``agent``) is typing."""

    type: Literal["typing"]
    role: str


class ErrorFrame(TypedDict):
    """A refused frame or a closing socket: ``code`` and a readable message."""

    type: Literal["error"]
    code: str
    message: str


#: The frame sent when handling a frame failed on the hub's side.
INTERNAL_ERROR_FRAME: ErrorFrame = {
    "type": "error",
    "code": "internal_error",
    "message": "something went wrong on our side; please retry",
}


class SecretAnswer(WireEnum):
    """A form question whose answer must never be kept in clear (issue #16).

    The values are the names of the slots the answer fills. After a bot turn
    whose form asks for one of them, the hub stores the customer's next
    message masked (``a•••@example.com``, ``••••••``) and gives Rasa the
    clear text once, on the way through.
    """

    EMAIL = "account_email"
    CODE = "account_code"


#: The wire ``meta`` key of a bot message that asks a :class:`SecretAnswer`
#: question (its value): the widget keeps the answer out of its own storage,
#: and shows it as the hub stored it (masked) once the hub has it.
SECRET_ANSWER_META = "secret_answer"


class NoticeKind(WireEnum):
    """How a system message wants to be shown (``meta.notice``; optional).

    A system message without it is a plain notice (small, centred). ``DANGER``:
    someone may be in danger, and the message says where to get help now; the
    widget shows it as a prominent card, read out at once, with the numbers
    and sites of :data:`NOTICE_LINKS_META` as links.
    """

    DANGER = "danger"


#: The wire ``meta`` key of a system message's :class:`NoticeKind`.
NOTICE_META = "notice"
#: The wire ``meta`` key of the parts of a notice's text that are links:
#: ``[{"text": "112", "href": "tel:112"}, ...]``, each ``text`` found in the
#: message's text; ``href`` is a ``tel:`` number or an ``https:`` address.
NOTICE_LINKS_META = "links"


class NoticeLink(TypedDict):
    """A part of a notice's text that is a link (a phone number, a site)."""

    text: str
    href: str


#: The name of the Rasa input channel the hub talks to (``bot.assistant.channel``):
#: message metadata arriving through it was set by the hub alone.
HUB_CHANNEL = "baton"


class TurnMetadata(TypedDict, total=False):
    """What the hub sends Rasa with each customer message (``metadata``).

    Only the hub sets it (customers cannot: typed text never reaches Rasa as
    a ``/intent{...}`` command), so the actions may trust what the Baton
    channel passes on.
    """

    seq: int
    locale: str | None
    #: The customer's client address, for the per-address rate limits of
    #: the actions (``None`` when the hub does not know it).
    client_address: str | None

"""What the promise repository reads and writes, as plain records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mail:
    """A mail to store with a notice."""

    recipient: str
    subject: str
    text: str
    html: str
    kind: str
    conversation_id: str | None


@dataclass(frozen=True)
class FollowUpWork:
    """An open follow-up that needs something done, with what that needs."""

    follow_up_id: int
    conversation_id: str
    due_at: dt.datetime
    summary: str
    owner_id: int | None = None
    owner_name: str | None = None
    owner_email: str | None = None


@dataclass(frozen=True)
class DangerWait:
    """A chat where someone may be in danger, waiting in the live queue."""

    handoff_id: int
    conversation_id: str
    since: dt.datetime


@dataclass(frozen=True)
class AskWork:
    """A new follow-up whose customer is to be asked where to reach them."""

    follow_up_id: int
    conversation_id: str
    #: The verified customer's address, offered for confirmation.
    verified_email: str | None


@dataclass(frozen=True)
class ReplyWork:
    """An answered follow-up whose customer left an address."""

    follow_up_id: int
    conversation_id: str
    email: str
    locale: str | None
    agent_name: str
    replies: list[str]


@dataclass(frozen=True)
class Contact:
    """Where the customer of a conversation may be reached."""

    conversation_id: str
    state: str
    email: str | None
    updated_at: dt.datetime

    def public(self) -> dict[str, Any]:
        """The JSON shape given to the customer's widget."""
        return {"state": self.state, "email": self.email}


@dataclass(frozen=True)
class PromiseRecord:
    """A time given to a customer, and whether it was kept."""

    id: int
    conversation_id: str
    kind: str
    promised_at: dt.datetime
    due_at: dt.datetime
    kept: bool | None
    settled_at: dt.datetime | None


@dataclass(frozen=True)
class WaitPromise:
    """A wait estimate given to a customer who is still in the live queue."""

    id: int
    conversation_id: str
    promised_at: dt.datetime
    due_at: dt.datetime
    #: Why the customer waits (the handoff's reason).
    reason: str

    def overrun(self, now: dt.datetime, grace: dt.timedelta) -> bool:
        """Whether the wait runs well past the estimate by ``now``.

        Well past: by at least the estimate itself (twice the wait that was
        said) and by at least ``grace``, so a one-minute estimate is not
        called broken after two.
        """
        return now - self.due_at >= max(grace, self.due_at - self.promised_at)

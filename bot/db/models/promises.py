"""Promises kept: promises, their notices, the scheduler's lease, contacts."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base, utcnow

#: Kinds of promise: a follow-up's due time, a live-queue wait estimate.
PROMISE_KINDS = ("due", "wait")
#: What the scheduler does about a follow-up, each at most once per target.
NOTICE_KINDS = ("ask", "reminder", "escalation", "reply")
#: Where a customer who left can be reached: asked, an address, or declined.
CONTACT_STATES = ("asked", "given", "declined")


class Promise(Base):
    """A time given to a customer, and whether it was kept (``bot.promises``).

    ``due``: someone answers a follow-up by ``due_at``. ``wait``: an agent
    claims the queued chat by ``due_at`` (the estimate given, from when it
    was given). ``kept`` is ``None`` while open, or when the customer withdrew.
    """

    __tablename__ = "promises"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )
    handoff_id = sa.Column(sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"))
    follow_up_id = sa.Column(
        sa.Integer, sa.ForeignKey("follow_ups.id", ondelete="CASCADE")
    )
    kind = sa.Column(sa.String(8), nullable=False)
    promised_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    due_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    kept = sa.Column(sa.Boolean)
    settled_at = sa.Column(sa.DateTime(timezone=True))
    #: ``wait``: when the customer was told the wait runs well past it.
    overrun_told_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("kind in ('due', 'wait')", name="ck_promises_kind"),
        sa.UniqueConstraint("kind", "handoff_id", name="uq_promises_handoff"),
        sa.UniqueConstraint("follow_up_id", name="uq_promises_follow_up"),
        sa.Index("ix_promises_open", "settled_at", "due_at"),
    )


class PromiseNotice(Base):
    """One thing done about a follow-up, at most once per ``target``.

    Written in the same transaction as its mail, so a scheduler that dies
    leaves either both or neither.
    """

    __tablename__ = "promise_notices"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    follow_up_id = sa.Column(
        sa.Integer, sa.ForeignKey("follow_ups.id", ondelete="CASCADE"), nullable=False
    )
    kind = sa.Column(sa.String(16), nullable=False)
    #: The reminded owner's id; empty for the others.
    target = sa.Column(sa.String(64), nullable=False)
    mail_id = sa.Column(sa.Integer)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "kind in ('ask', 'reminder', 'escalation', 'reply')",
            name="ck_promise_notices_kind",
        ),
        sa.UniqueConstraint(
            "follow_up_id", "kind", "target", name="uq_promise_notices_once"
        ),
    )


class SchedulerLease(Base):
    """Which hub instance acts for all (``holder``) until ``expires_at``."""

    __tablename__ = "scheduler_leases"

    name = sa.Column(sa.String(64), primary_key=True)
    holder = sa.Column(sa.String(64), nullable=False)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)


class ConversationContact(Base):
    """Where the customer of a conversation wants to be reached, if anywhere."""

    __tablename__ = "conversation_contacts"

    conversation_id = sa.Column(
        sa.String(32),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    )
    state = sa.Column(sa.String(16), nullable=False)
    email = sa.Column(sa.String(320))
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "state in ('asked', 'given', 'declined')",
            name="ck_conversation_contacts_state",
        ),
    )

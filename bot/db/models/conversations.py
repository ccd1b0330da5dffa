"""Conversations, their messages, handoffs, follow-ups, notes and feedback."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base, utcnow

#: Conversation ownership states (DESIGN.md, "Conversation ownership").
CONVERSATION_STATES = ("bot", "queued", "agent", "follow_up", "resolved")
MESSAGE_ROLES = ("customer", "bot", "agent", "system")
#: Relay states of a customer message: waiting for the bot, being handled,
#: answered, not for the bot (a human owns the chat), failed (bot unavailable).
RELAY_STATES = ("pending", "done", "skipped", "failed")


class Conversation(Base):
    """One customer conversation, owned by the bot, the queue or an agent."""

    __tablename__ = "conversations"

    id = sa.Column(sa.String(32), primary_key=True)
    token_hash = sa.Column(sa.String(64), nullable=False)
    state = sa.Column(sa.String(16), nullable=False, default="bot")
    last_seq = sa.Column(sa.Integer, nullable=False, default=0)
    locale = sa.Column(sa.String(35))
    page_url = sa.Column(sa.String(2048))
    user_id = sa.Column(sa.String(255))
    user_name = sa.Column(sa.String(255))
    user_email = sa.Column(sa.String(320))
    user_verified = sa.Column(sa.Boolean, nullable=False, default=False)
    relay_owner = sa.Column(sa.String(32))
    relay_lease_until = sa.Column(sa.DateTime(timezone=True))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "state in ('bot', 'queued', 'agent', 'follow_up', 'resolved')",
            name="ck_conversations_state",
        ),
        sa.Index("ix_conversations_state", "state"),
        sa.Index("ix_conversations_created", "created_at"),
        sa.Index("ix_conversations_user", "user_id"),
        sa.Index("ix_conversations_user_email", sa.func.lower(user_email)),
    )


class Message(Base):
    """One message of a conversation, persisted before it is acknowledged."""

    __tablename__ = "messages"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )
    seq = sa.Column(sa.Integer, nullable=False)
    role = sa.Column(sa.String(16), nullable=False)
    text = sa.Column(sa.Text, nullable=False, default="")
    buttons = sa.Column(sa.JSON, nullable=False, default=list)
    meta = sa.Column(sa.JSON, nullable=False, default=dict)
    client_id = sa.Column(sa.String(64))
    payload = sa.Column(sa.String(512))
    relay_state = sa.Column(sa.String(16))
    author_id = sa.Column(sa.Integer)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    #: Why a customer message is in the trainer's inbox: bits of
    #: bot.conversations.inbox_flags.BITS; NULL when it is not.
    inbox_flags = sa.Column(sa.Integer)
    #: The reason of the handoff the message came just before.
    inbox_handoff_reason = sa.Column(sa.String(64))
    #: The message's sentence vector (little-endian float32), stored once
    #: computed, for grouping the inbox.
    inbox_vector = sa.Column(sa.LargeBinary)

    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_seq"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_messages_client"),
        sa.CheckConstraint(
            "role in ('customer', 'bot', 'agent', 'system')", name="ck_messages_role"
        ),
        sa.Index("ix_messages_relay", "relay_state", "conversation_id"),
        sa.Index("ix_messages_inbox", "inbox_flags", "created_at"),
        # The inbox's newest flagged messages, read in order (migration 0017).
        sa.Index(
            "ix_messages_inbox_newest",
            "created_at",
            "id",
            sqlite_where=sa.text("inbox_flags IS NOT NULL"),
            postgresql_where=sa.text("inbox_flags IS NOT NULL"),
        ),
    )


class Handoff(Base):
    """A request for a person: who asked, why, and who owns it now."""

    __tablename__ = "handoffs"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )
    reason = sa.Column(sa.String(64), nullable=False)
    state = sa.Column(sa.String(16), nullable=False, default="queued")
    priority = sa.Column(sa.Integer, nullable=False, default=0)
    summary = sa.Column(sa.Text)
    agent_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id"))
    outcome = sa.Column(sa.String(64))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    claimed_at = sa.Column(sa.DateTime(timezone=True))
    closed_at = sa.Column(sa.DateTime(timezone=True))
    #: The state the trainer's inbox flags were last worked out in (NULL:
    #: not yet; bot.conversations.inbox_flags.apply_pending_events).
    inbox_state = sa.Column(sa.String(16))

    __table_args__ = (
        sa.Index("ix_handoffs_state", "state", "priority"),
        sa.Index("ix_handoffs_conversation", "conversation_id", "created_at"),
        sa.Index("ix_handoffs_agent", "agent_id", "state"),
    )


class FollowUp(Base):
    """A promise to the customer with an owner and a due time."""

    __tablename__ = "follow_ups"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )
    owner_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id"))
    due_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    channel = sa.Column(sa.String(16), nullable=False, default="email")
    note = sa.Column(sa.Text)
    done_at = sa.Column(sa.DateTime(timezone=True))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (sa.Index("ix_follow_ups_due", "done_at", "due_at"),)


class Note(Base):
    """An internal note on a conversation, never shown to the customer."""

    __tablename__ = "notes"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )
    agent_id = sa.Column(sa.Integer, sa.ForeignKey("agents.id"), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class Feedback(Base):
    """A rating of a conversation or a "did this help?" answer on an article."""

    __tablename__ = "feedback"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    )
    kind = sa.Column(sa.String(16), nullable=False)
    score = sa.Column(sa.Integer)
    article_slug = sa.Column(sa.String(80))
    helped = sa.Column(sa.Boolean)
    comment = sa.Column(sa.Text)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    #: Whether the trainer's inbox flags took this answer in (NULL: not yet).
    inbox_applied = sa.Column(sa.Boolean)

    __table_args__ = (
        sa.CheckConstraint("kind in ('rating', 'article')", name="ck_feedback_kind"),
        sa.Index("ix_feedback_conversation", "conversation_id", "created_at"),
    )

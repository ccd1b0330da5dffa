"""The tables of the hub database.

The database is the truth: conversation state, every message with its
per-conversation sequence number, handoffs, follow-ups, agents, notes, feedback
and the audit log. Later features add their tables in new Alembic revisions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base: Any = declarative_base()

#: Conversation ownership states (DESIGN.md, "Conversation ownership").
CONVERSATION_STATES = ("bot", "queued", "agent", "follow_up", "resolved")
MESSAGE_ROLES = ("customer", "bot", "agent", "system")
#: Relay states of a customer message: waiting for the bot, being handled,
#: answered, not for the bot (a human owns the chat), failed (bot unavailable).
RELAY_STATES = ("pending", "done", "skipped", "failed")


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


@overload
def aware(value: dt.datetime) -> dt.datetime: ...


@overload
def aware(value: None) -> None: ...


@overload
def aware(value: dt.datetime | None) -> dt.datetime | None: ...


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """Return ``value`` as a timezone-aware UTC datetime (``None`` stays ``None``).

    Args:
        value: A datetime read from the database.

    Returns:
        ``value`` with UTC attached when it came back naive.
    """
    if value is None:
        return None
    # SQLite hands back naive datetimes; everything Baton stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


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

    __table_args__ = (
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_seq"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_messages_client"),
        sa.CheckConstraint(
            "role in ('customer', 'bot', 'agent', 'system')", name="ck_messages_role"
        ),
        sa.Index("ix_messages_relay", "relay_state", "conversation_id"),
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


class Agent(Base):
    """A person who signs in to the console: agent, trainer or admin."""

    __tablename__ = "agents"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    email = sa.Column(sa.String(320), nullable=False, unique=True)
    name = sa.Column(sa.String(255), nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    role = sa.Column(sa.String(16), nullable=False, default="agent")
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    presence = sa.Column(sa.String(16), nullable=False, default="offline")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    #: Consecutive failed logins; reset by a successful one or a lockout.
    failed_logins = sa.Column(
        sa.Integer, nullable=False, default=0, server_default=sa.text("0")
    )
    locked_until = sa.Column(sa.DateTime(timezone=True))
    last_login_at = sa.Column(sa.DateTime(timezone=True))


class PasswordReset(Base):
    """A one-time link an admin sent so that an account can set a new password.

    Only the SHA-256 of the link's token is kept; a link works once, until it
    expires.
    """

    __tablename__ = "password_resets"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    agent_id = sa.Column(
        sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False
    )
    token_hash = sa.Column(sa.String(64), nullable=False, unique=True)
    created_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    used_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_password_resets_agent", "agent_id"),)


class ConsoleLease(Base):
    """An agent's console open on one hub instance, valid until it expires.

    Each hub renews the leases of the consoles it serves; a console that went
    away without a clean close (tab killed, network lost, hub killed) stops
    counting once its lease runs out (``bot.handoff.presence``).
    """

    __tablename__ = "console_leases"

    agent_id = sa.Column(
        sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    instance_id = sa.Column(sa.String(32), primary_key=True)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)

    __table_args__ = (sa.Index("ix_console_leases_expires", "expires_at"),)


class AgentSession(Base):
    """A signed-in console session; the cookie holds the token, not its hash."""

    __tablename__ = "agent_sessions"

    #: SHA-256 (hex) of the random session token.
    id = sa.Column(sa.String(64), primary_key=True)
    agent_id = sa.Column(
        sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"), nullable=False
    )
    csrf_token = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    ip = sa.Column(sa.String(64))
    user_agent = sa.Column(sa.String(512))

    __table_args__ = (sa.Index("ix_agent_sessions_agent", "agent_id", "expires_at"),)


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

    __table_args__ = (
        sa.CheckConstraint("kind in ('rating', 'article')", name="ck_feedback_kind"),
        sa.Index("ix_feedback_conversation", "conversation_id", "created_at"),
    )


class KnowledgeArticle(Base):
    """The current version of a knowledge-base article (bot/knowledge)."""

    __tablename__ = "kb_articles"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    slug = sa.Column(sa.String(80), nullable=False)
    title = sa.Column(sa.String(200), nullable=False)
    summary = sa.Column(sa.Text, nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    steps = sa.Column(sa.JSON, nullable=False, default=list)
    tags = sa.Column(sa.JSON, nullable=False, default=list)
    intents = sa.Column(sa.JSON, nullable=False, default=list)
    examples = sa.Column(sa.JSON, nullable=False, default=list)
    status = sa.Column(sa.String(16), nullable=False, default="published")
    version = sa.Column(sa.Integer, nullable=False, default=1)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by = sa.Column(sa.String(320))

    __table_args__ = (
        sa.UniqueConstraint("slug", name="uq_kb_articles_slug"),
        sa.CheckConstraint(
            "status in ('published', 'draft')", name="ck_kb_articles_status"
        ),
    )


class KnowledgeArticleVersion(Base):
    """Every saved version of an article, as the article's fields in JSON."""

    __tablename__ = "kb_article_versions"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    article_id = sa.Column(
        sa.Integer, sa.ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False
    )
    version = sa.Column(sa.Integer, nullable=False)
    content = sa.Column(sa.JSON, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    author = sa.Column(sa.String(320))

    __table_args__ = (
        sa.UniqueConstraint(
            "article_id", "version", name="uq_kb_article_versions_version"
        ),
    )


class KnowledgeState(Base):
    """One row: a counter bumped by every KB change, and whether it was seeded.

    Search indexes in other processes compare the counter to rebuild after an
    edit without a restart.
    """

    __tablename__ = "kb_state"

    id = sa.Column(sa.Integer, primary_key=True)
    revision = sa.Column(sa.Integer, nullable=False, default=0)
    seeded = sa.Column(sa.Boolean, nullable=False, default=False)


class AuditEntry(Base):
    """Who did what, when: account actions, claims, deploys, logins."""

    __tablename__ = "audit_log"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    actor = sa.Column(sa.String(320), nullable=False)
    action = sa.Column(sa.String(64), nullable=False)
    subject = sa.Column(sa.String(255))
    detail = sa.Column(sa.JSON, nullable=False, default=dict)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.Index("ix_audit_log_actor", "actor", "id"),
        sa.Index("ix_audit_log_action", "action", "id"),
    )


class CannedReply(Base):
    """A reply the team shares: agents insert it by typing ``/`` and its shortcut."""

    __tablename__ = "canned_replies"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    shortcut = sa.Column(sa.String(40), nullable=False, unique=True)
    title = sa.Column(sa.String(120), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_by = sa.Column(sa.String(320), nullable=False)


class MailOutbox(Base):
    """An e-mail to a customer (a recap): sent by SMTP, or kept in demo mode."""

    __tablename__ = "mail_outbox"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32), sa.ForeignKey("conversations.id", ondelete="CASCADE")
    )
    kind = sa.Column(sa.String(16), nullable=False)
    recipient = sa.Column(sa.String(320), nullable=False)
    subject = sa.Column(sa.String(255), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    #: ``kept`` (no SMTP server configured: demo mode), ``sent`` or ``failed``.
    status = sa.Column(sa.String(16), nullable=False)
    error = sa.Column(sa.String(255))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = sa.Column(sa.DateTime(timezone=True))
    #: The HTML part, when the mail has one (the body is its plain-text part).
    html = sa.Column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint(
            "status in ('kept', 'sent', 'failed')", name="ck_mail_outbox_status"
        ),
        sa.Index("ix_mail_outbox_conversation", "conversation_id", "created_at"),
        sa.Index("ix_mail_outbox_status", "status", "id"),
    )


#: What a trainer can say about a customer message (bot/training). ``intent``
#: (the right intent, a training example) is the next kind to come.
ANNOTATION_KINDS = ("article", "out_of_scope", "dismiss")


class TrainingAnnotation(Base):
    """A trainer's decision about a customer message the bot struggled with.

    One row per message and decision; an undo keeps the row and stamps it
    (``undone_at``), so the history of who decided what stays readable. The
    label columns sit side by side (``article_slug`` and ``intent``); an
    ``intent`` annotation also adds its text as a training example.
    """

    __tablename__ = "training_annotations"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    message_id = sa.Column(
        sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False
    )
    kind = sa.Column(sa.String(16), nullable=False)
    article_slug = sa.Column(sa.String(80))
    intent = sa.Column(sa.String(64))
    #: The message as the trainer saw it (masked), kept with the decision.
    text = sa.Column(sa.Text, nullable=False)
    created_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    undone_by = sa.Column(sa.String(320))
    undone_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint(
            "kind in ('article', 'out_of_scope', 'dismiss', 'intent')",
            name="ck_training_annotations_kind",
        ),
        sa.Index("ix_training_annotations_message", "message_id", "undone_at"),
    )


class LabelledQuestion(Base):
    """A customer question labelled with the article that answers it, or none.

    The knowledge-base search learns from these (besides the shipped
    ``bot/knowledge/labelled.yml``) at its next rebuild; adding or removing
    one bumps ``kb_state.revision`` in the same transaction.
    """

    __tablename__ = "kb_labelled_questions"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    text = sa.Column(sa.Text, nullable=False)
    #: The article's slug; NULL: no article answers it ("none").
    article_slug = sa.Column(sa.String(80))
    annotation_id = sa.Column(
        sa.Integer, sa.ForeignKey("training_annotations.id", ondelete="CASCADE")
    )
    created_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (sa.Index("ix_kb_labelled_questions_annotation", "annotation_id"),)


class NluIntent(Base):
    """An intent trainers created, or a baseline intent they deleted or renamed.

    The committed ``data/nlu`` files are the baseline; intents they name need
    no row. A rename is a ``deleted`` row naming the new intent
    (``renamed_to``) beside the new intent's ``created`` row.
    """

    __tablename__ = "nlu_intents"

    name = sa.Column(sa.String(64), primary_key=True)
    state = sa.Column(sa.String(16), nullable=False)
    renamed_to = sa.Column(sa.String(64))
    changed_by = sa.Column(sa.String(320), nullable=False)
    changed_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "state in ('created', 'deleted')", name="ck_nlu_intents_state"
        ),
    )


class NluExample(Base):
    """A training example trainers added to an intent, or removed from the baseline.

    An intent's examples are the baseline's plus the ``added`` rows, less the
    ``removed`` ones; an example added from an inbox annotation names it
    (and goes when the annotation is undone).
    """

    __tablename__ = "nlu_examples"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    intent = sa.Column(sa.String(64), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    change = sa.Column(sa.String(16), nullable=False)
    annotation_id = sa.Column(
        sa.Integer, sa.ForeignKey("training_annotations.id", ondelete="CASCADE")
    )
    created_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "change in ('added', 'removed')", name="ck_nlu_examples_change"
        ),
        sa.Index("ix_nlu_examples_intent", "intent"),
        sa.Index("ix_nlu_examples_annotation", "annotation_id"),
    )


class TrainingJob(Base):
    """One training run: validate the data, train, record the model.

    ``active`` is true while the job is queued or running and NULL after: its
    unique index lets one job be active at a time across every hub.
    """

    __tablename__ = "training_jobs"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    state = sa.Column(sa.String(16), nullable=False)
    active = sa.Column(sa.Boolean)
    stage = sa.Column(sa.String(32), nullable=False)
    epoch = sa.Column(sa.Integer)
    epochs = sa.Column(sa.Integer)
    nlu_only = sa.Column(sa.Boolean, nullable=False)
    fingerprint = sa.Column(sa.String(64))
    model_version = sa.Column(sa.String(64))
    log_tail = sa.Column(sa.Text, nullable=False, default="")
    error = sa.Column(sa.Text)
    requested_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    started_at = sa.Column(sa.DateTime(timezone=True))
    heartbeat_at = sa.Column(sa.DateTime(timezone=True))
    finished_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint(
            "state in ('queued', 'running', 'succeeded', 'failed')",
            name="ck_training_jobs_state",
        ),
        sa.Index("uq_training_jobs_active", "active", unique=True),
    )


class NluModel(Base):
    """A trained Rasa model: where it is, what it was trained on, how it did."""

    __tablename__ = "nlu_models"

    version = sa.Column(sa.String(64), primary_key=True)
    job_id = sa.Column(
        sa.Integer, sa.ForeignKey("training_jobs.id", ondelete="SET NULL")
    )
    path = sa.Column(sa.Text, nullable=False)
    sha256 = sa.Column(sa.String(64), nullable=False)
    size = sa.Column(sa.BigInteger, nullable=False)
    #: SHA-256 of the training data and configuration the model learnt from.
    fingerprint = sa.Column(sa.String(64), nullable=False)
    config = sa.Column(sa.Text, nullable=False)
    metrics = sa.Column(sa.JSON, nullable=False, default=dict)
    trained_by = sa.Column(sa.String(320), nullable=False)
    trained_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class ModelDeployment(Base):
    """A deploy or rollback; the newest row names the live model.

    ``version`` NULL: the model shipped with the project (``models/``).
    """

    __tablename__ = "model_deployments"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    version = sa.Column(sa.String(64), sa.ForeignKey("nlu_models.version"))
    action = sa.Column(sa.String(16), nullable=False)
    override_reason = sa.Column(sa.Text)
    deployed_by = sa.Column(sa.String(320), nullable=False)
    deployed_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "action in ('deploy', 'rollback')", name="ck_model_deployments_action"
        ),
    )


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

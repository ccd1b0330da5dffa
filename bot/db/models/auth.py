"""Console accounts: agents, sessions, password resets, open consoles, audit log."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base, utcnow


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
        sa.Index("ix_audit_log_subject", "subject", "id"),
    )

"""Self-service password reset (``bot.accounts``, migration 0013).

``bot.accounts`` is their one writer: the built-in provider writes
``customer_accounts`` and ``account_reset_links``, the reset desk writes
``account_codes``.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base


class CustomerAccount(Base):
    """A customer of the built-in account provider.

    The flags send a reset to a person; bumping ``session_version`` signs
    every device out (a device's session carries the version it was issued
    under).
    """

    __tablename__ = "customer_accounts"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    email = sa.Column(sa.String(320), nullable=False)
    name = sa.Column(sa.String(255), nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    locked = sa.Column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    compromised = sa.Column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    two_factor_lost = sa.Column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    session_version = sa.Column(
        sa.Integer, nullable=False, default=0, server_default="0"
    )
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    password_changed_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (sa.UniqueConstraint("email", name="uq_customer_accounts_email"),)


class AccountCode(Base):
    """A one-time code mailed in the chat, kept only as a salted HMAC."""

    __tablename__ = "account_codes"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(32), nullable=False)
    #: HMAC of the normalised e-mail: counts requests per address without
    #: keeping the address.
    email_key = sa.Column(sa.String(64), nullable=False)
    #: The provider's id of the account; ``None`` when no account has the
    #: e-mail (a code is "sent" all the same, and no code can match).
    account_ref = sa.Column(sa.String(255))
    masked_email = sa.Column(sa.String(320), nullable=False)
    salt = sa.Column(sa.String(32), nullable=False)
    code_hash = sa.Column(sa.String(64), nullable=False)
    client_address = sa.Column(sa.String(64))
    attempts = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    verified_at = sa.Column(sa.DateTime(timezone=True))
    used_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_account_codes_conversation", "conversation_id", "created_at"),
        sa.Index("ix_account_codes_email", "email_key", "created_at"),
        sa.Index("ix_account_codes_address", "client_address", "created_at"),
    )


class AccountResetLink(Base):
    """A single-use reset link (the SHA-256 of its token)."""

    __tablename__ = "account_reset_links"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    account_id = sa.Column(
        sa.Integer,
        sa.ForeignKey("customer_accounts.id", ondelete="CASCADE"),
        nullable=False,
    )
    token_hash = sa.Column(sa.String(64), nullable=False)
    conversation_id = sa.Column(sa.String(32))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    expires_at = sa.Column(sa.DateTime(timezone=True), nullable=False)
    used_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("token_hash", name="uq_account_reset_links_token"),
    )

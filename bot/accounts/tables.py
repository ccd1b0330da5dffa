"""The tables of self-service password reset (migration 0013).

Declared here, with their own metadata, because :mod:`bot.accounts` is their
one owner: the built-in provider writes ``customer_accounts`` and
``account_reset_links``, the reset desk writes ``account_codes``.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

customer_accounts = sa.Table(
    "customer_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("locked", sa.Boolean, nullable=False, default=False),
    sa.Column("compromised", sa.Boolean, nullable=False, default=False),
    sa.Column("two_factor_lost", sa.Boolean, nullable=False, default=False),
    #: Bumped to sign every device out: a device's session carries the
    #: version it was issued under.
    sa.Column("session_version", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True)),
)

account_codes = sa.Table(
    "account_codes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(32), nullable=False),
    #: HMAC of the normalised e-mail: counts requests per address without
    #: keeping the address.
    sa.Column("email_key", sa.String(64), nullable=False),
    #: The provider's id of the account; ``None`` when no account has the
    #: e-mail (a code is "sent" all the same, and no code can match).
    sa.Column("account_ref", sa.String(255)),
    sa.Column("masked_email", sa.String(320), nullable=False),
    sa.Column("salt", sa.String(32), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("client_address", sa.String(64)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("verified_at", sa.DateTime(timezone=True)),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

account_reset_links = sa.Table(
    "account_reset_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("conversation_id", sa.String(32)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

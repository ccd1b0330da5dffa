"""Self-service password reset (issue #16): customer accounts, codes, links.

``customer_accounts``: the built-in account provider's customers (the
company's own system is reached by the webhook provider instead), with flags
that send a reset to a person (compromised, lost two-factor device) and a
session version that signs every other device out when bumped.
``account_codes``: one-time codes mailed in the chat, kept only as a salted
HMAC, with their attempts; counted for the rate limits per conversation, per
e-mail (an HMAC of it, never the address) and per client address.
``account_reset_links``: single-use reset links (SHA-256 of the token).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 14:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "compromised", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
        sa.Column(
            "two_factor_lost", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", name="uq_customer_accounts_email"),
    )
    op.create_table(
        "account_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("email_key", sa.String(length=64), nullable=False),
        sa.Column("account_ref", sa.String(length=255), nullable=True),
        sa.Column("masked_email", sa.String(length=320), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_codes_conversation", ["conversation_id", "created_at"]
        )
        batch_op.create_index("ix_account_codes_email", ["email_key", "created_at"])
        batch_op.create_index(
            "ix_account_codes_address", ["client_address", "created_at"]
        )
    op.create_table(
        "account_reset_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["customer_accounts.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash", name="uq_account_reset_links_token"),
    )


def downgrade() -> None:
    op.drop_table("account_reset_links")
    with op.batch_alter_table("account_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_account_codes_address")
        batch_op.drop_index("ix_account_codes_email")
        batch_op.drop_index("ix_account_codes_conversation")
    op.drop_table("account_codes")
    op.drop_table("customer_accounts")

"""Console history, canned replies and account administration.

Canned replies the team shares; one-time password-reset links (only their
hash); each account's last sign-in; indexes for searching past conversations
(by customer, date, outcome, agent) and paging the audit log. On PostgreSQL
with the ``pg_trgm`` extension available, trigram indexes make a search for
text anywhere in messages or customer names an index scan instead of reading
every message.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 11:20:00.000000
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)

_TRIGRAM_INDEXES = (
    ("ix_messages_text_trgm", "messages", "lower(text)"),
    ("ix_conversations_user_name_trgm", "conversations", "lower(user_name)"),
    ("ix_conversations_user_email_trgm", "conversations", "lower(user_email)"),
)


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shortcut", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shortcut"),
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("password_resets") as batch_op:
        batch_op.create_index("ix_password_resets_agent", ["agent_id"], unique=False)
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(
            sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.create_index("ix_conversations_created", ["created_at"], unique=False)
        batch_op.create_index("ix_conversations_user", ["user_id"], unique=False)
        batch_op.create_index(
            "ix_conversations_user_email", [sa.text("lower(user_email)")], unique=False
        )
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.create_index(
            "ix_handoffs_conversation", ["conversation_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_handoffs_agent", ["agent_id", "state"], unique=False)
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.create_index("ix_audit_log_actor", ["actor", "id"], unique=False)
        batch_op.create_index("ix_audit_log_action", ["action", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _create_trigram_indexes()


def _create_trigram_indexes() -> None:
    """Trigram indexes when ``pg_trgm`` can be used; search works without them."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError as error:
        logger.warning(
            "pg_trgm is not available (%s): searching message text reads every "
            "message; an administrator can run CREATE EXTENSION pg_trgm and "
            "migrate again",
            type(error).__name__,
        )
        return
    for name, table, expression in _TRIGRAM_INDEXES:
        bind.execute(
            sa.text(
                f"CREATE INDEX {name} ON {table} USING gin ({expression} gin_trgm_ops)"
            )
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _table, _expression in _TRIGRAM_INDEXES:
            op.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_index("ix_audit_log_action")
        batch_op.drop_index("ix_audit_log_actor")
    with op.batch_alter_table("handoffs") as batch_op:
        batch_op.drop_index("ix_handoffs_agent")
        batch_op.drop_index("ix_handoffs_conversation")
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.drop_index("ix_conversations_user_email")
        batch_op.drop_index("ix_conversations_user")
        batch_op.drop_index("ix_conversations_created")
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_column("last_login_at")
    with op.batch_alter_table("password_resets") as batch_op:
        batch_op.drop_index("ix_password_resets_agent")
    op.drop_table("password_resets")
    op.drop_table("canned_replies")

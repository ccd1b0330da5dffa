"""Promises kept: each promise to a customer, what was done about it, a lease.

``promises``: each due time (a follow-up) and each wait estimate given to a
customer, with whether it was kept. ``promise_notices``: what the scheduler
did about a follow-up (asked the customer for an address, reminded an owner,
escalated, mailed the reply), each at most once, written in the same
transaction as its mail. ``scheduler_leases``: which hub acts for all of them,
until when. ``conversation_contacts``: where a customer who left can be
reached. ``mail_outbox.html``: the HTML part of a mail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 11:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("promised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind in ('due', 'wait')", name="ck_promises_kind"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoffs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["follow_up_id"], ["follow_ups.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "handoff_id", name="uq_promises_handoff"),
        sa.UniqueConstraint("follow_up_id", name="uq_promises_follow_up"),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index("ix_promises_open", ["settled_at", "due_at"])
    op.create_table(
        "promise_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind in ('ask', 'reminder', 'escalation', 'reply')",
            name="ck_promise_notices_kind",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"], ["follow_ups.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "follow_up_id", "kind", "target", name="uq_promise_notices_once"
        ),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "conversation_contacts",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state in ('asked', 'given', 'declined')",
            name="ck_conversation_contacts_state",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), nullable=True))
        batch_op.create_index("ix_mail_outbox_status", ["status", "id"])


def downgrade() -> None:
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_outbox_status")
        batch_op.drop_column("html")
    op.drop_table("conversation_contacts")
    op.drop_table("scheduler_leases")
    op.drop_table("promise_notices")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index("ix_promises_open")
    op.drop_table("promises")

"""The trainer's inbox reads flags stored with each message (issue #14).

``messages`` gets ``inbox_flags`` (why a customer message is in the inbox:
bits of :data:`bot.conversations.inbox_flags.BITS`, NULL when it is not),
``inbox_handoff_reason`` and ``inbox_vector`` (its sentence vector, stored
once computed), indexed on ``(inbox_flags, created_at)``; ``handoffs`` gets
``inbox_state`` and ``feedback`` ``inbox_applied`` (what of them the flags
took in). Existing rows are backfilled with the inbox's rules: the NLU bits
of every customer message, the event bits of every conversation with a
handoff or unhappy feedback; vectors are computed by the first inbox read.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 02:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: Rows read per backfill step.
BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbox_flags", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("inbox_handoff_reason", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("inbox_vector", sa.LargeBinary(), nullable=True))
        batch_op.create_index(
            "ix_messages_inbox", ["inbox_flags", "created_at"], unique=False
        )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("inbox_state", sa.String(length=16), nullable=True)
        )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbox_applied", sa.Boolean(), nullable=True))
    backfill(op.get_bind())


def backfill(connection: sa.engine.Connection) -> None:
    """Flag the messages already stored, as the relay and events would have."""
    # The application's rules, as of this revision.
    from bot.conversations.inbox_flags import nlu_bits
    from bot.training.flags import refresh_sync

    messages = sa.table(
        "messages",
        sa.column("id", sa.Integer),
        sa.column("role", sa.String),
        sa.column("text", sa.Text),
        sa.column("meta", sa.JSON),
        sa.column("inbox_flags", sa.Integer),
    )
    handoffs = sa.table(
        "handoffs",
        sa.column("conversation_id", sa.String),
        sa.column("state", sa.String),
        sa.column("inbox_state", sa.String),
    )
    feedback = sa.table(
        "feedback",
        sa.column("conversation_id", sa.String),
        sa.column("inbox_applied", sa.Boolean),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(messages.c.id, messages.c.text, messages.c.meta)
            .where(messages.c.role == "customer", messages.c.id > last)
            .order_by(messages.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        flagged = [
            {"target": row.id, "bits": bits}
            for row in rows
            for bits in [nlu_bits(row.text or "", _meta(row.meta))]
            if bits
        ]
        if flagged:
            connection.execute(
                messages.update()
                .where(messages.c.id == sa.bindparam("target"))
                .values(inbox_flags=sa.bindparam("bits")),
                flagged,
            )
    eventful = {
        *connection.execute(sa.select(handoffs.c.conversation_id)).scalars(),
        *connection.execute(sa.select(feedback.c.conversation_id)).scalars(),
    }
    refresh_sync(connection, eventful)
    connection.execute(handoffs.update().values(inbox_state=handoffs.c.state))
    connection.execute(feedback.update().values(inbox_applied=True))


def _meta(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("inbox_applied")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_column("inbox_state")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_inbox")
        batch_op.drop_column("inbox_vector")
        batch_op.drop_column("inbox_handoff_reason")
        batch_op.drop_column("inbox_flags")

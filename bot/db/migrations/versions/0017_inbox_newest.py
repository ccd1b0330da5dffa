"""The trainer's inbox reads its newest flagged messages through an index (issue #14).

``ix_messages_inbox_newest``: ``messages (created_at, id)`` for flagged rows
only (``inbox_flags IS NOT NULL``). The inbox asks for the newest 2,000
flagged customer messages: with this index the database reads them in order
and stops, where ``ix_messages_inbox`` (flags first) left it scanning every
message and sorting the flagged ones (SQLite, 100,000 turns: 46 -> 6 ms of
CPU for the query).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 06:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FLAGGED = "inbox_flags IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_messages_inbox_newest",
        "messages",
        ["created_at", "id"],
        unique=False,
        sqlite_where=sa.text(FLAGGED),
        postgresql_where=sa.text(FLAGGED),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_inbox_newest", table_name="messages")

"""The five canned replies the console used to have built in, now shared rows.

Before 0009 these lived in the console's script; a database that has no canned
reply yet gets them, so agents keep their usual answers (admins edit or delete
them on the Accounts tab).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:55:00.000000
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

AUTHOR = "baton"
DEFAULTS = (
    (
        "greeting",
        "Greeting",
        "Hi, thanks for waiting. I've read through your conversation with our "
        "assistant, so there's no need to repeat anything.",
    ),
    (
        "looking",
        "Looking into it",
        "Thanks, I'm looking into this now. It may take a couple of minutes.",
    ),
    (
        "confirm-identity",
        "Confirm identity",
        "Before I change anything on your account, could you confirm the email "
        "address you signed up with?",
    ),
    (
        "anything-else",
        "Anything else",
        "Is there anything else I can help you with today?",
    ),
    (
        "closing",
        "Closing",
        "Glad that's sorted. I'll close this chat now; you can rate it below. "
        "Have a good day!",
    ),
)

canned_replies = sa.table(
    "canned_replies",
    sa.column("shortcut", sa.String),
    sa.column("title", sa.String),
    sa.column("body", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("updated_by", sa.String),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(canned_replies)).scalar():
        return
    now = dt.datetime.now(dt.timezone.utc)
    op.bulk_insert(
        canned_replies,
        [
            {
                "shortcut": shortcut,
                "title": title,
                "body": body,
                "created_at": now,
                "updated_at": now,
                "updated_by": AUTHOR,
            }
            for shortcut, title, body in DEFAULTS
        ],
    )


def downgrade() -> None:
    op.execute(
        canned_replies.delete()
        .where(canned_replies.c.updated_by == AUTHOR)
        .where(canned_replies.c.shortcut.in_([d[0] for d in DEFAULTS]))
    )

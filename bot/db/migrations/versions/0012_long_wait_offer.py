"""When a queued customer was told their wait runs well past the estimate.

``promises.overrun_told_at``: set once per wait estimate, by the scheduler
that posts the "this is taking longer than we said" message and offers a
follow-up, so that no hub says it twice.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overrun_told_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_column("overrun_told_at")

"""Console leases: which agent consoles are open on which hub, until when.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_leases",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id", "instance_id"),
    )
    with op.batch_alter_table("console_leases", schema=None) as batch_op:
        batch_op.create_index("ix_console_leases_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_leases", schema=None) as batch_op:
        batch_op.drop_index("ix_console_leases_expires")
    op.drop_table("console_leases")

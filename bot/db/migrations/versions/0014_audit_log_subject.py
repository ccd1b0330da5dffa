"""An index on the audit log's subject.

The handoff card shows the account steps the assistant took in a
conversation (issue #16): the audit entries whose subject is the
conversation, read on every card.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 18:25:00.000000
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_subject", "audit_log", ["subject", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject", table_name="audit_log")

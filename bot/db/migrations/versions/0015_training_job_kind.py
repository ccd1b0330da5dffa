"""What a training job does: train a model, or evaluate one again.

A trainer re-evaluates a trained model (against the model live now, on the
held-out set as the data stands now) from the console as a job, one at a
time with training, its progress followed like a training's (issue #14).
Existing jobs trained.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 21:58:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind", sa.String(length=16), nullable=False, server_default="train"
            )
        )
        batch_op.create_check_constraint(
            "ck_training_jobs_kind", "kind in ('train', 'evaluate')"
        )


def downgrade() -> None:
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.drop_constraint("ck_training_jobs_kind", type_="check")
        batch_op.drop_column("kind")

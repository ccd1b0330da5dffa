"""A job's progress in steps: components of Rasa's training graph, evaluation steps.

``step`` of ``steps`` (steps finished) and ``step_name`` (the step under
way): while a model trains, the components of Rasa's training graph
trained or restored from its cache, of all it has, and the component
training now; while a model is evaluated, the evaluation's steps.
``epoch`` / ``epochs`` keep only an epoch bar (DIET's, TED's) of the
component training now. The linear intent classifier has no epoch bar, so
a job showed "Training" and nothing more for its whole training (issue #14).
Existing jobs have none.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 23:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("steps", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("step_name", sa.String(length=200), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.drop_column("step_name")
        batch_op.drop_column("steps")
        batch_op.drop_column("step")

"""Training: trainers' intents and examples, training jobs, trained models.

The committed ``data/nlu`` files stay the baseline; ``nlu_intents`` and
``nlu_examples`` hold what trainers changed on top of it, so every hub sees
it. ``training_jobs`` allows one active job across hubs (a unique index over
``active``, which is NULL once a job has finished). ``nlu_models`` records
every trained model and ``model_deployments`` every deploy and rollback.
An annotation may now label a message with an intent.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_OLD_KINDS = "kind in ('article', 'out_of_scope', 'dismiss')"
_NEW_KINDS = "kind in ('article', 'out_of_scope', 'dismiss', 'intent')"


def upgrade() -> None:
    with op.batch_alter_table("training_annotations", schema=None) as batch_op:
        batch_op.drop_constraint("ck_training_annotations_kind", type_="check")
        batch_op.create_check_constraint("ck_training_annotations_kind", _NEW_KINDS)
    op.create_table(
        "nlu_intents",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("renamed_to", sa.String(length=64), nullable=True),
        sa.Column("changed_by", sa.String(length=320), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state in ('created', 'deleted')", name="ck_nlu_intents_state"
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "nlu_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("annotation_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "change in ('added', 'removed')", name="ck_nlu_examples_change"
        ),
        sa.ForeignKeyConstraint(
            ["annotation_id"], ["training_annotations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("nlu_examples", schema=None) as batch_op:
        batch_op.create_index("ix_nlu_examples_intent", ["intent"], unique=False)
        batch_op.create_index(
            "ix_nlu_examples_annotation", ["annotation_id"], unique=False
        )
    op.create_table(
        "training_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=True),
        sa.Column("epochs", sa.Integer(), nullable=True),
        sa.Column("nlu_only", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state in ('queued', 'running', 'succeeded', 'failed')",
            name="ck_training_jobs_state",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.create_index("uq_training_jobs_active", ["active"], unique=True)
    op.create_table(
        "nlu_models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("trained_by", sa.String(length=320), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["training_jobs.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "model_deployments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("deployed_by", sa.String(length=320), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action in ('deploy', 'rollback')", name="ck_model_deployments_action"
        ),
        sa.ForeignKeyConstraint(["version"], ["nlu_models.version"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("model_deployments")
    op.drop_table("nlu_models")
    with op.batch_alter_table("training_jobs", schema=None) as batch_op:
        batch_op.drop_index("uq_training_jobs_active")
    op.drop_table("training_jobs")
    with op.batch_alter_table("nlu_examples", schema=None) as batch_op:
        batch_op.drop_index("ix_nlu_examples_annotation")
        batch_op.drop_index("ix_nlu_examples_intent")
    op.drop_table("nlu_examples")
    op.drop_table("nlu_intents")
    op.execute("DELETE FROM training_annotations WHERE kind = 'intent'")
    with op.batch_alter_table("training_annotations", schema=None) as batch_op:
        batch_op.drop_constraint("ck_training_annotations_kind", type_="check")
        batch_op.create_check_constraint("ck_training_annotations_kind", _OLD_KINDS)

"""Training: trainers' annotations of customer messages, and labelled questions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_annotations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("article_slug", sa.String(length=80), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_by", sa.String(length=320), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind in ('article', 'out_of_scope', 'dismiss')",
            name="ck_training_annotations_kind",
        ),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_annotations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_annotations_message",
            ["message_id", "undone_at"],
            unique=False,
        )
    op.create_table(
        "kb_labelled_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("article_slug", sa.String(length=80), nullable=True),
        sa.Column("annotation_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["annotation_id"], ["training_annotations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kb_labelled_questions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kb_labelled_questions_annotation", ["annotation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kb_labelled_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_labelled_questions_annotation")
    op.drop_table("kb_labelled_questions")
    with op.batch_alter_table("training_annotations", schema=None) as batch_op:
        batch_op.drop_index("ix_training_annotations_message")
    op.drop_table("training_annotations")

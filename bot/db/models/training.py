"""Trainers' annotations, labelled questions, intents, training jobs, models."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base, utcnow

#: What a trainer can say about a customer message (bot/training). ``intent``
#: (the right intent, a training example) is the next kind to come.
ANNOTATION_KINDS = ("article", "out_of_scope", "dismiss")


class TrainingAnnotation(Base):
    """A trainer's decision about a customer message the bot struggled with.

    One row per message and decision; an undo keeps the row and stamps it
    (``undone_at``), so the history of who decided what stays readable. The
    label columns sit side by side (``article_slug`` and ``intent``); an
    ``intent`` annotation also adds its text as a training example.
    """

    __tablename__ = "training_annotations"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    message_id = sa.Column(
        sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=False
    )
    kind = sa.Column(sa.String(16), nullable=False)
    article_slug = sa.Column(sa.String(80))
    intent = sa.Column(sa.String(64))
    #: The message as the trainer saw it (masked), kept with the decision.
    text = sa.Column(sa.Text, nullable=False)
    created_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    undone_by = sa.Column(sa.String(320))
    undone_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint(
            "kind in ('article', 'out_of_scope', 'dismiss', 'intent')",
            name="ck_training_annotations_kind",
        ),
        sa.Index("ix_training_annotations_message", "message_id", "undone_at"),
    )


class LabelledQuestion(Base):
    """A customer question labelled with the article that answers it, or none.

    The knowledge-base search learns from these (besides the shipped
    ``bot/knowledge/labelled.yml``) at its next rebuild; adding or removing
    one bumps ``kb_state.revision`` in the same transaction.
    """

    __tablename__ = "kb_labelled_questions"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    text = sa.Column(sa.Text, nullable=False)
    #: The article's slug; NULL: no article answers it ("none").
    article_slug = sa.Column(sa.String(80))
    annotation_id = sa.Column(
        sa.Integer, sa.ForeignKey("training_annotations.id", ondelete="CASCADE")
    )
    created_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (sa.Index("ix_kb_labelled_questions_annotation", "annotation_id"),)


class NluIntent(Base):
    """An intent trainers created, or a baseline intent they deleted or renamed.

    The committed ``data/nlu`` files are the baseline; intents they name need
    no row. A rename is a ``deleted`` row naming the new intent
    (``renamed_to``) beside the new intent's ``created`` row.
    """

    __tablename__ = "nlu_intents"

    name = sa.Column(sa.String(64), primary_key=True)
    state = sa.Column(sa.String(16), nullable=False)
    renamed_to = sa.Column(sa.String(64))
    changed_by = sa.Column(sa.String(320), nullable=False)
    changed_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "state in ('created', 'deleted')", name="ck_nlu_intents_state"
        ),
    )


class NluExample(Base):
    """A training example trainers added to an intent, or removed from the baseline.

    An intent's examples are the baseline's plus the ``added`` rows, less the
    ``removed`` ones; an example added from an inbox annotation names it
    (and goes when the annotation is undone).
    """

    __tablename__ = "nlu_examples"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    intent = sa.Column(sa.String(64), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    change = sa.Column(sa.String(16), nullable=False)
    annotation_id = sa.Column(
        sa.Integer, sa.ForeignKey("training_annotations.id", ondelete="CASCADE")
    )
    created_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "change in ('added', 'removed')", name="ck_nlu_examples_change"
        ),
        sa.Index("ix_nlu_examples_intent", "intent"),
        sa.Index("ix_nlu_examples_annotation", "annotation_id"),
    )


class TrainingJob(Base):
    """One training run: validate the data, train, record the model.

    Or, of ``kind`` ``evaluate``, a trained model (``model_version``)
    evaluated again against the live one. ``active`` is true while the job is
    queued or running and NULL after: its unique index lets one job (of
    either kind) be active at a time across every hub.
    """

    __tablename__ = "training_jobs"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    kind = sa.Column(sa.String(16), nullable=False, server_default="train")
    state = sa.Column(sa.String(16), nullable=False)
    active = sa.Column(sa.Boolean)
    stage = sa.Column(sa.String(32), nullable=False)
    #: An epoch bar (DIET's, TED's) of the component training now.
    epoch = sa.Column(sa.Integer)
    epochs = sa.Column(sa.Integer)
    #: Steps finished of all: components of Rasa's training graph while a
    #: model trains, steps of its evaluation while one is evaluated.
    step = sa.Column(sa.Integer)
    steps = sa.Column(sa.Integer)
    #: The step under way (a component's class name, an evaluation step).
    step_name = sa.Column(sa.String(200))
    nlu_only = sa.Column(sa.Boolean, nullable=False)
    fingerprint = sa.Column(sa.String(64))
    model_version = sa.Column(sa.String(64))
    log_tail = sa.Column(sa.Text, nullable=False, default="")
    error = sa.Column(sa.Text)
    requested_by = sa.Column(sa.String(320), nullable=False)
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    started_at = sa.Column(sa.DateTime(timezone=True))
    heartbeat_at = sa.Column(sa.DateTime(timezone=True))
    finished_at = sa.Column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint(
            "state in ('queued', 'running', 'succeeded', 'failed')",
            name="ck_training_jobs_state",
        ),
        sa.CheckConstraint(
            "kind in ('train', 'evaluate')", name="ck_training_jobs_kind"
        ),
        sa.Index("uq_training_jobs_active", "active", unique=True),
    )


class NluModel(Base):
    """A trained Rasa model: where it is, what it was trained on, how it did."""

    __tablename__ = "nlu_models"

    version = sa.Column(sa.String(64), primary_key=True)
    job_id = sa.Column(
        sa.Integer, sa.ForeignKey("training_jobs.id", ondelete="SET NULL")
    )
    path = sa.Column(sa.Text, nullable=False)
    sha256 = sa.Column(sa.String(64), nullable=False)
    size = sa.Column(sa.BigInteger, nullable=False)
    #: SHA-256 of the training data and configuration the model learnt from.
    fingerprint = sa.Column(sa.String(64), nullable=False)
    config = sa.Column(sa.Text, nullable=False)
    metrics = sa.Column(sa.JSON, nullable=False, default=dict)
    trained_by = sa.Column(sa.String(320), nullable=False)
    trained_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class ModelDeployment(Base):
    """A deploy or rollback; the newest row names the live model.

    ``version`` NULL: the model shipped with the project (``models/``).
    """

    __tablename__ = "model_deployments"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    version = sa.Column(sa.String(64), sa.ForeignKey("nlu_models.version"))
    action = sa.Column(sa.String(16), nullable=False)
    override_reason = sa.Column(sa.Text)
    deployed_by = sa.Column(sa.String(320), nullable=False)
    deployed_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(
            "action in ('deploy', 'rollback')", name="ck_model_deployments_action"
        ),
    )

"""The mail outbox (``bot.mail``)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.db.models.base import Base, utcnow


class MailOutbox(Base):
    """An e-mail to a customer (a recap): sent by SMTP, or kept in demo mode."""

    __tablename__ = "mail_outbox"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(
        sa.String(32), sa.ForeignKey("conversations.id", ondelete="CASCADE")
    )
    kind = sa.Column(sa.String(16), nullable=False)
    recipient = sa.Column(sa.String(320), nullable=False)
    subject = sa.Column(sa.String(255), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    #: ``kept`` (no SMTP server configured: demo mode), ``sent`` or ``failed``.
    status = sa.Column(sa.String(16), nullable=False)
    error = sa.Column(sa.String(255))
    created_at = sa.Column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at = sa.Column(sa.DateTime(timezone=True))
    #: The HTML part, when the mail has one (the body is its plain-text part).
    html = sa.Column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint(
            "status in ('kept', 'sent', 'failed')", name="ck_mail_outbox_status"
        ),
        sa.Index("ix_mail_outbox_conversation", "conversation_id", "created_at"),
        sa.Index("ix_mail_outbox_status", "status", "id"),
    )

"""The tables of the hub database.

The database is the truth: conversation state, every message with its
per-conversation sequence number, handoffs, follow-ups, agents, notes, feedback
and the audit log. Later features add their tables in new Alembic revisions.
"""

from __future__ import annotations

from bot.db.models.accounts import AccountCode, AccountResetLink, CustomerAccount
from bot.db.models.auth import (
    Agent,
    AgentSession,
    AuditEntry,
    ConsoleLease,
    PasswordReset,
)
from bot.db.models.base import Base, aware, utcnow
from bot.db.models.canned import CannedReply
from bot.db.models.conversations import (
    CONVERSATION_STATES,
    MESSAGE_ROLES,
    RELAY_STATES,
    Conversation,
    Feedback,
    FollowUp,
    Handoff,
    Message,
    Note,
)
from bot.db.models.knowledge import (
    KnowledgeArticle,
    KnowledgeArticleVersion,
    KnowledgeState,
)
from bot.db.models.limits import RateCounter
from bot.db.models.mail import MailOutbox
from bot.db.models.promises import (
    CONTACT_STATES,
    NOTICE_KINDS,
    PROMISE_KINDS,
    ConversationContact,
    Promise,
    PromiseNotice,
    SchedulerLease,
)
from bot.db.models.training import (
    ANNOTATION_KINDS,
    LabelledQuestion,
    ModelDeployment,
    NluExample,
    NluIntent,
    NluModel,
    TrainingAnnotation,
    TrainingJob,
)

__all__ = [
    "ANNOTATION_KINDS",
    "CONTACT_STATES",
    "CONVERSATION_STATES",
    "MESSAGE_ROLES",
    "NOTICE_KINDS",
    "PROMISE_KINDS",
    "RELAY_STATES",
    "AccountCode",
    "AccountResetLink",
    "Agent",
    "AgentSession",
    "AuditEntry",
    "Base",
    "CannedReply",
    "ConsoleLease",
    "Conversation",
    "ConversationContact",
    "CustomerAccount",
    "Feedback",
    "FollowUp",
    "Handoff",
    "KnowledgeArticle",
    "KnowledgeArticleVersion",
    "KnowledgeState",
    "LabelledQuestion",
    "MailOutbox",
    "Message",
    "ModelDeployment",
    "NluExample",
    "NluIntent",
    "NluModel",
    "Note",
    "PasswordReset",
    "Promise",
    "PromiseNotice",
    "RateCounter",
    "SchedulerLease",
    "TrainingAnnotation",
    "TrainingJob",
    "aware",
    "utcnow",
]

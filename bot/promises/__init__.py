"""Promises kept: follow-ups reach customers who left, owners are reminded.

Every due time and wait estimate given to a customer is a promise, stored
with whether it was kept. A scheduler runs in every hub and acts once (a
lease in SQL, or Redis when configured): it asks the customer of a new
follow-up where to reach them, reminds the owner before it is due, escalates
it when overdue, and mails the customer the agent's answer with a signed link
back to the conversation. The public surface: :class:`PromiseScheduler`,
:class:`PromiseDesk`, :class:`PromiseRepository`, :func:`create_lease` and
the resume links.
"""

from bot.promises.lease import Lease, RedisLease, SqlLease, create_lease
from bot.promises.links import (
    LinkRefused,
    ResumeLink,
    sign_resume_link,
    verify_resume_link,
)
from bot.promises.repository import Contact, PromiseRecord, PromiseRepository
from bot.promises.scheduler import (
    MAIL_KINDS,
    OVERDUE_EVENT,
    REMINDER_EVENT,
    PromiseScheduler,
    Round,
    SchedulerPolicy,
)
from bot.promises.service import QUEUE_LEFT_EVENT, PromiseDesk

__all__ = [
    "MAIL_KINDS",
    "OVERDUE_EVENT",
    "QUEUE_LEFT_EVENT",
    "REMINDER_EVENT",
    "Contact",
    "Lease",
    "LinkRefused",
    "PromiseDesk",
    "PromiseRecord",
    "PromiseRepository",
    "PromiseScheduler",
    "RedisLease",
    "ResumeLink",
    "Round",
    "SchedulerPolicy",
    "SqlLease",
    "create_lease",
    "sign_resume_link",
    "verify_resume_link",
]

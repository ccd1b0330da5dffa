"""The scheduler that runs in every hub and acts once.

Every ``interval_s`` each hub tries the lease (:mod:`bot.promises.lease`);
the one holding it does a round:

1. records the due time of new follow-ups as promises, and the wait
   estimate a newly queued customer is shown (the status frame the customer
   gets, read within a round of joining the queue);
2. tells each queued customer whose wait runs well past the estimate, once,
   and offers a follow-up instead (when someone may be in danger: the
   emergency number instead);
3. marks the customer of each new follow-up as asked where to reach them
   (the widget asks, seeing ``GET /api/conversations/{id}/contact``; a
   verified customer's address is offered to confirm);
4. reminds each owner of a follow-up due within the lead time (console and
   e-mail), once per owner, so a follow-up given to a new owner before it is
   due reminds them;
5. escalates each overdue, unanswered follow-up (console and e-mail to the
   escalation recipients), once;
6. alerts the escalation recipients by e-mail, once per handoff, to each chat
   where someone may be in danger that waits while nobody can take it
   (outside support hours, or nobody online): nobody sees the console then;
7. mails the customer of each answered follow-up the reply with a link back
   to the conversation, once;
8. sends the mails of 4-7 (SMTP; kept in demo mode);
9. settles the promises whose outcome is known.

A notice and its mails are one transaction, so a hub that dies mid-round
leaves each either done (its mails ``kept``, sent by the next holder in step
7) or not begun (done by the next holder). Only a crash between the SMTP
server's acceptance and marking the mail ``sent`` can send it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.bus import AGENTS_CHANNEL, EventBus
from bot.config import Settings
from bot.contract import HandoffReason
from bot.conversations.service import ConversationService
from bot.db.models import utcnow
from bot.handoff.service import EMERGENCY_TEXT, HandoffService, danger_meta
from bot.mail import Mailer
from bot.mail.templates import Letter, render
from bot.periodic import Periodic
from bot.promises.lease import Lease
from bot.promises.links import sign_resume_link
from bot.promises.repository import FollowUpWork, Mail, PromiseRepository

logger = logging.getLogger(__name__)

#: The outbox kind of the alert that someone may be in danger (step 6).
DANGER_MAIL = "danger"
#: Outbox kinds of the scheduler's mails (what step 8 sends).
MAIL_KINDS = ("reminder", "escalation", DANGER_MAIL, "reply")
#: Mails sent at once (each its own SMTP connection), between lease checks.
SEND_BATCH = 10
#: Frames on the agents' channel (the console socket passes them on).
REMINDER_EVENT = "follow_up_reminder"
OVERDUE_EVENT = "follow_up_overdue"
#: A queued customer is told the wait runs long once it is past the estimate
#: by the estimate again (twice the wait said) and by at least this much.
LONG_WAIT_GRACE = dt.timedelta(minutes=5)
LONG_WAIT_TEXT = (
    "Sorry — this is taking much longer than the {minutes} minute{s} we "
    "estimated. You can keep waiting, or leave your question with us and "
    "someone will get back to you."
)
#: ... when someone may be in danger: no offer to answer later, the
#: emergency number again.
DANGER_LONG_WAIT_TEXT = (
    "Sorry — this is taking longer than we estimated. You're still at the top "
    "of our queue, and someone from our team will join as soon as they can. "
    f"{EMERGENCY_TEXT}"
)
#: ``meta[OFFER_KEY] == FOLLOW_UP_OFFER``: the widget offers a follow-up.
OFFER_KEY = "offer"
FOLLOW_UP_OFFER = "follow_up"


@dataclass(frozen=True)
class SchedulerPolicy:
    """What the scheduler needs of the settings."""

    reminder_lead: dt.timedelta
    escalation_emails: tuple[str, ...]
    resume_link_lifetime: dt.timedelta
    link_secret: bytes
    #: Where customers and agents reach the hub (links in mails).
    base_url: str
    interval_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SchedulerPolicy:
        """The policy of a deployment (``BATON_REMINDER_LEAD_MINUTES``, ...)."""
        promises = settings.promises
        urls = [url.strip() for url in settings.public_url.split(",") if url.strip()]
        return cls(
            reminder_lead=dt.timedelta(minutes=promises.reminder_lead_minutes),
            escalation_emails=promises.escalation_emails,
            resume_link_lifetime=dt.timedelta(hours=promises.resume_link_hours),
            link_secret=settings.link_secret,
            base_url=(urls[0] if urls else settings.public_origins[0]).rstrip("/"),
            interval_s=promises.interval_s,
        )


@dataclass
class Round:
    """What one round did (``held``: whether this hub had the lease)."""

    held: bool
    recorded: int = 0
    offered: int = 0
    asked: int = 0
    reminded: int = 0
    escalated: int = 0
    alerted: int = 0
    replied: int = 0
    sent: int = 0
    settled: int = 0
    mails: list[int] = field(default_factory=list)


def when(moment: dt.datetime) -> str:
    """A due time as people read it in a mail."""
    return moment.astimezone(dt.timezone.utc).strftime("%H:%M UTC on %A %d %B")


def _mails(
    letter: Letter, kind: str, conversation_id: str | None, recipients: Iterable[str]
) -> list[Mail]:
    """The letter to each recipient, as mails of ``kind`` about the conversation."""
    return [
        Mail(
            recipient=recipient,
            subject=letter.subject,
            text=letter.text,
            html=letter.html,
            kind=kind,
            conversation_id=conversation_id,
        )
        for recipient in recipients
    ]


class PromiseScheduler:
    """Keeps follow-up promises: asks, reminds, escalates, mails replies."""

    def __init__(
        self,
        repository: PromiseRepository,
        lease: Lease,
        mailer: Mailer,
        conversations: ConversationService,
        bus: EventBus,
        policy: SchedulerPolicy,
        *,
        handoffs: HandoffService | None = None,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        """Wire the scheduler.

        Args:
            repository: Promises, notices and contacts.
            lease: Decides which hub acts.
            mailer: The outbox and SMTP.
            conversations: The conversations (their status, for estimates).
            bus: To tell agent consoles.
            policy: Lead time, recipients, links.
            handoffs: The queue's status frames, to record wait estimates.
            now: The clock (tests move it).
        """
        self.repository = repository
        self.lease = lease
        self.mailer = mailer
        self.conversations = conversations
        self.bus = bus
        self.policy = policy
        self.handoffs = handoffs
        self.now = now
        self._loop = Periodic(
            "promise scheduler round",
            self.tick,
            policy.interval_s,
            from_start=True,  # a round every interval, however long it took
            logger=logger,
        )
        # One round at a time in this process: two would share the lease.
        self._round = asyncio.Lock()
        # Said once per process: with nobody to mail, every round finds the
        # same chats unalerted.
        self._warned_no_alert_recipients = False

    async def tick(self) -> Round:
        """Do one round if this hub holds the lease."""
        async with self._round:
            return await self._tick()

    async def _tick(self) -> Round:
        now = self.now()
        if not await self.lease.acquire(now):
            return Round(held=False)
        done = Round(held=True)
        done.recorded = await self.repository.record_follow_up_promises()
        done.recorded += await self._record_waits(now)
        done.offered = await self._offer_follow_ups(now)
        done.asked = await self._ask()
        done.reminded = await self._remind(now, done.mails)
        done.escalated = await self._escalate(now, done.mails)
        done.alerted = await self._alert_danger(now, done.mails)
        done.replied = await self._mail_replies(now, done.mails)
        done.sent = await self._send(now)
        done.settled = await self.repository.settle(now)
        return done

    async def _record_waits(self, now: dt.datetime) -> int:
        if self.handoffs is None:
            return 0
        recorded = 0
        for (
            handoff_id,
            conversation_id,
        ) in await self.repository.queued_without_estimate():
            conversation = await self.conversations.get(conversation_id)
            if conversation is None:
                continue
            frame = await self.handoffs.status(conversation)
            eta_s = frame.get("eta_s")
            if frame.get("state") != "queued" or not isinstance(eta_s, int):
                continue  # no honest estimate given yet (nobody online)
            recorded += await self.repository.record_wait(
                conversation_id, handoff_id, now, now + dt.timedelta(seconds=eta_s)
            )
        return recorded

    async def _offer_follow_ups(self, now: dt.datetime) -> int:
        """Tell each customer whose wait runs well past the estimate, once.

        The message offers a follow-up (``meta.offer``); the widget asks
        whether to keep waiting or be answered later. Not when someone may be
        in danger: being answered later is no choice to offer then, the
        emergency number is (:data:`DANGER_LONG_WAIT_TEXT`). Marked before it
        is posted: a hub dying in between loses the message rather than
        saying it twice.
        """
        offered = 0
        for wait in await self.repository.waits_past_due(now):
            if not wait.overrun(now, LONG_WAIT_GRACE):
                continue
            if not await self.repository.tell_overrun(wait.id, now):
                continue
            offered += 1
            if wait.reason == HandoffReason.DANGER:
                await self.conversations.post_system(
                    wait.conversation_id,
                    DANGER_LONG_WAIT_TEXT,
                    danger_meta(DANGER_LONG_WAIT_TEXT),
                )
                continue
            estimate = wait.due_at - wait.promised_at
            minutes = max(1, round(estimate.total_seconds() / 60))
            await self.conversations.post_system(
                wait.conversation_id,
                LONG_WAIT_TEXT.format(minutes=minutes, s="" if minutes == 1 else "s"),
                {OFFER_KEY: FOLLOW_UP_OFFER},
            )
        return offered

    async def _ask(self) -> int:
        asked = 0
        for work in await self.repository.to_ask():
            if (
                await self.repository.add_notice(work.follow_up_id, "ask", "", [])
                is None
            ):
                continue
            asked += await self.repository.set_contact(
                work.conversation_id,
                "asked",
                work.verified_email,
                self.now(),
                only_if_new=True,
            )
        return asked

    def _console_url(self) -> str:
        return f"{self.policy.base_url}/console"

    async def _remind(self, now: dt.datetime, mails: list[int]) -> int:
        reminded = 0
        for work in await self.repository.reminders_due(now, self.policy.reminder_lead):
            assert work.owner_id is not None and work.owner_email is not None
            letter = render(
                "reminder",
                None,
                {
                    "owner": work.owner_name or work.owner_email,
                    "due": when(work.due_at),
                    "summary": work.summary or "(no summary)",
                    "console_url": self._console_url(),
                },
            )
            notice = _mails(
                letter, "reminder", work.conversation_id, [work.owner_email]
            )
            ids = await self.repository.add_notice(
                work.follow_up_id, "reminder", str(work.owner_id), notice
            )
            if ids is None:
                continue
            mails.extend(ids)
            reminded += 1
            await self._tell_console(REMINDER_EVENT, work)
        return reminded

    async def _escalate(self, now: dt.datetime, mails: list[int]) -> int:
        escalated = 0
        due = await self.repository.escalations_due(now)
        if not due:
            return 0
        recipients = list(self.policy.escalation_emails) or (
            await self.repository.admin_emails()
        )
        if not recipients:
            logger.warning(
                "overdue follow-ups and nobody to mail: set BATON_ESCALATION_EMAILS "
                "or create an admin account"
            )
        for work in due:
            letter = render(
                "escalation",
                None,
                {
                    "owner": work.owner_name or "nobody (unowned)",
                    "due": when(work.due_at),
                    "summary": work.summary or "(no summary)",
                    "console_url": self._console_url(),
                },
            )
            batch = _mails(letter, "escalation", work.conversation_id, recipients)
            ids = await self.repository.add_notice(
                work.follow_up_id, "escalation", "", batch
            )
            if ids is None:
                continue
            mails.extend(ids)
            escalated += 1
            await self._tell_console(OVERDUE_EVENT, work)
        return escalated

    async def _alert_danger(self, now: dt.datetime, mails: list[int]) -> int:
        """Mail the escalation recipients about chats in danger nobody can take.

        Once per handoff, while it waits in the queue and nobody can take it.
        Only the conversation, since when and the console link: what the
        customer wrote stays behind the console's sign-in. With no recipients
        (no ``BATON_ESCALATION_EMAILS``, no admin account) a warning is logged
        once and the chats still wait first in the queue.
        """
        if self.handoffs is None:
            return 0
        waiting = await self.repository.danger_unalerted(DANGER_MAIL)
        if not waiting or not await self.handoffs.nobody_can_join(now):
            return 0
        recipients = list(self.policy.escalation_emails) or (
            await self.repository.admin_emails()
        )
        if not recipients:
            if not self._warned_no_alert_recipients:
                self._warned_no_alert_recipients = True
                logger.warning(
                    "someone may be in danger in %d waiting chat(s), nobody can "
                    "take them and nobody is mailed: set BATON_ESCALATION_EMAILS "
                    "or create an admin account",
                    len(waiting),
                )
            return 0
        for wait in waiting:
            letter = render(
                "danger",
                None,
                {
                    "conversation": wait.conversation_id,
                    "since": when(wait.since),
                    "console_url": self._console_url(),
                },
            )
            mails.extend(
                await self.repository.add_mails(
                    _mails(letter, DANGER_MAIL, wait.conversation_id, recipients)
                )
            )
            logger.warning(
                "handoff %s: someone may be in danger and nobody can take the "
                "chat; %d escalation recipient(s) mailed",
                wait.handoff_id,
                len(recipients),
            )
        return len(waiting)

    def resume_url(self, conversation_id: str, now: dt.datetime) -> str:
        """The link mailed to a customer to reopen the conversation."""
        token = sign_resume_link(
            self.policy.link_secret,
            conversation_id,
            now + self.policy.resume_link_lifetime,
        )
        return f"{self.policy.base_url}/resume/{token}"

    async def _mail_replies(self, now: dt.datetime, mails: list[int]) -> int:
        replied = 0
        for work in await self.repository.replies_due():
            expires = now + self.policy.resume_link_lifetime
            if self.policy.link_secret:
                link = self.resume_url(work.conversation_id, now)
            else:
                logger.warning("no secret to sign resume links: the mail links home")
                link = f"{self.policy.base_url}/"
            letter = render(
                "reply",
                work.locale,
                {
                    "agent": work.agent_name,
                    "reply": "\n\n".join(work.replies),
                    "link": link,
                    "expires": when(expires),
                },
            )
            ids = await self.repository.add_notice(
                work.follow_up_id,
                "reply",
                "",
                _mails(letter, "reply", work.conversation_id, [work.email]),
            )
            if ids is None:
                continue
            mails.extend(ids)
            replied += 1
        return replied

    async def _send(self, now: dt.datetime) -> int:
        if self.mailer.demo_mode:
            return 0
        sent = 0
        waiting = await self.mailer.repository.kept_of(MAIL_KINDS)
        for first in range(0, len(waiting), SEND_BATCH):
            # Still ours? A hub that stalled past its lease stops here.
            if not await self.lease.acquire(self.now()):
                break
            batch = waiting[first : first + SEND_BATCH]
            mails = await asyncio.gather(*map(self.mailer.send_kept, batch))
            sent += sum(bool(mail and mail.status == "sent") for mail in mails)
        return sent

    async def _tell_console(self, kind: str, work: FollowUpWork) -> None:
        await self.bus.publish(
            AGENTS_CHANNEL,
            {
                "type": kind,
                "follow_up_id": work.follow_up_id,
                "conversation_id": work.conversation_id,
                "agent_id": work.owner_id,
                "agent_name": work.owner_name,
                "due_at": work.due_at.isoformat(),
                "summary": work.summary,
            },
        )

    def start(self) -> None:
        """Run rounds in the background until :meth:`stop`."""
        self._loop.start()

    async def stop(self) -> None:
        """Stop after the current round and give up the lease."""
        await self._loop.stop()
        with contextlib.suppress(Exception):
            await self.lease.release()
        await self.lease.close()

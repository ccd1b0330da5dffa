"""SQL of promises: what was promised, what was done about it, each once.

Every notice (the customer asked for an address, an owner reminded, an
overdue follow-up escalated, the reply mailed) is a row of
``promise_notices``, unique per follow-up, kind and target, and is written in
the same transaction as the mails it causes. Whoever runs a notice twice —
two hubs that both think they hold the lease, a hub taking over from one that
died — finds the row there and does nothing: each mail exists once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.auth import CHAT_ROLES, unable_accounts
from bot.contract import HandoffReason, HandoffState
from bot.db.models import (
    Agent,
    Conversation,
    ConversationContact,
    FollowUp,
    Handoff,
    MailOutbox,
    Message,
    Promise,
    PromiseNotice,
    aware,
    utcnow,
)
from bot.mail import OutboxRepository
from bot.promises.records import (
    AskWork,
    Contact,
    DangerWait,
    FollowUpWork,
    Mail,
    PromiseRecord,
    ReplyWork,
    WaitPromise,
)

promises = Promise.__table__
notices = PromiseNotice.__table__
contacts = ConversationContact.__table__
follow_ups = FollowUp.__table__
conversations = Conversation.__table__
messages = Message.__table__
handoffs = Handoff.__table__
agents = Agent.__table__
outbox = MailOutbox.__table__


def _answered() -> Any:
    """An agent wrote in the follow-up's conversation since it was made."""
    return (
        sa.exists()
        .where(messages.c.conversation_id == follow_ups.c.conversation_id)
        .where(messages.c.role == "agent")
        .where(messages.c.created_at >= follow_ups.c.created_at)
    )


def _noticed(kind: str, target: Any) -> Any:
    return (
        sa.exists()
        .where(notices.c.follow_up_id == follow_ups.c.id)
        .where(notices.c.kind == kind)
        .where(notices.c.target == target)
    )


def _summary() -> Any:
    return (
        sa.select(handoffs.c.summary)
        .where(handoffs.c.conversation_id == follow_ups.c.conversation_id)
        .order_by(handoffs.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def _store(connection: AsyncConnection, mails: list[Mail]) -> list[int]:
    """Store the mails ``kept`` in the caller's transaction; their ids."""
    return [
        await OutboxRepository.add_in(
            connection,
            conversation_id=mail.conversation_id,
            kind=mail.kind,
            recipient=mail.recipient,
            subject=mail.subject,
            body=mail.text,
            html=mail.html,
        )
        for mail in mails
    ]


def _due(value: Any) -> dt.datetime:
    due = aware(value)
    assert due is not None
    return due


class PromiseRepository:
    """Reads and writes promises, notices and contact addresses."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record_follow_up_promises(self) -> int:
        """Store the due time of each follow-up not recorded yet (one query)."""
        missing = sa.select(
            follow_ups.c.conversation_id,
            follow_ups.c.id,
            sa.literal("due"),
            follow_ups.c.created_at,
            follow_ups.c.due_at,
        ).where(~sa.exists().where(promises.c.follow_up_id == follow_ups.c.id))
        async with self.engine.begin() as connection:
            result = await connection.execute(
                promises.insert().from_select(
                    [
                        "conversation_id",
                        "follow_up_id",
                        "kind",
                        "promised_at",
                        "due_at",
                    ],
                    missing,
                )
            )
        return max(0, result.rowcount or 0)

    async def record_wait(
        self,
        conversation_id: str,
        handoff_id: int,
        promised_at: dt.datetime,
        due_at: dt.datetime,
    ) -> bool:
        """Store the first wait estimate a queued customer was given.

        Returns:
            Whether it was new (later estimates of the same wait are not).
        """
        async with self.engine.connect() as connection:
            known = (
                await connection.execute(
                    sa.select(promises.c.id)
                    .where(promises.c.kind == "wait")
                    .where(promises.c.handoff_id == handoff_id)
                )
            ).first()
        if known is not None:
            return False
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    promises.insert().values(
                        conversation_id=conversation_id,
                        handoff_id=handoff_id,
                        kind="wait",
                        promised_at=promised_at,
                        due_at=due_at,
                    )
                )
        except IntegrityError:
            return False  # another hub stored the same estimate first
        return True

    async def queued_without_estimate(self, limit: int = 200) -> list[tuple[int, str]]:
        """``(handoff id, conversation id)`` of queued chats with no wait promise."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(handoffs.c.id, handoffs.c.conversation_id)
                .where(handoffs.c.state == "queued")
                .where(
                    ~sa.exists()
                    .where(promises.c.handoff_id == handoffs.c.id)
                    .where(promises.c.kind == "wait")
                )
                .order_by(handoffs.c.id)
                .limit(limit)
            )
            return [(row.id, row.conversation_id) for row in rows]

    async def waits_past_due(
        self, now: dt.datetime, limit: int = 200
    ) -> list[WaitPromise]:
        """Wait estimates of chats still queued past them, the customer not told."""
        query = (
            sa.select(
                promises.c.id,
                promises.c.conversation_id,
                promises.c.promised_at,
                promises.c.due_at,
                handoffs.c.reason,
            )
            .select_from(
                promises.join(handoffs, handoffs.c.id == promises.c.handoff_id)
            )
            .where(promises.c.kind == "wait")
            .where(promises.c.overrun_told_at.is_(None))
            .where(promises.c.due_at < now)
            .where(handoffs.c.state == "queued")
            .order_by(promises.c.due_at, promises.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            WaitPromise(
                id=row.id,
                conversation_id=row.conversation_id,
                promised_at=_due(row.promised_at),
                due_at=_due(row.due_at),
                reason=row.reason,
            )
            for row in rows
        ]

    async def tell_overrun(self, promise_id: int, now: dt.datetime) -> bool:
        """Mark a wait estimate's customer as told it runs late; ``False`` if told."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                promises.update()
                .where(promises.c.id == promise_id)
                .where(promises.c.overrun_told_at.is_(None))
                .values(overrun_told_at=now)
            )
        return bool(result.rowcount)

    async def settle(self, now: dt.datetime) -> int:
        """Decide the promises whose outcome is known by ``now``.

        A due time is kept when an agent wrote by then; broken when it passed
        without; withdrawn (``kept`` stays ``None``) when the follow-up closed
        before it without a reply. A wait estimate is kept when an agent
        claimed the chat by then; broken when it passed unclaimed; withdrawn
        when the customer left the queue first.
        """
        open_due = (promises.c.kind == "due") & promises.c.settled_at.is_(None)
        replied = (
            sa.exists()
            .where(messages.c.conversation_id == promises.c.conversation_id)
            .where(messages.c.role == "agent")
            .where(messages.c.created_at >= promises.c.promised_at)
            .where(messages.c.created_at <= promises.c.due_at)
        )
        closed_early = (
            sa.exists()
            .where(follow_ups.c.id == promises.c.follow_up_id)
            .where(follow_ups.c.done_at.is_not(None))
            .where(follow_ups.c.done_at < promises.c.due_at)
        )
        open_wait = (promises.c.kind == "wait") & promises.c.settled_at.is_(None)
        claimed_in_time = (
            sa.exists()
            .where(handoffs.c.id == promises.c.handoff_id)
            .where(handoffs.c.claimed_at.is_not(None))
            .where(handoffs.c.claimed_at <= promises.c.due_at)
        )
        left_early = (
            sa.exists()
            .where(handoffs.c.id == promises.c.handoff_id)
            .where(handoffs.c.claimed_at.is_(None))
            .where(handoffs.c.closed_at.is_not(None))
            .where(handoffs.c.closed_at < promises.c.due_at)
        )
        settled = 0
        async with self.engine.begin() as connection:
            for condition, kept in (
                (open_due & replied, True),
                (open_due & closed_early, None),
                (open_due & (promises.c.due_at < now), False),
                (open_wait & claimed_in_time, True),
                (open_wait & left_early, None),
                (open_wait & (promises.c.due_at < now), False),
            ):
                result = await connection.execute(
                    promises.update().where(condition).values(kept=kept, settled_at=now)
                )
                settled += max(0, result.rowcount or 0)
        return settled

    async def promises_of(self, conversation_id: str) -> list[PromiseRecord]:
        """The conversation's promises, oldest first."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(promises)
                .where(promises.c.conversation_id == conversation_id)
                .order_by(promises.c.id)
            )
            return [
                PromiseRecord(
                    id=row.id,
                    conversation_id=row.conversation_id,
                    kind=row.kind,
                    promised_at=_due(row.promised_at),
                    due_at=_due(row.due_at),
                    kept=row.kept,
                    settled_at=aware(row.settled_at),
                )
                for row in rows
            ]

    async def to_ask(self, limit: int = 100) -> list[AskWork]:
        """Open follow-ups whose customer was not asked for an address yet."""
        query = (
            sa.select(
                follow_ups.c.id,
                follow_ups.c.conversation_id,
                conversations.c.user_email,
                conversations.c.user_verified,
            )
            .select_from(
                follow_ups.join(
                    conversations, conversations.c.id == follow_ups.c.conversation_id
                )
            )
            .where(follow_ups.c.done_at.is_(None))
            .where(~_noticed("ask", ""))
            .order_by(follow_ups.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            AskWork(
                follow_up_id=row.id,
                conversation_id=row.conversation_id,
                verified_email=row.user_email if row.user_verified else None,
            )
            for row in rows
        ]

    async def reminders_due(
        self, now: dt.datetime, lead: dt.timedelta, limit: int = 100
    ) -> list[FollowUpWork]:
        """Unanswered follow-ups due within ``lead`` whose owner was not reminded.

        Each owner once: a follow-up given to a new owner (the old one was
        disabled) reminds the new one too. Once overdue, a follow-up is
        escalated instead (:meth:`escalations_due`).
        """
        owner_target = sa.cast(follow_ups.c.owner_id, sa.String)
        return await self._unanswered(
            follow_ups.join(agents, agents.c.id == follow_ups.c.owner_id),
            (
                follow_ups.c.due_at <= now + lead,
                follow_ups.c.due_at > now,
                agents.c.active.is_(True),
                agents.c.role.in_(CHAT_ROLES),
                ~_noticed("reminder", owner_target),
            ),
            limit,
        )

    async def escalations_due(
        self, now: dt.datetime, limit: int = 100
    ) -> list[FollowUpWork]:
        """Unanswered follow-ups past their due time, not escalated yet."""
        return await self._unanswered(
            follow_ups.outerjoin(agents, agents.c.id == follow_ups.c.owner_id),
            (follow_ups.c.due_at <= now, ~_noticed("escalation", "")),
            limit,
        )

    async def _unanswered(
        self, joined: Any, conditions: tuple[Any, ...], limit: int
    ) -> list[FollowUpWork]:
        """Open, unanswered follow-ups (with their owner) that meet ``conditions``.

        Soonest due first.
        """
        query = (
            sa.select(
                follow_ups.c.id,
                follow_ups.c.conversation_id,
                follow_ups.c.due_at,
                follow_ups.c.owner_id,
                agents.c.name,
                agents.c.email,
                _summary().label("summary"),
            )
            .select_from(joined)
            .where(follow_ups.c.done_at.is_(None), ~_answered(), *conditions)
            .order_by(follow_ups.c.due_at, follow_ups.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            FollowUpWork(
                follow_up_id=row.id,
                conversation_id=row.conversation_id,
                due_at=_due(row.due_at),
                summary=row.summary or "",
                owner_id=row.owner_id,
                owner_name=row.name,
                owner_email=row.email,
            )
            for row in rows
        ]

    async def replies_due(self, limit: int = 100) -> list[ReplyWork]:
        """Answered follow-ups whose customer gave an address, not mailed yet."""
        query = (
            sa.select(
                follow_ups.c.id,
                follow_ups.c.conversation_id,
                follow_ups.c.created_at,
                contacts.c.email,
                conversations.c.locale,
            )
            .select_from(
                follow_ups.join(
                    contacts, contacts.c.conversation_id == follow_ups.c.conversation_id
                ).join(
                    conversations, conversations.c.id == follow_ups.c.conversation_id
                )
            )
            .where(contacts.c.state == "given")
            .where(contacts.c.email.is_not(None))
            .where(_answered())
            .where(~_noticed("reply", ""))
            .order_by(follow_ups.c.id)
            .limit(limit)
        )
        work: list[ReplyWork] = []
        async with self.engine.connect() as connection:
            for row in (await connection.execute(query)).all():
                replies = (
                    await connection.execute(
                        sa.select(messages.c.text, agents.c.name)
                        .select_from(
                            messages.outerjoin(
                                agents, agents.c.id == messages.c.author_id
                            )
                        )
                        .where(messages.c.conversation_id == row.conversation_id)
                        .where(messages.c.role == "agent")
                        .where(messages.c.created_at >= row.created_at)
                        .order_by(messages.c.seq)
                    )
                ).all()
                work.append(
                    ReplyWork(
                        follow_up_id=row.id,
                        conversation_id=row.conversation_id,
                        email=row.email,
                        locale=row.locale,
                        agent_name=replies[0].name or "Support",
                        replies=[reply.text for reply in replies],
                    )
                )
        return work

    async def add_notice(
        self, follow_up_id: int, kind: str, target: str, mails: list[Mail]
    ) -> list[int] | None:
        """Record a notice and store its mails, in one transaction.

        Returns:
            The new mails' ids, or ``None`` if the notice existed already
            (then nothing is stored).
        """
        try:
            async with self.engine.begin() as connection:
                inserted = await connection.execute(
                    notices.insert().values(
                        follow_up_id=follow_up_id,
                        kind=kind,
                        target=target,
                        created_at=utcnow(),
                    )
                )
                mail_ids = await _store(connection, mails)
                if mail_ids:
                    await connection.execute(
                        notices.update()
                        .where(notices.c.id == inserted.inserted_primary_key[0])
                        .values(mail_id=mail_ids[0])
                    )
        except IntegrityError:
            return None
        return mail_ids

    async def danger_unalerted(self, kind: str, limit: int = 100) -> list[DangerWait]:
        """Queued chats in danger with no ``kind`` mail since they were queued.

        The alert mails are their own record: each handoff is alerted once
        (the scheduler's lease lets one hub do it), and a later handoff of
        the same conversation again.
        """
        alerted = (
            sa.exists()
            .where(outbox.c.conversation_id == handoffs.c.conversation_id)
            .where(outbox.c.kind == kind)
            .where(outbox.c.created_at >= handoffs.c.created_at)
        )
        query = (
            sa.select(handoffs.c.id, handoffs.c.conversation_id, handoffs.c.created_at)
            .where(handoffs.c.reason == HandoffReason.DANGER.value)
            .where(handoffs.c.state == HandoffState.QUEUED.value)
            .where(~alerted)
            .order_by(handoffs.c.created_at, handoffs.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            DangerWait(
                handoff_id=row.id,
                conversation_id=row.conversation_id,
                since=_due(row.created_at),
            )
            for row in rows
        ]

    async def add_mails(self, mails: list[Mail]) -> list[int]:
        """Store mails that are their own record (``kept``), in one transaction."""
        async with self.engine.begin() as connection:
            return await _store(connection, mails)

    async def notices_of(self, follow_up_id: int) -> list[tuple[str, str]]:
        """``(kind, target)`` of each notice of a follow-up, in order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(notices.c.kind, notices.c.target)
                .where(notices.c.follow_up_id == follow_up_id)
                .order_by(notices.c.id)
            )
            return [(row.kind, row.target) for row in rows]

    async def contact(self, conversation_id: str) -> Contact | None:
        """Where the conversation's customer may be reached, if they said."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(contacts).where(
                        contacts.c.conversation_id == conversation_id
                    )
                )
            ).first()
        if row is None:
            return None
        return Contact(
            conversation_id=row.conversation_id,
            state=row.state,
            email=row.email,
            updated_at=_due(row.updated_at),
        )

    async def set_contact(
        self,
        conversation_id: str,
        state: str,
        email: str | None,
        now: dt.datetime,
        *,
        only_if_new: bool = False,
    ) -> bool:
        """Store where the customer may be reached (``asked``: not said yet).

        Args:
            conversation_id: The conversation.
            state: ``asked``, ``given`` or ``declined``.
            email: The address (``given`` only).
            now: When it was said.
            only_if_new: Leave an existing answer as it is.

        Returns:
            Whether anything was stored.
        """
        values = {"state": state, "email": email, "updated_at": now}
        async with self.engine.begin() as connection:
            if not only_if_new:
                updated = await connection.execute(
                    contacts.update()
                    .where(contacts.c.conversation_id == conversation_id)
                    .values(**values)
                )
                if updated.rowcount:
                    return True
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    contacts.insert().values(conversation_id=conversation_id, **values)
                )
        except IntegrityError:
            if only_if_new:
                return False
            return await self.set_contact(conversation_id, state, email, now)
        return True

    async def admin_emails(self) -> list[str]:
        """The addresses of every active admin account."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(agents.c.email)
                .where(agents.c.role == "admin")
                .where(agents.c.active.is_(True))
                .where(agents.c.id.not_in(unable_accounts()))
                .order_by(agents.c.id)
            )
            return [row.email for row in rows]

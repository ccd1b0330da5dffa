"""Who can take chats: online, least busy, and what each account holds now."""

from __future__ import annotations

import sqlalchemy as sa

from bot.auth.records import CHAT_ROLES, OpenWork, agents
from bot.contract import HandoffState
from bot.db.models import FollowUp, Handoff
from bot.db.repository import Repository

follow_ups = FollowUp.__table__
handoffs = Handoff.__table__


def unable_accounts() -> sa.sql.Select:
    """Ids of accounts that may not take chats (disabled, or a trainer)."""
    return sa.select(agents.c.id).where(
        sa.or_(agents.c.active.is_(False), agents.c.role.not_in(CHAT_ROLES))
    )


class ChatAvailability(Repository):
    """Reads who may and can take chats (part of the auth repository)."""

    async def open_work(self) -> dict[int, OpenWork]:
        """Per account: chats it holds now and open follow-ups it owns."""
        async with self.engine.connect() as connection:
            chats = dict(
                (
                    await connection.execute(
                        sa.select(handoffs.c.agent_id, sa.func.count())
                        .where(handoffs.c.state == HandoffState.CLAIMED.value)
                        .where(handoffs.c.agent_id.is_not(None))
                        .group_by(handoffs.c.agent_id)
                    )
                ).all()
            )
            promises = dict(
                (
                    await connection.execute(
                        sa.select(follow_ups.c.owner_id, sa.func.count())
                        .where(follow_ups.c.done_at.is_(None))
                        .where(follow_ups.c.owner_id.is_not(None))
                        .group_by(follow_ups.c.owner_id)
                    )
                ).all()
            )
        return {
            agent_id: OpenWork(
                chats=int(chats.get(agent_id, 0)),
                follow_ups=int(promises.get(agent_id, 0)),
            )
            for agent_id in set(chats) | set(promises)
        }

    async def agents_online(self) -> int:
        """Agents (and admins) marked online, who can take chats."""
        count = await self.scalar(
            sa.select(sa.func.count())
            .select_from(agents)
            .where(agents.c.active.is_(True))
            .where(agents.c.presence == "online")
            .where(agents.c.role.in_(CHAT_ROLES))
        )
        return int(count)

    async def least_busy_agent(self) -> int | None:
        """The active agent with the fewest open follow-ups (their owner)."""
        open_count = (
            sa.select(sa.func.count())
            .select_from(follow_ups)
            .where(follow_ups.c.owner_id == agents.c.id)
            .where(follow_ups.c.done_at.is_(None))
            .scalar_subquery()
        )
        row = await self.first(
            sa.select(agents.c.id)
            .where(agents.c.active.is_(True))
            .where(agents.c.role.in_(CHAT_ROLES))
            .order_by(open_count, agents.c.id)
            .limit(1)
        )
        return int(row.id) if row else None

    async def can_take_chats(self, agent_id: int) -> bool:
        """Whether an active agent (or admin) with this id may take chats."""
        row = await self.first(
            sa.select(agents.c.id)
            .where(agents.c.id == agent_id)
            .where(agents.c.active.is_(True))
            .where(agents.c.role.in_(CHAT_ROLES))
        )
        return row is not None

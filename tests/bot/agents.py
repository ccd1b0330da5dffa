"""Console accounts written straight into a test database.

For tests below the auth service (repositories, the handoff service, the
relay): the rows have no usable password, so nobody signs in with them.
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.db.models import Agent, utcnow


async def add_agents(
    engine: Any, count: int, presence: str = "online", *, name: str = "Agent"
) -> list[int]:
    """Insert ``count`` active agents (``Agent 0``, ``Agent 1``, …); their ids."""
    ids = []
    async with engine.begin() as connection:
        for n in range(count):
            result = await connection.execute(
                Agent.__table__.insert().values(
                    email=f"agent-{secrets.token_hex(4)}-{n}@example.com",
                    name=f"{name} {n}",
                    password_hash="x",
                    role="agent",
                    active=True,
                    presence=presence,
                    created_at=utcnow(),
                )
            )
            ids.append(int(result.inserted_primary_key[0]))
    return ids


async def add_agent(
    engine: Any,
    presence: str = "online",
    *,
    name: str = "Ann",
    email: str | None = None,
) -> int:
    """Insert one active agent; its id (a random address unless ``email``)."""
    async with engine.begin() as connection:
        result = await connection.execute(
            Agent.__table__.insert().values(
                email=email or f"a-{secrets.token_hex(4)}@example.com",
                name=name,
                password_hash="x",
                role="agent",
                active=True,
                presence=presence,
                created_at=utcnow(),
            )
        )
    return int(result.inserted_primary_key[0])

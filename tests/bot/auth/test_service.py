"""Accounts, login throttling and sessions, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from bot.auth import AuthRepository, AuthService, require_role
from bot.auth.repository import agent_sessions
from bot.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
)

PASSWORD = "a long enough password"


@pytest.fixture
def auth(engine) -> AuthService:
    return AuthService(AuthRepository(engine))


def new_email(prefix: str = "agent") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


async def test_emails_are_unique_whatever_their_case(auth: AuthService) -> None:
    email = new_email("Mixed.Case")
    agent = await auth.create_agent(f"  {email.upper()} ", "Ann", "agent", PASSWORD)
    assert agent.email == email.lower()
    assert (agent.role, agent.active, agent.presence) == ("agent", True, "offline")
    assert await auth.repository.get_agent(agent.id) == agent
    assert await auth.repository.get_agent_by_email(email.upper()) == agent
    with pytest.raises(Conflict) as error:
        await auth.create_agent(email.lower(), "Other", "admin", PASSWORD)
    assert error.value.code == "email_taken"


@pytest.mark.parametrize(
    ("email", "name", "role", "password", "code"),
    [
        ("not-an-email", "Ann", "agent", PASSWORD, "bad_email"),
        ("a@b", "Ann", "agent", PASSWORD, "bad_email"),
        ("two@@example.com", "Ann", "agent", PASSWORD, "bad_email"),
        ("x" * 320 + "@example.com", "Ann", "agent", PASSWORD, "bad_email"),
        ("ann@example.com", "   ", "agent", PASSWORD, "bad_name"),
        ("ann@example.com", "n" * 256, "agent", PASSWORD, "bad_name"),
        ("ann@example.com", "Ann", "superuser", PASSWORD, "bad_role"),
        ("ann@example.com", "Ann", "Admin", PASSWORD, "bad_role"),
        ("ann@example.com", "Ann", "agent", "short", "weak_password"),
    ],
)
async def test_invalid_accounts_are_refused(
    auth: AuthService, email: str, name: str, role: str, password: str, code: str
) -> None:
    with pytest.raises(BadRequest) as error:
        await auth.create_agent(email, name, role, password)
    assert error.value.code == code
    assert await auth.repository.get_agent_by_email(email) is None


async def test_role_presence_and_active_changes(auth: AuthService) -> None:
    email = new_email()
    agent = await auth.create_agent(email, "Ann", "agent", PASSWORD)
    assert (await auth.set_role(email.upper(), "trainer")).role == "trainer"
    assert (await auth.set_presence(agent, "away")).presence == "away"
    with pytest.raises(BadRequest):
        await auth.set_presence(agent, "busy")
    with pytest.raises(BadRequest):
        await auth.set_role(email, "owner")
    with pytest.raises(NotFound):
        await auth.set_role("nobody@example.com", "agent")
    with pytest.raises(NotFound):
        await auth.set_active("nobody@example.com", False)
    with pytest.raises(NotFound):
        await auth.repository.set_presence(10**9, "online")
    result = await auth.login(email, PASSWORD, ip="10.0.0.1", user_agent="test")
    assert not (await auth.set_active(email, False)).active
    with pytest.raises(Unauthorized):
        await auth.authenticate(result.token)
    with pytest.raises(Unauthorized) as error:
        await auth.login(email, PASSWORD, ip="10.0.0.1", user_agent=None)
    assert error.value.code == "invalid_credentials"
    assert (await auth.set_active(email, True)).active
    await auth.login(email, PASSWORD, ip="10.0.0.1", user_agent=None)


async def test_sessions_are_stored_hashed(auth: AuthService, engine) -> None:
    email = new_email()
    await auth.create_agent(email, "Ann", "agent", PASSWORD)
    result = await auth.login(email, PASSWORD, ip="10.0.0.1", user_agent="UA" * 400)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(agent_sessions).where(
                    agent_sessions.c.agent_id == result.agent.id
                )
            )
        ).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.id != result.token and len(row.id) == 64
    assert result.token not in (row.csrf_token, row.user_agent)
    assert (row.ip, len(row.user_agent)) == ("10.0.0.1", 512)
    principal = await auth.authenticate(result.token)
    assert principal.agent == result.agent
    assert principal.session.csrf_token == result.session.csrf_token


@pytest.mark.parametrize("token", [None, "", "nope", "x" * 200])
async def test_unknown_session_tokens_are_refused(auth: AuthService, token) -> None:
    with pytest.raises(Unauthorized) as error:
        await auth.authenticate(token)
    assert error.value.code == "unauthorized"


async def test_concurrent_failures_all_count(auth: AuthService) -> None:
    email = new_email()
    await auth.create_agent(email, "Ann", "agent", PASSWORD)

    async def attempt() -> str:
        try:
            await auth.login(email, "wrong password", ip=None, user_agent=None)
        except (Unauthorized, RateLimited) as error:
            return error.code
        return "ok"

    codes = await asyncio.gather(*(attempt() for _ in range(5)))
    assert codes == ["invalid_credentials"] * 5
    with pytest.raises(RateLimited) as error:
        await auth.login(email, PASSWORD, ip=None, user_agent=None)
    assert error.value.code == "locked_out"
    assert 14 * 60 < error.value.retry_after_s <= 15 * 60


async def test_a_success_resets_the_failure_count(auth: AuthService) -> None:
    email = new_email()
    await auth.create_agent(email, "Ann", "agent", PASSWORD)
    for _ in range(2):
        for _ in range(4):
            with pytest.raises(Unauthorized):
                await auth.login(email, "wrong password", ip=None, user_agent=None)
        await auth.login(email, PASSWORD, ip=None, user_agent=None)


async def test_outdated_hashes_are_upgraded_at_login(auth: AuthService) -> None:
    email = new_email()
    agent = await auth.create_agent(email, "Ann", "agent", PASSWORD)
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await auth.repository.set_password_hash(agent.id, old)
    await auth.login(email, PASSWORD, ip=None, user_agent=None)
    credentials = await auth.repository.credentials(email)
    assert credentials is not None
    assert credentials.password_hash != old
    assert not auth.passwords.hasher.check_needs_rehash(credentials.password_hash)


def _agent(role: str):
    from bot.auth import AgentRecord

    return AgentRecord(
        id=1,
        email="a@example.com",
        name="A",
        role=role,
        active=True,
        presence="online",
        created_at=dt.datetime.now(dt.timezone.utc),
    )


@pytest.mark.parametrize(
    ("role", "required", "allowed"),
    [
        ("agent", (), True),
        ("trainer", (), True),
        ("admin", (), True),
        ("agent", ("agent",), True),
        ("trainer", ("agent",), False),
        ("admin", ("agent",), True),
        ("agent", ("trainer",), False),
        ("trainer", ("trainer",), True),
        ("admin", ("trainer",), True),
        ("agent", ("admin",), False),
        ("trainer", ("admin",), False),
        ("admin", ("admin",), True),
        ("agent", ("agent", "trainer"), True),
        ("trainer", ("agent", "trainer"), True),
    ],
)
def test_role_matrix(role: str, required: tuple[str, ...], allowed: bool) -> None:
    if allowed:
        require_role(_agent(role), *required)
    else:
        with pytest.raises(Forbidden) as error:
            require_role(_agent(role), *required)
        assert error.value.code == "forbidden"

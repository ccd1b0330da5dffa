"""``baton create-agent``, ``set-role``, ``enable/disable-agent``, ``seed-demo``.

The command line runs its own event loop, so each call runs in a thread.
"""

from __future__ import annotations

import asyncio
import getpass

import pytest

from bot.auth import AuthRepository, AuthService
from bot.cli import DEMO_ACCOUNTS, DEMO_PASSWORD, main

PASSWORD = "a long enough password"


@pytest.fixture
def baton(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("BATON_DATABASE_URL", database_url)
    monkeypatch.setenv("BATON_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BATON_NEW_AGENT_PASSWORD", PASSWORD)

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))

    return run


@pytest.fixture
def auth(engine) -> AuthService:
    return AuthService(AuthRepository(engine))


def unique(prefix: str = "cli") -> str:
    import secrets

    return f"{prefix}-{secrets.token_hex(4)}@example.com"


@pytest.mark.parametrize("role", ["agent", "trainer", "admin"])
async def test_create_agent(baton, auth, capsys, role) -> None:
    email = unique()
    assert (
        await baton(
            "create-agent", "--email", email.upper(), "--name", "Ann", "--role", role
        )
        == 0
    )
    assert f"created {role} account {email}" in capsys.readouterr().out
    agent = await auth.repository.get_agent_by_email(email)
    assert agent is not None and (agent.name, agent.role) == ("Ann", role)
    await auth.login(email, PASSWORD, ip=None, user_agent=None)


async def test_a_duplicate_email_is_a_clear_error(baton, capsys) -> None:
    email = unique()
    assert (
        await baton("create-agent", "--email", email, "--name", "A", "--role", "agent")
        == 0
    )
    status = await baton(
        "create-agent", "--email", email.title(), "--name", "B", "--role", "admin"
    )
    assert status == 1
    assert (
        f"an account with the email {email} already exists" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (
            ("--email", "x@example.com", "--name", "X", "--role", "boss"),
            PASSWORD,
            "unknown role",
        ),
        (
            ("--email", "not-an-email", "--name", "X", "--role", "agent"),
            PASSWORD,
            "not an email",
        ),
        (
            ("--email", "x@example.com", "--name", " ", "--role", "agent"),
            PASSWORD,
            "name",
        ),
        (
            ("--email", "x@example.com", "--name", "X", "--role", "agent"),
            "too-short",
            "at least 10",
        ),
    ],
)
async def test_bad_input_exits_with_2(
    baton, auth, monkeypatch, capsys, args, password, message
) -> None:
    monkeypatch.setenv("BATON_NEW_AGENT_PASSWORD", password)
    assert await baton("create-agent", *args) == 2
    assert message in capsys.readouterr().err
    assert await auth.repository.get_agent_by_email("x@example.com") is None


@pytest.mark.parametrize(
    ("typed", "status"),
    [(["secret-pass-1", "secret-pass-1"], 0), (["secret-pass-1", "secret-pass-2"], 2)],
)
async def test_the_password_is_asked_twice(
    baton, monkeypatch, capsys, typed, status
) -> None:
    monkeypatch.delenv("BATON_NEW_AGENT_PASSWORD")
    answers = iter(typed)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    email = unique()
    assert (
        await baton("create-agent", "--email", email, "--name", "A", "--role", "agent")
        == status
    )
    if status:
        assert "type the same password twice" in capsys.readouterr().err


async def test_set_role(baton, auth, capsys) -> None:
    email = unique()
    assert (
        await baton("create-agent", "--email", email, "--name", "A", "--role", "agent")
        == 0
    )
    assert await baton("set-role", "--email", email.upper(), "--role", "trainer") == 0
    assert f"{email} is now trainer" in capsys.readouterr().out
    agent = await auth.repository.get_agent_by_email(email)
    assert agent is not None and agent.role == "trainer"
    assert await baton("set-role", "--email", email, "--role", "root") == 2
    assert await baton("set-role", "--email", unique(), "--role", "admin") == 1
    assert "no account has the email" in capsys.readouterr().err


async def test_disable_and_enable(baton, auth) -> None:
    email = unique()
    assert (
        await baton("create-agent", "--email", email, "--name", "A", "--role", "agent")
        == 0
    )
    assert await baton("disable-agent", "--email", email) == 0
    agent = await auth.repository.get_agent_by_email(email)
    assert agent is not None and not agent.active
    assert await baton("enable-agent", "--email", email) == 0
    await auth.login(email, PASSWORD, ip=None, user_agent=None)
    assert await baton("disable-agent", "--email", unique()) == 1


async def test_seed_demo_is_idempotent(baton, auth, capsys) -> None:
    for _ in range(2):
        assert await baton("seed-demo") == 0
    output = capsys.readouterr().out
    for email, _, role in DEMO_ACCOUNTS:
        assert output.count(f"created {role} account {email}") <= 1
        result = await auth.login(email, DEMO_PASSWORD, ip=None, user_agent=None)
        assert result.agent.role == role
        assert f"{email} exists" in output


def test_argparse_still_needs_the_options() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["create-agent", "--email", "a@example.com"])
    assert exit_.value.code == 2

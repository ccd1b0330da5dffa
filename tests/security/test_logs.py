"""Logs never hold a token, a password, a one-time code or link, or a full e-mail.

Logging is set up as ``baton`` sets it up for ``BATON_LOG_LEVEL`` (the default
INFO, and DEBUG), and every record of the hub is captured (Sanic's loggers,
which do not propagate, too) while people sign in (rightly and wrongly),
start and resume conversations, send messages, ask for a recap, have a
password reset link mailed and spend it, and sign out; then the text is
searched for every secret those steps used. At DEBUG, aiosqlite logged every
query's parameters (CSRF tokens, e-mail addresses, the reset link's mail)
before ``bot.cli.configure_logging`` kept it at INFO.

The chat's password reset (issue #16) is followed the same way, in this
process: the real reset actions mail a one-time code (real SMTP), the
customer types it into the chat of an in-process hub (a Rasa stand-in asks
for it), the actions check it, a wrong one too, and mail the link, whose
page sets a new password.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from rasa_sdk.executor import CollectingDispatcher

import actions.accounts
from actions.accounts import (
    CODE_SLOT,
    EMAIL_SLOT,
    ActionAccountConsentAsk,
    ActionAccountResetAct,
)
from bench.accounts.flow import choose_new_password
from bot.accounts import BuiltinAccounts, SharedResetDesk
from bot.cli import CHATTY_LOGGERS, configure_logging
from bot.config import Accounts, Limits, Settings, Smtp
from tests.actions.test_accounts import DOMAIN, slots_of, tracker, validate
from tests.bot.accounts.conftest import mailed_code, unique_email
from tests.bot.auth.test_auth_api import PASSWORD, call, login
from tests.bot.conftest import smtp_server  # noqa: F401 (a fixture)
from tests.bot.test_relay_account_answers import (
    TOKEN,
    ScriptedRasa,
    rasa,  # noqa: F401 (a fixture)
    say,
)
from tests.hub import drain, receive_until, running_hub
from tests.security.test_identity_shown import sign_identity

SECRET = "identity-secret-for-the-log-test"
#: Loggers of the tests' own stand-ins: the SMTP server (aiosmtpd) plays the
#: customer's mail provider, which does see the address and the mail.
NOT_OURS = ("mail.log ",)
NEW_PASSWORD = "a brand new passphrase 42"


class Everything(logging.Handler):
    """Keeps the formatted text of every record, with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(params=["INFO", "DEBUG"])
def logs(request: pytest.FixtureRequest) -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    # Loggers that do not pass records up (Sanic's) get the handler too.
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    chatty = [logging.getLogger(name) for name in CHATTY_LOGGERS]
    levels = {logger: logger.level for logger in [*loggers, *chatty]}
    for logger in loggers:
        logger.addHandler(handler)
    configure_logging(request.param)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        for logger, level in levels.items():
            logger.setLevel(level)


async def test_no_secret_reaches_the_logs(hub_settings: Settings, logs) -> None:
    settings = hub_settings.with_changes(
        identity_secret=SECRET,
        limits=Limits(logins_per_ip_per_minute=1000, conversations_per_ip_per_hour=100),
    )
    secrets_used: dict[str, str] = {
        "password": PASSWORD,
        "wrong password": "not the password " + secrets.token_hex(4),
        "new password": NEW_PASSWORD,
    }
    async with running_hub(settings) as hub:
        admin_email = f"admin.{secrets.token_hex(4)}@example.com"
        agent_email = f"ann.{secrets.token_hex(4)}@example.com"
        await hub.ctx.auth.create_agent(admin_email, "Ada Admin", "admin", PASSWORD)
        agent = await hub.ctx.auth.create_agent(agent_email, "Ann", "agent", PASSWORD)
        secrets_used |= {"admin e-mail": admin_email, "agent e-mail": agent_email}

        # Sign-ins: wrong, unknown account, right.
        for email, password in [
            (agent_email, secrets_used["wrong password"]),
            ("nobody." + agent_email, PASSWORD),
        ]:
            status, _, _ = await call(
                hub,
                "POST",
                "/api/auth/login",
                json={"email": email, "password": password},
            )
            assert status == 401
        session, csrf = await login(hub, admin_email)
        secrets_used |= {"session": session, "csrf token": csrf}

        # A verified customer: conversation, socket (token in the query),
        # history, a recap, a bad resume point, a wrong token.
        customer_email = f"grace.{secrets.token_hex(4)}@example.com"
        expires = int(time.time()) + 600
        user_hash = sign_identity(
            SECRET, "u-7", expires, name="Grace", email=customer_email
        )
        conversation_id, token = await hub.new_conversation(
            user={"id": "u-7", "name": "Grace", "email": customer_email},
            user_hash=user_hash,
            user_expires=expires,
        )
        secrets_used |= {
            "customer e-mail": customer_email,
            "conversation token": token,
            "identity signature": user_hash,
        }
        async with hub.socket(conversation_id, token) as ws:
            await ws.send(
                json.dumps({"type": "message", "text": "hello", "client_id": "c1"})
            )
            await receive_until(ws, lambda f: f.get("client_id") == "c1")
            await ws.send(json.dumps({"type": "recap", "email": customer_email}))
            await receive_until(ws, lambda f: f.get("type") in {"recap", "error"})
        async with hub.socket(conversation_id, token, after=2**70) as ws:
            await receive_until(ws, lambda f: f.get("type") == "error")
        async with aiohttp.ClientSession() as client:
            for bearer in (token, token[:-2]):
                async with client.get(
                    f"{hub.url}/api/conversations/{conversation_id}/messages",
                    headers={"Authorization": f"Bearer {bearer}"},
                ):
                    pass

        # A password reset link, mailed (kept in the outbox) and spent twice.
        status, _, _ = await call(
            hub,
            "POST",
            f"/api/admin/agents/{agent.id}/password-reset",
            session=session,
            csrf=csrf,
        )
        assert status == 202
        status, outbox, _ = await call(hub, "GET", "/api/outbox", session=session)
        (mail,) = [m for m in outbox["mails"] if m["kind"] == "password_reset"]
        match = re.search(r"#reset=([\w-]+)", mail["body"])
        assert match is not None
        secrets_used["reset link"] = match[1]
        for _ in range(2):
            await call(
                hub,
                "POST",
                "/api/auth/password-reset",
                json={"token": match[1], "password": NEW_PASSWORD},
            )
        status, _, _ = await call(
            hub, "POST", "/api/auth/logout", session=session, csrf=csrf
        )
        assert status == 204

    assert_kept(logs, secrets_used, "POST /api/auth/login")


def assert_kept(logs: Everything, secrets_used: dict[str, str], seen: str) -> None:
    """No secret is in the logs, which hold ``seen`` (they were captured)."""
    ours = [line for line in logs.lines if not line.startswith(NOT_OURS)]
    text = "\n".join(ours)
    assert seen in text, "the hub's own log was not captured"
    leaked = sorted(what for what, value in secrets_used.items() if value in text)
    assert not leaked, f"the logs hold: {leaked}\n" + "\n".join(
        line for line in ours if any(value in line for value in secrets_used.values())
    )


async def test_no_chat_reset_code_reaches_the_logs(
    hub_settings: Settings,
    logs: Everything,
    smtp_server: Any,  # noqa: F811
    rasa: tuple[ScriptedRasa, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    controller, _ = smtp_server
    scripted, rasa_url = rasa
    settings = hub_settings.with_changes(
        rasa_url=rasa_url,
        rasa_token=TOKEN,
        secret_key="s" * 32,
        accounts=Accounts(provider="builtin"),
        smtp=Smtp(host="127.0.0.1", port=controller.port, security="none"),
        limits=Limits(logins_per_ip_per_minute=1000),
    )
    # The action server's reset desk, on the hub's database.
    desk = SharedResetDesk(lambda: settings)
    monkeypatch.setattr(actions.accounts, "shared_reset_desk", desk)
    email = unique_email("grace")
    secrets_used = {"account e-mail": email, "new password": NEW_PASSWORD}
    try:
        async with running_hub(settings) as hub:
            made = await desk.get()
            assert made is not None and isinstance(made.provider, BuiltinAccounts)
            await made.provider.create_account(email, "Grace", PASSWORD, locked=True)
            conversation_id, token = await hub.new_conversation(locale="en")
            async with hub.socket(conversation_id, token) as ws:
                await drain(ws, quiet_s=0.2)
                await say(ws, "I forgot my password", "m1")
                # The e-mail, in chat and to the actions: a code is mailed.
                await say(ws, email, "m2")
                await validate(conversation_id, EMAIL_SLOT, email)
                await made.drain()
                code = mailed_code(smtp_server, email)
                wrong = "000000" if code != "000000" else "111111"
                secrets_used |= {"code": code, "wrong code": wrong}
                # The code, in chat (a wrong one first) and to the actions.
                await say(ws, code, "m3")
                # Rasa gets it masked; the actions read it from the hub.
                assert [m["message"] for m in scripted.received][2] == "••••••"
                await validate(conversation_id, CODE_SLOT, wrong)
                _, slots = await validate(conversation_id, CODE_SLOT, code)
                assert slots[CODE_SLOT] == "verified", slots
                await say(ws, "yes", "m4")
            masked = {EMAIL_SLOT: "g•••@example.com", **slots}
            await ActionAccountConsentAsk().run(
                CollectingDispatcher(), tracker(conversation_id, "", **masked), DOMAIN
            )
            events = await ActionAccountResetAct().run(
                CollectingDispatcher(),
                tracker(conversation_id, "/affirm", "affirm", **masked),
                DOMAIN,
            )
            assert slots_of(events)[CODE_SLOT] is None
            await made.drain()
            link = mailed_link(smtp_server, email)
            secrets_used["reset link"] = link.split("token=")[1]
            async with aiohttp.ClientSession() as session:
                await choose_new_password(
                    session,
                    hub.url,
                    f"{hub.url}/account/reset?token={secrets_used['reset link']}",
                    NEW_PASSWORD,
                )
            await hub.ctx.relay.idle()
    finally:
        await desk.close()
    assert_kept(logs, secrets_used, "POST /account/reset")


def mailed_link(smtp_server: Any, recipient: str) -> str:  # noqa: F811
    """The reset link in the newest mail to ``recipient``."""
    _, inbox = smtp_server
    bodies = [
        str(mail.get_payload(decode=True), "utf-8")
        for to, mail in inbox.mails
        if recipient in to
    ]
    found = re.search(r"\S+/account/reset\?token=[\w-]+", bodies[-1])
    assert found is not None, bodies[-1]
    return found[0]

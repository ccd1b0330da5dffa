"""The account e-mail and code in the chat: never kept in clear, nor sent so.

An in-process hub talks to a Rasa stand-in that records what it is sent and
answers with the turns of the reset form (the Baton channel's JSON: the form
asking for ``account_email``, then ``account_code``). The customer's answers
to those two questions are stored, echoed, put on the handoff card and in the
recap masked, and go to Rasa masked too (so its tracker store never holds
them); the clear text is kept with the pending message for the actions to
read during the turn, with the customer's client address, which goes to Rasa
in the message metadata; after the turn nothing of either stays. The card
lists the reset desk's audit entries (codes, consent, change and result).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from bot.accounts import BuiltinAccounts, ResetDesk
from bot.config import Accounts, Settings
from bot.conversations.recap import build_recap
from bot.conversations.repository import ConversationRepository
from bot.db.models import Message
from bot.mail.outbox import outbox as outbox_table
from tests.conftest import free_port
from tests.hub import RunningHub, drain, receive_until, running_hub

TOKEN = "channel-token"
EMAIL = "John.Doe@example.com"
ASK_EMAIL = "What's the e-mail address of your Lumen account?"
ASK_CODE = "Please type the 6-digit code from that e-mail here."
CONSENT = "I'll send a reset link to J•••@example.com — OK?"


class ScriptedRasa:
    """Rasa's webhook for the hub: records each message, answers from a script.

    Like the actions during a turn, it also reads what the hub kept for the
    turn's message (``kept``), by the ``seq`` of the metadata.
    """

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = list(turns)
        self.received: list[dict[str, Any]] = []
        self.kept: list[dict[str, str]] = []
        self.repository: ConversationRepository | None = None

    async def webhook(self, request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
        body = await request.json()
        self.received.append(body)
        if self.repository is not None:
            self.kept.append(
                await self.repository.kept_for_relay(
                    body["sender"], body["metadata"]["seq"]
                )
            )
        turn = self.turns.pop(0)
        return web.json_response(
            {"messages": [], "slots": {}, "actions": [], "failed_actions": [], **turn}
        )


@pytest.fixture
async def rasa() -> AsyncIterator[tuple[ScriptedRasa, str]]:
    """The form's turns: ask the e-mail, ask the code, ask for consent."""
    scripted = ScriptedRasa(
        [
            {
                "messages": [
                    {"text": ASK_EMAIL, "response": "utter_ask_account_email"}
                ],
                "intent": {"name": "account_reset_start", "confidence": 1.0},
                "slots": {"requested_slot": "account_email"},
            },
            {
                "messages": [{"text": ASK_CODE, "response": "utter_ask_account_code"}],
                "intent": {"name": "inform", "confidence": 0.6},
                "slots": {
                    "requested_slot": "account_code",
                    "account_email": "J•••@example.com",
                },
            },
            {
                "messages": [{"text": CONSENT}],
                "intent": {"name": "inform", "confidence": 0.5},
                "slots": {"account_email": "J•••@example.com"},
            },
            {"messages": [{"text": "All right."}]},
        ]
    )
    app = web.Application()
    app.router.add_post("/webhooks/baton/webhook", scripted.webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield scripted, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def settings_for(hub_settings: Settings, rasa_url: str) -> Settings:
    return hub_settings.with_changes(
        rasa_url=rasa_url,
        rasa_token=TOKEN,
        secret_key="s" * 32,
        accounts=Accounts(provider="builtin"),
    )


async def say(ws: Any, text: str, client_id: str) -> list[dict[str, Any]]:
    await ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
    frames = await receive_until(ws, lambda f: f.get("role") == "bot", timeout=30)
    return frames + await drain(ws, quiet_s=0.2)


def echo_of(frames: list[dict[str, Any]], client_id: str) -> str:
    [text] = [f["text"] for f in frames if f.get("client_id") == client_id]
    return str(text)


async def stored_messages(hub: RunningHub, conversation_id: str) -> list[Any]:
    messages = Message.__table__
    async with hub.ctx.engine.connect() as connection:
        return list(
            await connection.execute(
                sa.select(messages.c.text, messages.c.meta, messages.c.relay_state)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.seq)
            )
        )


async def card_of(hub: RunningHub, conversation_id: str) -> dict[str, Any]:
    handoff = await hub.ctx.handoffs.start(conversation_id, "customer_request")
    assert handoff is not None
    return await hub.ctx.handoffs.card(handoff.id)


async def test_the_email_and_code_are_kept_masked_and_read_in_clear_only_in_the_turn(
    hub_settings: Settings, rasa: tuple[ScriptedRasa, str]
) -> None:
    scripted, rasa_url = rasa
    async with running_hub(settings_for(hub_settings, rasa_url)) as hub:
        scripted.repository = ConversationRepository(hub.ctx.engine)
        conversation_id, token = await hub.new_conversation(locale="en")
        async with hub.socket(conversation_id, token) as ws:
            await drain(ws, quiet_s=0.2)
            start_frames = await say(ws, "I forgot my password", "m1")
            email_frames = await say(ws, f"it's {EMAIL}", "m2")
            code_frames = await say(ws, "123 456", "m3")
            consent_frames = await say(ws, "yes", "m4")
            await hub.ctx.relay.idle()
        # The customer's own screen shows the masked answers.
        assert echo_of(email_frames, "m2") == "it's J•••@example.com"
        assert echo_of(code_frames, "m3") == "••••••"
        # Each question tells the widget its answer is secret (kept out of
        # the widget's storage); the consent question's is not.
        asked = [
            f["meta"].get("secret_answer")
            for frames in (start_frames, email_frames, code_frames, consent_frames)
            for f in frames
            if f.get("type") == "message" and f["role"] == "bot"
        ]
        assert asked == ["account_email", "account_code", None, None]

        # Rasa got the answers masked, with the hub's metadata; during each
        # turn the clear answer was there to read by the message's seq.
        said = [(m["message"], m["metadata"]) for m in scripted.received]
        assert [text for text, _ in said] == [
            "I forgot my password",
            "it's J•••@example.com",
            "••••••",
            "yes",
        ]
        assert scripted.kept == [
            {"client_address": "127.0.0.1"},
            {"client_address": "127.0.0.1", "text": f"it's {EMAIL}"},
            {"client_address": "127.0.0.1", "text": "123 456"},
            {"client_address": "127.0.0.1"},
        ]
        for (_, metadata), seq in zip(said, (1, 3, 5, 7), strict=True):
            assert metadata == {
                "seq": seq,
                "locale": "en",
                "client_address": "127.0.0.1",
            }

        # After the turns, nothing of either, nor the address, stays.
        for seq in (1, 3, 5, 7):
            assert await scripted.repository.kept_for_relay(conversation_id, seq) == {}
        rows = await stored_messages(hub, conversation_id)
        assert [row.relay_state for row in rows if row.relay_state] == ["done"] * 4
        dumped = json.dumps([[row.text, row.meta] for row in rows], ensure_ascii=False)
        for secret in (EMAIL, EMAIL.lower(), "123 456", "123456", "127.0.0.1"):
            assert secret not in dumped
        assert "_relay" not in dumped
        assert [row.text for row in rows if row.text == "yes"] == ["yes"]

        card = await card_of(hub, conversation_id)
        shown = json.dumps(card, ensure_ascii=False)
        for secret in (EMAIL, EMAIL.lower(), "123 456", "123456"):
            assert secret not in shown
        assert [t["text"] for t in card["turns"]][1:3] == [
            "it's J•••@example.com",
            "••••••",
        ]

        conversation = await hub.ctx.conversations.get(conversation_id)
        assert conversation is not None
        recap = build_recap(
            conversation, await hub.ctx.conversations.transcript(conversation_id)
        )
        assert "it's J•••@example.com" in recap.body and "••••••" in recap.body
        assert EMAIL not in recap.body and "123 456" not in recap.body


async def test_an_answer_without_the_secret_is_kept_as_typed(
    hub_settings: Settings, rasa: tuple[ScriptedRasa, str]
) -> None:
    scripted, rasa_url = rasa
    async with running_hub(settings_for(hub_settings, rasa_url)) as hub:
        conversation_id, token = await hub.new_conversation()
        async with hub.socket(conversation_id, token) as ws:
            await drain(ws, quiet_s=0.2)
            await say(ws, "I forgot my password", "m1")
            frames = await say(ws, "I'd rather talk to a person", "m2")
            await hub.ctx.relay.idle()
        assert echo_of(frames, "m2") == "I'd rather talk to a person"
        assert scripted.received[1]["message"] == "I'd rather talk to a person"


async def test_the_card_lists_the_account_steps_from_the_audit_log(
    hub_settings: Settings, rasa: tuple[ScriptedRasa, str]
) -> None:
    _, rasa_url = rasa
    async with running_hub(settings_for(hub_settings, rasa_url)) as hub:
        desk: ResetDesk = hub.app.ctx.reset_desk
        assert isinstance(desk.provider, BuiltinAccounts)
        await desk.provider.create_account(EMAIL, "John", "old-password-42")
        conversation_id, _ = await hub.new_conversation()
        await desk.request_code(conversation_id, EMAIL, client_address="127.0.0.1")
        await desk.drain()
        async with hub.ctx.engine.connect() as connection:
            body = (
                await connection.execute(
                    sa.select(outbox_table.c.body).where(
                        outbox_table.c.conversation_id == conversation_id
                    )
                )
            ).scalar_one()
        found = re.search(r"\b(\d{6})\b", body)
        assert found is not None
        code = found.group(1)
        wrong = "000000" if code != "000000" else "111111"
        await desk.check_code(conversation_id, wrong)
        await desk.check_code(conversation_id, code)
        done = await desk.consent(conversation_id, given=True)
        assert done is not None and done.changes == ("send_link", "sign_out")

        card = await card_of(hub, conversation_id)
        steps = card["account_steps"]
        assert [step["action"] for step in steps] == [
            "account.code_requested",
            "account.code_wrong",
            "account.code_verified",
            "account.consent",
            "account.reset",
        ]
        assert [step["text"] for step in steps] == [
            "One-time code asked for j•••@example.com",
            "Wrong code typed (2 tries left)",
            "Code verified: the customer reads the mail of j•••@example.com",
            "Consent: the customer said yes to: send a reset link, sign out "
            "other devices",
            "Done by the built-in account system: send a reset link, sign out "
            "other devices",
        ]
        assert steps[-1]["detail"]["result"] == "ok"
        shown = json.dumps(card, ensure_ascii=False)
        assert EMAIL.lower() not in shown and code not in shown

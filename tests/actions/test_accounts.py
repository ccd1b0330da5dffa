"""The password-reset actions with real trackers, a real database and SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.accounts
from actions.accounts import (
    CODE_SLOT,
    EMAIL_SLOT,
    OFFER_RESPONSE,
    OUTCOME_SLOT,
    PROGRESS_SLOT,
    ActionAccountConsentAsk,
    ActionAccountResetAct,
    ActionAccountResetDecline,
    ActionAccountResetStart,
    ValidateAccountResetForm,
    reset_offer_response,
)
from bot.accounts import BuiltinAccounts, SharedResetDesk
from bot.config import Accounts, Settings, Smtp
from bot.conversations.repository import (
    RELAY_ONLY,
    ConversationRepository,
    NewMessage,
)
from bot.db.models import AccountCode, CustomerAccount
from bot.knowledge import Answer, load_seed
from tests.bot.accounts.conftest import (
    PASSWORD,
    mailed_code,
    new_conversation,
    unique_email,
)
from tests.bot.accounts.test_webhook import SECRET as COMPANY_SECRET
from tests.bot.accounts.test_webhook import (
    Company,
    company,  # noqa: F401 (a fixture)
)
from tests.bot.conftest import smtp_server  # noqa: F401 (a fixture)

customer_accounts = CustomerAccount.__table__

DOMAIN: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp_server: Any) -> Settings:  # noqa: F811
    controller, _ = smtp_server
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="k" * 32,
        accounts=Accounts(provider="builtin", codes_per_conversation=3),
        smtp=Smtp(host="127.0.0.1", port=controller.port, security="none"),
    )


@pytest.fixture
async def desk(
    settings: Settings, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SharedResetDesk]:
    shared = SharedResetDesk(lambda: settings)
    monkeypatch.setattr(actions.accounts, "shared_reset_desk", shared)
    yield shared
    await shared.close()


async def provider(desk: SharedResetDesk) -> BuiltinAccounts:
    made = await desk.get()
    assert made is not None and isinstance(made.provider, BuiltinAccounts)
    return made.provider


def tracker(
    sender_id: str,
    text: str,
    intent: str | None = None,
    requested: str | None = None,
    *,
    metadata: dict[str, Any] | None = None,
    channel: str = "baton",
    **slots: Any,
) -> Tracker:
    return Tracker(
        sender_id=sender_id,
        slots={"requested_slot": requested, PROGRESS_SLOT: None, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9} if intent else {},
            "entities": [],
            "metadata": metadata or {},
        },
        events=[
            {
                "event": "user",
                "text": text,
                "input_channel": channel,
                "metadata": metadata or {},
            }
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": "account_reset_form"} if requested else {},
        latest_action_name="action_listen",
    )


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def validate(
    sender_id: str,
    slot: str,
    text: str,
    intent: str | None = None,
    *,
    metadata: dict[str, Any] | None = None,
    channel: str = "baton",
    **slots: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    current = tracker(
        sender_id,
        text,
        intent,
        slot,
        metadata=metadata,
        channel=channel,
        **{slot: text, **slots},
    )
    # The form filled the slot from the text; validation sees it as new.
    current.events.append({"event": "slot", "name": slot, "value": text})
    events = await ValidateAccountResetForm().run(dispatcher, current, DOMAIN)
    return dispatcher.messages, slots_of(events)


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def handoff_of(messages: list[dict[str, Any]]) -> str | None:
    for message in messages:
        custom = message.get("custom") or {}
        if "handoff" in custom:
            return str(custom["handoff"]["reason"])
    return None


async def flush(desk: SharedResetDesk) -> None:
    made = await desk.get()
    assert made is not None
    await made.drain()


@pytest.fixture
async def alice(desk: SharedResetDesk) -> str:
    """The e-mail address of a new customer account."""
    email = unique_email()
    await (await provider(desk)).create_account(email, "Alice", PASSWORD)
    return email


CodeMailed = Callable[..., Awaitable[tuple[str, str, str]]]


@pytest.fixture
def code_mailed(
    desk: SharedResetDesk,
    engine: Any,
    smtp_server: Any,  # noqa: F811
) -> CodeMailed:
    """Makes a customer with an account (flags as ``create_account``'s) who typed
    the e-mail: returns (conversation, e-mail, code)."""

    async def mailed(**flags: bool) -> tuple[str, str, str]:
        email = unique_email()
        await (await provider(desk)).create_account(email, "Alice", PASSWORD, **flags)
        chat = await new_conversation(engine)
        await validate(chat, EMAIL_SLOT, email)
        await flush(desk)
        return chat, email, mailed_code(smtp_server, email)

    return mailed


def article(slug: str) -> Answer:
    [found] = [a for a in load_seed() if a.slug == slug]
    return Answer(found, 0.9, found.summary)


def test_importing_the_module_does_no_io() -> None:
    assert actions.accounts.shared_reset_desk._desk is None


async def test_the_offer_follows_the_sign_in_articles_only_when_enabled(
    desk: SharedResetDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert reset_offer_response(article("password-reset")) == OFFER_RESPONSE
    assert reset_offer_response(article("account-locked")) == OFFER_RESPONSE
    assert reset_offer_response(article("refund-request")) is None
    off = SharedResetDesk(lambda: Settings())
    monkeypatch.setattr(actions.accounts, "shared_reset_desk", off)
    assert reset_offer_response(article("password-reset")) is None
    assert OFFER_RESPONSE in DOMAIN["responses"]


async def test_the_happy_path_to_a_reset_link(
    desk: SharedResetDesk,
    engine: Any,
    smtp_server: Any,  # noqa: F811
) -> None:
    email = unique_email()
    await (await provider(desk)).create_account(email, "Alice", PASSWORD, locked=True)
    chat = await new_conversation(engine)

    messages, slots = await validate(chat, EMAIL_SLOT, email)
    assert slots[EMAIL_SLOT] == "a•••@example.com"
    assert "If a•••@example.com belongs to a Lumen account" in texts(messages)
    await flush(desk)
    code = mailed_code(smtp_server, email)
    assert email not in str(slots) and code not in str(slots)

    messages, slots = await validate(
        chat, CODE_SLOT, code, **{EMAIL_SLOT: "a•••@example.com", PROGRESS_SLOT: "x"}
    )
    assert slots[CODE_SLOT] == "verified" and slots[OUTCOME_SLOT] == "ready"
    assert "to do: unlock,send_link,sign_out" in slots[PROGRESS_SLOT]

    dispatcher = CollectingDispatcher()
    after = tracker(chat, "", **{EMAIL_SLOT: "a•••@example.com", **slots})
    await ActionAccountConsentAsk().run(dispatcher, after, DOMAIN)
    assert texts(dispatcher.messages) == (
        "I'll unlock your account, send a reset link to a•••@example.com and sign "
        "you out of your other devices — OK?"
    )

    dispatcher = CollectingDispatcher()
    events = await ActionAccountResetAct().run(
        dispatcher, tracker(chat, "/affirm", "affirm", **slots), DOMAIN
    )
    assert "Done: I've unlocked your account, sent a reset link" in texts(
        dispatcher.messages
    )
    done = slots_of(events)
    assert done[EMAIL_SLOT] is None and done[CODE_SLOT] is None
    assert "yes; done: unlock,send_link,sign_out" in done[PROGRESS_SLOT]
    assert any(
        "/account/reset?token=" in str(m.get_payload(decode=True), "utf-8")
        for to, m in smtp_server[1].mails
        if email in to
    )


async def test_an_unknown_email_gets_the_same_words(
    desk: SharedResetDesk,
    engine: Any,
    smtp_server: Any,  # noqa: F811
) -> None:
    known, unknown = unique_email("kim"), unique_email("kai")
    await (await provider(desk)).create_account(known, "Kim", PASSWORD)
    said = []
    for email in (known, unknown):
        messages, slots = await validate(
            await new_conversation(engine), EMAIL_SLOT, email
        )
        said.append((texts(messages), slots))
    assert said[0] == said[1]
    await flush(desk)
    assert not any(unknown in to for to, _ in smtp_server[1].mails)


@pytest.mark.parametrize(
    ("text", "intent", "reason", "step"),
    [
        ("never mind", None, "customer_request", "the customer stopped"),
        (
            "a person please",
            "request_human",
            "customer_request",
            "the customer stopped",
        ),
        (
            "/account_no_access",
            "account_no_access",
            "customer_request",
            "cannot get to that e-mail",
        ),
        # Someone may be in danger: first in the queue (issue #19).
        (
            "my sister wrote that she wants to end her life tonight",
            "person_in_danger",
            "danger",
            "the customer stopped",
        ),
    ],
)
async def test_stopping_mid_form_hands_over_with_the_progress(
    desk: SharedResetDesk,
    engine: Any,
    text: str,
    intent: str | None,
    reason: str,
    step: str,
) -> None:
    chat = await new_conversation(engine)
    messages, slots = await validate(
        chat,
        CODE_SLOT,
        text,
        intent,
        **{EMAIL_SLOT: "a•••@example.com", PROGRESS_SLOT: "code sent to a•••@x"},
    )
    assert handoff_of(messages) == reason
    assert slots[OUTCOME_SLOT] == "handoff" and slots["requested_slot"] is None
    assert slots[PROGRESS_SLOT].startswith("code sent to a•••@x; ")
    assert step in slots[PROGRESS_SLOT]


async def test_three_wrong_codes_hand_over(code_mailed: CodeMailed) -> None:
    chat, _, code = await code_mailed()
    wrong = "000000" if code != "000000" else "111111"
    said = []
    for _ in range(3):
        messages, slots = await validate(chat, CODE_SLOT, wrong)
        said.append(texts(messages))
    assert said[0] == "That code isn't right. You have 2 more tries."
    assert said[1] == "That code isn't right. You have 1 more try."
    assert handoff_of(messages) == "sensitive"
    assert "three wrong codes: handed to a person" in slots[PROGRESS_SLOT]


async def test_a_flagged_account_goes_to_a_person_after_the_code(
    code_mailed: CodeMailed,
) -> None:
    chat, _, code = await code_mailed(two_factor_lost=True)
    messages, slots = await validate(chat, CODE_SLOT, code)
    assert handoff_of(messages) == "sensitive"
    assert "two-factor device lost" in slots[PROGRESS_SLOT]


async def test_no_at_consent_changes_nothing(
    code_mailed: CodeMailed, engine: Any
) -> None:
    chat, _, code = await code_mailed()
    await validate(chat, CODE_SLOT, code)
    async with engine.connect() as connection:
        before = (await connection.execute(customer_accounts.select())).all()
    dispatcher = CollectingDispatcher()
    events = await ActionAccountResetDecline().run(
        dispatcher, tracker(chat, "no", "deny"), DOMAIN
    )
    assert "I haven't changed anything" in texts(dispatcher.messages)
    assert "no at consent: nothing changed" in slots_of(events)[PROGRESS_SLOT]
    async with engine.connect() as connection:
        assert (await connection.execute(customer_accounts.select())).all() == before
    # The yes that comes too late finds nothing to act on.
    dispatcher = CollectingDispatcher()
    await ActionAccountResetAct().run(
        dispatcher, tracker(chat, "yes", "affirm"), DOMAIN
    )
    assert "haven't changed anything" in texts(dispatcher.messages)


async def test_a_bad_address_is_asked_again(desk: SharedResetDesk, engine: Any) -> None:
    messages, slots = await validate(
        await new_conversation(engine), EMAIL_SLOT, "my email is alice"
    )
    assert slots[EMAIL_SLOT] is None
    assert "doesn't look like an e-mail address" in texts(messages)


async def test_the_slots_cleared_by_the_start_are_not_answers(
    desk: SharedResetDesk, engine: Any
) -> None:
    # At the form's activation Rasa validates the slots the start action has
    # just cleared: nothing was typed, so nothing is said (the customer saw
    # "That doesn't look like an e-mail address" and "That code has expired"
    # before the e-mail question).
    chat = await new_conversation(engine)
    start = await ActionAccountResetStart().run(
        CollectingDispatcher(),
        tracker(chat, "/account_reset_start", "account_reset_start"),
        DOMAIN,
    )
    current = tracker(chat, "/account_reset_start", "account_reset_start")
    current.events.extend(e for e in start if e["event"] == "slot")
    assert {EMAIL_SLOT, CODE_SLOT} <= set(current.slots_to_validate())
    dispatcher = CollectingDispatcher()
    events = await ValidateAccountResetForm().run(dispatcher, current, DOMAIN)
    assert dispatcher.messages == []
    assert slots_of(events)[EMAIL_SLOT] is None
    assert slots_of(events).get(PROGRESS_SLOT) is None


async def test_the_rate_limit_says_so_and_offers_a_person(
    desk: SharedResetDesk, engine: Any
) -> None:
    chat = await new_conversation(engine)
    for _ in range(3):
        await validate(chat, EMAIL_SLOT, unique_email())
    messages, slots = await validate(chat, EMAIL_SLOT, unique_email())
    assert slots[OUTCOME_SLOT] == "limited" and slots["requested_slot"] is None
    assert "can't send another one right now" in texts(messages)
    assert messages[-1]["buttons"] == [
        {"title": "Talk to a person", "payload": "/request_human"}
    ]
    assert handoff_of(messages) is None


async def test_a_verified_customer_skips_the_email_question(
    desk: SharedResetDesk,
    alice: str,
    engine: Any,
    smtp_server: Any,  # noqa: F811
) -> None:
    email = alice
    chat = await new_conversation(engine, email=email, verified=True)
    dispatcher = CollectingDispatcher()
    events = await ActionAccountResetStart().run(
        dispatcher, tracker(chat, "/account_reset_start", "account_reset_start"), DOMAIN
    )
    slots = slots_of(events)
    assert slots[EMAIL_SLOT] == "a•••@example.com"
    assert slots[OUTCOME_SLOT] is None and slots[CODE_SLOT] is None
    assert (events[-1]["event"], events[-1]["name"]) == (
        "followup",
        "account_reset_form",
    )
    await flush(desk)
    assert mailed_code(smtp_server, email)
    # The form, started with the masked address, sends no second code.
    messages, slots = await validate(chat, EMAIL_SLOT, "a•••@example.com")
    assert slots[EMAIL_SLOT] == "a•••@example.com" and messages == []
    await flush(desk)
    assert sum(email in to for to, _ in smtp_server[1].mails) == 1
    # An unverified one is asked (nothing sent, the e-mail slot stays empty).
    other = await new_conversation(engine, email=unique_email(), verified=False)
    events = await ActionAccountResetStart().run(
        CollectingDispatcher(), tracker(other, "/account_reset_start"), DOMAIN
    )
    assert slots_of(events)[EMAIL_SLOT] is None


def test_actions_are_in_the_domain() -> None:
    for action in (
        ActionAccountResetStart(),
        ActionAccountConsentAsk(),
        ActionAccountResetAct(),
        ActionAccountResetDecline(),
        ValidateAccountResetForm(),
    ):
        assert action.name() in DOMAIN["actions"]


async def test_a_verified_customer_over_the_limit_gets_no_form(
    desk: SharedResetDesk, engine: Any
) -> None:
    email = unique_email()
    chat = await new_conversation(engine, email=email, verified=True)
    start = tracker(chat, "/account_reset_start", "account_reset_start")
    for _ in range(3):
        await ActionAccountResetStart().run(CollectingDispatcher(), start, DOMAIN)
    dispatcher = CollectingDispatcher()
    events = await ActionAccountResetStart().run(dispatcher, start, DOMAIN)
    assert slots_of(events)[OUTCOME_SLOT] == "limited"
    assert all(event["event"] != "followup" for event in events)
    assert "can't send another one right now" in texts(dispatcher.messages)


PERSON_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}


async def test_the_per_address_limit_counts_the_address_the_hub_sent(
    settings: Settings, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = SharedResetDesk(
        lambda: settings.with_changes(
            accounts=Accounts(provider="builtin", codes_per_address=2)
        )
    )
    monkeypatch.setattr(actions.accounts, "shared_reset_desk", limited)
    try:
        crowded = {"seq": 3, "locale": None, "client_address": "203.0.113.7"}
        for _ in range(2):
            _, slots = await validate(
                await new_conversation(engine),
                EMAIL_SLOT,
                unique_email(),
                metadata=crowded,
            )
            assert slots[EMAIL_SLOT] == "a•••@example.com"
        # A third chat from the same address, as a new conversation would be.
        messages, slots = await validate(
            await new_conversation(engine), EMAIL_SLOT, unique_email(), metadata=crowded
        )
        assert slots[OUTCOME_SLOT] == "limited" and slots["requested_slot"] is None
        said = texts(messages)
        assert "codes for your internet connection in a short time" in said
        assert "A person from our support team can help you straight away." in said
        assert messages[-1]["buttons"] == [PERSON_BUTTON]
        assert "rate limit for your internet connection" in slots[PROGRESS_SLOT]
        # Another address is not held back; nor is metadata that did not come
        # through the hub's channel trusted to name an address.
        for metadata, channel in (
            ({**crowded, "client_address": "198.51.100.1"}, "baton"),
            (crowded, "rest"),
        ):
            _, slots = await validate(
                await new_conversation(engine),
                EMAIL_SLOT,
                unique_email(),
                metadata=metadata,
                channel=channel,
            )
            assert slots.get(OUTCOME_SLOT) != "limited", channel
    finally:
        await limited.close()


async def test_an_expired_code_is_refused_and_a_new_one_asked_for(
    code_mailed: CodeMailed, engine: Any
) -> None:
    chat, _, code = await code_mailed()
    codes = AccountCode.__table__
    async with engine.begin() as connection:
        await connection.execute(
            codes.update()
            .where(codes.c.conversation_id == chat)
            .values(expires_at=dt.datetime.now(dt.timezone.utc))
        )
    messages, slots = await validate(chat, CODE_SLOT, code)
    assert texts(messages) == "That code has expired. Let's send a new one."
    assert slots[EMAIL_SLOT] is None and slots[CODE_SLOT] is None
    assert slots.get(OUTCOME_SLOT) is None
    assert "the code expired" in slots[PROGRESS_SLOT]


async def test_a_used_code_is_refused_and_changes_nothing_again(
    code_mailed: CodeMailed,
    desk: SharedResetDesk,
    smtp_server: Any,  # noqa: F811
) -> None:
    chat, email, code = await code_mailed()
    _, slots = await validate(chat, CODE_SLOT, code)
    assert slots[CODE_SLOT] == "verified"
    await ActionAccountResetAct().run(
        CollectingDispatcher(), tracker(chat, "/affirm", "affirm", **slots), DOMAIN
    )
    await flush(desk)
    links = sum(email in to for to, _ in smtp_server[1].mails)

    # The same code typed again, and a second yes: both refused.
    messages, again = await validate(chat, CODE_SLOT, code)
    assert texts(messages) == "That code has expired. Let's send a new one."
    assert again[CODE_SLOT] is None and again.get(OUTCOME_SLOT) is None
    dispatcher = CollectingDispatcher()
    await ActionAccountResetAct().run(
        dispatcher, tracker(chat, "/affirm", "affirm", **slots), DOMAIN
    )
    assert "I haven't changed anything" in texts(dispatcher.messages)
    assert PERSON_BUTTON in dispatcher.messages[-1]["buttons"]
    await flush(desk)
    assert sum(email in to for to, _ in smtp_server[1].mails) == links


@pytest.fixture
async def webhook_desk(
    settings: Settings,
    company: tuple[Company, str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Company]:
    """The actions on the webhook provider, against the fake company system."""
    shared = SharedResetDesk(
        lambda: settings.with_changes(
            accounts=Accounts(
                provider="webhook",
                webhook_url=company[1],
                webhook_secret=COMPANY_SECRET,
                webhook_timeout_s=0.5,
            )
        )
    )
    monkeypatch.setattr(actions.accounts, "shared_reset_desk", shared)
    yield company[0]
    await shared.close()


@pytest.mark.parametrize("mood", ["error", "slow"])
async def test_the_company_system_failing_at_the_email_hands_over(
    webhook_desk: Company, engine: Any, mood: str
) -> None:
    webhook_desk.mood = mood
    messages, slots = await validate(
        await new_conversation(engine), EMAIL_SLOT, "carol@example.com"
    )
    assert handoff_of(messages) == "bot_unavailable"
    assert "Sorry, I can't reach our account system right now." in texts(messages)
    assert slots[OUTCOME_SLOT] == "handoff" and slots[EMAIL_SLOT] is None
    assert (
        "the account system did not answer: handed to a person"
        in (slots[PROGRESS_SLOT])
    )


@pytest.mark.parametrize("mood", ["error", "slow"])
async def test_the_company_system_failing_after_the_yes_hands_over(
    webhook_desk: Company,
    engine: Any,
    smtp_server: Any,  # noqa: F811
    mood: str,
) -> None:
    chat = await new_conversation(engine)
    await validate(chat, EMAIL_SLOT, "carol@example.com")
    await flush(actions.accounts.shared_reset_desk)
    code = mailed_code(smtp_server, "carol@example.com")
    _, slots = await validate(chat, CODE_SLOT, code)
    assert slots[OUTCOME_SLOT] == "ready"
    webhook_desk.mood = mood
    dispatcher = CollectingDispatcher()
    events = await ActionAccountResetAct().run(
        dispatcher, tracker(chat, "/affirm", "affirm", **slots), DOMAIN
    )
    assert handoff_of(dispatcher.messages) == "bot_unavailable"
    assert "nothing has been changed" in texts(dispatcher.messages)
    assert "the account system failed" in slots_of(events)[PROGRESS_SLOT]
    assert webhook_desk.accounts["u-1"]["locked"] is True


async def hub_kept(engine: Any, chat: str, masked: str, clear: str) -> int:
    """A pending customer message as the hub stores a masked answer; its seq."""
    [stored], _ = await ConversationRepository(engine).append(
        chat,
        [
            NewMessage(
                role="customer",
                text=masked,
                meta={RELAY_ONLY: {"text": clear}},
                relay_state="pending",
            )
        ],
    )
    return stored.seq


async def test_the_masked_answers_are_read_in_clear_from_the_hub(
    desk: SharedResetDesk,
    alice: str,
    engine: Any,
    smtp_server: Any,  # noqa: F811
) -> None:
    chat = await new_conversation(engine)
    # Rasa has only the masked text; the clear one is the hub's, by seq.
    seq = await hub_kept(engine, chat, "a•••@example.com", alice)
    messages, slots = await validate(
        chat, EMAIL_SLOT, "a•••@example.com", metadata={"seq": seq}
    )
    assert "If a•••@example.com belongs to a Lumen account" in texts(messages)
    await flush(desk)
    code = mailed_code(smtp_server, alice)
    seq = await hub_kept(engine, chat, "••••••", code)
    _, slots = await validate(chat, CODE_SLOT, "••••••", metadata={"seq": seq})
    assert slots[CODE_SLOT] == "verified" and slots[OUTCOME_SLOT] == "ready"
    # Once relayed the hub has erased it: "••••••" alone is no code.
    await ConversationRepository(engine).set_relay_state(
        await _message_id(engine, chat, seq), "done"
    )
    assert await ConversationRepository(engine).kept_for_relay(chat, seq) == {}


async def _message_id(engine: Any, chat: str, seq: int) -> int:
    [message] = [
        m for m in await ConversationRepository(engine).transcript(chat) if m.seq == seq
    ]
    return message.id

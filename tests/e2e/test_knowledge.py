"""Knowledge-base answers through the real stack: Rasa, actions, hub, database."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.handoff.service import DANGER_NO_AGENT_TEXT, DANGER_QUEUED_TEXT
from bot.knowledge import KnowledgeIndex, load_seed, plausible_hits
from tests.conftest import PROJECT_DIR
from tests.e2e.helpers import DEMO_AGENT, DEMO_PASSWORD, handoffs_of, sign_in
from tests.e2e.test_stack import connect, is_bot, say, start
from tests.hub import drain, receive_until

pytestmark = pytest.mark.stack

PASSWORD = "a long enough password"
#: The example of the issue: two-factor-reset ranks first, but the search may
#: not be confident enough to answer with it.
PHONE_CHANGED = "cant get into my account after changing phone"
#: Vague messages about sign-in codes; the tests use the first one for which
#: the seed knowledge base, with the tuned settings the stack runs, offers
#: both two-factor articles instead of answering, whatever the intent (the
#: tuned confidence moves with each tuning round; the flow under test does
#: not).
AMBIGUOUS_CANDIDATES = (
    "issue with 2-step thing",
    "help with 2-step thing",
    "question about sign-in codes",
    "question about login codes",
    "a question about my two factor codes",
)


def ambiguous_message() -> str:
    """The first candidate the bot offers both two-factor articles for."""
    index = KnowledgeIndex.build(load_seed())
    for text in AMBIGUOUS_CANDIDATES:
        offers = []
        for intent, confidence in (
            (None, 0.0),
            ("two_factor_problem", 0.8),
            ("nlu_fallback", 0.4),
        ):
            result = index.search(text, intent=intent, intent_confidence=confidence)
            offered = plausible_hits(result, index.settings, intent)
            offers.append(result.answer is None and len(offered) >= 2)
        if all(offers):
            return text
    raise AssertionError("no candidate message is ambiguous: add one")


AMBIGUOUS = ambiguous_message()
CHOICE_PREFIX = "/choose_article"


def articles_shown(frames: list[dict[str, Any]]) -> list[str]:
    return [
        f["meta"]["article"] for f in frames if is_bot(f) and "article" in f["meta"]
    ]


async def click(ws: Any, frames: list[dict[str, Any]], title: str) -> list[dict]:
    """Click the latest offered button with this title; return what follows."""
    offered = [b for f in frames if is_bot(f) for b in f["buttons"]]
    button = [b for b in offered if b["title"] == title][-1]
    await ws.send(
        json.dumps(
            {
                "type": "button",
                "payload": button["payload"],
                "client_id": secrets.token_hex(6),
            }
        )
    )
    return await receive_until(ws, is_bot, timeout=60) + await drain(ws, 1.5)


async def press(ws: Any, payload: str) -> list[dict[str, Any]]:
    """Press an offered button by its payload; return what follows."""
    message = {"type": "button", "payload": payload, "client_id": secrets.token_hex(6)}
    await ws.send(json.dumps(message))
    return await receive_until(ws, is_bot, timeout=60) + await drain(ws, 1.5)


def offered_articles(frames: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The article buttons of the bot's offer among these frames, in order."""
    return [
        button
        for frame in frames
        if is_bot(frame)
        for button in frame["buttons"]
        if button["payload"].startswith(CHOICE_PREFIX)
    ]


def choice_slug(button: dict[str, str]) -> str:
    return str(json.loads(button["payload"][len(CHOICE_PREFIX) :])["article"])


def assert_asks_if_it_helped(frames: list[dict[str, Any]]) -> None:
    last = [f for f in frames if is_bot(f)][-1]
    assert last["text"] == "Did that solve your problem?"
    assert [b["title"] for b in last["buttons"]] == ["Yes, thanks", "No"]


def create_account(stack: Any, role: str) -> str:
    email = f"kb-{role}-{secrets.token_hex(3)}@example.com"
    command = ["create-agent", "--email", email, "--name", "Editor", "--role", role]
    subprocess.run(
        [sys.executable, "-m", "bot", *command],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "BATON_DATA_DIR": str(stack.data_dir),
            "BATON_DATABASE_URL": stack.database_url,
            "BATON_NEW_AGENT_PASSWORD": PASSWORD,
            "BATON_LOG_LEVEL": "WARNING",
        },
        check=True,
        capture_output=True,
    )
    return email


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("how do I get my money back", "refund-request"),
        ("my notes aren't showing up on my other laptop", "sync-not-working"),
    ],
)
async def test_paraphrases_get_the_expected_article(
    stack: Any, question: str, slug: str
) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, question, "q-1")
    assert articles_shown(frames) == [slug]
    texts = [f["text"] for f in frames if is_bot(f)]
    assert texts[-1] == "Did that solve your problem?"
    assert [b["title"] for b in frames[-1]["buttons"]] == ["Yes, thanks", "No"]


async def test_two_rejected_answers_hand_over_to_a_person(stack: Any) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, "my notes are not syncing", "s-1")
        first = articles_shown(frames)
        assert first == ["sync-not-working"]
        frames = await click(ws, frames, "No")
        # The next article, or, when none is confident, the plausible ones to
        # choose from: a chosen article counts as the second answer.
        offered = offered_articles(frames)
        if offered:
            assert articles_shown(frames) == []
            assert "sync-not-working" not in map(choice_slug, offered)
            frames = await press(ws, offered[0]["payload"])
        second = articles_shown(frames)
        assert len(second) == 1 and second != first
        assert_asks_if_it_helped(frames)
        await ws.send(
            json.dumps({"type": "button", "payload": "/deny", "client_id": "no-2"})
        )
        handed = await receive_until(
            ws, lambda f: f.get("state") in {"queued", "follow_up"}, 60
        )
    # The hub announces it, once it knows whether a person joins now.
    assert any(
        f.get("type") == "message"
        and f["role"] == "system"
        and ("bringing in a person" in f["text"] or "Nobody from our" in f["text"])
        for f in handed
    )


async def test_an_edited_article_changes_the_next_answer(stack: Any) -> None:
    email = create_account(stack, "trainer")
    new_summary = f"Refunds are handled in 3 days now ({secrets.token_hex(3)})."
    # unsafe=True: keep the session cookie of a host given by IP address.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(
            f"{stack.url}/api/auth/login",
            json={"email": email, "password": PASSWORD},
        ) as response:
            assert response.status == 200, await response.text()
            csrf = (await response.json())["csrf_token"]
        async with http.put(
            f"{stack.url}/api/kb/articles/refund-request",
            json={"summary": new_summary},
            headers={"X-CSRF-Token": csrf},
        ) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["article"]["summary"] == new_summary
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, "how do I get my money back", "r-1")
    answer = next(f for f in frames if is_bot(f) and f["meta"].get("article"))
    assert answer["meta"]["article"] == "refund-request"
    assert answer["text"].startswith(new_summary)


async def test_the_phone_example_leads_to_two_factor_reset(stack: Any) -> None:
    """The issue's example gets the two-factor article: answered at once, or
    one click away (offered among plausible articles, or named in the
    fallback's "Is your question about ...?" when the NLU is unsure of the
    intent but the knowledge base is sure of the article)."""
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, PHONE_CHANGED, "p-1")
        bot_texts = [f["text"] for f in frames if is_bot(f)]
        offered = offered_articles(frames)
        if not offered:
            assert articles_shown(frames) == ["two-factor-reset"], bot_texts
            assert_asks_if_it_helped(frames)
            return
        [button] = [b for b in offered if choice_slug(b) == "two-factor-reset"]
        frames = await press(ws, button["payload"])
    assert articles_shown(frames) == ["two-factor-reset"]
    assert_asks_if_it_helped(frames)


async def test_an_offered_article_is_chosen_with_its_button(stack: Any) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, AMBIGUOUS, "a-1")
        offer = [f for f in frames if is_bot(f)][-1]
        assert offer["text"] == "I'm not sure which of these you mean:"
        assert articles_shown(frames) == []
        articles = offered_articles(frames)
        slugs = [choice_slug(button) for button in articles]
        assert {"two-factor-reset", "two-factor-setup"} <= set(slugs)
        assert offer["buttons"] == [
            *articles,
            {"title": "Something else", "payload": "/none_of_these"},
            {"title": "Talk to a person", "payload": "/request_human"},
        ]
        [button] = [b for b in articles if choice_slug(b) == "two-factor-reset"]
        assert button["title"] != button["payload"]
        frames = await press(ws, button["payload"])
        assert articles_shown(frames) == ["two-factor-reset"]
        # The customer's message shows the button's title, not its payload.
        pressed = [f for f in frames if f.get("role") == "customer"]
        assert [f["text"] for f in pressed] == [button["title"]]
        assert_asks_if_it_helped(frames)
        frames = await click(ws, frames, "Yes, thanks")
    assert any(is_bot(f) and f["text"].startswith("Great") for f in frames)


async def test_an_offered_article_is_chosen_by_its_position(stack: Any) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, AMBIGUOUS, "o-1")
        slugs = [choice_slug(button) for button in offered_articles(frames)]
        assert len(slugs) >= 2
        frames = await say(ws, "the second one please", "o-2")
    assert articles_shown(frames) == [slugs[1]]
    assert_asks_if_it_helped(frames)


async def test_something_else_asks_for_more(stack: Any) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        frames = await say(ws, AMBIGUOUS, "e-1")
        assert offered_articles(frames)
        frames = await click(ws, frames, "Something else")
    [reply] = [f for f in frames if is_bot(f)]
    assert reply["text"].startswith("All right. Could you tell me in your own words")
    assert articles_shown(frames) == []


# Answer first (bot/nlu/knowledge.py): one decision per message, made with the
# intent model's and the knowledge base's confidence together.

HANDED_OVER = {"queued", "follow_up"}


async def first_turn(stack: Any, text: str) -> list[dict[str, Any]]:
    """What a new customer sees after typing ``text``."""
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "message", "text": text, "client_id": "t-1"}))
        return await receive_until(
            ws, lambda f: is_bot(f) or f.get("state") in HANDED_OVER, 60
        ) + await drain(ws, 1.5)


def handed_over(frames: list[dict[str, Any]]) -> bool:
    return any(f.get("state") in HANDED_OVER for f in frames)


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        # Questions the intent model is unsure of (the fallback would have
        # asked "Did you mean ...?"), or takes for something else (a request
        # for a person, a "no"), while the knowledge base is sure.
        ("how can my coworker join our team workspace", "team-invite"),
        ("resend confirmation email", "verify-email"),
        ("how do i invite my colleagues", "team-invite"),
        ("can i use the web app with no wifi", "offline-mode"),
        # Issue #19: where and when support can be reached is a how-to
        # question (contact_support), not a request for a person (blind sets
        # i and j handed both over).
        (
            "Is there an email address or phone number for support?",
            "contact-support-hours",
        ),
        # How Lumen keeps notes private is a how-to question (data_privacy),
        # not a hacked account (blind sets i and l handed it over).
        (
            "Is my stuff encrypted? Can your employees read my notes?",
            "data-privacy",
        ),
    ],
)
async def test_a_confident_article_is_the_first_answer(
    stack: Any, question: str, slug: str
) -> None:
    frames = await first_turn(stack, question)
    texts = [f["text"] for f in frames if is_bot(f)]
    assert articles_shown(frames) == [slug], texts
    assert not handed_over(frames)
    assert_asks_if_it_helped(frames)


@pytest.mark.parametrize(
    "request_text",
    [
        "agent please",
        "I want to talk to a human being, not a bot",
        "can I speak to someone about my invoice",
        "get me a real person, the sync thing is still broken",
        # The search finds the topic's article, with contacting support next.
        "I need to speak to a person about exporting my notes to pdf",
        # Other languages, stopping the bot, a call, a manager (issue #19).
        "ich möchte bitte mit einem Mitarbeiter reden",
        "quiero hablar con alguien de verdad",
        "je voudrais parler à une vraie personne",
        "stop the bot, get me a person",
        "can someone please call me",
        "I want your manager",
    ],
)
async def test_a_request_for_a_person_hands_over_in_any_wording(
    stack: Any, request_text: str
) -> None:
    frames = await first_turn(stack, request_text)
    assert handed_over(frames), [f.get("text") for f in frames if is_bot(f)]
    assert articles_shown(frames) == []


@pytest.mark.parametrize(
    "text",
    [
        "a hacker got into my account and spent money on my card",
        "I'm going to reverse this payment through my bank",
        "I formally request deletion of my personal data under GDPR",
        "the account owner passed away, I'm handling the estate",
    ],
)
async def test_a_sensitive_matter_hands_over_without_an_article(
    stack: Any, text: str
) -> None:
    """A hacked account with money gone, a chargeback threat, a formal GDPR
    demand and a bereavement: several share words with an article (payments,
    deleting the account); a person takes them, the article is not the
    answer. (Harassment by another user is not yet reliable: with the model
    trained on 2026-12-03 some wordings get "Did you mean that you want to
    make a complaint?", a person one click away.)"""
    frames = await first_turn(stack, text)
    assert handed_over(frames), [f.get("text") for f in frames if is_bot(f)]
    assert articles_shown(frames) == []


DANGER_NOTE = (
    "a friend posted in our shared notebook that she plans to end her life tonight"
)


def nobody_online(stack: Any) -> None:
    """Take every agent offline (PostgreSQL is shared by the whole run)."""
    engine = sa.create_engine(stack.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE agents SET presence = 'offline'"))
    finally:
        engine.dispose()


async def danger_turn(stack: Any) -> tuple[str, list[dict[str, Any]]]:
    """What a new customer sees after typing :data:`DANGER_NOTE`."""
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        await ws.send(
            json.dumps({"type": "message", "text": DANGER_NOTE, "client_id": "t-1"})
        )
        frames = await receive_until(
            ws, lambda f: f.get("state") in HANDED_OVER, 60
        ) + await drain(ws, 1.5)
    return conversation_id, frames


@pytest.mark.parametrize("agent_online", [True, False], ids=["agent", "nobody"])
async def test_someone_in_danger_reads_the_emergency_number_once_and_gets_a_person(
    stack: Any, seeded: None, agent_online: bool
) -> None:
    """Self-harm found in a shared note: a person at once, never an article
    (however sure the search is). The bot only says sorry; the hub's notice
    (the widget's "Help right now" card) gives the emergency number, first
    and once, with the numbers to tap. The customer read it twice before
    (the bot's turn, then the notice). The chat waits in the live queue as
    ``danger`` (first in line), never as a follow-up with a due time: with
    an agent online a person joins; with nobody online (the same notice as
    outside support hours) the notice says so instead of a promise. Crisis
    lines come either way."""
    if agent_online:
        agent = await sign_in(stack, DEMO_AGENT, DEMO_PASSWORD)
        async with agent.socket():  # an open console keeps the agent online
            conversation_id, frames = await danger_turn(stack)
    else:
        nobody_online(stack)
        conversation_id, frames = await danger_turn(stack)
    said = [
        f
        for f in frames
        if f.get("type") == "message" and f.get("role") in {"bot", "system"}
    ]
    texts = [f["text"] for f in said]
    assert [f["text"] for f in frames if is_bot(f)] == [
        "I'm so sorry you're dealing with this."
    ], texts
    assert " ".join(texts).count("emergency number") == 1, texts
    assert " ".join(texts).count("112") == 1, texts
    assert " ".join(texts).count("988") == 1, texts
    assert " ".join(texts).count("findahelpline.com") == 1, texts
    assert handed_over(frames), texts
    assert articles_shown(frames) == []
    statuses = [f for f in frames if f.get("type") == "status"]
    assert [f["state"] for f in statuses][-1] == "queued", statuses
    assert not any("due_at" in f for f in statuses), statuses
    [notice] = [f for f in said if f["role"] == "system"]
    expected = DANGER_QUEUED_TEXT if agent_online else DANGER_NO_AGENT_TEXT
    assert notice["text"] == expected, texts
    assert "emergency number" in notice["text"].split(". ")[0]
    assert "due_at" not in notice["meta"]
    assert notice["meta"]["notice"] == "danger"  # the widget makes it a card
    calls = [link["href"] for link in notice["meta"]["links"]]
    # The crisis lines too, a person online or not (in support hours the
    # card gave 112 and 911 only).
    assert calls == [
        "tel:112",
        "tel:911",
        "tel:988",
        "tel:116123",
        "https://findahelpline.com",
    ], calls
    assert statuses[-1]["danger"] is True  # and offers no leaving
    assert [reason for _, reason, _ in handoffs_of(stack, conversation_id)] == [
        "danger"
    ]


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        (
            "meine notizen synchronisieren nicht zwischen handy und laptop",
            "sync-not-working",
        ),
        ("wie kann ich mein passwort zurücksetzen", "password-reset"),
    ],
)
async def test_a_how_to_question_in_another_language_is_answered(
    stack: Any, question: str, slug: str
) -> None:
    """The English search alone is not sure of the article; the intent model
    is sure of the intent the article lists: the article is the first answer,
    not "Is your question about …?" and not a person."""
    frames = await first_turn(stack, question)
    texts = [f["text"] for f in frames if is_bot(f)]
    assert articles_shown(frames) == [slug], texts
    assert not handed_over(frames)


async def test_a_how_to_question_worded_as_a_request_gets_its_article(
    stack: Any,
) -> None:
    """A how-to question asked of "someone on your team" is answered, not
    queued for a person. (The DIET model took this one for a request for a
    person at 0.99 and the customer was asked "Is your question about …?";
    the linear model is not sure it asks for a person, and the search is sure
    of the article. The ask path itself: tests/bot/nlu/test_knowledge.py.)"""
    frames = await first_turn(
        stack, "can someone on your team tell me how to export my notes as pdf"
    )
    texts = [f["text"] for f in frames if is_bot(f)]
    assert articles_shown(frames) == ["export-notes"], texts
    assert not handed_over(frames)


@pytest.mark.parametrize(
    ("text", "reply_start"),
    [
        ("hey there", "Hi, I'm Baton"),
        ("hola, buenas tardes", "Hi, I'm Baton"),
        ("are you a robot", "I'm Baton, a virtual assistant"),
    ],
)
async def test_small_talk_is_answered_as_small_talk(
    stack: Any, text: str, reply_start: str
) -> None:
    frames = await first_turn(stack, text)
    assert [f["text"][: len(reply_start)] for f in frames if is_bot(f)] == [reply_start]
    assert articles_shown(frames) == []


@pytest.mark.parametrize(
    "text",
    [
        "dropbox not syncing",
        "what's the weather like in Lisbon tomorrow",
        "how do i turn on two factor for my instagram",
    ],
)
async def test_out_of_scope_is_not_answered_with_an_article(
    stack: Any, text: str
) -> None:
    frames = await first_turn(stack, text)
    assert articles_shown(frames) == []


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("this is a joke, where do I download my invoices??", "billing-invoice"),
        ("ffs how do I invite my team to the workspace", "team-invite"),
    ],
)
async def test_an_angry_how_to_question_gets_its_article_and_a_person_nearby(
    stack: Any, text: str, slug: str
) -> None:
    """Issue #19: the frustration detector fires, the search is sure of an
    article that is not about reaching people: the customer gets it, sorry
    first, with "Talk to a person" one click away, rather than a person."""
    frames = await first_turn(stack, text)
    replies = [f for f in frames if is_bot(f)]
    assert not handed_over(frames), [f["text"] for f in replies]
    assert articles_shown(frames) == [slug]
    assert replies[0]["text"].startswith("Sorry this is getting in your way")
    buttons = {b["title"]: b["payload"] for b in replies[-1]["buttons"]}
    assert buttons["Talk to a person"] == "/request_human"
    assert "Yes, thanks" in buttons


async def test_a_how_to_question_half_taken_for_danger_gets_the_article_and_numbers(
    stack: Any,
) -> None:
    """Issue #19: person_in_danger 0.40 for a question nearly the restore
    article's own (config.yml: danger_intents): the article, where to get
    help right now in case, and a person one click away; no hand-over."""
    frames = await first_turn(
        stack, "i deleted a note by accident yesterday is it gone forever"
    )
    replies = [f for f in frames if is_bot(f)]
    assert not handed_over(frames), [f["text"] for f in replies]
    assert articles_shown(frames) == ["restore-deleted-note"]
    safety = [f["text"] for f in replies if "emergency number" in f["text"]]
    assert len(safety) == 1 and "112" in safety[0]
    buttons = {b["title"]: b["payload"] for b in replies[-1]["buttons"]}
    assert buttons["Talk to a person"] == "/request_human"


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("my Spotify account is locked, how do I unlock it", "Spotify"),
        ("where do I find my invoices in QuickBooks", "QuickBooks"),
    ],
)
async def test_a_question_about_another_product_says_whose_it_is(
    stack: Any, text: str, product: str
) -> None:
    """Issue #19: another company's product, not named in the article the
    search found: no article, a clear reply naming the product."""
    frames = await first_turn(stack, text)
    replies = [f["text"] for f in frames if is_bot(f)]
    assert articles_shown(frames) == []
    assert not handed_over(frames)
    [reply] = replies
    assert f"a question about {product}" in reply
    assert "I can help with Lumen" in reply


async def test_another_product_the_article_names_still_gets_it(stack: Any) -> None:
    frames = await first_turn(stack, "how do I bring my notes over from Evernote")
    assert articles_shown(frames) == ["import-from-other-apps"]


# The benchmark's client and scoring are the same for both stacks, and every
# test above asks both stacks questions: once is enough.
@pytest.mark.only_with(stack="embedded")
async def test_the_end_to_end_benchmark_runs_on_a_slice(stack: Any) -> None:
    """``python -m bench.e2e.run`` against the running stack, on the
    validation set (never the held-out one): every question gets a first
    turn, scored; the figures themselves are recorded by ``make bench-e2e``."""
    from bench.e2e.run import (
        OUTCOMES,
        VALIDATION_QUESTIONS,
        load_questions,
        run_questions,
        summarise,
    )

    questions = load_questions(VALIDATION_QUESTIONS)
    results = await run_questions(stack.url, stack.ws_url, questions, 4)
    assert len(results) == len(questions)
    summary = summarise(results)
    assert sum(row["n"] for row in summary["groups"].values()) == len(questions)
    for row in summary["groups"].values():
        # Each share is rounded to 4 decimals.
        assert abs(sum(row[name] for name in OUTCOMES) - 1.0) <= 1e-4 * len(OUTCOMES)
    # Requests for a person reach one; at least half the answerable ones get
    # their article first (the full figures are in bench/e2e/results.json).
    # The floor was 0.6 when the file held 21 answerable messages; on
    # 2026-12-03 it gained 12 hard ones for issue #19 (8 in other languages,
    # which the English search scores low), and the model of 0efc2c1 gets
    # 54.5 % of the 33 (60.6 % before issue #16's intents): a floor that
    # catches a pipeline that stopped asking the knowledge base, not the
    # quality figure, which issue #19 measures on blind sets.
    assert summary["groups"]["human"]["handed_off"] >= 0.8
    assert summary["groups"]["answerable"]["right_first"] >= 0.5

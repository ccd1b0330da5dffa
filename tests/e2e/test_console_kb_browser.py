"""The console's article editor in headless Chromium, on a hub in this process.

Trainers and agents edit knowledge-base articles in the console page
(``/console``, tab "Articles") as a person would. What they save is checked
where the bot reads it: the article API, the hub's knowledge base, and a
second knowledge base on its own database engine, built before the edit, as
the action server keeps one (``bot/knowledge/service.py``). No Rasa is needed:
the bot's side is the knowledge base the actions call. Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.knowledge import KnowledgeBase, KnowledgeRepository, load_seed
from bot.knowledge.service import ACTION_SERVER_RECHECK_S
from tests.conftest import empty_knowledge_base, settings_in
from tests.e2e.conftest import artifact
from tests.e2e.helpers import watch_problems
from tests.e2e.test_widget_browser import AGENT_PASSWORD
from tests.hub import RunningHub, running_hub

pytestmark = pytest.mark.browser

ARTICLES = "/api/kb/articles"
SEED = {article.slug: article for article in load_seed()}


class Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def kb_settings(
    tmp_path_factory: pytest.TempPathFactory, module_database_url: str
) -> Settings:
    """A hub on the embedded defaults, or on PostgreSQL; Rasa not running."""
    folder = tmp_path_factory.mktemp("kb-console")
    return settings_in(folder).with_changes(database_url=module_database_url)


@pytest.fixture(scope="module")
async def hub(kb_settings: Settings) -> AsyncIterator[RunningHub]:
    """One hub for the module, on a freshly seeded knowledge base.

    Each test edits articles of its own.
    """
    engine = create_engine(kb_settings.database_url)
    try:
        await upgrade_database(engine)
        await empty_knowledge_base(engine)
    finally:
        await engine.dispose()
    async with running_hub(kb_settings) as running:
        yield running


@pytest.fixture
async def action_knowledge(
    kb_settings: Settings,
) -> AsyncIterator[tuple[KnowledgeBase, Clock]]:
    """A knowledge base as the action server keeps one: its own engine and index.

    Its clock moves only when a test says so, so that an index it built stays
    in use until the test lets its recheck interval pass.
    """
    clock = Clock()
    engine = create_engine(kb_settings.database_url)
    knowledge = KnowledgeBase(
        KnowledgeRepository(engine), recheck_s=ACTION_SERVER_RECHECK_S, clock=clock
    )
    yield knowledge, clock
    await engine.dispose()


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Any]:
    """Opens console pages; each records page errors and answers dialogs.

    ``page.dialogs`` lists the messages of confirmation dialogs shown, and
    ``page.confirm`` says whether the next ones are accepted.
    """
    contexts: list[Any] = []

    async def open_page() -> Any:
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        page = await context.new_page()
        page.dialogs = []
        page.confirm = True

        async def on_dialog(dialog: Any) -> None:
            page.dialogs.append(dialog.message)
            if page.confirm:
                await dialog.accept()
            else:
                await dialog.dismiss()

        page.on("dialog", on_dialog)
        watch_problems(page)
        return page

    yield open_page


async def new_account(hub: RunningHub, role: str) -> str:
    email = f"{role}-{secrets.token_hex(3)}@example.com"
    await hub.ctx.auth.create_agent(email, f"Kim {role.title()}", role, AGENT_PASSWORD)
    return email


async def signed_in(hub: RunningHub, page_factory: Any, role: str) -> tuple[Any, str]:
    """A console page signed in with a new account of ``role``."""
    email = await new_account(hub, role)
    page = await page_factory()
    await page.goto(f"{hub.url}/console")
    await page.fill("#signin-email", email)
    await page.fill("#signin-password", AGENT_PASSWORD)
    await page.click("#signin-submit")
    await page.locator("#app-view").wait_for()
    return page, email


async def open_articles(page: Any) -> None:
    if await page.locator("#kb-view").is_hidden():
        await page.click("#tab-kb")
    await page.locator("#kb-list .kb-entry").first.wait_for()


async def open_article(page: Any, slug: str) -> None:
    await page.locator(f'#kb-list [data-slug="{slug}"] button').click()
    await page.wait_for_function(
        "slug => document.getElementById('kb-slug').value === slug", arg=slug
    )


async def stored(hub: RunningHub, session: Any, slug: str) -> dict[str, Any]:
    """The article as the API has it now (``{}`` once it is deleted)."""
    async with session.get(f"{hub.url}{ARTICLES}/{slug}") as response:
        if response.status == 404:
            return {}
        assert response.status == 200, await response.text()
        article: dict[str, Any] = (await response.json())["article"]
        return article


@pytest.fixture
async def colleague(hub: RunningHub) -> AsyncIterator[tuple[Any, dict[str, str]]]:
    """Another trainer's API session, and the CSRF header its changes need."""
    email = await new_account(hub, "trainer")
    async with aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        async with session.post(
            f"{hub.url}/api/auth/login",
            json={"email": email, "password": AGENT_PASSWORD},
        ) as response:
            assert response.status == 200
            csrf = (await response.json())["csrf_token"]
        yield session, {"X-CSRF-Token": csrf}


async def test_a_trainer_edits_an_article_and_the_bot_answers_with_it(
    hub: RunningHub, page_factory: Any, action_knowledge: Any, colleague: Any
) -> None:
    slug = "password-reset"
    question = "I forgot my password"
    knowledge, clock = action_knowledge
    before = await knowledge.answer(
        question, intent="password_reset", intent_confidence=0.9
    )
    assert before is not None and before.slug == slug
    assert "Reset link sent by Baton" not in before.text

    page, email = await signed_in(hub, page_factory, "trainer")
    # Trainers land on the articles: the only tab they have.
    await page.locator("#kb-view").wait_for()
    assert await page.locator("#tab-kb").get_attribute("aria-current") == "page"
    assert await page.locator("#tab-desk").is_hidden()
    await page.locator("#kb-list .kb-entry").first.wait_for()
    assert int(await page.locator("#kb-count").inner_text()) >= len(SEED)

    # The list is filtered by the server, on text and on status.
    await page.fill("#kb-filter-text", "passw")
    entries = page.locator("#kb-list .kb-entry")
    await page.locator('#kb-list [data-slug="refund-request"]').wait_for(
        state="detached"
    )
    slugs = {await item.get_attribute("data-slug") for item in await entries.all()}
    assert slug in slugs and "change-password" in slugs
    await page.select_option("#kb-filter-status", "draft")
    await page.locator("#kb-list-empty").wait_for()
    await page.select_option("#kb-filter-status", "published")
    await page.locator(f'#kb-list [data-slug="{slug}"]').wait_for()
    entry = page.locator(f'#kb-list [data-slug="{slug}"]')
    assert "Published" in await entry.inner_text()
    assert SEED[slug].title in await entry.inner_text()

    await open_article(page, slug)
    assert await page.locator("#kb-body").input_value() == SEED[slug].body
    assert await page.locator("#kb-slug").get_attribute("readonly") is not None
    # The Markdown preview: headings, lists and emphasis as elements.
    preview = page.locator("#kb-preview")
    await preview.locator("h5", has_text="How it works").wait_for()
    assert await preview.locator("ol > li").count() == 4
    assert await preview.locator("strong", has_text="lumen.app/signin").count() == 1
    assert await preview.locator("code", has_text="no-reply@lumen.app").count() == 1

    # Markup in the body is text in the preview; unsafe links are not links.
    body = (
        "Use **Reset link sent by Baton** from the sign-in page.\n\n"
        '<img src=x onerror="window.__xss=1"> [run](javascript:window.__xss=2) '
        "[help](https://lumen.app/help)\n"
    )
    await page.fill("#kb-body", body)
    await preview.locator("strong", has_text="Reset link sent by Baton").wait_for()
    assert await preview.locator("img").count() == 0
    assert await preview.locator("a").count() == 1
    assert await preview.locator("a").get_attribute("href") == "https://lumen.app/help"
    assert "<img src=x" in await preview.inner_text()
    assert await page.evaluate("window.__xss") is None

    steps = [
        "Open the sign-in page and click Forgot password?",
        "Use the Reset link sent by Baton within 1 hour",
        "Choose a new password",
    ]
    await page.fill("#kb-steps", "\n".join(steps) + "\n\n")
    await page.locator("#kb-dirty").wait_for()
    await page.screenshot(path=artifact("console-kb-editing.png"), full_page=True)
    await page.click("#kb-save")
    await page.locator("#kb-status", has_text="Saved version 2").wait_for()
    assert "The bot answers with it" in await page.locator("#kb-status").inner_text()
    assert await page.locator("#kb-dirty").is_hidden()
    assert "Version 2" in await page.locator("#kb-meta").inner_text()

    session, _ = colleague
    saved = await stored(hub, session, slug)
    assert (saved["version"], saved["body"], saved["steps"]) == (2, body, steps)
    assert saved["updated_by"] == email

    # The bot uses the new text at once: the hub's knowledge base, and one
    # built before the edit, once its recheck interval has passed.
    answer = await hub.ctx.knowledge.answer(
        question, intent="password_reset", intent_confidence=0.9
    )
    assert answer is not None and answer.slug == slug
    assert "2. Use the Reset link sent by Baton within 1 hour" in answer.text
    assert answer.article.body == body
    clock.now += ACTION_SERVER_RECHECK_S
    again = await knowledge.answer(
        question, intent="password_reset", intent_confidence=0.9
    )
    assert again is not None and again.text == answer.text
    assert page.problems == []


async def test_an_agent_creates_a_draft_publishes_it_and_deletes_it(
    hub: RunningHub, page_factory: Any, colleague: Any
) -> None:
    question = "how can I print my notebook on paper"
    page, _ = await signed_in(hub, page_factory, "agent")
    # Agents start at their chats; the articles are one tab away.
    await page.locator(".connection.is-live").wait_for()
    await open_articles(page)
    await page.click("#kb-new")
    assert await page.evaluate("document.activeElement.id") == "kb-title-field"
    assert await page.locator("#kb-editor-title").inner_text() == "New article"
    assert await page.locator("#kb-history").is_hidden()

    # The slug follows the title until it is edited.
    await page.fill("#kb-title-field", "Print a notebook on paper")
    assert await page.locator("#kb-slug").input_value() == "print-a-notebook-on-paper"
    slug = f"print-notebook-{secrets.token_hex(2)}"
    await page.fill("#kb-slug", slug)
    await page.fill("#kb-title-field", "Print a notebook")
    assert await page.locator("#kb-slug").input_value() == slug
    await page.fill(
        "#kb-summary", "Print any notebook from the desktop app with File → Print."
    )
    await page.fill("#kb-body", "Open the notebook, then choose **File → Print**.")
    await page.fill("#kb-steps", "Open the notebook\nChoose File → Print")
    await page.fill("#kb-tags", "print, paper, printer")
    await page.fill("#kb-intents", "")
    await page.fill(
        "#kb-examples",
        "how can I print my notebook on paper\nprint a notebook\nmy printer",
    )
    assert await page.locator("#kb-status-field").input_value() == "draft"
    await page.click("#kb-save")
    await page.locator("#kb-status", has_text="Created").wait_for()
    assert "the bot does not use it" in await page.locator("#kb-status").inner_text()
    entry = page.locator(f'#kb-list [data-slug="{slug}"]')
    await entry.filter(has_text="Draft").wait_for()
    assert await page.locator("#kb-slug").get_attribute("readonly") is not None

    session, _ = colleague
    draft = await stored(hub, session, slug)
    assert (draft["status"], draft["version"]) == ("draft", 1)
    assert draft["tags"] == ["print", "paper", "printer"]
    assert draft["examples"][0] == question
    hits = (await hub.ctx.knowledge.search(question, limit=10)).hits
    assert slug not in {hit.slug for hit in hits}

    # Publishing is a status change, saved as a new version.
    await page.select_option("#kb-status-field", "published")
    await page.locator("#kb-dirty").wait_for()
    await page.click("#kb-save")
    await page.locator("#kb-status", has_text="Saved version 2").wait_for()
    await entry.filter(has_text="Published").wait_for()
    assert (await stored(hub, session, slug))["status"] == "published"
    answer = await hub.ctx.knowledge.answer(question)
    assert answer is not None and answer.slug == slug
    await page.screenshot(path=artifact("console-kb-published.png"), full_page=True)

    # Leaving a changed article asks first; "cancel" stays with the text.
    await page.fill("#kb-summary", "Not kept")
    page.confirm = False
    await page.click("#tab-desk")
    assert "unsaved changes" in page.dialogs[-1]
    assert await page.locator("#kb-view").is_visible()
    assert await page.locator("#kb-summary").input_value() == "Not kept"
    page.confirm = True
    await page.click("#tab-desk")
    await page.locator("#desk-view").wait_for()
    await page.click("#tab-kb")
    await page.locator("#kb-view").wait_for()
    assert await page.locator("#kb-summary").input_value() != "Not kept"

    # Deleting asks for confirmation; declined, nothing happens.
    page.confirm = False
    await page.click("#kb-delete")
    assert "cannot be undone" in page.dialogs[-1]
    assert (await stored(hub, session, slug))["version"] == 2
    page.confirm = True
    await page.click("#kb-delete")
    await page.locator("#kb-list-status", has_text="Deleted").wait_for()
    await entry.wait_for(state="detached")
    assert await page.locator("#kb-form").is_hidden()
    assert await stored(hub, session, slug) == {}
    gone = await hub.ctx.knowledge.answer(question)
    assert gone is None or gone.slug != slug
    assert page.problems == []


async def test_validation_errors_are_shown_next_to_their_field(
    hub: RunningHub, page_factory: Any, colleague: Any
) -> None:
    slug = "refund-request"
    session, _ = colleague
    page, _ = await signed_in(hub, page_factory, "trainer")
    await open_articles(page)
    await open_article(page, slug)

    await page.fill("#kb-title-field", "   ")
    body = SEED[slug].body + "\nWords written before the error.\n"
    await page.fill("#kb-body", body)
    await page.click("#kb-save")
    error = page.locator("#kb-title-field-error")
    await error.filter(has_text="cannot be empty").wait_for()
    assert await page.locator("#kb-title-field").get_attribute("aria-invalid") == "true"
    assert await page.evaluate("document.activeElement.id") == "kb-title-field"
    assert "kb-title-field-error" in (
        await page.locator("#kb-title-field").get_attribute("aria-describedby")
    )
    # Nothing is lost, and nothing was saved.
    assert await page.locator("#kb-body").input_value() == body
    assert await page.locator("#kb-dirty").is_visible()
    assert await page.locator("#kb-error").is_hidden()
    await page.screenshot(path=artifact("console-kb-field-error.png"), full_page=True)
    assert (await stored(hub, session, slug))["version"] == 1

    # Editing the field clears its error; a bad intent name is pointed at next.
    await page.fill("#kb-title-field", "Ask for a refund")
    assert await error.is_hidden()
    await page.fill("#kb-intents", "refund_request, Money Back")
    await page.click("#kb-save")
    await page.locator("#kb-intents-error", has_text="Money Back").wait_for()
    await page.fill("#kb-intents", "refund_request")
    await page.click("#kb-save")
    await page.locator("#kb-status", has_text="Saved version 2").wait_for()
    saved = await stored(hub, session, slug)
    assert (saved["title"], saved["body"]) == ("Ask for a refund", body)
    assert saved["intents"] == ["refund_request"]

    # Switching article with unsaved changes asks first.
    await page.fill("#kb-summary", "Half-written summary")
    page.confirm = False
    await page.locator('#kb-list [data-slug="billing-invoice"] button').click()
    assert "Ask for a refund" in page.dialogs[-1]
    assert await page.locator("#kb-slug").input_value() == slug
    assert await page.locator("#kb-summary").input_value() == "Half-written summary"
    page.confirm = True
    await open_article(page, "billing-invoice")

    # A new article whose slug is taken: the slug field says so.
    await page.click("#kb-new")
    await page.fill("#kb-title-field", "Refunds again")
    await page.fill("#kb-slug", slug)
    await page.fill("#kb-summary", "A second refund article.")
    await page.fill("#kb-body", "Ask us.")
    await page.click("#kb-save")
    await page.locator("#kb-slug-error", has_text="exists already").wait_for()
    assert await page.locator("#kb-title-field").input_value() == "Refunds again"
    assert (await stored(hub, session, slug))["title"] == "Ask for a refund"
    assert page.problems == []


async def test_a_conflicting_save_is_shown_and_nothing_is_lost(
    hub: RunningHub, page_factory: Any, colleague: Any
) -> None:
    slug = "sync-not-working"
    session, csrf = colleague
    page, _ = await signed_in(hub, page_factory, "trainer")
    await open_articles(page)
    await open_article(page, slug)
    # Emphasis that wraps onto the next line of a list item is still emphasis.
    wrapped = page.locator("#kb-preview li strong", has_text="Settings → Account")
    await wrapped.wait_for()
    mine = SEED[slug].body + "\nMy addition, written in the console.\n"
    await page.fill("#kb-body", mine)

    async def colleague_saves(change: dict[str, Any]) -> dict[str, Any]:
        current = await stored(hub, session, slug)
        async with session.put(
            f"{hub.url}{ARTICLES}/{slug}",
            json={**change, "version": current["version"]},
            headers=csrf,
        ) as response:
            assert response.status == 200, await response.text()
            article: dict[str, Any] = (await response.json())["article"]
            return article

    theirs = await colleague_saves({"summary": "Their summary, saved meanwhile."})
    assert theirs["version"] == 2
    await page.click("#kb-save")
    conflict = page.locator("#kb-conflict")
    await conflict.wait_for()
    text = await conflict.inner_text()
    assert "someone else saved this article" in text
    assert "version 2" in text and theirs["updated_by"] in text
    assert await page.locator("#kb-body").input_value() == mine
    assert await page.locator("#kb-dirty").is_visible()
    await page.screenshot(path=artifact("console-kb-conflict.png"), full_page=True)
    assert (await stored(hub, session, slug))["body"] == SEED[slug].body

    # Declining to discard keeps the text; saving over theirs keeps it too.
    page.confirm = False
    await page.click("#kb-conflict-reload")
    assert "Discard your changes" in page.dialogs[-1]
    assert await page.locator("#kb-body").input_value() == mine
    await page.click("#kb-conflict-overwrite")
    await page.locator("#kb-status", has_text="Saved version 3").wait_for()
    assert await conflict.is_hidden()
    assert (await stored(hub, session, slug))["body"] == mine

    # Or load theirs, when the user agrees to drop their own.
    await page.fill("#kb-body", mine + "\nAnother line.\n")
    theirs = await colleague_saves({"body": "Their body, version 4."})
    await page.click("#kb-save")
    await conflict.wait_for()
    page.confirm = True
    await page.click("#kb-conflict-reload")
    await page.locator("#kb-status", has_text="Loaded version 4").wait_for()
    assert await page.locator("#kb-body").input_value() == "Their body, version 4."
    assert await page.locator("#kb-dirty").is_hidden()
    assert "Version 4" in await page.locator("#kb-meta").inner_text()
    assert page.problems == []


async def test_version_history_shows_edits_and_restores_an_old_version(
    hub: RunningHub, page_factory: Any, colleague: Any
) -> None:
    slug = "export-notes"
    session, _ = colleague
    original = SEED[slug]
    page, email = await signed_in(hub, page_factory, "trainer")
    await open_articles(page)
    await open_article(page, slug)
    rows = page.locator("#kb-versions tr")
    await rows.first.wait_for()
    assert await rows.count() == 1

    edited = "Exports moved: use **Settings → Backup** instead.\n"
    await page.fill("#kb-body", edited)
    await page.fill("#kb-steps", "Open Settings → Backup\nClick Export")
    await page.click("#kb-save")
    await page.locator("#kb-status", has_text="Saved version 2").wait_for()
    await page.locator('#kb-versions tr[data-version="2"]').wait_for()
    newest, oldest = rows.nth(0), rows.nth(1)
    assert "Version 2" in await newest.inner_text()
    assert "(current)" in await newest.inner_text()
    assert email in await newest.inner_text()
    assert "seed" in await oldest.inner_text()
    assert await newest.locator(".kb-restore-version").count() == 0

    # The old version, as it was.
    await oldest.locator(".kb-view-version").click()
    old = page.locator("#kb-old")
    await old.wait_for()
    assert "Version 1" in await page.locator("#kb-old-title").inner_text()
    assert original.summary in await old.inner_text()
    await old.locator("#kb-old-body h5", has_text="Export everything").wait_for()
    steps = await old.locator("ol.kb-old-list li").all_inner_texts()
    assert steps == list(original.steps)
    await page.screenshot(path=artifact("console-kb-history.png"), full_page=True)

    # Restoring it saves a new version with the old text.
    await page.click("#kb-old-restore")
    await page.locator(
        "#kb-status", has_text="Restored version 1 as version 3"
    ).wait_for()
    assert await page.locator("#kb-body").input_value() == original.body
    assert await page.locator("#kb-steps").input_value() == "\n".join(original.steps)
    await page.locator('#kb-versions tr[data-version="3"]').wait_for()
    assert await rows.count() == 3
    restored = await stored(hub, session, slug)
    assert (restored["version"], restored["body"]) == (3, original.body)
    answer = await hub.ctx.knowledge.answer("How do I export all my notes?")
    assert answer is not None and answer.slug == slug
    assert answer.article.body == original.body
    assert page.problems == []


#: Whether an element shows all its content, not scrolling inside itself.
SHOWS_ALL = "el => el.scrollHeight <= el.clientHeight + 1"


async def test_on_a_phone_the_article_list_takes_the_screen_until_one_is_open(
    hub: RunningHub, browser: Any
) -> None:
    """390 x 844. With no article open the list is the page (it was held to
    40 % of the screen, scrolling inside itself, above an empty pane that
    said to pick one from the list); with one open, a part of the list stays
    above the editor."""
    email = await new_account(hub, "trainer")
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    problems = watch_problems(page)
    await page.goto(f"{hub.url}/console")
    await page.fill("#signin-email", email)
    await page.fill("#signin-password", AGENT_PASSWORD)
    await page.click("#signin-submit")
    await open_articles(page)
    pane = page.locator(".kb-list-pane")
    assert await page.locator("#kb-list .kb-entry").count() > 10
    assert await pane.evaluate(SHOWS_ALL)
    assert await page.locator(".kb-editor-pane").is_hidden()
    await page.screenshot(path=artifact("console-kb-list-phone.png"))

    await open_article(page, "password-reset")
    await page.locator("#kb-form").wait_for()
    assert not await pane.evaluate(SHOWS_ALL)
    assert (await pane.bounding_box())["height"] <= 0.4 * 844 + 1
    await page.screenshot(path=artifact("console-kb-article-phone.png"))
    await context.close()
    assert problems == []

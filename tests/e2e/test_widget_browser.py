"""The demo page's widget in headless Chromium, against the real stack."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR, unavailable

pytestmark = [pytest.mark.browser, pytest.mark.stack]

ARTIFACTS = PROJECT_DIR / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        unavailable("chromium", FileNotFoundError("apt-get install chromium"))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_FLAGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser) -> AsyncIterator[object]:
    context = await browser.new_context(viewport={"width": 1280, "height": 860})
    page = await context.new_page()
    yield page
    await context.close()


def artifact(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(Path(ARTIFACTS / name))


@pytest.mark.parametrize("stack", ["embedded"], indirect=True)
async def test_customer_chats_with_the_bot_on_the_demo_page(stack, page) -> None:
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security" in m.text else None,
    )
    response = await page.goto(stack.url)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    await page.click("button.launcher")
    await page.fill("textarea#in", "I forgot my password")
    await page.keyboard.press("Enter")
    answer = page.locator(".msg.bot", has_text="password")
    await answer.first.wait_for(timeout=60_000)
    await page.screenshot(path=artifact("widget-answer.png"))

    # Markup typed by a customer is shown as text, never run.
    attack = '<img src=x onerror="window.__xss=1">'
    await page.fill("textarea#in", attack)
    await page.keyboard.press("Enter")
    await page.locator(".msg.customer", has_text="<img src=x").wait_for()
    assert await page.evaluate("window.__xss") is None

    # A reload keeps the conversation; nothing is shown twice.
    await page.reload()
    await page.click("button.launcher")
    mine = page.locator(".msg.customer", has_text="I forgot my password")
    await mine.first.wait_for()
    await page.wait_for_timeout(1500)
    assert await mine.count() == 1
    await page.screenshot(path=artifact("widget-after-reload.png"))
    assert csp_errors == []

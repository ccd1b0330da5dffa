"""The console's Training tab in headless Chromium, on a hub in this process.

The inbox is filled through the hub's services (tests/bot/training/helpers);
a trainer labels a group with an article offered, undoes it, and dismisses
it. Screenshots (desktop and a 390x844 phone) go to ``test-artifacts/``.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.db.models import TrainingAnnotation
from tests.bot.training.helpers import clear_labels, conversation, quiet_relay, turn
from tests.e2e.conftest import artifact
from tests.e2e.test_console_kb_browser import page_factory, signed_in  # noqa: F401
from tests.hub import RunningHub

pytestmark = pytest.mark.browser


async def active(hub: RunningHub) -> list[str]:
    table = TrainingAnnotation.__table__
    async with hub.ctx.engine.connect() as connection:
        return list(
            (
                await connection.execute(
                    sa.select(table.c.kind).where(table.c.undone_at.is_(None))
                )
            ).scalars()
        )


async def test_a_trainer_labels_a_group_undoes_and_dismisses(
    hub: RunningHub,
    browser,
    page_factory,  # noqa: F811
) -> None:
    await quiet_relay(hub)
    await clear_labels(hub)
    for text in (
        "my invoice shows the wrong amount, mail jo@example.com",
        "the invoice shows a wrong amount",
    ):
        await turn(
            hub, await conversation(hub), text, intent="nlu_fallback", confidence=0.3
        )
    await turn(
        hub,
        await conversation(hub),
        "<b>can you call me</b> on +1 555 123 4567",
        intent="request_human",
        confidence=0.52,
    )
    page, _ = await signed_in(hub, page_factory, "trainer")
    await page.click("#tab-training")
    group = page.locator("#training-groups .training-group")
    await group.first.wait_for()
    assert await group.count() == 2
    assert await page.locator("#training-groups b").count() == 0
    # Every message of a group is one click away, masked like the first.
    await page.get_by_text("All 2 messages, in their conversations").click()
    page_text = await page.locator("#training-view").inner_text()
    assert "<b>can you call me</b> on [phone]" in page_text
    assert "jo@example.com" not in page_text and "[email]" in page_text
    await page.screenshot(path=artifact("console-training-desktop.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=artifact("console-training-phone.png"), full_page=True)
    await page.set_viewport_size({"width": 1400, "height": 1000})

    invoice = group.filter(has_text="invoice shows a wrong amount")
    await invoice.get_by_role(
        "button", name="Find and download your invoices"
    ).first.click()
    await invoice.locator(".training-done").wait_for()
    assert sorted(await active(hub)) == ["article", "article"]
    await invoice.get_by_role("button", name="Undo").click()
    await page.locator("#training-status", has_text="Undone.").wait_for()
    assert await active(hub) == []
    invoice = page.locator("#training-groups .training-group").filter(
        has_text="invoice shows a wrong amount"
    )
    await invoice.get_by_role("button", name="Dismiss").click()
    await invoice.locator(".training-done", has_text="Dismissed").wait_for()
    assert await active(hub) == ["dismiss", "dismiss"]
    assert page.problems == []

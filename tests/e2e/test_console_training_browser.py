"""The console's Training tab in headless Chromium, on a hub in this process.

The inbox is filled through the hub's services (tests/bot/training/helpers);
a trainer labels a group with an article offered, undoes it, and dismisses
it; another labels one with an intent, edits intents, follows a training
job and deploys and rolls back its model. Screenshots (desktop and a 390x844
phone) go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
import yaml

from bot.db.models import TrainingAnnotation
from bot.training.jobs import JobRepository
from bot.training.models import ModelRegistry, file_digest
from tests.bot.training.helpers import (
    clear_labels,
    clear_training_data,
    conversation,
    evaluation,
    need_shipped_model,
    quiet_relay,
    report,
    turn,
)
from tests.bot.training.test_models import SHIPPED, clear_models, trained
from tests.conftest import PROJECT_DIR
from tests.e2e.conftest import artifact
from tests.e2e.test_console_kb_browser import page_factory, signed_in  # noqa: F401
from tests.hub import RunningHub

pytestmark = pytest.mark.browser
#: The hub's first inbox loads the sentence-embedding model that groups the
#: messages: on a busy 2-core machine that alone can pass Playwright's 30 s.
FIRST_INBOX_MS = 120_000
#: What Train & deploy says is live before any trained model is deployed.
INSTALLED_LIVE = "Live: the model that came with this installation"


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
    await group.first.wait_for(timeout=FIRST_INBOX_MS)
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


async def test_a_trainer_labels_an_intent_edits_intents_trains_and_deploys(
    hub: RunningHub,
    browser,
    page_factory,  # noqa: F811
) -> None:
    """Inbox → label → Intents → a job's progress → evaluation → deploy → roll back.

    The job's worker is not started here (a real training is in the stack
    test): the job is reported and finished through the repository the worker
    uses, with the shipped model written again as the trained file.
    """
    need_shipped_model()
    await quiet_relay(hub)
    await clear_labels(hub)
    await clear_training_data(hub.ctx.engine)
    await clear_models(hub.ctx.engine)
    await turn(
        hub,
        await conversation(hub),
        "my bill has a weird extra fee on it",
        intent="nlu_fallback",
        confidence=0.31,
    )
    page, _ = await signed_in(hub, page_factory, "trainer")
    await page.click("#tab-training")
    group = page.locator("#training-groups .training-group").first
    await group.wait_for(timeout=FIRST_INBOX_MS)
    await group.locator("select.training-intent").select_option("billing_question")
    await group.get_by_role("button", name="Label intent").click()
    await group.locator(
        ".training-done", has_text="Intent: billing_question"
    ).wait_for()
    assert await active(hub) == ["intent"]

    await page.click("#training-panel-intents")
    await page.locator(".intent-row", has_text="billing_question").click()
    detail = page.locator("#intent-detail")
    added = detail.locator("li.is-added")
    await added.first.wait_for()
    assert (
        await added.inner_text()
        == "my bill has a weird extra fee on it\nfrom the inbox\nRemove"
    )
    await page.fill("#intent-add-text", "an odd fee on my bill")
    await detail.get_by_role("button", name="Add example").click()
    await detail.locator("li.is-added", has_text="an odd fee on my bill").wait_for()
    # A new intent with too few examples is refused, saying why.
    await page.fill("#intent-new-name", "track_order")
    await page.fill("#intent-new-examples", "where is my parcel\ntrack my delivery")
    await page.get_by_role("button", name="Create intent").click()
    await page.locator("#intents-error", has_text="at least 5 examples").wait_for()
    await page.screenshot(path=artifact("console-intents-desktop.png"), full_page=True)

    jobs = JobRepository(hub.ctx.engine)
    job = await jobs.start("trainer@example.com")
    await jobs.report(
        job.id,
        state="running",
        stage="train",
        started_at=dt.datetime.now(dt.timezone.utc),
        step=2,
        steps=6,
        step_name="DenseLogisticRegressionClassifier",
    )
    await page.click("#training-panel-models")
    # What is live before any deploy, in a trainer's words (it said "the
    # shipped model (models/)"); the help text apart from the box below it
    # (it touched it).
    await page.locator("#models-live", has_text=INSTALLED_LIVE).wait_for()
    assert await page.locator("#models-live").inner_text() == INSTALLED_LIVE
    help_text = await page.locator("#training-models-panel > p.muted").bounding_box()
    train_box = await page.locator(".train-box").bounding_box()
    assert train_box["y"] - (help_text["y"] + help_text["height"]) >= 8
    await page.screenshot(path=artifact("console-train-desktop.png"))
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=artifact("console-train-phone.png"), full_page=True)
    await page.set_viewport_size({"width": 1400, "height": 1000})
    state = page.locator("#train-state")
    # The components of Rasa's training graph: two done, the third training.
    await state.filter(
        has_text=re.compile(
            r"Training · step 3 of 6: DenseLogisticRegressionClassifier · \d+ s so far"
        )
    ).wait_for()
    meter = page.get_by_role("progressbar", name="Components trained")
    assert (await meter.get_attribute("max"), await meter.get_attribute("value")) == (
        "6",
        "2",
    )
    assert await page.locator("#train-start").is_disabled()
    # A component with an epoch bar (DIET): its epochs as its part of the bar.
    await jobs.report(job.id, step=3, step_name="DIETClassifier", epoch=37, epochs=100)
    await state.filter(has_text="step 4 of 6: DIETClassifier · epoch 37/100").wait_for(
        timeout=10_000
    )
    assert await meter.get_attribute("value") == "3.37"
    await trained(
        hub,
        "20261203-120000-job1",
        7,
        # 100 % against 90 %: better as a number, smaller as text.
        evaluation(report(1.0), report(0.9), file_digest(SHIPPED)),
        job_id=job.id,
        log_tail="Your Rasa model is trained",
    )
    row = page.locator("#models-rows tr", has_text="20261203-120000-job1")
    await row.wait_for()
    assert "100.0 % (90.0 %)" in await row.inner_text()
    await page.locator("#train-state", has_text="Done").wait_for()
    # The finished job's evaluation, side by side with the live model's.
    box = page.locator("#model-evaluation")
    await box.locator("h3", has_text="Evaluation of 20261203-120000-job1").wait_for()
    assert "Accuracy\t100.0 %\t90.0 %" in (await box.locator("table").inner_text())
    better = box.locator("td.eval-candidate.is-better")
    assert await better.count() == 2  # accuracy and macro F1; stories are equal
    assert await box.locator("td.eval-candidate.is-worse").count() == 0
    assert await box.locator("svg.eval-chart rect.bar-candidate").count() == 3
    await page.screenshot(
        path=artifact("console-evaluation-desktop.png"), full_page=True
    )
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=artifact("console-evaluation-phone.png"), full_page=True)
    await box.screenshot(path=artifact("console-evaluation-box-phone.png"))
    await page.set_viewport_size({"width": 1400, "height": 1000})
    await row.get_by_role("button", name="Deploy").click()
    await page.locator("#models-live", has_text="Live: 20261203-120000-job1").wait_for()
    await page.screenshot(path=artifact("console-models-desktop.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=artifact("console-models-phone.png"), full_page=True)
    await page.click("#training-panel-intents")
    locked = page.locator(".intent-row", has_text="account_locked")
    await locked.locator(".intent-f1", has_text="F1 1.00").wait_for()
    await page.screenshot(path=artifact("console-intents-phone.png"), full_page=True)
    await page.click("#training-panel-models")
    await row.get_by_role("button", name="Roll back").click()
    await page.locator("#models-live", has_text=INSTALLED_LIVE).wait_for()
    assert (
        await ModelRegistry(hub.ctx.engine, hub.settings.model_dir).live_version()
        is None
    )
    assert page.problems == []

    # A worse model: the trainer is refused; an admin deploys it with a reason.
    await trained(
        hub,
        "20261203-130000-job2",
        8,
        evaluation(
            report(0.6, passed=("Greeting",), failed=("Locked account",)),
            report(0.9),
            file_digest(SHIPPED),
        ),
    )
    await page.click("#training-panel-intents")
    await page.click("#training-panel-models")
    row = page.locator("#models-rows tr", has_text="20261203-130000-job2")
    await row.get_by_role("button", name="Deploy").click()
    await page.locator("#models-error", has_text="worse than the live model").wait_for()
    assert await page.locator("#model-override").is_hidden()
    admin, _ = await signed_in(hub, page_factory, "admin")
    await admin.click("#tab-training")
    await admin.click("#training-panel-models")
    row = admin.locator("#models-rows tr", has_text="20261203-130000-job2")
    await row.get_by_role("button", name="Deploy").click()
    await admin.locator("#models-error", has_text="Locked account").wait_for()
    await admin.fill("#override-reason", "the billing phrasing matters more")
    await row.locator("td button").first.click()
    await admin.locator(
        "#model-evaluation h3", has_text="Evaluation of 20261203-130000-job2"
    ).wait_for()
    assert "Locked account (the live model passes it)" in (
        await admin.locator("#model-evaluation").inner_text()
    )
    await admin.screenshot(
        path=artifact("console-override-desktop.png"), full_page=True
    )
    await admin.get_by_role("button", name="Deploy anyway").click()
    await admin.locator(
        "#models-live", has_text="Live: 20261203-130000-job2"
    ).wait_for()
    history = await ModelRegistry(hub.ctx.engine, hub.settings.model_dir).history()
    assert history[0]["override_reason"] == "the billing phrasing matters more"
    assert admin.problems == []
    await clear_models(hub.ctx.engine)
    await clear_training_data(hub.ctx.engine)


@pytest.mark.timeout(900)
async def test_a_trainer_re_evaluates_a_model_after_the_live_one_changed(
    hub: RunningHub,
    browser,
    page_factory,  # noqa: F811
) -> None:
    """A model evaluated against an earlier live model is re-evaluated, for real.

    Two models (the shipped model written again), both evaluated against the
    shipped one; the first is deployed. Deploying the second is refused as
    not evaluated against the live model, and the console shows why; the
    live one is re-evaluated by a real job (one model to load: it is the live
    model), its steps followed until the new figures are shown.
    """
    need_shipped_model()
    await clear_training_data(hub.ctx.engine)
    await clear_models(hub.ctx.engine)
    shipped = file_digest(SHIPPED)
    live, newer = "20261203-120000-job1", "20261203-130000-job2"
    await trained(hub, live, 7, evaluation(report(0.95), report(0.9), shipped))
    await trained(hub, newer, 8, evaluation(report(0.96), report(0.9), shipped))
    registry = ModelRegistry(hub.ctx.engine, hub.settings.model_dir)
    await registry.deploy(live, by="trainer@example.com", margin=0.02)

    page, _ = await signed_in(hub, page_factory, "trainer")
    await page.click("#tab-training")
    await page.click("#training-panel-models")
    row = page.locator("#models-rows tr", has_text=newer)
    await row.get_by_text("evaluated against an earlier live model").wait_for()
    await row.get_by_role("button", name="Deploy").click()
    await page.locator("#models-error", has_text="Re-evaluate").wait_for()
    box = page.locator("#model-evaluation")
    await box.locator("h3", has_text=f"Evaluation of {newer}").wait_for()
    assert f"The live model is {live} now" in await box.inner_text()
    await page.screenshot(
        path=artifact("console-reevaluate-stale-desktop.png"), full_page=True
    )

    live_row = page.locator("#models-rows tr", has_text=live)
    await live_row.get_by_role("button", name=f"Evaluation of {live}").click()
    await box.locator("h3", has_text=f"Evaluation of {live}").wait_for()
    await box.get_by_role("button", name="Re-evaluate").click()
    state = page.locator("#train-state")
    await state.filter(has_text=f"re-evaluating {live}").wait_for()
    assert await page.locator("#train-start").is_disabled()
    assert await box.get_by_role("button", name="Re-evaluate").is_disabled()
    # One model to evaluate (the live one): three steps.
    await state.filter(has_text=re.compile(r"step [123] of 3: ")).wait_for(
        timeout=120_000
    )
    await page.screenshot(
        path=artifact("console-reevaluate-running-desktop.png"), full_page=True
    )
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(
        path=artifact("console-reevaluate-running-phone.png"), full_page=True
    )
    await page.locator("#training-models-panel").screenshot(
        path=artifact("console-reevaluate-running-panel-phone.png")
    )
    await page.set_viewport_size({"width": 1400, "height": 1000})
    await state.filter(has_text="Done").wait_for(timeout=800_000)
    await box.get_by_text("as the live model").wait_for()
    assert "re-evaluate before deploying" not in await box.inner_text()
    assert not await page.locator("#train-start").is_disabled()
    evaluated = (await registry.get(live)).metrics["evaluation"]
    candidate = evaluated["candidate"]
    assert evaluated["live"]["version"] == live
    assert evaluated["held_out"]["messages"] == candidate["messages"] >= 30
    figures = f"Accuracy\t{candidate['accuracy'] * 100:.1f} %"
    assert figures in await box.locator("table").inner_text()
    # Rasa's story reports name every test story, each passed or failed.
    stories = candidate["stories"]
    named = {
        story["story"]
        for story in yaml.safe_load(
            (PROJECT_DIR / "tests" / "test_stories.yml").read_text()
        )["stories"]
    }
    assert set(stories["passed"]) | set(stories["failed"]) == named
    assert stories["passed"] and not set(stories["passed"]) & set(stories["failed"])
    assert "earlier live model" not in await live_row.inner_text()
    await page.screenshot(
        path=artifact("console-reevaluate-done-desktop.png"), full_page=True
    )
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(
        path=artifact("console-reevaluate-done-phone.png"), full_page=True
    )
    await box.locator("#eval-title").scroll_into_view_if_needed()
    await page.screenshot(path=artifact("console-reevaluate-done-box-phone.png"))
    assert page.problems == []
    await clear_models(hub.ctx.engine)

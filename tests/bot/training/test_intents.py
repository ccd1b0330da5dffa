"""Intents and examples: the committed data/nlu plus trainers' changes in SQL.

On SQLite and PostgreSQL, over the project's real data/nlu, rules and stories.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.exceptions import BadRequest, Conflict
from bot.training.intents import (
    MIN_EXAMPLES,
    ExampleNotFound,
    IntentInUse,
    IntentNotFound,
    Intents,
    NluRepository,
)
from bot.training.nlu_data import read_nlu
from bot.training.validation import IntentChange, example_text, intent_name
from tests.bot.training.helpers import NEW_EXAMPLES, clear_training_data
from tests.conftest import PROJECT_DIR


def baseline() -> dict[str, list[str]]:
    """The committed examples (read now: data/nlu is edited while we work)."""
    return read_nlu(PROJECT_DIR / "data" / "nlu").examples


@pytest.fixture
async def intents(engine: Any) -> AsyncIterator[Intents]:
    await clear_training_data(engine)
    yield Intents(NluRepository(engine, PROJECT_DIR))
    await clear_training_data(engine)


async def test_the_baseline_is_the_committed_data(intents: Intents) -> None:
    summaries = {item["name"]: item for item in await intents.summaries()}
    assert {name: item["examples"] for name, item in summaries.items()} == {
        name: len(texts) for name, texts in baseline().items()
    }
    assert not any(item["changed"] for item in summaries.values())
    greet = await intents.detail("greet")
    assert [e["text"] for e in greet["examples"]] == baseline()["greet"]
    assert any("data/stories/support.yml" in place for place in greet["used_by"])


async def test_a_new_intent_needs_enough_examples_of_its_own(intents: Intents) -> None:
    with pytest.raises(BadRequest) as few:
        await intents.create(
            "track_order", NEW_EXAMPLES[: MIN_EXAMPLES - 1], author="t@x"
        )
    assert few.value.code == "too_few_examples"
    taken = baseline()["greet"][0]
    with pytest.raises(Conflict) as other:
        await intents.create("track_order", [*NEW_EXAMPLES[:4], taken], author="t@x")
    assert other.value.code == "example_in_other_intent"
    assert "'greet'" in other.value.message
    assert "track_order" not in {i["name"] for i in await intents.summaries()}

    created = await intents.create("track_order", NEW_EXAMPLES, author="t@x")
    assert created["source"] == "trainer"
    assert [e["text"] for e in created["examples"]] == NEW_EXAMPLES
    assert all(e["created_by"] == "t@x" for e in created["examples"])
    with pytest.raises(Conflict) as again:
        await intents.create("track_order", NEW_EXAMPLES, author="t@x")
    assert again.value.code == "intent_exists"


async def test_examples_are_added_edited_and_removed(intents: Intents) -> None:
    first, second = baseline()["billing_question"][:2]
    detail = await intents.change(
        "billing_question",
        IntentChange.parse(
            {"add": ["why is my invoice in dollars"], "remove": [first]}
        ),
        author="t@x",
    )
    texts = [e["text"] for e in detail["examples"]]
    assert first not in texts and texts[-1] == "why is my invoice in dollars"
    assert detail["removed"] == [first] and detail["changed"]
    # Edit = remove one, add another, in one change.
    detail = await intents.change(
        "billing_question",
        IntentChange.parse(
            {"remove": ["why is my invoice in dollars"], "add": ["invoice currency"]}
        ),
        author="t@x",
    )
    assert "why is my invoice in dollars" not in [e["text"] for e in detail["examples"]]
    # A removed baseline example added again is simply back.
    detail = await intents.change(
        "billing_question", IntentChange.parse({"add": [first]}), author="t@x"
    )
    assert detail["removed"] == []
    with pytest.raises(ExampleNotFound):
        await intents.change(
            "billing_question",
            IntentChange.parse({"remove": ["never an example"]}),
            author="t@x",
        )
    with pytest.raises(Conflict) as duplicate:
        await intents.change(
            "billing_question", IntentChange.parse({"add": [second]}), author="t@x"
        )
    assert duplicate.value.code == "duplicate_example"
    with pytest.raises(Conflict) as elsewhere:
        await intents.change(
            "billing_question",
            IntentChange.parse({"add": [baseline()["greet"][0]]}),
            author="t@x",
        )
    assert elsewhere.value.code == "example_in_other_intent"
    # The whole list at once: what is left is exactly that.
    keep = baseline()["billing_question"][:MIN_EXAMPLES]
    detail = await intents.change(
        "billing_question", IntentChange.parse({"examples": keep}), author="t@x"
    )
    assert [e["text"] for e in detail["examples"]] == keep
    with pytest.raises(BadRequest) as too_few:
        await intents.change(
            "billing_question",
            IntentChange.parse({"examples": keep[:-1]}),
            author="t@x",
        )
    assert too_few.value.code == "too_few_examples"


async def test_an_intent_in_use_is_neither_deleted_nor_renamed(
    intents: Intents,
) -> None:
    with pytest.raises(IntentInUse) as used:
        await intents.delete("refund_request", author="t@x")
    assert "data/rules/support.yml: rule" in used.value.message
    with pytest.raises(IntentInUse):
        await intents.change(
            "refund_request", IntentChange.parse({"name": "refunds"}), author="t@x"
        )
    assert len((await intents.detail("refund_request"))["examples"]) == len(
        baseline()["refund_request"]
    )
    with pytest.raises(IntentNotFound):
        await intents.delete("no_such_intent", author="t@x")


async def test_a_trainers_intent_is_renamed_and_deleted(intents: Intents) -> None:
    await intents.create("track_order", NEW_EXAMPLES, author="t@x")
    renamed = await intents.change(
        "track_order", IntentChange.parse({"name": "order_status"}), author="t@x"
    )
    assert renamed["name"] == "order_status"
    assert [e["text"] for e in renamed["examples"]] == NEW_EXAMPLES
    with pytest.raises(IntentNotFound):
        await intents.detail("track_order")
    await intents.delete("order_status", author="t@x")
    names = {item["name"] for item in await intents.summaries()}
    assert "order_status" not in names and names == set(baseline())


@pytest.mark.parametrize(
    "name", ["", "Track", "track order", "1track", "nlu_fallback", "x" * 65, 3]
)
def test_bad_intent_names_are_refused(name: Any) -> None:
    with pytest.raises(BadRequest) as refused:
        intent_name(name)
    assert refused.value.code == "bad_intent"


@pytest.mark.parametrize(
    "text", ["", "   ", "two\nlines", "x" * 501, "[Paris](city)", "a\x00b", 7]
)
def test_bad_examples_are_refused(text: Any) -> None:
    with pytest.raises(BadRequest) as refused:
        example_text(text)
    assert refused.value.code == "bad_example"


def test_an_examples_spaces_are_tidied() -> None:
    assert example_text("  where   is my\tparcel ") == "where is my parcel"

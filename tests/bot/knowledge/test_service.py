"""The always-current knowledge base: answers, threshold, edits without restart."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from bot.knowledge import (
    Article,
    KnowledgeBase,
    KnowledgeRepository,
    SearchSettings,
    SharedKnowledgeBase,
    answer_text,
    load_seed,
)


@pytest.fixture
async def knowledge(kb_engine: Any) -> KnowledgeBase:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    return KnowledgeBase(repository)


def test_answer_text_numbers_the_steps() -> None:
    article = Article.from_dict(
        {
            "slug": "a",
            "title": "T",
            "summary": "Summary here.",
            "body": "Body.",
            "steps": ["First", "Second"],
        }
    )
    assert answer_text(article) == "Summary here.\n1. First\n2. Second"


def test_answer_text_without_steps_uses_the_body() -> None:
    article = Article.from_dict(
        {"slug": "a", "title": "T", "summary": "Summary.", "body": "The body."}
    )
    assert answer_text(article) == "Summary.\n\nThe body."


@pytest.mark.parametrize(
    ("question", "intent", "slug"),
    [
        ("I forgot my password", "password_reset", "password-reset"),
        ("how do I get my money back", "refund_request", "refund-request"),
        ("my notes are not syncing to my phone", None, "sync-not-working"),
    ],
)
async def test_answers_with_the_right_article(
    knowledge: KnowledgeBase, question: str, intent: str | None, slug: str
) -> None:
    answer = await knowledge.answer(
        question, intent=intent, intent_confidence=0.8 if intent else 0.0
    )
    assert answer is not None
    assert answer.slug == slug
    assert answer.text == answer_text(answer.article)


async def test_does_not_guess_below_the_threshold(knowledge: KnowledgeBase) -> None:
    assert await knowledge.answer("what's the weather in Berlin tomorrow") is None


async def test_threshold_is_respected(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    lenient = KnowledgeBase(repository, SearchSettings(threshold=0.0))
    strict = KnowledgeBase(repository, SearchSettings(threshold=float("inf")))
    question = "reset link for my password"
    assert await lenient.answer(question) is not None
    assert await strict.answer(question) is None


async def test_excluded_articles_are_not_answered(knowledge: KnowledgeBase) -> None:
    first = await knowledge.answer("I forgot my password")
    assert first is not None
    second = await knowledge.answer("I forgot my password", exclude=[first.slug])
    assert second is None or second.slug != first.slug


async def test_an_edit_changes_the_next_answer(knowledge: KnowledgeBase) -> None:
    before = await knowledge.answer("I forgot my password")
    assert before is not None and before.slug == "password-reset"
    await knowledge.repository.update(
        "password-reset",
        {"summary": "Brand new wording of the reset answer."},
        author="ann@x.test",
    )
    after = await knowledge.answer("I forgot my password")
    assert after is not None
    assert after.text.startswith("Brand new wording of the reset answer.")


async def test_an_edit_by_another_process_is_seen(
    kb_engine: Any, knowledge: KnowledgeBase
) -> None:
    await knowledge.index()
    other_process = KnowledgeRepository(kb_engine)
    await other_process.create(
        Article.from_dict(
            {
                "slug": "export-pdf",
                "title": "Export a note as PDF",
                "summary": "Any note can be saved as a PDF.",
                "body": "Choose Share > Export as PDF.",
                "examples": ["how do I turn a note into a pdf file"],
            }
        ),
        author=None,
    )
    answer = await knowledge.answer("turn a note into a pdf file")
    assert answer is not None and answer.slug == "export-pdf"


async def test_unpublished_articles_are_not_answered(
    knowledge: KnowledgeBase,
) -> None:
    await knowledge.repository.update(
        "password-reset", {"status": "draft"}, author=None
    )
    answer = await knowledge.answer("I forgot my password")
    assert answer is None or answer.slug != "password-reset"


async def test_index_is_reused_while_nothing_changes(
    knowledge: KnowledgeBase,
) -> None:
    first = await knowledge.index()
    assert await knowledge.index() is first
    await knowledge.repository.update(
        "password-reset", {"title": "Reset your password"}, author=None
    )
    assert await knowledge.index() is not first


async def test_shared_knowledge_base_reads_the_settings(
    database_url: str, kb_engine: Any, tmp_path: Any
) -> None:
    await KnowledgeRepository(kb_engine).seed_if_new(load_seed())
    created: list[Settings] = []

    def settings() -> Settings:
        value = Settings(data_dir=tmp_path, database_url=database_url)
        created.append(value)
        return value

    shared = SharedKnowledgeBase(settings)
    assert created == []
    try:
        knowledge = await shared.get()
        assert await shared.get() is knowledge
        answer = await knowledge.answer("I forgot my password")
        assert answer is not None and answer.slug == "password-reset"
        assert len(created) == 1
    finally:
        await shared.close()


async def test_recheck_interval_bounds_how_stale_an_answer_can_be(
    kb_engine: Any,
) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    now = [100.0]
    knowledge = KnowledgeBase(repository, recheck_s=1.0, clock=lambda: now[0])
    first = await knowledge.index()
    await repository.update("password-reset", {"title": "Reset it"}, author=None)
    now[0] += 0.5
    assert await knowledge.index() is first
    now[0] += 0.6
    rebuilt = await knowledge.index()
    assert rebuilt is not first
    article = rebuilt.article("password-reset")
    assert article is not None and article.title == "Reset it"

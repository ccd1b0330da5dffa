"""The always-current knowledge base: answers, threshold, edits without restart."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Settings
from bot.knowledge import (
    MAX_SUGGESTIONS,
    NO_OFFER_INTENT,
    Answer,
    Article,
    Hit,
    KnowledgeBase,
    KnowledgeRepository,
    SearchResult,
    SearchSettings,
    SharedKnowledgeBase,
    Suggestions,
    answer_text,
    chosen_position,
    load_seed,
    offered_choice,
    plausible_hits,
)

#: Matches the two two-factor articles about as well as each other: the bot
#: cannot know which one is meant.
AMBIGUOUS = "a question about my two factor codes"
#: Never answers, offers whatever is plausible (the default plausibility).
UNSURE = SearchSettings(threshold=float("inf"), suggest_threshold=0.0)


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


async def test_a_slow_rebuild_answers_from_the_previous_index(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    # Waits no time at all for a rebuild: the previous index ranks while the
    # new one is built, and the answer's text is the article as saved now.
    knowledge = KnowledgeBase(repository, stale_after_s=0.0)
    before = await knowledge.answer("I forgot my password")
    assert before is not None and before.slug == "password-reset"
    new_summary = "Brand new wording of the reset answer."
    await repository.update("password-reset", {"summary": new_summary}, author=None)
    during = await knowledge.answer("I forgot my password")
    rebuilding = knowledge._rebuild_task
    assert rebuilding is not None
    assert during is not None and during.text.startswith(new_summary)
    await rebuilding
    after = await knowledge.answer("I forgot my password")
    assert after is not None and after.text.startswith(new_summary)


async def test_an_article_unpublished_during_a_rebuild_is_not_shown(
    kb_engine: Any,
) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    knowledge = KnowledgeBase(repository, stale_after_s=0.0)
    assert await knowledge.answer_with("password-reset") is not None
    await repository.update("password-reset", {"status": "draft"}, author=None)
    assert await knowledge.answer_with("password-reset") is None
    answer = await knowledge.answer("I forgot my password")
    assert answer is None or answer.slug != "password-reset"


async def test_the_first_index_is_always_waited_for(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    knowledge = KnowledgeBase(repository, stale_after_s=0.0)
    answer = await knowledge.answer("I forgot my password")
    assert answer is not None and answer.slug == "password-reset"


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


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("the first one", 1),
        ("the second one please", 2),
        ("I think it's the third", 3),
        ("option 2", 2),
        ("Option two", 2),
        ("number 1", 1),
        ("#3", 3),
        ("the 2nd one", 2),
        ("2", 2),
        ("the last one", -1),
        ("the top one", 1),
        ("the one about two factor codes", None),
        ("I have two phones", None),
        ("the first one, no wait, the second", None),
        ("none of these", None),
        ("", None),
    ],
)
def test_chosen_position(text: str, position: int | None) -> None:
    assert chosen_position(text) == position


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("the first one", "a"),
        ("option 3", "c"),
        ("the last", "c"),
        ("the fourth one", None),
        ("option 4", None),
        ("something else", None),
    ],
)
def test_offered_choice(text: str, slug: str | None) -> None:
    assert offered_choice(text, ["a", "b", "c"]) == slug


def test_offered_choice_needs_an_offer() -> None:
    assert offered_choice("the first one", []) is None
    assert offered_choice("the last one", []) is None


def hits(*scores: float) -> list[Hit]:
    return [
        Hit(slug=f"a{number}", score=score, title=f"A{number}")
        for number, score in enumerate(scores)
    ]


@pytest.mark.parametrize(
    ("result", "offered"),
    [
        (SearchResult(hits=hits(0.5, 0.4, 0.2), confidence=0.3), ["a0", "a1"]),
        (SearchResult(hits=hits(0.5, 0.31, 0.3), confidence=0.3), ["a0", "a1", "a2"]),
        (
            SearchResult(hits=hits(0.5, 0.45, 0.4, 0.35), confidence=0.3),
            ["a0", "a1", "a2"],
        ),
        (SearchResult(hits=hits(0.5, 0.4), confidence=0.05), ["a0", "a1"]),
        (SearchResult(hits=hits(0.5, 0.4), confidence=0.04), []),
        (SearchResult(hits=hits(0.24, 0.24), confidence=0.3), []),
        (SearchResult(hits=[], confidence=0.3), []),
    ],
)
def test_plausible_hits(result: SearchResult, offered: list[str]) -> None:
    settings = SearchSettings(
        suggest_threshold=0.05, suggest_min_score=0.25, suggest_score_ratio=0.6
    )
    assert [hit.slug for hit in plausible_hits(result, settings)] == offered
    assert len(offered) <= MAX_SUGGESTIONS


def test_nothing_is_plausible_for_an_out_of_scope_message() -> None:
    result = SearchResult(hits=hits(0.5, 0.4), confidence=0.3)
    settings = SearchSettings(suggest_threshold=0.05)
    assert [hit.slug for hit in plausible_hits(result, settings)] == ["a0", "a1"]
    assert plausible_hits(result, settings, "greet") == plausible_hits(result, settings)
    assert plausible_hits(result, settings, NO_OFFER_INTENT) == []


async def test_answer_or_suggest_answers_when_confident(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    lenient = KnowledgeBase(repository, SearchSettings(threshold=0.0))
    reply = await lenient.answer_or_suggest(
        "I forgot my password", intent="password_reset", intent_confidence=0.9
    )
    assert isinstance(reply, Answer)
    assert reply.slug == "password-reset"
    assert reply.text == answer_text(reply.article)


async def test_answer_or_suggest_offers_the_plausible_articles(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    unsure = KnowledgeBase(repository, UNSURE)
    reply = await unsure.answer_or_suggest(AMBIGUOUS)
    assert isinstance(reply, Suggestions)
    assert {"two-factor-reset", "two-factor-setup"} <= set(reply.slugs)
    assert 1 <= len(reply.hits) <= MAX_SUGGESTIONS
    best = reply.hits[0].score
    assert all(hit.score >= UNSURE.suggest_score_ratio * best for hit in reply.hits)
    titles = {hit.slug: hit.title for hit in reply.hits}
    article = (await repository.get("two-factor-reset")).article
    assert titles["two-factor-reset"] == article.title


async def test_answer_or_suggest_leaves_out_rejected_articles(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    unsure = KnowledgeBase(repository, UNSURE)
    reply = await unsure.answer_or_suggest(AMBIGUOUS, exclude=["two-factor-reset"])
    assert isinstance(reply, Suggestions)
    assert "two-factor-reset" not in reply.slugs
    assert "two-factor-setup" in reply.slugs


async def test_answer_or_suggest_offers_nothing_implausible(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    unsure = KnowledgeBase(repository, UNSURE)
    assert await unsure.answer_or_suggest("recommend a good pizza recipe") is None
    picky = KnowledgeBase(
        repository, SearchSettings(threshold=float("inf"), suggest_threshold=1.0)
    )
    assert await picky.answer_or_suggest(AMBIGUOUS) is None


@pytest.mark.parametrize(
    ("rejected_best", "offered"),
    [(0.0, ["a0", "a1"]), (0.8, ["a0"]), (0.95, [])],
)
def test_after_a_rejection_only_hits_close_to_it_are_plausible(
    rejected_best: float, offered: list[str]
) -> None:
    result = SearchResult(hits=hits(0.5, 0.4, 0.2), confidence=0.3)
    settings = SearchSettings(
        suggest_threshold=0.05,
        suggest_min_score=0.25,
        suggest_score_ratio=0.6,
        alternative_score_ratio=0.55,
    )
    plausible = plausible_hits(result, settings, rejected_best=rejected_best)
    assert [hit.slug for hit in plausible] == offered


async def test_after_no_to_the_password_article_nothing_unrelated_is_offered(
    kb_engine: Any,
) -> None:
    """A password problem was offered "Request a refund" (issue #18)."""
    repository = KnowledgeRepository(kb_engine)
    await repository.seed_if_new(load_seed())
    knowledge = KnowledgeBase(repository)
    question = "I forgot my password"
    first = await knowledge.answer_or_suggest(question)
    assert isinstance(first, Answer) and first.slug == "password-reset"
    after_no = await knowledge.answer_or_suggest(question, exclude=["password-reset"])
    assert after_no is None  # the bot asks, or offers a person
    # Without the rejected article's score as the yardstick, the rest of the
    # knowledge base looked plausible, a refund among it.
    loose = KnowledgeBase(repository, SearchSettings(alternative_score_ratio=0.0))
    offered = await loose.answer_or_suggest(question, exclude=["password-reset"])
    assert isinstance(offered, Suggestions) and "refund-request" in offered.slugs


async def test_answer_with_a_chosen_article(knowledge: KnowledgeBase) -> None:
    answer = await knowledge.answer_with("two-factor-reset")
    assert answer is not None
    assert answer.slug == "two-factor-reset"
    assert answer.score == 1.0
    assert answer.text == answer_text(answer.article)


async def test_answer_with_the_article_as_it_is_now(knowledge: KnowledgeBase) -> None:
    await knowledge.answer_with("two-factor-reset")
    await knowledge.repository.update(
        "two-factor-reset", {"summary": "Reworded while it was offered."}, author=None
    )
    answer = await knowledge.answer_with("two-factor-reset")
    assert answer is not None
    assert answer.text.startswith("Reworded while it was offered.")


async def test_answer_with_an_unpublished_article_is_none(
    knowledge: KnowledgeBase,
) -> None:
    assert await knowledge.answer_with("two-factor-reset") is not None
    await knowledge.repository.update(
        "two-factor-reset", {"status": "draft"}, author=None
    )
    assert await knowledge.answer_with("two-factor-reset") is None
    assert await knowledge.answer_with("no-such-article") is None

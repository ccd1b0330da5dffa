"""Nearest-example matching, its "none" class, and the calibrated confidence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bot.knowledge import (
    Article,
    KnowledgeBase,
    KnowledgeIndex,
    KnowledgeRepository,
    SearchSettings,
    load_seed,
)
from bot.knowledge.scoring import answer_confidence
from bot.knowledge.similarity import ExampleMatcher, char_features, word_features
from tests.bot.knowledge.helpers import make_article


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.build(load_seed())


def test_features_are_words_bigrams_and_character_grams() -> None:
    assert word_features("Reset my password") == [
        "w:reset",
        "w:password",
        "b:reset password",
    ]
    grams = char_features("2FA")
    assert " 2" in grams and "2fa " in grams and " 2fa " in grams
    assert all(2 <= len(gram) <= 5 for gram in grams)


def test_closest_example_wins() -> None:
    articles = [
        make_article("print", "Print notes", examples=["put my notes on paper"]),
        make_article("export", "Export notes", examples=["save notes as a file"]),
    ]
    matcher = ExampleMatcher.build(articles)
    found = matcher.similarities("how do I put notes on paper")
    assert found.articles[0] > found.articles[1]
    assert found.negative == 0.0
    assert np.all((found.articles >= 0) & (found.articles <= 1))


def test_an_identical_sentence_has_similarity_one() -> None:
    articles = [make_article("print", "Print notes", examples=["notes on paper"])]
    matcher = ExampleMatcher.build(articles, ["good morning"])
    assert matcher.similarities("notes on paper").articles[0] == pytest.approx(1.0)
    assert matcher.similarities("good morning").negative == pytest.approx(1.0)


def test_unknown_words_lower_the_similarity() -> None:
    articles = [make_article("print", "Print notes", examples=["print my notes"])]
    matcher = ExampleMatcher.build(articles)
    plain = matcher.similarities("print my notes").articles[0]
    diluted = matcher.similarities("print my notes xylophone quokka").articles[0]
    assert diluted < plain


def test_typos_still_match_through_character_grams() -> None:
    articles = [
        make_article("password-reset", "Reset your password"),
        make_article("export", "Export your notes"),
    ]
    found = ExampleMatcher.build(articles).similarities("pasword resett")
    assert found.articles[0] > found.articles[1]


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("i cant remember the password for my account", "password-reset"),
        ("take my money back please", "refund-request"),
        ("notes differ between my phone and laptop", "sync-not-working"),
        ("how do I stop paying for plus", "cancel-subscription"),
    ],
)
def test_seed_paraphrases_rank_first(
    index: KnowledgeIndex, query: str, slug: str
) -> None:
    assert index.search(query).hits[0].slug == slug


@pytest.mark.parametrize(
    "query",
    [
        "good morning, how are you today",
        "tell me a joke about cats",
        "who won the football match yesterday",
        "thanks, bye",
    ],
)
def test_off_topic_text_is_not_answered(index: KnowledgeIndex, query: str) -> None:
    result = index.search(query)
    assert result.answer is None
    assert result.confidence < index.settings.threshold


def test_negative_examples_lower_the_confidence() -> None:
    articles = load_seed()
    query = "what's the weather like in paris tomorrow"
    without = KnowledgeIndex.build(articles, negatives=(), labelled=())
    with_none = KnowledgeIndex.build(articles, negatives=[query], labelled=())
    assert with_none.signals(query).negative == pytest.approx(1.0)
    assert without.signals(query).negative == 0.0
    assert with_none.search(query).confidence < without.search(query).confidence


def test_confidence_is_a_probability_rising_with_the_score() -> None:
    settings = SearchSettings()
    low = answer_confidence(
        (0.1, 0.0, 0.1, 0.1, 0.0, 0.5, 0.5, 0.0, 1.1, 0.2, 0.5, 0.05, 0.6, 0.5),
        settings,
    )
    high = answer_confidence(
        (0.9, 0.5, 0.9, 0.9, 0.0, 0.1, 0.0, 0.0, 1.1, 0.8, 0.2, 0.9, 0.02, 0.0),
        settings,
    )
    assert 0.0 < low < high < 1.0


def test_confidence_features_must_match_the_coefficients() -> None:
    with pytest.raises(ValueError):
        answer_confidence((0.5, 0.1), SearchSettings())


def test_signals_are_in_index_order(index: KnowledgeIndex) -> None:
    signals = index.signals("refund", intent="refund_request", intent_confidence=1.0)
    position = index.slugs.index("refund-request")
    assert (
        len(signals.lexical)
        == len(signals.similarity)
        == len(signals.semantic)
        == len(index)
    )
    assert signals.prior[position] == pytest.approx(index.settings.intent_weight)
    assert signals.similarity[position] == signals.similarity.max()
    assert signals.unknown == 0.0
    assert index.signals("").unknown == 1.0


def test_an_edited_example_is_found_by_the_next_index() -> None:
    articles = load_seed()
    query = "my parrot keeps pressing the trackpad and notes vanish"
    before = KnowledgeIndex.build(articles).search(query)
    assert before.hits == [] or before.hits[0].slug != "restore-deleted-note"
    edited = [
        (
            Article.from_dict(
                {
                    **article.to_dict(),
                    "examples": [*article.examples, query],
                    "version": article.version + 1,
                }
            )
            if article.slug == "restore-deleted-note"
            else article
        )
        for article in articles
    ]
    after = KnowledgeIndex.build(edited).search(query)
    assert after.answer is not None
    assert after.answer.slug == "restore-deleted-note"


async def test_knowledge_base_rebuilds_on_a_new_revision(kb_engine: Any) -> None:
    repository = KnowledgeRepository(kb_engine)
    await repository.import_articles(load_seed(), author="test")
    knowledge = KnowledgeBase(repository)
    query = "the little owl icon vanished from my toolbar"
    first = await knowledge.index()
    assert (await knowledge.search(query)).answer is None
    stored = await repository.get("keyboard-shortcuts")
    examples = [*stored.article.examples, query]
    await repository.update("keyboard-shortcuts", {"examples": examples}, author="test")
    second = await knowledge.index()
    assert second is not first
    answer = await knowledge.answer(query)
    assert answer is not None and answer.slug == "keyboard-shortcuts"
    assert await knowledge.index() is second


def test_the_same_training_data_reuses_the_classifier_fit() -> None:
    articles = load_seed()
    first = KnowledgeIndex.build(articles, SearchSettings(threshold=0.3))
    second = KnowledgeIndex.build(articles, SearchSettings(threshold=0.4))
    assert first._semantic._classifier is second._semantic._classifier
    edited = [
        (
            Article.from_dict(
                {**article.to_dict(), "examples": [*article.examples, "card gone"]}
            )
            if article.slug == "update-payment-method"
            else article
        )
        for article in articles
    ]
    refitted = KnowledgeIndex.build(edited, SearchSettings(threshold=0.4))
    assert refitted._semantic._classifier is not second._semantic._classifier
    assert refitted.signals("card gone").classifier.argmax() == refitted.slugs.index(
        "update-payment-method"
    )

"""Search: tokenizer, ranking, intent prior, exclusion, threshold, speed."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from bot.knowledge import (
    Article,
    KnowledgeIndex,
    SearchResult,
    SearchSettings,
    load_seed,
    plausible_hits,
    tokenize,
)
from bot.knowledge import search as search_module
from bot.knowledge.scoring import answer_confidence, unexplained
from bot.knowledge.search import Query
from bot.knowledge.settings import (
    CONFIDENCE_FEATURES,
    FEATURE_DIRECTIONS,
    quadratic_terms,
    term_directions,
)
from bot.knowledge.text import stem


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex.build(load_seed())


def make_article(slug: str, title: str, body: str, **fields: object) -> Article:
    return Article.from_dict(
        {"slug": slug, "title": title, "summary": title + ".", "body": body, **fields}
    )


@pytest.mark.parametrize(
    ("words", "shared_stem"),
    [
        (["sync", "syncing", "synced", "syncs"], "sync"),
        (["install", "installing", "installed", "installation"], "instal"),
        (["cancel", "cancelled", "cancelling", "cancellation"], "cancel"),
        (["charge", "charged", "charges", "charging"], "charg"),
        (["notify", "notified", "notification", "notifications"], "notify"),
        (["reply", "replies", "replied"], "reply"),
        (["password", "passwords"], "password"),
    ],
)
def test_stem_conflates_word_forms(words: list[str], shared_stem: str) -> None:
    assert {stem(word) for word in words} == {shared_stem}


@pytest.mark.parametrize("word", ["2fa", "ios", "app", "pdf", "vat", "10"])
def test_stem_keeps_short_words_and_codes(word: str) -> None:
    assert stem(word) == word


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("I can't LOG in!!!", ["log"]),
        ("How do I reset my password?", ["reset", "password"]),
        ("two-factor, 2FA: broken.", ["two", "factor", "2fa", "broken"]),
        ("Don\u2019t charge me", ["charg"]),
        ("change my E-mail", ["chang", "email"]),
        ("", []),
        ("the and of", []),
    ],
)
def test_tokenize(text: str, terms: list[str]) -> None:
    assert tokenize(text) == terms


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("I totally forgot my password", "password-reset"),
        ("account temporarily locked after wrong passwords", "account-locked"),
        ("authenticator app codes rejected on my new phone", "two-factor-reset"),
        ("update the email address I sign in with", "change-email"),
        ("download a pdf invoice for my accountant", "billing-invoice"),
        ("replace the expired credit card", "update-payment-method"),
        ("I was billed twice and want my money back", "refund-request"),
        ("stop my subscription from renewing", "cancel-subscription"),
        ("notes don't sync between my laptop and phone", "sync-not-working"),
        ("installer for linux", "install-desktop-app"),
        ("is lumen having an outage", "service-status"),
        ("what are your support hours", "contact-support-hours"),
        ("export every notebook as markdown", "export-notes"),
        ("permanently delete my account", "delete-account"),
        ("move from monthly to yearly billing", "change-plan"),
        ("restore a note from the trash", "restore-deleted-note"),
        ("import my evernote enex file", "import-from-other-apps"),
        ("single sign-on with okta", "sso-login"),
    ],
)
def test_paraphrase_finds_the_right_article(
    index: KnowledgeIndex, query: str, slug: str
) -> None:
    result = index.search(query)
    assert result.answer is not None
    assert result.answer.slug == slug
    assert result.hits[0] == result.answer


@pytest.mark.parametrize(
    ("query", "slug"),
    [("pasword reset", "password-reset"), ("refnud please", "refund-request")],
)
def test_a_misspelt_word_still_finds_the_article(
    index: KnowledgeIndex, query: str, slug: str
) -> None:
    # Two words, one misspelt, are weak evidence: the article ranks first and
    # is answered, or offered first when the confidence is too low to answer.
    result = index.search(query)
    assert result.hits[0].slug == slug
    if result.answer is None:
        assert plausible_hits(result, index.settings)[0].slug == slug
    else:
        assert result.answer.slug == slug


@pytest.mark.parametrize(
    "query",
    [
        "what is the capital of peru",
        "recommend a good pizza place",
        "asdfghjkl",
        "",
        "the and of",
    ],
)
def test_no_answer_when_nothing_fits(index: KnowledgeIndex, query: str) -> None:
    assert index.search(query).answer is None


def test_threshold_decides_whether_to_answer() -> None:
    articles = load_seed()
    query = "my card got declined"
    lenient = KnowledgeIndex.build(articles, SearchSettings(threshold=0.0))
    strict = KnowledgeIndex.build(articles, SearchSettings(threshold=float("inf")))
    assert lenient.search(query).answer == lenient.search(query).hits[0]
    assert strict.search(query).answer is None
    assert strict.search(query).hits == lenient.search(query).hits


def test_scores_are_normalised_and_sorted(index: KnowledgeIndex) -> None:
    for query in ("sync", "refund refund refund", "billing invoice payment card"):
        hits = index.search(
            query, intent="billing_question", intent_confidence=1.0
        ).hits
        scores = [hit.score for hit in hits]
        assert all(0.0 < score <= 1.0 for score in scores)
        assert scores == sorted(scores, reverse=True)


def test_matching_every_word_best_scores_one(index: KnowledgeIndex) -> None:
    assert index.signals("refund").lexical.max() == pytest.approx(1.0)


def test_unknown_words_lower_the_score(index: KnowledgeIndex) -> None:
    plain = index.search("refund").hits[0].score
    diluted = index.search("refund zebra giraffe").hits[0].score
    assert diluted < plain


def test_intent_prior_breaks_a_tie() -> None:
    first = make_article("first", "Card settings", "Card settings.")
    second = make_article(
        "second", "Card settings", "Card settings.", intents=["update_payment"]
    )
    index = KnowledgeIndex.build([first, second])
    plain = index.search("card settings zebra").hits
    # Identical articles: equal scores but for the classifier's rounding.
    assert plain[0].score == pytest.approx(plain[1].score, abs=1e-6)
    boosted = index.search(
        "card settings zebra", intent="update_payment", intent_confidence=0.9
    )
    assert boosted.hits[0].slug == "second"


@pytest.mark.parametrize("confidence", [0.2, 0.5, 0.8, 1.0])
def test_intent_boost_grows_with_confidence(
    index: KnowledgeIndex, confidence: float
) -> None:
    query = "card zebra"

    def score(value: float) -> float:
        result = index.search(
            query, intent="update_payment", intent_confidence=value, limit=40
        )
        return next(h.score for h in result.hits if h.slug == "update-payment-method")

    assert score(confidence) > score(confidence / 2) > score(0.0)


def test_intent_boost_follows_the_formula(index: KnowledgeIndex) -> None:
    lexical = index.search("card zebra", limit=40)
    plain = next(h.score for h in lexical.hits if h.slug == "update-payment-method")
    boosted = index.search(
        "card zebra", intent="update_payment", intent_confidence=0.5, limit=40
    )
    prior = index.settings.intent_weight * 0.5
    expected = 1 - (1 - plain) * (1 - prior)
    got = next(h.score for h in boosted.hits if h.slug == "update-payment-method")
    assert got == pytest.approx(expected, abs=1e-3)


def test_intent_reorders_close_candidates() -> None:
    # The mechanism, with a fixed intent weight (the tuned one may be small).
    index = KnowledgeIndex.build(load_seed(), SearchSettings(intent_weight=0.3))
    query = "card zebra"
    assert index.search(query).hits[0].slug == "update-payment-method"
    boosted = index.search(query, intent="billing_question", intent_confidence=0.9)
    assert boosted.hits[0].slug == "payment-failed"


def test_intent_alone_never_answers(index: KnowledgeIndex) -> None:
    result = index.search("zebra", intent="refund_request", intent_confidence=1.0)
    assert result.hits[0].slug == "refund-request"
    assert result.answer is None


@pytest.mark.parametrize("confidence", [-1.0, 0.0])
def test_no_boost_without_confidence(index: KnowledgeIndex, confidence: float) -> None:
    result = index.search(
        "zebra", intent="refund_request", intent_confidence=confidence
    )
    assert result == index.search("zebra")
    assert not index.signals(
        "zebra", intent="refund_request", intent_confidence=confidence
    ).prior.any()


def test_an_intent_no_article_is_linked_to_never_raises_the_confidence(
    index: KnowledgeIndex,
) -> None:
    # Its weight is fitted (it may be 0 when other evidence says the same);
    # its sign is bounded: see test_the_confidence_moves_only_in_each_...
    query = "a refund for the thing"
    plain = index.search(query)
    greeting = index.search(query, intent="greet", intent_confidence=1.0)
    assert greeting.hits == plain.hits
    assert greeting.confidence <= plain.confidence
    assert index.signals(
        "refund", intent="greet", intent_confidence=0.8
    ).off_intent == (pytest.approx(0.8))


def test_the_fallback_intent_is_ignored(index: KnowledgeIndex) -> None:
    assert index.search("refund", intent="nlu_fallback", intent_confidence=1.0) == (
        index.search("refund")
    )
    assert (
        index.signals("refund", intent="nlu_fallback", intent_confidence=1.0).off_intent
        == 0.0
    )
    linked = index.signals("refund", intent="refund_request", intent_confidence=1.0)
    assert linked.off_intent == 0.0


def test_exclude_gives_the_next_best(index: KnowledgeIndex) -> None:
    query = "two factor authenticator codes"
    first = index.search(query)
    assert first.answer is not None
    second = index.search(query, exclude=[first.answer.slug])
    assert first.answer.slug not in [hit.slug for hit in second.hits]
    assert second.hits[0] == first.hits[1]


def test_exclude_everything_leaves_nothing(index: KnowledgeIndex) -> None:
    slugs = [article.slug for article in load_seed()]
    assert index.search("password", exclude=slugs) == SearchResult()


@pytest.mark.parametrize("limit", [1, 2, 5, 10])
def test_limit(index: KnowledgeIndex, limit: int) -> None:
    assert len(index.search("account password email", limit=limit).hits) == limit


def test_limit_must_be_positive(index: KnowledgeIndex) -> None:
    with pytest.raises(ValueError, match="limit"):
        index.search("password", limit=0)


def test_drafts_are_not_indexed(index: KnowledgeIndex) -> None:
    draft = next(article for article in load_seed() if not article.is_published)
    assert index.article(draft.slug) is None
    hits = index.search(draft.examples[0], limit=40).hits
    assert draft.slug not in [hit.slug for hit in hits]


def test_article_lookup(index: KnowledgeIndex) -> None:
    article = index.article("password-reset")
    assert article is not None and article.title
    assert index.article("missing") is None
    assert len(index) == sum(a.is_published for a in load_seed())


def test_hits_carry_titles(index: KnowledgeIndex) -> None:
    hit = index.search("refund").hits[0]
    article = index.article(hit.slug)
    assert article is not None and hit.title == article.title


def test_empty_index() -> None:
    index = KnowledgeIndex.build([])
    assert len(index) == 0
    assert index.search("password") == SearchResult()


def _lead_only(lead_weight: float, threshold: float = 0.7) -> SearchSettings:
    """Settings whose confidence weighs only the best hit's lead, unscaled."""
    features = len(CONFIDENCE_FEATURES)
    weights = [0.0] * len(quadratic_terms([0.0] * features))
    weights[CONFIDENCE_FEATURES.index("lead")] = lead_weight
    return SearchSettings(
        confidence_scale=(1.0,) * features,
        confidence_bias=0.0,
        confidence_weights=tuple(weights),
        threshold=threshold,
    )


def test_a_clear_lead_raises_the_confidence() -> None:
    articles = [
        make_article("print-notes", "Print notes", "Print notes from the app."),
        make_article("export-pdf", "Export as PDF", "Save a note as a PDF file."),
    ]
    query = "how can I print my notes on paper today"
    plain = KnowledgeIndex.build(articles, _lead_only(0.0)).search(query)
    with_lead = KnowledgeIndex.build(articles, _lead_only(3.0)).search(query)
    assert plain.hits == with_lead.hits
    assert plain.hits[0].slug == "print-notes"
    assert with_lead.confidence > plain.confidence
    between = (plain.confidence + with_lead.confidence) / 2
    answer = (
        KnowledgeIndex.build(articles, _lead_only(3.0, threshold=between))
        .search(query)
        .answer
    )
    assert answer is not None and answer.slug == "print-notes"
    strict = _lead_only(0.0, threshold=between)
    assert KnowledgeIndex.build(articles, strict).search(query).answer is None


def test_quadratic_terms_are_the_values_then_every_pair() -> None:
    assert quadratic_terms([2.0, 3.0]) == [2.0, 3.0, 4.0, 6.0, 9.0]
    assert len(quadratic_terms([1.0] * len(CONFIDENCE_FEATURES))) == len(
        SearchSettings().confidence_weights
    )


def test_margin_is_taken_among_the_articles_not_excluded() -> None:
    articles = [
        make_article("print-notes", "Print notes", "Print notes from the app."),
        make_article("print-pdf", "Print to PDF", "Print notes to a PDF file."),
    ]
    index = KnowledgeIndex.build(articles, SearchSettings(threshold=0.0))
    result = index.search("print notes", exclude=["print-notes"], limit=1)
    assert [hit.slug for hit in result.hits] == ["print-pdf"]
    assert result.answer == result.hits[0]
    full = index.search("print notes")
    # Alone, print-pdf leads by its whole score: more confident than when
    # it was second.
    alone = index.search("print notes", exclude=["print-notes"])
    assert alone.confidence > 0 and full.hits[1].slug == "print-pdf"


@pytest.mark.parametrize("exponent", [0.5, 0.75])
def test_many_everyday_words_cost_less_than_linearly(exponent: float) -> None:
    articles = load_seed()
    query = (
        "so this morning my brother and I tried again and honestly I forgot my password"
    )
    # Without the labelled questions, whose words include these everyday ones.
    linear = KnowledgeIndex.build(
        articles, SearchSettings(unknown_word_exponent=1), labelled=()
    )
    gentler = KnowledgeIndex.build(
        articles, SearchSettings(unknown_word_exponent=exponent), labelled=()
    )
    linear_top = linear.search(query).hits[0]
    gentler_top = gentler.search(query).hits[0]
    assert linear_top.slug == gentler_top.slug == "password-reset"
    assert gentler_top.score > linear_top.score


def test_one_unknown_word_costs_the_same_whatever_the_exponent() -> None:
    articles = load_seed()
    query = "reset my zzyzx password"
    scores = {
        exponent: KnowledgeIndex.build(
            articles, SearchSettings(unknown_word_exponent=exponent)
        )
        .search(query)
        .hits[0]
        .score
        for exponent in (0.5, 1.0)
    }
    assert scores[0.5] == scores[1.0]


def test_signals_count_the_distinct_terms_of_the_message(
    index: KnowledgeIndex,
) -> None:
    assert index.signals("Sync, syncing and my notes!").terms == 2
    assert index.signals("hi there").terms == 0


def test_a_button_payload_leans_on_the_chosen_intent(index: KnowledgeIndex) -> None:
    chosen = index.signals("/sync_problem", intent="sync_problem", intent_confidence=1)
    typed = index.signals("sync problem", intent="sync_problem", intent_confidence=1)
    position = index.slugs.index("sync-not-working")
    assert chosen.prior[position] == index.settings.payload_intent_weight
    assert typed.prior[position] == index.settings.intent_weight
    assert chosen.prior[position] > typed.prior[position]
    # A payload of another intent than the one given is just text.
    other = index.signals("/sync_problem", intent="refund_request", intent_confidence=1)
    assert other.prior[position] == 0.0


def test_the_tuned_confidence_weights_keep_their_allowed_signs() -> None:
    weights = SearchSettings().confidence_weights
    for weight, direction in zip(weights, term_directions(), strict=True):
        if direction == 0:
            assert weight == 0.0
        elif direction is not None:
            assert weight * direction >= 0.0


@pytest.mark.parametrize("feature", range(len(CONFIDENCE_FEATURES)))
def test_the_confidence_moves_only_in_each_features_direction(feature: int) -> None:
    settings = SearchSettings()
    direction = FEATURE_DIRECTIONS[feature]
    generator = random.Random(feature)
    for _ in range(300):
        features = [generator.random() for _ in CONFIDENCE_FEATURES]
        length = CONFIDENCE_FEATURES.index("log_terms")
        features[length] = math.log1p(generator.randint(1, 30))
        before = answer_confidence(features, settings)
        features[feature] += generator.uniform(0.01, 0.5)
        after = answer_confidence(features, settings)
        if direction > 0:
            assert after >= before - 1e-12
        elif direction < 0:
            assert after <= before + 1e-12


def test_a_specific_word_the_best_article_lacks_is_unexplained(
    index: KnowledgeIndex,
) -> None:
    # "notion" is in one article (importing from Notion), not in the
    # cancellation article: likely another company's subscription.
    about_notion = index.signals("cancel my notion subscription")
    cancel = index.slugs.index("cancel-subscription")
    assert unexplained(about_notion, cancel) > 0.5
    plain = index.signals("cancel my subscription")
    assert unexplained(plain, cancel) == 0.0
    assert unexplained(index.signals(""), cancel) == 0.0
    found = index.search("how do I cancel my Notion subscription")
    assert found.confidence < index.search("how do I cancel my subscription").confidence


#: Several languages, a typo, a button payload, chit-chat, a message no
#: article answers, an empty one; with and without an intent and exclusions.
BATCHED_QUERIES = [
    Query("I totally forgot my password"),
    Query(
        "pasword reset link never arrives",
        intent="reset_password",
        intent_confidence=0.4,
    ),
    Query("mot de passe oublié, je ne peux plus me connecter"),
    Query(
        "¿cómo cancelo mi suscripción?",
        intent="cancel_subscription",
        intent_confidence=0.9,
    ),
    Query("Meine Notizen werden nicht synchronisiert"),
    Query("私のアカウントを削除したい"),
    Query("I was billed twice and want my money back", exclude=("refund-request",)),
    Query("/billing_question", intent="billing_question", intent_confidence=1.0),
    Query("hello there", intent="greet", intent_confidence=0.95),
    Query("what is the capital of mongolia"),
    Query("zebra giraffe"),
    Query(""),
    Query("refund", intent="nlu_fallback", intent_confidence=0.3),
]


def _alone(index: KnowledgeIndex, query: Query, limit: int = 3) -> SearchResult:
    return index.search(
        query.text,
        intent=query.intent,
        intent_confidence=query.intent_confidence,
        exclude=query.exclude,
        limit=limit,
        vector=query.vector,
    )


def _assert_same(batched: SearchResult, alone: SearchResult) -> None:
    assert [hit.slug for hit in batched.hits] == [hit.slug for hit in alone.hits]
    for mine, theirs in zip(batched.hits, alone.hits, strict=True):
        # Scores are rounded to 4 places: float noise may cross one rounding.
        assert mine.score == pytest.approx(theirs.score, abs=1.5e-4)
    assert (batched.answer is None) == (alone.answer is None)
    if alone.answer is not None:
        assert batched.answer is not None
        assert batched.answer.slug == alone.answer.slug
    assert batched.confidence == pytest.approx(alone.confidence, abs=1.5e-4)


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_a_batch_search_gives_each_query_its_own_result(
    index: KnowledgeIndex, limit: int
) -> None:
    batched = index.search_many(BATCHED_QUERIES, limit=limit)
    assert len(batched) == len(BATCHED_QUERIES)
    for query, found in zip(BATCHED_QUERIES, batched, strict=True):
        _assert_same(found, _alone(index, query, limit))
    # Not vacuous: most queries find something, and the no-match ones do not
    # get an answer.
    assert sum(bool(found.hits) for found in batched) >= len(BATCHED_QUERIES) - 2
    assert batched[BATCHED_QUERIES.index(Query("zebra giraffe"))].answer is None


def test_a_batch_search_matches_the_signals_of_each_query(
    index: KnowledgeIndex,
) -> None:
    vectors = {query.text: index.embed(query.text) for query in BATCHED_QUERIES}
    given = [
        Query(q.text, q.intent, q.intent_confidence, q.exclude, vectors[q.text])
        for q in BATCHED_QUERIES
    ]
    for query, batched in zip(given, index.signals_many(given), strict=True):
        alone = index.signals(
            query.text,
            intent=query.intent,
            intent_confidence=query.intent_confidence,
            vector=query.vector,
        )
        # Word-based signals: the same sums in the same order.
        assert np.array_equal(batched.lexical, alone.lexical)
        assert np.array_equal(batched.similarity, alone.similarity)
        assert np.array_equal(batched.prior, alone.prior)
        assert batched.negative == alone.negative
        assert (batched.unknown, batched.off_intent, batched.terms) == (
            alone.unknown,
            alone.off_intent,
            alone.terms,
        )
        # Embeddings: one matrix product instead of one per message.
        assert np.allclose(batched.semantic, alone.semantic, atol=1e-6)
        assert np.allclose(batched.classifier, alone.classifier, atol=1e-6)
        assert batched.semantic_negative == pytest.approx(
            alone.semantic_negative, abs=1e-6
        )
        assert batched.classifier_none == pytest.approx(alone.classifier_none, abs=1e-6)


def test_a_batch_search_keeps_each_result_with_its_query(
    index: KnowledgeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = [
        Query("I totally forgot my password"),
        Query("replace the expired credit card"),
        Query("stop my subscription from renewing"),
        Query("installer for linux"),
        Query("permanently delete my account"),
        Query("import my evernote enex file"),
        Query("single sign-on with okta"),
    ]
    tops = [_alone(index, query).hits[0].slug for query in queries]
    # Each query has its own best article: a swap would show.
    assert len(set(tops)) == len(queries)
    # Batches of 3: the chunks' boundaries fall inside the list.
    monkeypatch.setattr(search_module, "SEARCH_BATCH", 3)
    forward = index.search_many(queries)
    backward = index.search_many(queries[::-1])
    assert [found.hits[0].slug for found in forward] == tops
    assert [found.hits[0].slug for found in backward] == tops[::-1]
    assert index.search_many([]) == []


def test_a_batch_search_checks_its_limit(index: KnowledgeIndex) -> None:
    with pytest.raises(ValueError, match="limit"):
        index.search_many([Query("password")], limit=0)

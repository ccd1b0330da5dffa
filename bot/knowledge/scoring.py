"""How a search's evidence becomes a score per article, and whether to answer.

:class:`~bot.knowledge.search.KnowledgeIndex` gathers the evidence of one
search (:class:`Signals`); this module weighs it. The tuner
(``python -m bench.kb.tune``) fits the weights with the same functions.

Scores are normalised to ``[0, 1]``:

- The *lexical score* of an article is its BM25 score divided by the best
  score any article could reach for the same query: the sum, over the query's
  known words, of the best single-article contribution of that word in the
  index (at least ``min_word_evidence`` times the weight of a word no article
  contains, so that a lone common word is weak evidence), plus a penalty for
  each unknown word (``unknown_word_weight`` times the weight of a word no
  article contains). An article that matches every query
  word as well as any article does scores 1; a query full of words the
  knowledge base does not know scores low everywhere.
- The *text score* mixes them: ``similarity_weight * similarity +
  semantic_weight * semantic + classifier_weight * probability``, and the
  rest of the weight on the lexical score.
- The *intent prior* is ``intent_weight * intent_confidence`` for articles
  linked to the predicted intent, 0 for others. Text score and prior are
  combined as a noisy-OR, ``1 - (1 - text) * (1 - prior)``, which stays in
  ``[0, 1]``, never lowers an article, and rises with either kind of evidence.

Whether to answer is a separate, calibrated decision: the *confidence* is a
logistic function of the best hit's score, its lead over the second best, its
similarity, its lexical score, its intent prior, the similarity to the
"none" sentences, the share of unknown words, the confidence of an intent
no article is linked to, the length of the message (short messages reach
high scores more easily), its semantic similarity and that to "none", and
the classifier's probabilities of it and of "none", each divided by its
spread, and of products of two
of them (a high score counts for more with a clear lead, a short message
needs a larger one...), with coefficients fitted on the development questions
(``python -m bench.kb.tune``), i.e. an estimate of the probability that the
best hit is the right answer. The fit keeps it monotonic: more evidence for
an article (score, lead, similarities, lexical score, intent prior,
probability) never lowers the confidence, more evidence against it ("none"
similarities and probability, unknown words, an unrelated intent) never
raises it (:func:`~bot.knowledge.settings.term_directions`).
``answer`` is the best hit only when that confidence reaches ``threshold``;
below it the caller should not guess (ask again, or hand over to a person).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.settings import SearchSettings, quadratic_terms


@dataclass(frozen=True)
class Signals:
    """The evidence a search weighs, per article in index (slug) order.

    Attributes:
        lexical: Normalised BM25 score, 0 to 1.
        similarity: Best cosine with one of the article's sentences, 0 to 1.
        semantic: Best cosine of sentence embeddings with one of the
            article's sentences, 0 to 1.
        classifier: The meaning classifier's probability of each article.
        classifier_none: Its probability of "none".
        known_terms: Each known term of the message: its specificity (idf
            over the largest idf) and the articles that contain it.
        prior: Intent prior (``intent_weight * intent_confidence`` if linked).
        negative: Best cosine with a sentence no article answers.
        unknown: Share of the message's terms that no article contains
            (1 for a message without terms).
        off_intent: The NLU's confidence in the intent it predicted when no
            article is linked to that intent (0 without an intent, for a
            linked one, and for :data:`UNSURE_INTENTS`).
        terms: Number of distinct terms in the message.
        semantic_negative: Best cosine of sentence embeddings with a
            sentence no article answers.
    """

    lexical: np.ndarray
    similarity: np.ndarray
    semantic: np.ndarray
    classifier: np.ndarray
    prior: np.ndarray
    negative: float
    unknown: float = 0.0
    off_intent: float = 0.0
    terms: int = 0
    semantic_negative: float = 0.0
    classifier_none: float = 0.0
    known_terms: tuple[tuple[float, np.ndarray], ...] = ()


def combine(signals: Signals, settings: SearchSettings) -> np.ndarray:
    """Score every article from its signals (see the module docstring).

    Args:
        signals: The evidence of one search.
        settings: The weights.

    Returns:
        One score in ``[0, 1]`` per article.
    """
    lexical_weight = (
        1
        - settings.similarity_weight
        - settings.semantic_weight
        - settings.classifier_weight
    )
    text = (
        lexical_weight * signals.lexical
        + settings.similarity_weight * signals.similarity
        + settings.semantic_weight * signals.semantic
        + settings.classifier_weight * signals.classifier
    )
    scores: np.ndarray = 1 - (1 - text) * (1 - signals.prior)
    return scores


def confidence_features(
    signals: Signals, scores: np.ndarray, best: int, second: int | None
) -> tuple[float, ...]:
    """The inputs of :func:`answer_confidence` for the best article.

    Args:
        signals: The evidence of the search.
        scores: The combined score of every article.
        best: Position of the best article.
        second: Position of the second best, if any.

    Returns:
        The features, in the order of
        :data:`~bot.knowledge.settings.CONFIDENCE_FEATURES`.
    """
    top = float(scores[best])
    runner_up = float(scores[second]) if second is not None else 0.0
    return (
        top,
        top - runner_up,
        float(signals.similarity[best]),
        float(signals.lexical[best]),
        float(signals.prior[best]),
        signals.negative,
        signals.unknown,
        signals.off_intent,
        math.log1p(signals.terms),
        float(signals.semantic[best]),
        signals.semantic_negative,
        float(signals.classifier[best]),
        signals.classifier_none,
        unexplained(signals, best),
    )


def unexplained(signals: Signals, best: int) -> float:
    """The most specific known word of the message that the best article lacks.

    "Cancel my Notion subscription" is about cancelling, but "notion" is a
    specific word (one article, about importing from Notion, has it) that
    the cancellation article does not explain: the message is likely about
    another company's product. 0 when the best article has every known word.
    """
    return max(
        (
            specificity
            for specificity, containing in signals.known_terms
            if not np.any(containing == best)
        ),
        default=0.0,
    )


def answer_confidence(features: Sequence[float], settings: SearchSettings) -> float:
    """Estimated probability that the best hit is the right answer.

    Args:
        features: The best hit's score, its lead over the second best, its
            similarity, its lexical score, its intent prior, the similarity
            to the "none" sentences, the share of unknown terms, the
            confidence of an intent no article is linked to and the log of
            the message's length (see :func:`confidence_features`).
        settings: The fitted scales and coefficients.

    Returns:
        A probability, 0 to 1.

    Raises:
        ValueError: The number of features does not match the settings.
    """
    scaled = [
        value / scale
        for value, scale in zip(features, settings.confidence_scale, strict=True)
    ]
    logit = settings.confidence_bias + sum(
        weight * term
        for weight, term in zip(
            settings.confidence_weights, quadratic_terms(scaled), strict=True
        )
    )
    return 1 / (1 + math.exp(-max(min(logit, 50.0), -50.0)))

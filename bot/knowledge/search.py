"""Find the knowledge-base article that answers a customer's message.

Ranking has five parts:

1. **Words.** Okapi BM25 over each article's title, summary, tags, example
   questions and body (fields weighted, see
   :class:`~bot.knowledge.settings.SearchSettings`), with a
   tokenizer that lowercases, drops punctuation and a small stopword list, and
   strips common English suffixes. A query word the index has never seen is
   corrected to a known word one edit away (``pasword`` → ``password``).
2. **Nearest examples.** The cosine between the message and the closest of
   each article's title, summary, tags and example questions, over TF-IDF
   word and character n-grams (:mod:`bot.knowledge.similarity`); the same
   cosine with sentences no article answers (chit-chat, off-topic requests:
   the "none" class) is evidence *against* answering.
3. **Meaning.** The cosine between the message's sentence embedding
   (:mod:`bot.knowledge.embedding`) and the closest of the same sentences,
   and with the "none" sentences: it matches paraphrases that share no word.
4. **Meaning classifier.** A logistic regression over those embeddings, one
   class per article plus "none", fitted when the index is built
   (:meth:`~bot.knowledge.similarity.SemanticMatcher.fit_classifier`): each
   article's probability, and that of "none".
5. **Intent.** Articles linked to the intent the NLU predicted get a boost
   proportional to the intent's confidence (a larger one when the message is
   a button's ``/intent`` payload: the customer chose the topic). An intent
   that no article is linked to (``greet``, ``out_of_scope``, ...; not Rasa's
   "not sure" ``nlu_fallback``) is, with its confidence, evidence against
   answering.

How the signals become a score, and whether to answer, is in
:mod:`bot.knowledge.scoring`.

Everything is built from the published articles alone (no training run, no
model file but the sentence encoder's): about a second for the seed once its
sentences' vectors are stored, so an edit is searchable almost at once.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from bot.knowledge.articles import Article
from bot.knowledge.embedding import SentenceEncoder, shared_encoder
from bot.knowledge.labelled import LabelledQuestion, by_article, shipped_labelled
from bot.knowledge.negatives import load_negatives
from bot.knowledge.scoring import (
    Signals,
    answer_confidence,
    combine,
    confidence_features,
)
from bot.knowledge.settings import SearchSettings
from bot.knowledge.similarity import ExampleMatcher, SemanticMatcher, Similarities
from bot.knowledge.text import tokenize

#: Intents that say the NLU is not sure rather than what the message is
#: about (Rasa's ``FallbackClassifier``): no evidence either way.
UNSURE_INTENTS = frozenset({"nlu_fallback"})
#: A Rasa intent payload, as sent by a button: ``/intent`` or ``/intent{...}``.
PAYLOAD_PATTERN = re.compile(r"/(?P<intent>[A-Za-z0-9_\-]+)(?:\{.*\})?", re.DOTALL)


@dataclass(frozen=True)
class Hit:
    """One article found for a query.

    Attributes:
        slug: The article's slug.
        score: Normalised relevance in ``[0, 1]``.
        title: The article's title.
    """

    slug: str
    score: float
    title: str


@dataclass(frozen=True)
class SearchResult:
    """What a search found.

    Attributes:
        hits: The best articles, best first (possibly below the threshold;
            useful as suggestions to an agent).
        answer: The best hit if it reached the threshold, else ``None``: the
            bot should not guess.
        confidence: Estimated probability that the best hit is right.
    """

    hits: list[Hit] = field(default_factory=list)
    answer: Hit | None = None
    confidence: float = 0.0


@dataclass(frozen=True)
class Query:
    """One message to search for, as :meth:`KnowledgeIndex.search_many` takes it.

    Attributes:
        text: The customer's message, as typed.
        intent: The intent the NLU predicted, if any.
        intent_confidence: The NLU's confidence in ``intent``, 0 to 1.
        exclude: Slugs not to return, e.g. answers the customer rejected.
        vector: The message's embedding, when it is already known.
    """

    text: str
    intent: str | None = None
    intent_confidence: float = 0.0
    exclude: Collection[str] = ()
    vector: np.ndarray | None = field(default=None, compare=False)


#: Messages compared with the sentences in one matrix product by
#: :meth:`KnowledgeIndex.search_many` (bounds the dense query matrices: a
#: column of the character n-gram space is some hundred kilobytes).
SEARCH_BATCH = 64


def _idf(count: int, frequency: int) -> float:
    """The Lucene form of BM25's idf: positive even for common terms."""
    return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))


def _single_deletions(term: str) -> set[str]:
    return {term[:index] + term[index + 1 :] for index in range(len(term))}


class KnowledgeIndex:
    """An immutable in-memory search index over published articles.

    Build it once with :meth:`build` (rebuild after the knowledge base
    changes); :meth:`search` is pure, synchronous and safe to share between
    threads.
    """

    def __init__(
        self,
        articles: Sequence[Article],
        postings: dict[str, list[tuple[int, float]]],
        best_contribution: dict[str, float],
        unseen_term_weight: float,
        deletion_index: dict[str, list[str]],
        settings: SearchSettings,
        matcher: ExampleMatcher,
        semantic: SemanticMatcher,
    ) -> None:
        self._articles = list(articles)
        self._matcher = matcher
        self._semantic = semantic
        self._position = {article.slug: index for index, article in enumerate(articles)}
        # Per term, the articles containing it and their contributions, as
        # arrays: a query adds them up without a Python loop over articles.
        self._postings = {
            term: (
                np.array([index for index, _ in entries], dtype=np.int64),
                np.array([contribution for _, contribution in entries]),
            )
            for term, entries in postings.items()
        }
        self._best_contribution = best_contribution
        self._unseen_term_weight = unseen_term_weight
        self._deletion_index = deletion_index
        self._settings = settings
        linked: defaultdict[str, list[int]] = defaultdict(list)
        for index, article in enumerate(self._articles):
            for intent in article.intents:
                linked[intent].append(index)
        self._by_intent = {
            intent: np.array(positions, dtype=np.int64)
            for intent, positions in linked.items()
        }

    @classmethod
    def build(
        cls,
        articles: Iterable[Article],
        settings: SearchSettings | None = None,
        *,
        negatives: Iterable[str] | None = None,
        labelled: Iterable[LabelledQuestion] | None = None,
        encoder: SentenceEncoder | None = None,
        previous: KnowledgeIndex | None = None,
    ) -> KnowledgeIndex:
        """Index the published articles among ``articles``.

        Args:
            articles: Articles of any status; drafts are left out.
            settings: Ranking constants; the tuned defaults when omitted.
            negatives: Sentences no article answers (the "none" class); when
                omitted, :func:`~bot.knowledge.negatives.load_negatives` reads
                the chit-chat of the NLU data and the shipped written ones.
            labelled: Customer questions labelled with the article that
                answers them, or "none" (:mod:`bot.knowledge.labelled`): each
                is matched like one more example of its article, or one more
                negative; the shipped ones when omitted, none with ``()``.
            encoder: The sentence encoder; the process's shared one when
                omitted.
            previous: The index this one replaces (after an edit): its
                meaning classifier is where the new one starts from.

        Returns:
            The index.

        Raises:
            EmbeddingModelMissing: No encoder was given and the model files
                are not installed.
            KnowledgeError: No negatives were given and their files are
                missing or invalid.
        """
        negatives = list(load_negatives() if negatives is None else negatives)
        settings = settings or SearchSettings()
        published = sorted(
            (article for article in articles if article.is_published),
            key=lambda article: article.slug,
        )
        learned, learned_none = by_article(
            shipped_labelled() if labelled is None else labelled,
            [article.slug for article in published],
        )
        negatives.extend(learned_none)
        # What the scorers learn from: each article with its labelled
        # questions as more examples. The index serves the articles as they are.
        training = [
            replace(article, examples=(*article.examples, *learned[article.slug]))
            if learned[article.slug]
            else article
            for article in published
        ]
        frequencies = [_weighted_terms(article, settings) for article in training]
        lengths = [sum(terms.values()) for terms in frequencies]
        count = len(published)
        average_length = (sum(lengths) / count) if count else 1.0
        document_frequency: Counter[str] = Counter()
        for terms in frequencies:
            document_frequency.update(terms.keys())

        postings: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, terms in enumerate(frequencies):
            length_norm = settings.k1 * (
                1 - settings.b + settings.b * lengths[index] / average_length
            )
            for term, frequency in terms.items():
                weight = _idf(count, document_frequency[term])
                contribution = (
                    weight * frequency * (settings.k1 + 1) / (frequency + length_norm)
                )
                postings[term].append((index, contribution))
        best_contribution = {
            term: max(contribution for _, contribution in entries)
            for term, entries in postings.items()
        }
        deletion_index: defaultdict[str, list[str]] = defaultdict(list)
        for term in sorted(postings, key=lambda term: -document_frequency[term]):
            if len(term) >= settings.min_typo_length - 1 and term.isalpha():
                for variant in _single_deletions(term) | {term}:
                    deletion_index[variant].append(term)
        semantic = SemanticMatcher.build(
            training, negatives, encoder or shared_encoder()
        )
        semantic.fit_classifier(
            settings.classifier_strength,
            previous._semantic if previous is not None else None,
        )
        return cls(
            published,
            dict(postings),
            best_contribution,
            _idf(count, 0),
            dict(deletion_index),
            settings,
            ExampleMatcher.build(training, negatives, char_weight=settings.char_weight),
            semantic,
        )

    def __len__(self) -> int:
        return len(self._articles)

    @property
    def slugs(self) -> list[str]:
        """The indexed articles' slugs, in index order (that of :class:`Signals`)."""
        return [article.slug for article in self._articles]

    @property
    def settings(self) -> SearchSettings:
        """The ranking constants this index uses."""
        return self._settings

    def article(self, slug: str) -> Article | None:
        """Return the indexed (published) article with this slug, if any."""
        position = self._position.get(slug)
        return None if position is None else self._articles[position]

    def embed(self, query: str) -> np.ndarray:
        """A message's sentence embedding, as :meth:`signals` takes it."""
        return self._semantic.vector(query)

    def signals(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        vector: np.ndarray | None = None,
    ) -> Signals:
        """The evidence for every article, before it is combined into scores.

        Args:
            query: The customer's message, as typed.
            intent: The intent the NLU predicted, if any.
            intent_confidence: The NLU's confidence in ``intent``, 0 to 1.
            vector: The message's embedding (:meth:`embed`), when it is
                already known; computed here otherwise.

        Returns:
            Lexical score, similarity and intent prior per article (in index
            order) and the similarity to the "none" sentences.
        """
        (found,) = self.signals_many(
            [Query(query, intent, intent_confidence, vector=vector)]
        )
        return found

    def signals_many(self, queries: Sequence[Query]) -> list[Signals]:
        """:meth:`signals` of several messages, compared with the sentences at once.

        The sentence matrices (TF-IDF and embeddings) are read once per
        :data:`SEARCH_BATCH` messages instead of once per message; each
        message's signals are those :meth:`signals` gives it alone (the
        embeddings' cosines up to float rounding).

        Args:
            queries: The messages (their ``exclude`` is not used here).

        Returns:
            One :class:`Signals` per query, in the order given.
        """
        found: list[Signals] = []
        for start in range(0, len(queries), SEARCH_BATCH):
            found.extend(self._signals_batch(queries[start : start + SEARCH_BATCH]))
        return found

    def _signals_batch(self, queries: Sequence[Query]) -> list[Signals]:
        if not queries:
            return []
        texts = [query.text for query in queries]
        similarities = self._matcher.similarities_many(texts)
        vectors = np.stack(
            [
                self.embed(query.text) if query.vector is None else query.vector
                for query in queries
            ]
        )
        if len(queries) == 1:
            # One message: the matrix-vector products of the single search.
            meanings = [self._semantic.similarities(vectors[0])]
            classified = [self._semantic.probabilities(vectors[0])]
        else:
            meanings = self._semantic.similarities_many(vectors)
            classified = self._semantic.probabilities_many(vectors)
        return [
            self._signals_of(query, similarity, meaning, probabilities)
            for query, similarity, meaning, probabilities in zip(
                queries, similarities, meanings, classified, strict=True
            )
        ]

    def _signals_of(
        self,
        query: Query,
        similarities: Similarities,
        meanings: Similarities,
        classified: tuple[np.ndarray, float],
    ) -> Signals:
        """One message's signals from its compared parts, with its words and intent."""
        count = len(self._articles)
        lexical, unknown, terms, known_terms = self._lexical_scores(query.text)
        if query.vector is not None:
            # A re-search of the same text (after "no") reuses the vector.
            self._semantic.encoder.remember(query.text, query.vector)
        intent = query.intent
        prior = np.zeros(count)
        confidence = min(max(query.intent_confidence, 0.0), 1.0)
        payload = PAYLOAD_PATTERN.fullmatch(query.text.strip())
        chosen = payload is not None and payload["intent"] == intent
        weight = confidence * (
            self._settings.payload_intent_weight
            if chosen
            else self._settings.intent_weight
        )
        off_intent = 0.0
        if intent is not None and intent in self._by_intent:
            if weight > 0:
                prior[self._by_intent[intent]] = weight
        elif intent is not None and intent not in UNSURE_INTENTS:
            off_intent = confidence
        return Signals(
            lexical=np.clip(lexical, 0.0, 1.0),
            similarity=similarities.articles,
            semantic=meanings.articles,
            prior=prior,
            negative=similarities.negative,
            unknown=unknown,
            off_intent=off_intent,
            terms=terms,
            semantic_negative=meanings.negative,
            classifier=classified[0],
            classifier_none=classified[1],
            known_terms=known_terms,
        )

    def search(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        exclude: Collection[str] = (),
        limit: int = 3,
        vector: np.ndarray | None = None,
    ) -> SearchResult:
        """Rank the articles for a customer's message.

        Args:
            query: The customer's message, as typed.
            intent: The intent the NLU predicted, if any.
            intent_confidence: The NLU's confidence in ``intent``, 0 to 1.
            exclude: Slugs not to return, e.g. answers the customer rejected.
            limit: How many hits to return at most.
            vector: The message's embedding, when it is already known.

        Returns:
            The best hits, and the answer if the best one is confident enough.

        Raises:
            ValueError: ``limit`` is less than 1.
        """
        (result,) = self.search_many(
            [Query(query, intent, intent_confidence, exclude, vector)], limit=limit
        )
        return result

    def search_many(
        self, queries: Sequence[Query], *, limit: int = 3
    ) -> list[SearchResult]:
        """:meth:`search` for several messages at once (:meth:`signals_many`).

        What the trainers' inbox does for the groups it shows: one pass over
        the sentence matrices instead of one per group. Each result is the
        one :meth:`search` gives its query alone (the same hits in the same
        order; scores equal up to float rounding of the embeddings' cosines).

        Args:
            queries: The messages, each with its intent, exclusions, vector.
            limit: How many hits to return at most, per query.

        Returns:
            One result per query, in the order given.

        Raises:
            ValueError: ``limit`` is less than 1.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if not self._articles:
            return [SearchResult() for _ in queries]
        return [
            self._ranked(signals, query.exclude, limit)
            for query, signals in zip(queries, self.signals_many(queries), strict=True)
        ]

    def _ranked(
        self, signals: Signals, exclude: Collection[str], limit: int
    ) -> SearchResult:
        """The best hits of one search's signals, and the answer if confident."""
        scores = combine(signals, self._settings)
        for slug in exclude:
            position = self._position.get(slug)
            if position is not None:
                scores[position] = 0.0
        wanted = min(max(limit, 2), len(scores))
        candidates = np.argpartition(-scores, wanted - 1)[:wanted]
        # Best first; ties in index (slug) order.
        ranked = sorted(
            (int(index) for index in candidates if scores[index] > 0),
            key=lambda index: (-scores[index], index),
        )
        hits = [
            Hit(
                slug=self._articles[index].slug,
                score=round(float(min(scores[index], 1.0)), 4),
                title=self._articles[index].title,
            )
            for index in ranked
        ]
        if not ranked:
            return SearchResult()
        confidence = answer_confidence(
            confidence_features(
                signals, scores, ranked[0], ranked[1] if len(ranked) > 1 else None
            ),
            self._settings,
        )
        answer = hits[0] if confidence >= self._settings.threshold else None
        return SearchResult(
            hits=hits[:limit], answer=answer, confidence=round(confidence, 4)
        )

    def _lexical_scores(
        self, query: str
    ) -> tuple[np.ndarray, float, int, tuple[tuple[float, np.ndarray], ...]]:
        """Normalised BM25 scores, and the share of unknown terms, of a query.

        Returns:
            The score of every article, in index order (0 for one sharing no
            word with ``query``), the share of the query's distinct terms
            that no article contains, the number of distinct terms, and per
            known term its specificity (idf over the largest idf, 0 to 1)
            and the articles containing it.
        """
        settings = self._settings
        scores = np.zeros(len(self._articles))
        ideal = 0.0
        unknown = 0
        terms = dict.fromkeys(tokenize(query))
        found: list[tuple[float, np.ndarray]] = []
        count = len(self._articles)
        for term in terms:
            known = self._resolve(term)
            if known is None:
                unknown += 1
                continue
            containing = self._postings[known][0]
            specificity = _idf(count, len(containing)) / self._unseen_term_weight
            found.append((specificity, containing))
            ideal += max(
                self._best_contribution[known],
                settings.min_word_evidence * self._unseen_term_weight,
            )
            # Each article appears once in a term's postings.
            indices, contributions = self._postings[known]
            scores[indices] += contributions
        # Sublinear in the number of unknown words: a long message written in
        # everyday words is not off-topic, a short one about "gym" may be.
        ideal += (
            settings.unknown_word_weight
            * self._unseen_term_weight
            * unknown**settings.unknown_word_exponent
        )
        if ideal > 0:
            scores /= ideal
        share = unknown / len(terms) if terms else 1.0
        return scores, share, len(terms), tuple(found)

    def _resolve(self, term: str) -> str | None:
        """Return ``term`` if indexed, else the indexed term one edit away."""
        if term in self._postings:
            return term
        if len(term) < self._settings.min_typo_length or not term.isalpha():
            return None
        for variant in (term, *sorted(_single_deletions(term))):
            candidates = self._deletion_index.get(variant)
            if candidates:
                return candidates[0]
        return None


def _weighted_terms(article: Article, settings: SearchSettings) -> dict[str, float]:
    """Count an article's terms, each field's terms weighted by the settings."""
    fields_and_weights = (
        (article.title, settings.title_weight),
        (article.summary, settings.summary_weight),
        (" ".join(article.tags), settings.tags_weight),
        (" ".join(article.examples), settings.examples_weight),
        (article.body, settings.body_weight),
    )
    weighted: dict[str, float] = {}
    for text, weight in fields_and_weights:
        for term in tokenize(text):
            weighted[term] = weighted.get(term, 0.0) + weight
    return weighted

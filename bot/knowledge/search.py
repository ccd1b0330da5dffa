"""Find the knowledge-base article that answers a customer's message.

Ranking has two parts:

1. **Words.** Okapi BM25 over each article's title, summary, tags, example
   questions and body (fields weighted, see :class:`SearchSettings`), with a
   tokenizer that lowercases, drops punctuation and a small stopword list, and
   strips common English suffixes. A query word the index has never seen is
   corrected to a known word one edit away (``pasword`` → ``password``).
2. **Intent.** Articles linked to the intent the NLU predicted get a boost
   proportional to the intent's confidence.

Scores are normalised to ``[0, 1]`` so that one threshold decides whether the
bot answers:

- The *lexical score* of an article is its BM25 score divided by the best
  score any article could reach for the same query: the sum, over the query's
  known words, of the best single-article contribution of that word in the
  index (at least ``min_word_evidence`` times the weight of a word no article
  contains, so that a lone common word is weak evidence), plus a penalty for
  each unknown word (``unknown_word_weight`` times the weight of a word no
  article contains). An article that matches every query
  word as well as any article does scores 1; a query full of words the
  knowledge base does not know scores low everywhere.
- The *intent prior* is ``intent_weight * intent_confidence`` for articles
  linked to the predicted intent, 0 for others. The two are combined as a
  noisy-OR, ``1 - (1 - lexical) * (1 - prior)``, which stays in ``[0, 1]``,
  never lowers an article, and rises with either kind of evidence.

``answer`` is the best hit only when its score reaches ``threshold``; below
it the caller should not guess (ask again, or hand over to a person).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from bot.knowledge.articles import Article

WORD_PATTERN = re.compile(r"[a-z0-9]+")
APOSTROPHES = str.maketrans("", "", "'\u2019`")
VOWELS = frozenset("aeiouy")

STOPWORDS = frozenset(
    """
    a about after again all also am an and any are as at be been being but by
    can cant could did didnt do does doesnt dont for from had has have having
    hello hey hi how i id if im in into is isnt it its ive just let lets me
    my myself no not of on or our out please so some than thank thanks that
    the their them then there these they this those to too u us very was we
    were what when where which who why will with wont would you your yours
    """.split()
)

# Ordered: the first matching suffix is replaced, the stem must keep at least
# ``min_stem`` letters so that short words ("thing", "need") stay whole.
SUFFIX_RULES: tuple[tuple[str, str, int], ...] = (
    ("ication", "y", 3),
    ("ation", "", 3),
    ("ied", "y", 3),
    ("ing", "", 3),
    ("ed", "", 3),
    ("ment", "", 3),
    ("ly", "", 4),
)


def stem(word: str) -> str:
    """Reduce an English word to a crude stem, the same way for every form.

    Plurals, ``-ing``, ``-ed``, ``-ly``, ``-ment`` and ``-ation`` are stripped,
    a final ``e`` is dropped and a final doubled consonant is collapsed, so
    that e.g. *syncing*, *synced* and *syncs* all become ``sync`` and
    *installation* and *installing* both become ``instal``. Stems need not be
    words; they only need to agree.

    Args:
        word: A lowercase word.

    Returns:
        The stem.
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, replacement, min_stem in SUFFIX_RULES:
        if word.endswith(suffix):
            base = word[: -len(suffix)]
            if len(base) >= min_stem and VOWELS.intersection(base):
                word = base + replacement
            break
    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in VOWELS:
        word = word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Split text into search terms.

    Lowercases, removes apostrophes (``can't`` → ``cant``), splits on anything
    that is not a letter or digit, drops stopwords, and stems what is left.

    Args:
        text: Any text: a query or an article field.

    Returns:
        The terms, in order, with repetitions.
    """
    words = WORD_PATTERN.findall(text.lower().translate(APOSTROPHES))
    return [stem(word) for word in words if word not in STOPWORDS]


@dataclass(frozen=True)
class SearchSettings:
    """The tunable constants of the ranking (tuned on ``bench/kb/dev.yml``).

    Attributes:
        k1: BM25 term-frequency saturation.
        b: BM25 document-length normalisation.
        title_weight: How many times a title word counts.
        summary_weight: How many times a summary word counts.
        tags_weight: How many times a tag word counts.
        examples_weight: How many times a word of an example question counts.
        body_weight: How many times a body word counts.
        unknown_word_weight: Share of a never-seen word's weight that counts
            against every article (0: unknown words are ignored).
        min_word_evidence: Least weight a known query word adds to the ideal
            score, as a share of a never-seen word's weight, so that a common
            word alone (``work``, ``time``) cannot make a perfect match.
        intent_weight: Prior given to an article linked to the predicted
            intent at confidence 1.
        threshold: Lowest score at which the bot answers.
        min_typo_length: Shortest unknown term that is corrected to a known
            term one edit away.
    """

    k1: float = 1.2
    b: float = 0.3
    title_weight: float = 3.0
    summary_weight: float = 1.0
    tags_weight: float = 2.0
    examples_weight: float = 1.0
    body_weight: float = 0.5
    unknown_word_weight: float = 3.0
    min_word_evidence: float = 0.25
    intent_weight: float = 0.4
    threshold: float = 0.55
    min_typo_length: int = 5


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
    """

    hits: list[Hit] = field(default_factory=list)
    answer: Hit | None = None


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
    ) -> None:
        self._articles = list(articles)
        self._position = {article.slug: index for index, article in enumerate(articles)}
        self._postings = postings
        self._best_contribution = best_contribution
        self._unseen_term_weight = unseen_term_weight
        self._deletion_index = deletion_index
        self._settings = settings
        linked: defaultdict[str, list[int]] = defaultdict(list)
        for index, article in enumerate(self._articles):
            for intent in article.intents:
                linked[intent].append(index)
        self._by_intent = dict(linked)

    @classmethod
    def build(
        cls, articles: Iterable[Article], settings: SearchSettings | None = None
    ) -> KnowledgeIndex:
        """Index the published articles among ``articles``.

        Args:
            articles: Articles of any status; drafts are left out.
            settings: Ranking constants; the tuned defaults when omitted.

        Returns:
            The index.
        """
        settings = settings or SearchSettings()
        published = sorted(
            (article for article in articles if article.is_published),
            key=lambda article: article.slug,
        )
        frequencies = [_weighted_terms(article, settings) for article in published]
        lengths = [sum(terms.values()) for terms in frequencies]
        count = len(published)
        average_length = (sum(lengths) / count) if count else 1.0
        document_frequency: Counter[str] = Counter()
        for terms in frequencies:
            document_frequency.update(terms.keys())

        def inverse_document_frequency(frequency: int) -> float:
            # The Lucene form of BM25's idf: positive even for common terms.
            return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))

        postings: defaultdict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, terms in enumerate(frequencies):
            length_norm = settings.k1 * (
                1 - settings.b + settings.b * lengths[index] / average_length
            )
            for term, frequency in terms.items():
                weight = inverse_document_frequency(document_frequency[term])
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
        return cls(
            published,
            dict(postings),
            best_contribution,
            inverse_document_frequency(0),
            dict(deletion_index),
            settings,
        )

    def __len__(self) -> int:
        return len(self._articles)

    @property
    def settings(self) -> SearchSettings:
        """The ranking constants this index uses."""
        return self._settings

    def article(self, slug: str) -> Article | None:
        """Return the indexed (published) article with this slug, if any."""
        position = self._position.get(slug)
        return None if position is None else self._articles[position]

    def search(
        self,
        query: str,
        *,
        intent: str | None = None,
        intent_confidence: float = 0.0,
        exclude: Collection[str] = (),
        limit: int = 3,
    ) -> SearchResult:
        """Rank the articles for a customer's message.

        Args:
            query: The customer's message, as typed.
            intent: The intent the NLU predicted, if any.
            intent_confidence: The NLU's confidence in ``intent``, 0 to 1.
            exclude: Slugs not to return, e.g. answers the customer rejected.
            limit: How many hits to return at most.

        Returns:
            The best hits, and the answer if the best one is confident enough.

        Raises:
            ValueError: ``limit`` is less than 1.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        settings = self._settings
        scores: dict[int, float] = {}
        ideal = 0.0
        for term in dict.fromkeys(tokenize(query)):
            known = self._resolve(term)
            if known is None:
                ideal += settings.unknown_word_weight * self._unseen_term_weight
                continue
            ideal += max(
                self._best_contribution[known],
                settings.min_word_evidence * self._unseen_term_weight,
            )
            for index, contribution in self._postings[known]:
                scores[index] = scores.get(index, 0.0) + contribution
        if ideal > 0:
            scores = {index: score / ideal for index, score in scores.items()}
        prior = settings.intent_weight * min(max(intent_confidence, 0.0), 1.0)
        if intent is not None and prior > 0:
            for index in self._by_intent.get(intent, ()):
                lexical = scores.get(index, 0.0)
                scores[index] = 1 - (1 - lexical) * (1 - prior)
        excluded = set(exclude)
        candidates = (
            (score, index)
            for index, score in scores.items()
            if score > 0 and self._articles[index].slug not in excluded
        )
        best = heapq.nsmallest(limit, candidates, key=lambda item: (-item[0], item[1]))
        hits = [
            Hit(
                slug=self._articles[index].slug,
                score=round(min(score, 1.0), 4),
                title=self._articles[index].title,
            )
            for score, index in best
        ]
        answer = hits[0] if hits and hits[0].score >= settings.threshold else None
        return SearchResult(hits=hits, answer=answer)

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

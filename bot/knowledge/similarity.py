"""Nearest-example matching: how close a message is to what each article answers.

BM25 (:mod:`bot.knowledge.search`) rewards the *words* an article shares with
a message. This module compares the message, as a whole, with every sentence
that says what an article is about — its title, its summary, its tags and each
of its example questions — and with a set of *negative* sentences that no
article answers (greetings, chit-chat, off-topic requests; see
:mod:`bot.knowledge.negatives`):

- Each sentence becomes a TF-IDF vector of word unigrams and bigrams (the
  stemmed terms of :func:`~bot.knowledge.search.tokenize`) and of character
  2- to 5-grams inside words (which match typos, word forms and compounds:
  ``pasword``, ``re-install``, ``2fa``). Both parts are L2-normalised and
  mixed with ``char_weight``.
- A message is vectorised the same way; n-grams the index has never seen keep
  their (highest) weight in the message's norm, so that a message made mostly
  of unknown words is far from everything.
- An article's *similarity* is the best cosine between the message and any of
  its sentences; the *negative similarity* is the best cosine with a negative
  sentence.

The matrix is built in one pass, with numpy and scipy, whenever the knowledge
base changes (no training run): an example question added through the API is
matched by the next search.

:class:`SemanticMatcher` compares the same sentences by *meaning*: the cosine
of their sentence embeddings (:mod:`bot.knowledge.embedding`), which matches
"my phone was stolen and the code app was on it" with "I lost the phone with
my authenticator" though they share no word.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import warnings
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from bot.knowledge.articles import Article
from bot.knowledge.embedding import SentenceEncoder
from bot.knowledge.text import APOSTROPHES, WORD_PATTERN, tokenize

#: Enough for the seed to converge (~100 iterations from scratch; a warm
#: start after an edit needs far fewer).
MAX_CLASSIFIER_ITERATIONS = 300
#: Fitted classifiers remembered by their training data: a rebuild whose
#: sentences did not change (a body or status edit elsewhere, new ranking
#: settings) reuses the fit instead of repeating it.
REMEMBERED_FITS = 4
_fits: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
MIN_CHAR_GRAM = 2
MAX_CHAR_GRAM = 5


def word_features(text: str) -> list[str]:
    """Stemmed terms and adjacent-term bigrams of a text."""
    terms = tokenize(text)
    return [f"w:{term}" for term in terms] + [
        f"b:{first} {second}" for first, second in itertools.pairwise(terms)
    ]


def char_features(text: str) -> list[str]:
    """Character 2- to 5-grams inside each word, the word padded with spaces."""
    grams: list[str] = []
    for word in WORD_PATTERN.findall(text.lower().translate(APOSTROPHES)):
        padded = f" {word} "
        for size in range(MIN_CHAR_GRAM, MAX_CHAR_GRAM + 1):
            grams.extend(
                padded[start : start + size] for start in range(len(padded) - size + 1)
            )
    return grams


@dataclass(frozen=True)
class Similarities:
    """How close one message is to each article and to the negative sentences.

    Attributes:
        articles: Best cosine per article, in index order, each in ``[0, 1]``.
        negative: Best cosine with a negative sentence (0 without negatives).
    """

    articles: np.ndarray
    negative: float


class _Space:
    """One TF-IDF feature space (words or characters) fitted on the sentences."""

    def __init__(self, documents: Sequence[Counter[str]]) -> None:
        frequency: Counter[str] = Counter()
        for features in documents:
            frequency.update(features.keys())
        self.vocabulary = {feature: column for column, feature in enumerate(frequency)}
        count = len(documents)
        # The smoothed idf of scikit-learn; a never-seen feature gets the
        # highest value, that of a feature in no sentence.
        self.idf = np.array(
            [math.log((1 + count) / (1 + frequency[f])) + 1 for f in self.vocabulary]
        )
        self.unseen_idf = math.log(1 + count) + 1

    def matrix(self, documents: Sequence[Counter[str]]) -> sparse.csr_matrix:
        """The L2-normalised TF-IDF rows of the fitted sentences."""
        indptr = [0]
        indices: list[int] = []
        values: list[float] = []
        for features in documents:
            for feature, count in features.items():
                indices.append(self.vocabulary[feature])
                values.append(1 + math.log(count))
            indptr.append(len(indices))
        rows = sparse.csr_matrix(
            (np.array(values), np.array(indices, dtype=np.int64), np.array(indptr)),
            shape=(len(documents), len(self.vocabulary)),
        )
        rows = rows.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1 / norms) @ rows)

    def vector(self, features: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
        """Columns and L2-normalised weights of a message's known features."""
        columns: list[int] = []
        weights: list[float] = []
        norm = 0.0
        for feature, count in features.items():
            column = self.vocabulary.get(feature)
            idf = self.unseen_idf if column is None else self.idf[column]
            weight = (1 + math.log(count)) * idf
            norm += weight * weight
            if column is not None:
                columns.append(column)
                weights.append(weight)
        scale = 1 / math.sqrt(norm) if norm else 0.0
        return np.array(columns, dtype=np.int64), np.array(weights) * scale


class ExampleMatcher:
    """Cosine similarity of a message to each article's sentences.

    Build it with :meth:`build`; :meth:`similarities` is pure and safe to call
    from several threads.
    """

    def __init__(
        self,
        words: _Space,
        characters: _Space,
        word_rows: sparse.csr_matrix,
        char_rows: sparse.csr_matrix,
        owners: np.ndarray,
        article_count: int,
        negative_rows: int,
        char_weight: float,
    ) -> None:
        self._words = words
        self._characters = characters
        self._word_rows = word_rows
        self._char_rows = char_rows
        self._owners = owners
        # Each article's sentences are consecutive rows: the best cosine of an
        # article is the maximum over its slice (articles without one stay 0).
        self._first_rows = np.searchsorted(owners, np.arange(article_count))
        self._has_rows = np.bincount(owners, minlength=article_count) > 0
        self._article_count = article_count
        self._negative_rows = negative_rows
        self._char_weight = char_weight
        self._row_count = len(owners) + negative_rows

    @classmethod
    def build(
        cls,
        articles: Sequence[Article],
        negatives: Iterable[str] = (),
        *,
        char_weight: float = 0.5,
    ) -> ExampleMatcher:
        """Vectorise the articles' sentences and the negative sentences.

        Args:
            articles: The indexed articles, in index order.
            negatives: Sentences that no article answers.
            char_weight: Share of the character n-grams in the similarity
                (the rest is words), 0 to 1.

        Returns:
            The matcher.
        """
        sentences, owners = all_sentences(articles)
        negative_sentences = [text for text in negatives if text.strip()]
        sentences.extend(negative_sentences)
        word_counts = [Counter(word_features(text)) for text in sentences]
        char_counts = [Counter(char_features(text)) for text in sentences]
        words = _Space(word_counts)
        characters = _Space(char_counts)
        return cls(
            words,
            characters,
            words.matrix(word_counts),
            characters.matrix(char_counts),
            np.array(owners, dtype=np.int64),
            len(articles),
            len(negative_sentences),
            char_weight,
        )

    def similarities(self, text: str) -> Similarities:
        """Compare a message with every article and with the negatives.

        Args:
            text: The customer's message.

        Returns:
            The best cosine per article and with a negative sentence.
        """
        (found,) = self.similarities_many([text])
        return found

    def similarities_many(self, texts: Sequence[str]) -> list[Similarities]:
        """:meth:`similarities` of several messages, in one pass over the sentences.

        The messages are the rows of one sparse matrix, multiplied with the
        sentences' in one product (in C): each cosine is the sum of the same
        products, in the same order, as the message alone gets.

        Args:
            texts: The customers' messages.

        Returns:
            One :class:`Similarities` per message, in the order given.
        """
        cosines = np.zeros((self._row_count, len(texts)))
        for space, rows, featurize, share in (
            (self._words, self._word_rows, word_features, 1 - self._char_weight),
            (self._characters, self._char_rows, char_features, self._char_weight),
        ):
            if share <= 0:
                continue
            found = [space.vector(Counter(featurize(text))) for text in texts]
            queries = sparse.csr_matrix(
                (
                    np.concatenate([weights for _, weights in found] + [np.zeros(0)]),
                    np.concatenate(
                        [columns for columns, _ in found] + [np.zeros(0, np.int64)]
                    ),
                    np.cumsum([0] + [len(columns) for columns, _ in found]),
                ),
                shape=(len(texts), rows.shape[1]),
            )
            cosines += share * (rows @ queries.T).toarray()
        return _best_per_article(
            cosines, self._first_rows, self._has_rows, len(self._owners)
        )


def _best_per_article(
    cosines: np.ndarray, first_rows: np.ndarray, has_rows: np.ndarray, article_rows: int
) -> list[Similarities]:
    """Best cosine per article (consecutive rows) and among the negative rows.

    ``cosines`` has one row per sentence and one column per message; the
    result has one :class:`Similarities` per column.
    """
    per_article = np.zeros((len(has_rows), cosines.shape[1]))
    if article_rows:
        best = np.maximum.reduceat(cosines[:article_rows], first_rows[has_rows], axis=0)
        per_article[has_rows] = best
    per_article = np.clip(per_article, 0.0, 1.0)
    negatives = cosines[article_rows:]
    negative = (
        np.maximum(negatives.max(axis=0), 0.0)
        if len(negatives)
        else np.zeros(cosines.shape[1])
    )
    by_message = per_article.T.copy()
    return [
        Similarities(articles=by_message[column], negative=float(negative[column]))
        for column in range(cosines.shape[1])
    ]


class SemanticMatcher:
    """Cosine of sentence embeddings: a message against each article's sentences.

    The same sentences as :class:`ExampleMatcher` (and the negatives), each a
    unit vector of :class:`~bot.knowledge.embedding.SentenceEncoder`; a
    message's vector against all of them is one matrix-vector product.
    """

    def __init__(
        self,
        encoder: SentenceEncoder,
        rows: np.ndarray,
        owners: np.ndarray,
        article_count: int,
        slugs: Sequence[str] = (),
    ) -> None:
        self.encoder = encoder
        self._rows = rows
        self._article_rows = len(owners)
        self._first_rows = np.searchsorted(owners, np.arange(article_count))
        self._has_rows = np.bincount(owners, minlength=article_count) > 0
        self._classifier: tuple[np.ndarray, np.ndarray] | None = None
        self._article_count = article_count
        self._owners = owners
        self.slugs = list(slugs)

    def fit_classifier(
        self, strength: float, previous: SemanticMatcher | None = None
    ) -> None:
        """Learn which article (or "none") a sentence's meaning points to.

        A multinomial logistic regression over the embeddings of the
        articles' sentences (one class per article) and the negative
        sentences (one more class, "none"); where nearest sentences only
        compare, it weighs the directions that tell articles apart. An
        article without sentences gets probability 0.

        Args:
            strength: Inverse L2 regularisation (scikit-learn's ``C``).
            previous: The matcher this one replaces: its coefficients (by
                slug) are the starting point, so that after an edit the fit
                takes a few iterations instead of a hundred.

        The last :data:`REMEMBERED_FITS` fits are remembered by their training
        data (sentence vectors, labels, strength): the same data is not fitted
        again.
        """
        labels = np.concatenate(
            [
                self._owners,
                np.full(len(self._rows) - self._article_rows, self._article_count),
            ]
        )
        classes = np.unique(labels)
        if len(classes) < 2:
            return
        digest = hashlib.blake2b(digest_size=20)
        for part in (self._rows, labels, np.array([strength, self._article_count])):
            digest.update(np.ascontiguousarray(part).tobytes())
        key = digest.digest()
        if key in _fits:
            _fits.move_to_end(key)
            self._classifier = _fits[key]
            return
        dimension = self._rows.shape[1]
        model = LogisticRegression(C=strength, max_iter=MAX_CLASSIFIER_ITERATIONS)
        if len(classes) > 2 and previous is not None:
            start = previous._starting_point(self.slugs, dimension)
            if start is not None:
                model.warm_start = True
                model.coef_ = start[0][classes]
                model.intercept_ = start[1][classes]
        with warnings.catch_warnings():
            # Stopping at the iteration cap is fine for a ranking feature.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(self._rows, labels)
        weights = np.zeros((self._article_count + 1, dimension), np.float32)
        bias = np.full(self._article_count + 1, -1e4, np.float32)
        if len(classes) == 2:
            # scikit-learn keeps one row for two classes: the second's logit.
            weights[classes[0]], bias[classes[0]] = 0.0, 0.0
            weights[classes[1]], bias[classes[1]] = model.coef_[0], model.intercept_[0]
        else:
            weights[classes] = model.coef_
            bias[classes] = model.intercept_
        self._classifier = (weights, bias)
        _fits[key] = self._classifier
        while len(_fits) > REMEMBERED_FITS:
            _fits.popitem(last=False)

    def _starting_point(
        self, slugs: Sequence[str], dimension: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """This classifier's coefficients laid out for other articles' slugs.

        An article it did not know starts at 0; "none" stays last.
        """
        if self._classifier is None or self._classifier[0].shape[1] != dimension:
            return None
        weights, bias = self._classifier
        position = {slug: index for index, slug in enumerate(self.slugs)}
        start_weights = np.zeros((len(slugs) + 1, dimension))
        start_bias = np.zeros(len(slugs) + 1)
        for index, slug in enumerate(slugs):
            known = position.get(slug)
            if known is not None and bias[known] > -1e3:
                start_weights[index] = weights[known]
                start_bias[index] = bias[known]
        start_weights[-1] = weights[-1]
        start_bias[-1] = bias[-1]
        return start_weights, start_bias

    def probabilities(self, vector: np.ndarray) -> tuple[np.ndarray, float]:
        """The classifier's probability of each article, and of "none".

        Zeros (and 0) when no classifier was fitted.
        """
        if self._classifier is None:
            return np.zeros(self._article_count), 0.0
        weights, bias = self._classifier
        (found,) = self._odds((weights @ vector.astype(np.float32) + bias)[None, :])
        return found

    def probabilities_many(self, vectors: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """:meth:`probabilities` of several messages' embeddings (rows), at once."""
        if self._classifier is None:
            return [(np.zeros(self._article_count), 0.0) for _ in vectors]
        weights, bias = self._classifier
        return self._odds(vectors.astype(np.float32) @ weights.T + bias)

    def _odds(self, logits: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Softmax of each row of logits: per article, and of "none" (last)."""
        logits = logits - logits.max(axis=1, keepdims=True)
        odds = np.exp(logits.astype(np.float64))
        odds /= odds.sum(axis=1, keepdims=True)
        return [
            (row[: self._article_count], float(row[self._article_count]))
            for row in odds
        ]

    @classmethod
    def build(
        cls,
        articles: Sequence[Article],
        negatives: Iterable[str],
        encoder: SentenceEncoder,
    ) -> SemanticMatcher:
        """Embed the articles' sentences and the negative sentences.

        Sentences the encoder has embedded before (an unchanged article when
        the knowledge base is rebuilt) are not computed again.
        """
        sentences, owners = all_sentences(articles)
        sentences.extend(text for text in negatives if text.strip())
        rows = encoder.encode(sentences)
        encoder.save()
        return cls(
            encoder,
            rows,
            np.array(owners, dtype=np.int64),
            len(articles),
            [article.slug for article in articles],
        )

    def vector(self, text: str) -> np.ndarray:
        """The message's embedding (what :meth:`similarities` takes).

        Remembered in memory only (:meth:`SentenceEncoder.embed_message`).
        """
        return self.encoder.embed_message(text)

    def similarities(self, vector: np.ndarray) -> Similarities:
        """Compare a message's embedding with every article and the negatives.

        Args:
            vector: The message's unit-length embedding.

        Returns:
            The best cosine per article and with a negative sentence.

        Raises:
            ValueError: The vector does not have the encoder's dimension.
        """
        if vector.shape != (self.encoder.dimension,):
            raise ValueError(
                f"expected an embedding of {self.encoder.dimension} numbers, "
                f"got shape {vector.shape}"
            )
        cosines = (self._rows @ vector.astype(np.float32)).astype(np.float64)
        (found,) = _best_per_article(
            cosines[:, None], self._first_rows, self._has_rows, self._article_rows
        )
        return found

    def similarities_many(self, vectors: np.ndarray) -> list[Similarities]:
        """:meth:`similarities` of several messages' embeddings (rows), at once.

        One matrix product reads the sentences' vectors once for all the
        messages; each message's cosines equal its own product's up to float
        rounding (the sums run in another order).

        Raises:
            ValueError: The vectors do not have the encoder's dimension.
        """
        if vectors.ndim != 2 or vectors.shape[1] != self.encoder.dimension:
            raise ValueError(
                f"expected rows of {self.encoder.dimension} numbers, "
                f"got shape {vectors.shape}"
            )
        cosines = (self._rows @ vectors.astype(np.float32).T).astype(np.float64)
        return _best_per_article(
            cosines, self._first_rows, self._has_rows, self._article_rows
        )


def all_sentences(articles: Sequence[Article]) -> tuple[list[str], list[int]]:
    """Every article's sentences, in order, and the position of each owner."""
    sentences: list[str] = []
    owners: list[int] = []
    for position, article in enumerate(articles):
        for sentence in sentences_of(article):
            sentences.append(sentence)
            owners.append(position)
    return sentences, owners


def sentences_of(article: Article) -> list[str]:
    """The sentences that say what an article answers, each compared alone."""
    sentences = [article.title, article.summary, *article.examples]
    if article.tags:
        sentences.append(" ".join(article.tags))
    return [sentence for sentence in sentences if sentence.strip()]

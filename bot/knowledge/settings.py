"""The ranking's tunable constants, and the file the tuner writes them to.

:class:`SearchSettings` holds every constant of the ranking and the answer
confidence (:mod:`bot.knowledge.search`). Their values are data: the tuner
(``python -m bench.kb.tune``) writes them to ``search_settings.yml`` beside
this module (:func:`dump_search_settings`), and a field not given to
:class:`SearchSettings` takes its value from that file, read and validated
once per process (:func:`shipped_search_values`). A file with a missing or
unknown key, a value of the wrong type, a list of the wrong length or a
coefficient of the wrong sign is refused with a :class:`KnowledgeError`
naming the key.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from bot.knowledge.articles import KnowledgeError, read_yaml, shipped_yaml

SETTINGS_FILE = "search_settings.yml"
SHIPPED_SOURCE = f"bot/knowledge/{SETTINGS_FILE}"
#: The shipped file in a source checkout, where the tuner writes it.
SHIPPED_PATH = Path(__file__).with_name(SETTINGS_FILE)
HEADER = """\
# The ranking constants of the knowledge-base search (bot.knowledge.settings),
# written by `python -m bench.kb.tune` (tuned on bot/knowledge/labelled.yml).
# Every key of SearchSettings must be here, with its type; the search refuses
# a file with a missing, unknown or ill-typed key.
"""


#: What the answer confidence weighs, in order (see :func:`confidence_features`);
#: every feature is 0 or more.
CONFIDENCE_FEATURES = (
    "score",
    "lead",
    "similarity",
    "lexical",
    "prior",
    "negative",
    "unknown",
    "off_intent",
    "log_terms",
    "semantic",
    "semantic_negative",
    "classifier",
    "classifier_none",
    "unexplained",
)
#: How each feature may move the confidence: 1 never lowers it, -1 never
#: raises it, 0 either way (the message's length).
FEATURE_DIRECTIONS = (1, 1, 1, 1, 1, -1, -1, -1, 0, 1, -1, 1, -1, -1)


def quadratic_terms(values: Sequence[float]) -> list[float]:
    """The values followed by the product of every pair of them.

    Pairs are taken in order, each value with itself and every later one:
    ``(a, b)`` gives ``[a, b, a*a, a*b, b*b]``.

    Args:
        values: Scaled confidence features.

    Returns:
        ``n + n * (n + 1) / 2`` terms.
    """
    terms = list(values)
    for position, value in enumerate(values):
        terms.extend(value * other for other in values[position:])
    return terms


def term_directions() -> list[int | None]:
    """The sign each confidence coefficient may take, in weight order.

    Every feature is 0 or more, so the confidence never falls as a feature of
    direction 1 grows when that feature's own coefficient and those of its
    products are 0 or more (and conversely for -1). A product of features of
    opposite directions could not satisfy both, so it is left out. A product
    with the length (direction 0) takes the other feature's direction.

    Returns:
        Per coefficient: 1 (0 or more), -1 (0 or less), 0 (must be 0) or
        ``None`` (any value).
    """
    directions: list[int | None] = [
        direction or None for direction in FEATURE_DIRECTIONS
    ]
    for position, first in enumerate(FEATURE_DIRECTIONS):
        for second in FEATURE_DIRECTIONS[position:]:
            if first and second and first != second:
                directions.append(0)
            else:
                directions.append((first or second) or None)
    return directions


def _shipped(name: str) -> Any:
    """A field whose default is its value in the shipped settings file."""
    return field(default_factory=lambda: shipped_search_values()[name])


@dataclass(frozen=True)
class SearchSettings:
    """The tunable constants of the ranking (tuned on the labelled questions).

    A field not given takes its value from the shipped ``search_settings.yml``
    (:func:`shipped_search_values`), which ``python -m bench.kb.tune`` writes.

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
        unknown_word_exponent: The penalty grows with the number of unknown
            words to this power (1: linearly; below 1: long messages full of
            everyday words are penalised less).
        min_word_evidence: Least weight a known query word adds to the ideal
            score, as a share of a never-seen word's weight, so that a common
            word alone (``work``, ``time``) cannot make a perfect match.
        intent_weight: Prior given to an article linked to the predicted
            intent at confidence 1.
        payload_intent_weight: The same when the message is the ``/intent``
            payload of a button (a topic the customer chose, with no words
            of their own to search); not tuned (the benchmark has no
            payloads).
        suggest_threshold: Lowest confidence at which, below ``threshold``,
            the bot still offers the best hits as choices ("Is it one of
            these?") instead of only asking the customer to say more.
        suggest_min_score: Lowest score of the best hit for that offer: a
            weak best hit means the message is about something else.
        suggest_score_ratio: A hit is offered with the best one when its
            score is at least this share of the best score. The three were
            chosen on ``bench/kb`` (dev and held-out questions): about 9 in
            10 offers to an answerable question include the right article,
            and few off-topic questions get an offer.
        alternative_score_ratio: When an article the customer rejected
            would have ranked first, another one is offered only when it
            scores at least this share of the rejected one: after "that did
            not help", an article far behind it is about something else (a
            refund for a password problem), and fewer offers, or a person,
            serve better. A next article confident enough to answer is shown
            as before. Calibrated on ``bench/e2e/validation.yml`` (21
            questions whose article ranked first, then rejected): 28 offers,
            3 of them on the question's topic, became 5 (1 on topic); the 3
            confident next answers, all on topic, are unchanged.
        similarity_weight: Share of the nearest-example similarity in an
            article's text score.
        semantic_weight: Share of the sentence-embedding similarity in an
            article's text score.
        classifier_weight: Share of the meaning classifier's probability in
            an article's text score (the rest, after the two above, is the
            lexical score).
        classifier_strength: Inverse regularisation of that classifier
            (:meth:`SemanticMatcher.fit_classifier`; not tuned).
        char_weight: Share of the character n-grams in the similarity (the
            rest is word n-grams).
        threshold: Lowest confidence (estimated probability that the best
            hit is right, 0 to 1) at which the bot answers.
        confidence_scale: What each confidence feature is divided by before
            it is weighed (its standard deviation on the dev set), in the
            order of :data:`CONFIDENCE_FEATURES`.
        confidence_bias: Intercept of the confidence's logistic function.
        confidence_weights: Its coefficients for the scaled features
            followed by every product of two of them, in the order of
            :func:`quadratic_terms`, with the signs :func:`term_directions`
            allows.
        min_typo_length: Shortest unknown term that is corrected to a known
            term one edit away.
    """

    k1: float = _shipped("k1")
    b: float = _shipped("b")
    title_weight: float = _shipped("title_weight")
    summary_weight: float = _shipped("summary_weight")
    tags_weight: float = _shipped("tags_weight")
    examples_weight: float = _shipped("examples_weight")
    body_weight: float = _shipped("body_weight")
    unknown_word_weight: float = _shipped("unknown_word_weight")
    min_word_evidence: float = _shipped("min_word_evidence")
    unknown_word_exponent: float = _shipped("unknown_word_exponent")
    intent_weight: float = _shipped("intent_weight")
    payload_intent_weight: float = _shipped("payload_intent_weight")
    suggest_threshold: float = _shipped("suggest_threshold")
    suggest_min_score: float = _shipped("suggest_min_score")
    suggest_score_ratio: float = _shipped("suggest_score_ratio")
    alternative_score_ratio: float = _shipped("alternative_score_ratio")
    similarity_weight: float = _shipped("similarity_weight")
    semantic_weight: float = _shipped("semantic_weight")
    classifier_weight: float = _shipped("classifier_weight")
    classifier_strength: float = _shipped("classifier_strength")
    char_weight: float = _shipped("char_weight")
    threshold: float = _shipped("threshold")
    confidence_scale: tuple[float, ...] = _shipped("confidence_scale")
    confidence_bias: float = _shipped("confidence_bias")
    confidence_weights: tuple[float, ...] = _shipped("confidence_weights")
    min_typo_length: int = _shipped("min_typo_length")


def _number(value: Any, key: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(f"'{key}' must be a number, got {value!r}", key, source)
    if not math.isfinite(value):
        raise _error(f"'{key}' must be finite, got {value!r}", key, source)
    return float(value)


def _error(message: str, key: str | None, source: str) -> KnowledgeError:
    return KnowledgeError(message, code="bad_search_settings", field=key, source=source)


def parse_search_settings(data: Any, source: str = "<data>") -> dict[str, Any]:
    """Validate the parsed contents of a search-settings file.

    Args:
        data: The parsed YAML: a mapping with every field of
            :class:`SearchSettings` and no other key.
        source: Where it came from, for the error messages.

    Returns:
        The values by field name, typed as the fields are (lists become
        tuples, whole numbers of float fields become floats).

    Raises:
        KnowledgeError: A key is missing or unknown, a value has the wrong
            type or is not finite, ``confidence_scale`` is not one positive
            number per confidence feature, or ``confidence_weights`` is not one
            number per term with the sign :func:`term_directions` allows (code
            ``bad_search_settings``, ``field`` the key).
    """
    if not isinstance(data, dict):
        raise _error("expected a mapping of the search settings", None, source)
    types = typing.get_type_hints(SearchSettings)
    missing = [key for key in types if key not in data]
    if missing:
        raise _error(f"missing keys: {', '.join(missing)}", missing[0], source)
    unknown = sorted(str(key) for key in data if key not in types)
    if unknown:
        raise _error(f"unknown keys: {', '.join(unknown)}", unknown[0], source)
    values: dict[str, Any] = {}
    for key, kind in types.items():
        value = data[key]
        if kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise _error(
                    f"'{key}' must be a whole number, got {value!r}", key, source
                )
            values[key] = value
        elif kind is float:
            values[key] = _number(value, key, source)
        else:
            if not isinstance(value, list):
                raise _error(f"'{key}' must be a list of numbers", key, source)
            values[key] = tuple(_number(item, key, source) for item in value)
    scale = values["confidence_scale"]
    if len(scale) != len(CONFIDENCE_FEATURES) or min(scale) <= 0:
        raise _error(
            f"'confidence_scale' must be {len(CONFIDENCE_FEATURES)} positive "
            "numbers, one per confidence feature",
            "confidence_scale",
            source,
        )
    directions = term_directions()
    weights = values["confidence_weights"]
    if len(weights) != len(directions):
        raise _error(
            f"'confidence_weights' must be {len(directions)} numbers, got "
            f"{len(weights)}",
            "confidence_weights",
            source,
        )
    for position, (weight, direction) in enumerate(
        zip(weights, directions, strict=True)
    ):
        allowed = {None: True, 1: weight >= 0, -1: weight <= 0, 0: weight == 0}
        if not allowed[direction]:
            raise _error(
                f"'confidence_weights' item {position} is {weight}: its sign would "
                "make the confidence fall with evidence for the article (or rise "
                "with evidence against it)",
                "confidence_weights",
                source,
            )
    return values


def load_search_settings(path: str | Path) -> SearchSettings:
    """Load a search-settings file.

    Raises:
        KnowledgeError: The file cannot be read, is not YAML, or is invalid
            (see :func:`parse_search_settings`).
    """
    return SearchSettings(**parse_search_settings(read_yaml(path), str(path)))


@functools.cache
def shipped_search_values() -> Mapping[str, Any]:
    """The shipped settings file's values (read and validated once).

    Raises:
        KnowledgeError: The file is invalid (see :func:`parse_search_settings`).
    """
    values = parse_search_settings(shipped_yaml(SETTINGS_FILE), SHIPPED_SOURCE)
    # Read-only: every SearchSettings() of the process shares it.
    return MappingProxyType(values)


def search_settings_yaml(settings: SearchSettings) -> str:
    """The settings as a file :func:`load_search_settings` reads back equal."""
    values = {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in dataclasses.asdict(settings).items()
    }
    return HEADER + yaml.safe_dump(
        values, sort_keys=False, default_flow_style=None, width=80
    )


def dump_search_settings(settings: SearchSettings, path: str | Path) -> None:
    """Write the settings to a file (the tuner's output)."""
    Path(path).write_text(search_settings_yaml(settings), encoding="utf-8")

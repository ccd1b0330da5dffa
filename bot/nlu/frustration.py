"""Frustration detector: scores how frustrated each customer message sounds.

A Rasa NLU component that sees one message at a time, so it only weighs what a
single message shows: negative sentiment (VADER), shouting in capitals, runs of
``!`` or ``?``, and phrases such as "this is useless" or swearing. Repetition
across turns is the dialogue's job: the two-stage fallback and the "did that
help?" rules already hand over when the bot fails twice.

The result is written into the parse data, next to the intent, e.g.
``{"frustration": {"score": 0.78, "frustrated": true, "signals": [...]}}``.
After every message, ``action_check_frustration`` (``actions/handoff.py``),
run by Rasa as the custom mapping of the ``frustrated`` slot, copies
``frustrated`` into that slot, and the rules (``data/rules/handoff.yml``) hand
the conversation to a person with the reason ``frustration``.

Each signal has a strength in [0, 1] and a weight; the score combines them as a
noisy-OR, ``1 - prod(1 - weight * strength)``, so no single mild signal reaches
the threshold, one strong signal (an explicit phrase) does, and several mild
ones add up without the score ever leaving [0, 1].
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

FRUSTRATION = "frustration"
"""Key of the detector's result in a message's parse data."""

# Weights of each signal at full strength. One explicit phrase or one swear word
# is enough on its own (0.65 >= the default threshold 0.6); shouting and
# negative sentiment (up to 0.55 each: VADER finds a plain "no" negative) and
# "!!" (0.3) need company: "WHY DOES NOTHING EVER WORK???" and "I hate this
# app, it's terrible!!!" reach the threshold, "MY NOTES DON'T SYNC" does not.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "negative_sentiment": 0.55,
    "shouting": 0.55,
    "repeated_punctuation": 0.3,
    "phrase": 0.65,
    "swearing": 0.65,
}

DEFAULT_PHRASES: tuple[str, ...] = (
    "useless",
    "ridiculous",
    "pathetic",
    "unacceptable",
    "hopeless",
    "waste of time",
    "waste of my time",
    "this is a joke",
    "what a joke",
    "fed up",
    "sick of",
    "sick and tired",
    "how many times",
    "for the last time",
    "not helping",
    "you're not listening",
    "stupid bot",
    "speak to a human already",
    "talk to a human already",
    "a person already",
    "a human already",
)

DEFAULT_SWEAR_WORDS: tuple[str, ...] = (
    "fuck",
    "fucking",
    "fucked",
    "shit",
    "shitty",
    "bullshit",
    "crap",
    "crappy",
    "damn",
    "damned",
    "goddamn",
    "wtf",
    "ffs",
    "bloody",
    "screw this",
    "piss off",
    "pissed off",
)

# Words in capitals only count from three letters on ("OK", "I", "PDF" are not
# shouting), and only when at least two of them make up most of the message.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_SHOUTED_WORD_MIN_LETTERS = 3
_SHOUTED_WORDS_MIN = 2
_REPEATED_PUNCTUATION = re.compile(r"[!?]{2,}")


@dataclass(frozen=True)
class Frustration:
    """How frustrated one message sounds.

    Attributes:
        score: Combined score in [0, 1].
        frustrated: Whether ``score`` reaches the configured threshold.
        signals: Name and strength in [0, 1] of each signal found, strongest
            contribution first, e.g. ``{"phrase:useless": 1.0}``.
    """

    score: float
    frustrated: bool
    signals: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-friendly form stored in the parse data."""
        return {
            "score": self.score,
            "frustrated": self.frustrated,
            "signals": [
                {"name": name, "strength": strength}
                for name, strength in self.signals.items()
            ],
        }


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """Compile phrases into one case-insensitive, whole-word pattern."""
    alternatives = sorted(
        (re.escape(phrase.lower()).replace(r"\ ", r"\s+") for phrase in phrases),
        key=len,
        reverse=True,
    )
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


def _normalise_apostrophes(text: str) -> str:
    return text.replace("\u2019", "'")


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class FrustrationDetector(GraphComponent):
    """Adds a frustration score to every message; needs no training.

    Registered like Rasa's ``FallbackClassifier`` (an intent classifier that is
    not trainable), so it runs only when messages are parsed, after the
    classifiers, and leaves the intent as it is.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the defaults; ``config.yml`` may override any of them."""
        return {
            "threshold": 0.6,
            "weights": dict(DEFAULT_WEIGHTS),
            "phrases": list(DEFAULT_PHRASES),
            "swear_words": list(DEFAULT_SWEAR_WORDS),
        }

    def __init__(self, config: Mapping[str, Any]) -> None:
        """Build the detector from its configuration.

        Args:
            config: ``threshold`` in [0, 1], ``weights`` per signal (merged with
                :data:`DEFAULT_WEIGHTS`), ``phrases`` and ``swear_words``.

        Raises:
            ValueError: If the threshold or a weight is outside [0, 1].
        """
        self.threshold = float(config.get("threshold", 0.6))
        self.weights = {**DEFAULT_WEIGHTS, **(config.get("weights") or {})}
        for name, value in {"threshold": self.threshold, **self.weights}.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        self._phrases = _phrase_pattern(config.get("phrases", DEFAULT_PHRASES))
        self._swearing = _phrase_pattern(config.get("swear_words", DEFAULT_SWEAR_WORDS))
        self._sentiment = SentimentIntensityAnalyzer()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FrustrationDetector:
        """Create the component (see ``GraphComponent.create``)."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the ``frustration`` result to each message's parse data.

        Args:
            messages: Parsed messages; only their text is read.

        Returns:
            The same messages, each with a ``frustration`` attribute that Rasa
            includes in the parse data (``add_to_output``).
        """
        for message in messages:
            result = self.assess(message.get(TEXT) or "")
            message.set(FRUSTRATION, result.as_dict(), add_to_output=True)
        return messages

    def assess(self, text: str) -> Frustration:
        """Score one message.

        Args:
            text: What the customer wrote.

        Returns:
            The score, whether it reaches the threshold, and the signals found.
        """
        text = _normalise_apostrophes(text)
        strengths: dict[str, float] = {}

        compound = self._sentiment.polarity_scores(text)["compound"]
        if compound < 0:
            strengths["negative_sentiment"] = -compound

        shouting = _shouting_ratio(text)
        if shouting > 0:
            strengths["shouting"] = shouting

        runs = _REPEATED_PUNCTUATION.findall(text)
        if runs:
            strengths["repeated_punctuation"] = 1.0

        for match in sorted({m.lower() for m in self._phrases.findall(text)}):
            strengths["phrase:" + re.sub(r"\s+", " ", match)] = 1.0
        for match in sorted({m.lower() for m in self._swearing.findall(text)}):
            strengths["swearing:" + re.sub(r"\s+", " ", match)] = 1.0

        contributions = {
            name: self.weights[name.split(":", 1)[0]] * strength
            for name, strength in strengths.items()
        }
        calm = 1.0
        for contribution in contributions.values():
            calm *= 1.0 - contribution
        score = round(1.0 - calm, 3)
        ranked = sorted(contributions, key=contributions.__getitem__, reverse=True)
        return Frustration(
            score=score,
            frustrated=score >= self.threshold,
            signals={name: round(strengths[name], 3) for name in ranked},
        )


def _shouting_ratio(text: str) -> float:
    """Return the share of the message's words written in capitals.

    Returns 0 unless at least two words of three letters or more are in
    capitals, so acronyms ("PDF", "VAT") and a stressed word are not shouting.
    """
    words = [word for word in _WORD.findall(text) if len(word) > 1]
    shouted = [
        word
        for word in words
        if word.isupper()
        and sum(char.isalpha() for char in word) >= _SHOUTED_WORD_MIN_LETTERS
    ]
    if len(shouted) < _SHOUTED_WORDS_MIN:
        return 0.0
    return len(shouted) / len(words)

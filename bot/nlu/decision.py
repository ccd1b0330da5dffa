"""Answer first: when a confident article counts as the understood intent.

The decision of :class:`bot.nlu.knowledge.KnowledgeFirst`, kept free of Rasa
imports so that the action server can read its result
(:func:`decided_article`) cheaply; see that module for the why.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.knowledge.search import SearchResult

#: Where the search's result goes in the parse data (and so in the tracker).
PARSE_KEY = "knowledge"
#: The intent an article without an intent of its own answers as.
GENERIC_INTENT = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"
# Rasa's parse data (rasa.shared.nlu.constants), spelled here so that the
# action server can read it without importing Rasa.
INTENT = "intent"
INTENT_RANKING_KEY = "intent_ranking"
INTENT_NAME_KEY = "name"
PREDICTED_CONFIDENCE_KEY = "confidence"


@dataclass(frozen=True)
class DecisionSettings:
    """When a confident article overrides the intent model.

    Attributes:
        handoff_intents: Intents whose rules give the conversation to a person
            (asking for one, complaints, sensitive matters): overridden only
            when the intent model is unsure and the search is very sure.
        smalltalk_intents: Intents answered with small talk: overridden
            whenever the search is confident (its "none" sentences include
            small talk, so it rarely is for real small talk).
        kept_intents: Answers to the bot's own questions (yes, no, a choice):
            never overridden unless the fallback already set them aside.
        handoff_max_confidence: The intent model's confidence in a handoff
            intent from which it stands, whatever the search says.
        handoff_min_kb_confidence: The search's confidence needed to override
            a handoff intent.
        ask_intents: Handoff intents that, however sure the intent model is,
            are asked about rather than acted on when the search is very sure
            of an article and neither it nor the runner-up is about reaching
            people ("does the team plan work with our staff's Google
            sign-in" is not a request for a person): the fallback asks "Is
            your question about …?", with "Talk to a person" one click away.
            A request for a person that names a topic ("a person about
            exporting my notes") usually has the article about contacting
            support second, and is handed over.
        ask_min_kb_confidence: The search's confidence needed to ask.
        people_hits: How many of the search's top hits must not be about
            reaching people (list a handoff intent) for a confident handoff
            intent to be asked about.
        agree_min_intent_confidence: The intent model's confidence in its
            own best guess (under the fallback too) from which, when the
            search's best article lists that intent, the two agree.
        agree_min_kb_confidence: The search's confidence that its best
            article is right, needed for an agreement to answer with it
            although the search alone would not (a question in another
            language: the search is English, its confidence lower).
        agree_max_runner_up_ratio: A runner-up that lists the same intent
            and scores at least this share of the best article's score is
            as plausible: the intent does not tell them apart, so there is
            no agreement (the customer is offered both, as before).
    """

    handoff_intents: frozenset[str]
    smalltalk_intents: frozenset[str]
    kept_intents: frozenset[str]
    handoff_max_confidence: float
    handoff_min_kb_confidence: float
    ask_intents: frozenset[str] = frozenset()
    ask_min_kb_confidence: float = 1.0
    people_hits: int = 2
    agree_min_intent_confidence: float = 1.0
    agree_min_kb_confidence: float = 1.0
    agree_max_runner_up_ratio: float = 0.8


@dataclass(frozen=True)
class Override:
    """The intent a message gets because the knowledge base answers it.

    ``article`` is the article agreed on when the search had no answer of its
    own (:func:`decide`); otherwise the search's answer is the article.
    """

    intent: str
    confidence: float
    article: str | None = None


def _top_intent(parse: Mapping[str, Any]) -> tuple[str | None, float]:
    intent = parse.get(INTENT) or {}
    confidence = intent.get(PREDICTED_CONFIDENCE_KEY)
    return intent.get(INTENT_NAME_KEY), float(confidence or 0.0)


def _model_intent(ranking: Sequence[Mapping[str, Any]]) -> tuple[str | None, float]:
    """The intent model's own best guess, under the fallback's verdict."""
    for entry in ranking:
        name = entry.get(INTENT_NAME_KEY)
        if name and name != FALLBACK_INTENT:
            return str(name), float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    return None, 0.0


def answer_intent(article_intents: Sequence[str], usable: Collection[str]) -> str:
    """The intent a message answered by an article counts as.

    Args:
        article_intents: The intents the article lists, in order.
        usable: The intents whose rules ask the knowledge base: known to the
            intent model (its ranking), and not a handoff, small talk or
            answer to the bot's questions (an article about contacting
            support may list ``complaint``).

    Returns:
        The first listed usable intent, else :data:`GENERIC_INTENT`.
    """
    return next((name for name in article_intents if name in usable), GENERIC_INTENT)


def decide(
    parse: Mapping[str, Any],
    result: SearchResult,
    article_intents: Sequence[str],
    settings: DecisionSettings,
    runner_up_intents: Sequence[Sequence[str]] = (),
) -> Override | None:
    """Whether a confident article overrides the pipeline's intent.

    Args:
        parse: The message's parse data so far (``intent``, ``intent_ranking``).
        result: The knowledge-base search for the message.
        article_intents: The intents of the article the search answers with.
        settings: When to override.
        runner_up_intents: The intents of the search's next hits, in order
            (the articles ranked after the answer).

    Returns:
        The new intent (``nlu_fallback`` to ask), or ``None`` to keep the
        pipeline's.
    """
    intent, _ = _top_intent(parse)
    ranking = parse.get(INTENT_RANKING_KEY) or []
    model_intent, model_confidence = _model_intent(ranking)
    unsure = intent == FALLBACK_INTENT
    if not unsure and intent in settings.kept_intents:
        return None
    if result.answer is None:
        return _agreement(
            intent,
            (model_intent, model_confidence),
            result,
            [article_intents, *runner_up_intents],
            settings,
        )
    if (
        not unsure
        and intent in settings.handoff_intents
        and settings.handoff_intents.intersection(article_intents)
    ):
        # The model named a person or a sensitive matter and the search
        # found the article about reaching people ("bot is useless, human
        # pls"): both say the customer wants people; a person it is.
        return None
    if model_intent in settings.handoff_intents and (
        model_confidence >= settings.handoff_max_confidence
        or result.confidence < settings.handoff_min_kb_confidence
    ):
        near = [article_intents, *runner_up_intents][: settings.people_hits]
        about_people = any(settings.handoff_intents.intersection(i) for i in near)
        if (
            not unsure
            and intent in settings.ask_intents
            and result.confidence >= settings.ask_min_kb_confidence
            and not about_people
        ):
            return Override(FALLBACK_INTENT, model_confidence)
        return None
    overridable = settings.handoff_intents | settings.smalltalk_intents
    if not unsure and intent not in overridable:
        # The intent model understood a question, and its rule asks the
        # knowledge base already.
        return None
    known = {str(entry.get(INTENT_NAME_KEY)) for entry in ranking}
    usable = known - overridable - settings.kept_intents - {FALLBACK_INTENT}
    return Override(answer_intent(article_intents, usable), result.confidence)


def _agreement(
    intent: str | None,
    model: tuple[str | None, float],
    result: SearchResult,
    hit_intents: Sequence[Sequence[str]],
    settings: DecisionSettings,
) -> Override | None:
    """The search's best article, when the intent model agrees with it.

    The search alone was not sure enough to answer; the intent model's own
    best guess (past the fallback too) being an intent that article lists,
    with both confident enough, is the second opinion that makes it the
    answer. Handoff, small talk and kept intents never agree: the article
    about contacting support lists ``complaint``. A runner-up of that intent
    scoring nearly as well makes the message ambiguous: no agreement.
    """
    model_intent, model_confidence = model
    if not result.hits or not hit_intents or model_intent is None:
        return None
    top_intents = hit_intents[0]
    blocked = (
        settings.handoff_intents | settings.smalltalk_intents | settings.kept_intents
    )
    if (
        model_intent in blocked
        or model_intent not in top_intents
        or model_confidence < settings.agree_min_intent_confidence
        or result.confidence < settings.agree_min_kb_confidence
    ):
        return None
    if intent != FALLBACK_INTENT and intent != model_intent:
        return None
    best = result.hits[0]
    for hit, intents in zip(result.hits[1:], hit_intents[1:], strict=False):
        if (
            model_intent in intents
            and hit.score >= settings.agree_max_runner_up_ratio * best.score
        ):
            return None
    return Override(model_intent, model_confidence, best.slug)


def apply_override(parse: dict[str, Any], override: Override) -> None:
    """Make ``override`` the message's intent, first in its ranking.

    The fallback's verdict leaves the ranking (it was overruled); the intent
    model's own guesses stay below, so trainers still see them.
    """
    top = {
        INTENT_NAME_KEY: override.intent,
        PREDICTED_CONFIDENCE_KEY: override.confidence,
    }
    ranking = [
        entry
        for entry in parse.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) not in {FALLBACK_INTENT, override.intent}
    ]
    parse[INTENT] = top
    parse[INTENT_RANKING_KEY] = [dict(top), *ranking]


def knowledge_parse_data(
    result: SearchResult, override: Override | None
) -> dict[str, Any]:
    """The ``knowledge`` entry of the parse data (JSON).

    ``article`` is the article the customer is to get: the search's answer,
    or the one the intent model agreed on (:func:`decide`).
    """
    article = override.article if override is not None else None
    if article is None and result.answer is not None:
        article = result.answer.slug
    return {
        "article": article,
        "confidence": round(float(result.confidence), 4),
        "ranking": [{"article": hit.slug, "score": hit.score} for hit in result.hits],
        "decided": override is not None,
    }


def decided_article(parse: Mapping[str, Any]) -> str | None:
    """The article the NLU's knowledge search answered a message with, if any."""
    found = parse.get(PARSE_KEY)
    article = found.get("article") if isinstance(found, Mapping) else None
    return article if isinstance(article, str) and article else None

"""Answer first: when a confident article counts as the understood intent.

The decision of :class:`bot.nlu.knowledge.KnowledgeFirst`, kept free of Rasa
imports so that the action server can read its result
(:func:`decided_article`) cheaply; see that module for the why.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.knowledge.search import SearchResult

#: Where the search's result goes in the parse data (and so in the tracker).
PARSE_KEY = "knowledge"
#: The intent an article without an intent of its own answers as.
GENERIC_INTENT = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"
#: Where the intent classifier records an intent one sentence of the message
#: gave it (bot.nlu.dense_logistic), and the whole message's own confidence
#: of that intent within the record.
SENTENCE_INTENT_KEY = "sentence_intent"
MESSAGE_CONFIDENCE_KEY = "message_confidence"
# Rasa's parse data (rasa.shared.nlu.constants), spelled here so that the
# action server can read it without importing Rasa.
INTENT = "intent"
INTENT_RANKING_KEY = "intent_ranking"
INTENT_NAME_KEY = "name"
PREDICTED_CONFIDENCE_KEY = "confidence"
ENTITIES = "entities"
ENTITY_ATTRIBUTE_TYPE = "entity"
ENTITY_ATTRIBUTE_VALUE = "value"
#: The entity RegexEntityExtractor gives another company's product
#: (data/nlu/lookups/other_products.yml).
PRODUCT_ENTITY = "product"


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
        soften_intents: Handoff intents that say the customer is unhappy
            (a complaint), not that they asked for a person or raised a
            sensitive matter: when the search is at least
            ``soften_min_kb_confidence`` sure of an article that is not
            about reaching people, the customer gets it, with the
            frustration acknowledged and "Talk to a person" one click away
            (:attr:`Override.acknowledge`), however sure the model is. An
            angry or very formal how-to question ("absolutely ridiculous
            that I can't export", "Dear support, might there be a way to
            ...") reads like a complaint to the intent model.
        soften_min_kb_confidence: The search's confidence needed to answer a
            complaint with an article.
        how_to_phrases: Words that ask how to do something ("how do I",
            "where is", "comment", "come faccio"), matched as whole words
            in any case: a complaint is answered with an article only when
            it asks one of them. A genuine complaint ("you took money from
            my account twice and nobody is helping me") may match an article
            as closely as an angry how-to question does, but asks nothing.
        frustrated_min_kb_confidence: The search's confidence needed to answer
            a frustrated message with the article the search answers with
            (:func:`soften`); the search's own threshold applies first.
        own_products: The names of the product the knowledge base is about
            (Lumen): a message naming it is about it, whatever other product
            it names too.
        handoff_tie_min_confidence: When the fallback fired although the
            intent model's best guess reached this confidence, and its best
            two guesses are both handoff intents, the fallback only saw a
            tie between two ways to a person ("I'd like to escalate this to
            your supervisor": complaint 0.39, request_human 0.39): asking
            "Did you mean …?" would make the customer pick one, so the best
            guess stands, unless the search answers with an article first.
            Set it to the ``FallbackClassifier``'s threshold; 1.0 turns it
            off.
        danger_intents: Intents saying someone may be in danger: kept (a
            person sees the chat at once) unless the intent model is below
            ``danger_max_confidence`` and the message is nearly one of an
            article's own questions: the search at least
            ``danger_min_kb_confidence`` sure of an article not about reaching
            people, its best hit at least ``danger_min_similarity`` similar.
            "I deleted a note by accident yesterday, is it gone forever?"
            (person_in_danger 0.40; the restore article 0.998, similarity
            0.85) gets the article then, with the emergency numbers under it
            and a person one click away (:attr:`Override.safety`). Whenever an
            article answers a message whose best guess was a danger intent
            (under the fallback too), that safety line comes with it.
        danger_max_confidence: See ``danger_intents``; 0.0 turns it off.
        danger_min_kb_confidence: See ``danger_intents``.
        danger_min_similarity: See ``danger_intents``.
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
    soften_intents: frozenset[str] = frozenset()
    soften_min_kb_confidence: float = 1.0
    how_to_phrases: tuple[str, ...] = ()
    frustrated_min_kb_confidence: float = 1.0
    own_products: tuple[str, ...] = ()
    handoff_tie_min_confidence: float = 1.0
    danger_intents: frozenset[str] = frozenset()
    danger_max_confidence: float = 0.0
    danger_min_kb_confidence: float = 1.0
    danger_min_similarity: float = 1.0


@dataclass(frozen=True)
class Override:
    """The intent a message gets because the knowledge base answers it.

    ``article`` is the article agreed on when the search had no answer of its
    own (:func:`decide`); otherwise the search's answer is the article.
    ``acknowledge``: the customer sounded unhappy (a complaint the article
    answers): the answer says sorry first and keeps a person one click away.
    ``other_product``: the message is about another company's product
    (:func:`other_product`): no article answers it.
    ``safety``: the intent model's best guess was that someone may be in
    danger (:attr:`DecisionSettings.danger_intents`): the article comes with
    the emergency numbers and a person one click away.
    """

    intent: str
    confidence: float
    article: str | None = None
    acknowledge: bool = False
    other_product: str | None = None
    safety: bool = False


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
    tie = _handoff_tie(ranking, settings) if unsure else None
    if model_intent in settings.danger_intents:
        # Someone may be in danger: no other way to an article than this one.
        # When one sentence said so (the classifier's ``sentence_intent``),
        # how sure the model is of the whole message decides.
        sentence = parse.get(SENTENCE_INTENT_KEY) or {}
        if sentence.get(INTENT_NAME_KEY) == model_intent:
            model_confidence = float(sentence.get(MESSAGE_CONFIDENCE_KEY) or 0.0)
        danger = _danger_answer(
            model_confidence,
            result,
            [article_intents, *runner_up_intents],
            ranking,
            settings,
        )
        return danger if danger is not None else tie
    if not unsure and intent in settings.kept_intents:
        return None
    if result.answer is None:
        agreed = _agreement(
            intent,
            (model_intent, model_confidence),
            result,
            [article_intents, *runner_up_intents],
            settings,
        )
        return agreed if agreed is not None else tie
    if (
        not unsure
        and intent in settings.handoff_intents
        and settings.handoff_intents.intersection(article_intents)
    ):
        # The model named a person or a sensitive matter and the search
        # found the article about reaching people ("bot is useless, human
        # pls"): both say the customer wants people; a person it is.
        return None
    overridable = settings.handoff_intents | settings.smalltalk_intents
    usable = _usable(ranking, settings)
    about_people = _about_people([article_intents, *runner_up_intents], settings)
    unhappy = model_intent in settings.soften_intents
    if (
        unhappy
        and not about_people
        and result.confidence >= settings.soften_min_kb_confidence
        and asks_how(str(parse.get("text") or ""), settings.how_to_phrases)
    ):
        # A complaint that a confident article answers (and no article about
        # reaching people is close): the answer, a person one click away.
        return Override(
            answer_intent(article_intents, usable),
            result.confidence,
            acknowledge=True,
        )
    if model_intent in settings.handoff_intents and (
        model_confidence >= settings.handoff_max_confidence
        or result.confidence < settings.handoff_min_kb_confidence
    ):
        if (
            not unsure
            and intent in settings.ask_intents
            and result.confidence >= settings.ask_min_kb_confidence
            and not about_people
        ):
            return Override(FALLBACK_INTENT, model_confidence)
        return tie
    if not unsure and intent not in overridable:
        # The intent model understood a question, and its rule asks the
        # knowledge base already.
        return None
    return Override(
        answer_intent(article_intents, usable),
        result.confidence,
        acknowledge=unhappy and not about_people,
    )


def _usable(
    ranking: Sequence[Mapping[str, Any]], settings: DecisionSettings
) -> set[str]:
    """The intents an article's answer may count as (:func:`answer_intent`).

    Known to the model; not a handoff, small talk, kept intent or the fallback.
    """
    overridable = settings.handoff_intents | settings.smalltalk_intents
    known = {str(entry.get(INTENT_NAME_KEY)) for entry in ranking}
    return known - overridable - settings.kept_intents - {FALLBACK_INTENT}


def _about_people(
    hit_intents: Sequence[Sequence[str]], settings: DecisionSettings
) -> bool:
    """Whether an article about reaching people is among the best hits.

    The search's ``people_hits`` best; such an article lists a handoff intent.
    """
    near = hit_intents[: settings.people_hits]
    return any(settings.handoff_intents.intersection(i) for i in near)


def _danger_answer(
    model_confidence: float,
    result: SearchResult,
    hit_intents: Sequence[Sequence[str]],
    ranking: Sequence[Mapping[str, Any]],
    settings: DecisionSettings,
) -> Override | None:
    """The article for a message whose best guess was a danger intent, if any.

    Only when the model is unsure of the danger and the message is nearly one
    of an article's own questions (:attr:`DecisionSettings.danger_intents`);
    the answer then carries the safety line (:attr:`Override.safety`).
    """
    if (
        result.answer is None
        or not result.hits
        or model_confidence >= settings.danger_max_confidence
        or result.confidence < settings.danger_min_kb_confidence
        or result.hits[0].score < settings.danger_min_similarity
    ):
        return None
    if _about_people(hit_intents, settings):
        return None
    return Override(
        answer_intent(hit_intents[0], _usable(ranking, settings)),
        result.confidence,
        safety=True,
    )


def _handoff_tie(
    ranking: Sequence[Mapping[str, Any]], settings: DecisionSettings
) -> Override | None:
    """The intent model's best guess, when the fallback only saw a handoff tie.

    Both of its best two guesses give the conversation to a person, and the
    best was confident enough not to fall back on its own
    (:attr:`DecisionSettings.handoff_tie_min_confidence`).
    """
    guesses = [
        (
            str(entry.get(INTENT_NAME_KEY)),
            float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
        )
        for entry in ranking
        if entry.get(INTENT_NAME_KEY) not in (None, FALLBACK_INTENT)
    ][:2]
    if len(guesses) < 2:
        return None
    (best, confidence), (second, _) = guesses
    if (
        best in settings.handoff_intents
        and second in settings.handoff_intents
        and confidence >= settings.handoff_tie_min_confidence
    ):
        return Override(best, confidence)
    return None


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


def answers_with_article(intent: str | None, settings: DecisionSettings) -> bool:
    """Whether a message of this (final) intent is answered from the articles.

    Not a request for a person, complaint or sensitive matter, not small talk,
    not an answer to the bot's own questions, not the fallback's question.
    """
    excluded = (
        settings.handoff_intents | settings.smalltalk_intents | settings.kept_intents
    )
    return intent is not None and intent != FALLBACK_INTENT and intent not in excluded


def soften(
    parse: Mapping[str, Any],
    result: SearchResult,
    override: Override | None,
    hit_intents: Sequence[Sequence[str]],
    settings: DecisionSettings,
) -> bool:
    """Whether a frustrated message gets its article rather than a person.

    A frustrated how-to question ("wtf how do I turn off these
    notifications") is still a how-to question: when it is answered from the
    articles (its final intent, :func:`answers_with_article`) with an article
    the search answers with (at least ``frustrated_min_kb_confidence``), or one the
    intent model agreed on, and no article about reaching people is among
    the ``people_hits`` best, the customer gets the article, the frustration
    acknowledged and a person one click away. Otherwise the frustration
    rule hands over, as before.

    Args:
        parse: The message's parse data (before ``override`` is applied).
        result: The knowledge-base search for the message.
        override: What :func:`decide` made of it.
        hit_intents: The intents of the search's hits, best first.
        settings: The thresholds.
    """
    intent = override.intent if override is not None else _top_intent(parse)[0]
    if not answers_with_article(intent, settings):
        return False
    agreed = override is not None and override.article is not None
    if not agreed and (
        result.answer is None
        or result.confidence < settings.frustrated_min_kb_confidence
    ):
        return False
    return not _about_people(hit_intents, settings)


def asks_how(text: str, phrases: Iterable[str]) -> bool:
    """Whether ``text`` asks how to do something (one of ``phrases``)."""
    return any(_names(text, phrase) for phrase in phrases)


def _names(text: str, name: str) -> bool:
    pattern = r"(?<!\w)" + re.escape(name.lower()) + r"(?!\w)"
    return re.search(pattern, text.lower()) is not None


def other_product(
    parse: Mapping[str, Any], article_text: str, settings: DecisionSettings
) -> str | None:
    """The other company's product a message is about, if it is.

    The message names a product of :data:`PRODUCT_ENTITY` (another company's
    software or service, from the lookup table), does not name one of
    ``own_products``, and the article it would be answered with does not
    mention that product either: importing from Evernote, signing in with
    Okta or Lumen's own sync with Dropbox stay questions about Lumen.

    Args:
        parse: The message's parse data (``text``, ``entities``).
        article_text: The text of the article the message would be answered
            with (title, summary, body, tags and example questions), or ``""``
            when there is none.
        settings: ``own_products``.

    Returns:
        The product as the customer wrote it, or ``None``.
    """
    text = str(parse.get("text") or "")
    if any(_names(text, own) for own in settings.own_products):
        return None
    return next(
        (
            product
            for product in _products(parse.get(ENTITIES) or ())
            if not _names(article_text, product)
        ),
        None,
    )


def _products(entities: Iterable[Mapping[str, Any]]) -> list[str]:
    return [
        str(entity[ENTITY_ATTRIBUTE_VALUE])
        for entity in entities
        if entity.get(ENTITY_ATTRIBUTE_TYPE) == PRODUCT_ENTITY
        and entity.get(ENTITY_ATTRIBUTE_VALUE)
    ]


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
    result: SearchResult, override: Override | None, *, acknowledge: bool = False
) -> dict[str, Any]:
    """The ``knowledge`` entry of the parse data (JSON).

    ``article`` is the article the customer is to get: the search's answer,
    or the one the intent model agreed on (:func:`decide`); none for a
    question about another company's product (``other_product``).
    ``acknowledge``: the answer says sorry first and keeps a person one click
    away (:attr:`Override.acknowledge`, :func:`soften`).
    """
    product = override.other_product if override is not None else None
    article = override.article if override is not None else None
    if article is None and result.answer is not None and product is None:
        article = result.answer.slug
    return {
        "article": article,
        "confidence": round(float(result.confidence), 4),
        "ranking": [{"article": hit.slug, "score": hit.score} for hit in result.hits],
        "decided": override is not None,
        "acknowledge": bool(
            acknowledge or (override is not None and override.acknowledge)
        )
        and article is not None,
        "safety": override is not None and override.safety and article is not None,
        "other_product": product,
    }


def decided_article(parse: Mapping[str, Any]) -> str | None:
    """The article the NLU's knowledge search answered a message with, if any."""
    found = parse.get(PARSE_KEY)
    article = found.get("article") if isinstance(found, Mapping) else None
    return article if isinstance(article, str) and article else None


def acknowledged(parse: Mapping[str, Any]) -> bool:
    """Whether the message is answered with a sorry and a person one click away."""
    found = parse.get(PARSE_KEY)
    return isinstance(found, Mapping) and found.get("acknowledge") is True


def safety_line(parse: Mapping[str, Any]) -> bool:
    """Whether the message's article comes with the emergency numbers."""
    found = parse.get(PARSE_KEY)
    return isinstance(found, Mapping) and found.get("safety") is True


def decided_other_product(parse: Mapping[str, Any]) -> str | None:
    """The other company's product the NLU found the message is about, if any."""
    found = parse.get(PARSE_KEY)
    product = found.get("other_product") if isinstance(found, Mapping) else None
    return product if isinstance(product, str) and product else None

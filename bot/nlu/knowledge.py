"""Answer first: a confident knowledge-base match counts as an understood intent.

Rasa decides whether the knowledge base is asked at all: the intent model
(a linear classifier on sentence embeddings since issue #15; DIET when this
was written) names an intent, the ``FallbackClassifier`` turns an unsure one
into ``nlu_fallback`` (which starts "Did you mean …?"), and the rules send support
intents to ``action_answer_from_kb`` and requests for a person to a handoff.
Measured where the customer stands, that order cost about a quarter of the
answerable questions their answer: the fallback asked customers to confirm
what the knowledge base had plainly found, and how-to questions that
mentioned a colleague were taken for requests for a person.

:class:`KnowledgeFirst` runs after the ``FallbackClassifier``. It searches the
published articles (the same search, settings and article revision as the
action server) with the message, its sentence embedding and the intent the
pipeline predicted, and adds the result to the parse data
(``knowledge``: the confident article, the search's confidence and its top
articles). When the search is confident enough to answer (its own tuned
threshold, the one that keeps wrong answers to questions it cannot answer
rare) the message counts as understood:

- an unsure intent (``nlu_fallback``) becomes the article's intent, so the
  knowledge-base rule answers it at once instead of asking to confirm;
- small talk (a greeting, "are you a bot?") becomes the article's intent: the
  search's "none" sentences include small talk, so it is rarely confident
  about real small talk;
- a request for a person, a complaint or a sensitive matter becomes the
  article's intent only when the intent model is not sure of it (below
  ``handoff_max_confidence``) and the search is very sure (at least
  ``handoff_min_kb_confidence``): "how do I invite my colleagues" is a how-to
  question, while "agent please" still goes to a person even though an
  article says how to contact support; a request for a person the model is
  sure of, while the search is very sure (``ask_min_kb_confidence``) of an
  article and neither it nor the runner-up (``people_hits``) is about reaching
  people, is asked about instead: the fallback's "Is your question about
  …?" with "Talk to a person" one click away (a real request that names a
  topic, "a person about my invoice", has the article about contacting
  support close behind);
- a request for a person (or complaint, or sensitive matter) the model
  names is never answered with an article that is itself about reaching
  people (contacting support): "bot is useless for this, human pls" goes to
  a person;
- when the search alone is not sure enough to answer, its best article
  still answers if the intent model's own best guess is an intent that
  article lists, both at least ``agree_min_intent_confidence`` and
  ``agree_min_kb_confidence`` sure: two signals agreeing, mostly on
  questions in other languages (the search is English, the intent model
  learns other languages from its examples);
- answers to the bot's own questions (yes, no, picking an offered article)
  are never changed, unless the fallback already set them aside.

The article's intent is its first listed intent that the intent model knows;
an article without one answers as ``out_of_scope``, the intent whose rule
already means "outside the main topics, the knowledge base may know it".
``action_answer_from_kb`` then answers with the article named in the parse
data, so the article the decision was made on is the one the customer gets.

The search index lives in this process (the Rasa server) and follows every
edit of the articles: a background thread checks the knowledge base's
revision once a second and rebuilds the index off the parse path, so parsing
never waits for SQL or a rebuild. The first index is built while the model
loads, so a Rasa server that reports its model loaded is ready to answer.
When the knowledge base cannot be read, messages pass through unchanged and
the thread keeps trying. A process follows each database once
(:func:`followed_index`): a deployed model, which Rasa loads beside the
running one, shares the running model's index and thread instead of leaving
one more thread and index behind on every deploy.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.config import Settings
from bot.knowledge.articles import Article
from bot.knowledge.embedding import PARSE_KEY as EMBEDDING_KEY
from bot.knowledge.embedding import vector_from_parse_data
from bot.knowledge.search import KnowledgeIndex
from bot.nlu.decision import (
    FALLBACK_INTENT,
    GENERIC_INTENT,
    PARSE_KEY,
    DecisionSettings,
    Override,
    answers_with_article,
    apply_override,
    decide,
    knowledge_parse_data,
    other_product,
    soften,
)
from bot.nlu.frustration import FRUSTRATION

logger = logging.getLogger(__name__)

#: Seconds between two checks of the knowledge base's revision.
RECHECK_S = 1.0
#: Seconds the model load waits for the first index (a large knowledge base
#: takes over a minute to index on 2 cores).
WARM_TIMEOUT_S = 300.0


class FollowedIndex:
    """The knowledge index of the published articles, kept current in a thread.

    A daemon thread runs its own event loop with a
    :class:`bot.knowledge.KnowledgeBase` on the ``BATON_`` database, checks
    the revision every ``recheck_s`` seconds and rebuilds the index when it
    moved; :attr:`current` is the latest index built, read without waiting.

    Args:
        settings_factory: Returns the settings (the database URL).
        recheck_s: Seconds between revision checks.
    """

    def __init__(
        self,
        settings_factory: Callable[[], Settings] = Settings.from_env,
        recheck_s: float = RECHECK_S,
    ) -> None:
        self._settings_factory = settings_factory
        self._recheck_s = recheck_s
        self._current: KnowledgeIndex | None = None
        self._ready = threading.Event()
        self._tried = threading.Event()
        self._stopping = threading.Event()
        self._starting = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name="knowledge-index", daemon=True
        )

    @property
    def current(self) -> KnowledgeIndex | None:
        """The latest index built, or ``None`` before the first build."""
        return self._current

    def start(self, wait_s: float = 0.0) -> bool:
        """Start following; wait up to ``wait_s`` for the first attempt.

        The first attempt builds the index, or fails at once when the
        knowledge base cannot be read yet (a hub that has not created its
        tables): then parsing starts without it and the thread keeps trying.

        Starting an index already followed only waits for it.

        Returns:
            Whether an index is ready.
        """
        with self._starting:
            if self._thread.ident is None:
                self._thread.start()
        self._tried.wait(wait_s)
        return self._ready.is_set()

    def stop(self) -> None:
        """Ask the thread to stop after its current check."""
        self._stopping.set()

    def _run(self) -> None:
        asyncio.run(self._follow())

    async def _follow(self) -> None:
        from bot.db.engine import create_engine
        from bot.knowledge import KnowledgeBase, KnowledgeRepository

        engine = create_engine(self._settings_factory().database_url)
        knowledge = KnowledgeBase(KnowledgeRepository(engine))
        failing = False
        try:
            while not self._stopping.is_set():
                try:
                    self._current = await knowledge.index()
                    self._ready.set()
                    if failing:
                        logger.info("the knowledge base can be read again")
                    failing = False
                except Exception:
                    # The edge of the thread: parsing goes on without it.
                    if not failing:
                        logger.warning(
                            "cannot read the knowledge base; messages are "
                            "parsed without it until it can be read",
                            exc_info=True,
                        )
                    failing = True
                self._tried.set()
                await asyncio.sleep(self._recheck_s)
        finally:
            await engine.dispose()


#: The index this process follows, by database URL (:func:`followed_index`).
_FOLLOWED: dict[str, FollowedIndex] = {}
_FOLLOWED_LOCK = threading.Lock()


def followed_index() -> FollowedIndex:
    """The one index this process follows of the settings' database.

    Every model loaded in the process shares it: Rasa loads a deployed model
    beside the running one and drops the old one without telling its
    components, so an index per model would leave a thread, a database
    engine and an index in memory behind on every deploy, and each new model
    would wait for an index of its own.
    """
    settings = Settings.from_env()
    with _FOLLOWED_LOCK:
        index = _FOLLOWED.get(settings.database_url)
        if index is None:
            index = FollowedIndex(lambda: settings)
            _FOLLOWED[settings.database_url] = index
        return index


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False
)
class KnowledgeFirst(GraphComponent):
    """Lets a confident knowledge-base article count as an understood intent.

    Place it after the ``FallbackClassifier`` and after
    :class:`bot.nlu.meaning.MessageEmbedder` (it reads the embedding).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the defaults (see :class:`DecisionSettings`)."""
        return {
            "handoff_intents": [
                "request_human",
                "complaint",
                "account_compromised",
                "payment_dispute",
                "legal_request",
                "person_in_danger",
            ],
            "smalltalk_intents": ["greet", "goodbye", "thank", "bot_challenge"],
            # Never overridden by an article: answers to the bot's questions,
            # and someone in danger, whom a person must see at once.
            "kept_intents": [
                "affirm",
                "deny",
                "choose_article",
                "none_of_these",
                "person_in_danger",
            ],
            "handoff_max_confidence": 0.95,
            "handoff_min_kb_confidence": 0.9,
            "ask_intents": ["request_human"],
            "ask_min_kb_confidence": 0.95,
            "people_hits": 2,
            "agree_min_intent_confidence": 0.9,
            "agree_min_kb_confidence": 0.4,
            "agree_max_runner_up_ratio": 0.8,
            "soften_intents": ["complaint"],
            "soften_min_kb_confidence": 1.0,
            "how_to_phrases": [],
            "frustrated_min_kb_confidence": 1.0,
            "own_products": ["Lumen"],
            "handoff_tie_min_confidence": 1.0,
            # Off unless set (config.yml): a danger intent is always kept.
            "danger_intents": ["person_in_danger"],
            "danger_max_confidence": 0.0,
            "danger_min_kb_confidence": 1.0,
            "danger_min_similarity": 1.0,
        }

    def __init__(self, settings: DecisionSettings, index: FollowedIndex) -> None:
        self.settings = settings
        self.index = index

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KnowledgeFirst:
        """Start following the knowledge base and wait for the first index."""
        settings = DecisionSettings(
            handoff_intents=frozenset(config["handoff_intents"]),
            smalltalk_intents=frozenset(config["smalltalk_intents"]),
            kept_intents=frozenset(config["kept_intents"]),
            handoff_max_confidence=float(config["handoff_max_confidence"]),
            handoff_min_kb_confidence=float(config["handoff_min_kb_confidence"]),
            ask_intents=frozenset(config["ask_intents"]),
            ask_min_kb_confidence=float(config["ask_min_kb_confidence"]),
            people_hits=int(config["people_hits"]),
            agree_min_intent_confidence=float(config["agree_min_intent_confidence"]),
            agree_min_kb_confidence=float(config["agree_min_kb_confidence"]),
            agree_max_runner_up_ratio=float(config["agree_max_runner_up_ratio"]),
            soften_intents=frozenset(config["soften_intents"]),
            soften_min_kb_confidence=float(config["soften_min_kb_confidence"]),
            how_to_phrases=tuple(config["how_to_phrases"]),
            frustrated_min_kb_confidence=float(config["frustrated_min_kb_confidence"]),
            own_products=tuple(config["own_products"]),
            handoff_tie_min_confidence=float(config["handoff_tie_min_confidence"]),
            danger_intents=frozenset(config["danger_intents"]),
            danger_max_confidence=float(config["danger_max_confidence"]),
            danger_min_kb_confidence=float(config["danger_min_kb_confidence"]),
            danger_min_similarity=float(config["danger_min_similarity"]),
        )
        index = followed_index()
        if not index.start(wait_s=WARM_TIMEOUT_S):
            logger.warning(
                "no knowledge index after %.0f s: answering without it", WARM_TIMEOUT_S
            )
        return cls(settings, index)

    def process(self, messages: list[Message]) -> list[Message]:
        """Search each typed message; override an unsure intent when confident.

        Args:
            messages: Parsed messages with their intent and embedding.

        Returns:
            The same messages, with ``knowledge`` in their parse data.
        """
        index = self.index.current
        if index is None:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.strip() or text.startswith("/"):
                continue
            self._process_one(index, message, text)
        return messages

    def _process_one(self, index: KnowledgeIndex, message: Message, text: str) -> None:
        intent = message.get("intent") or {}
        result = index.search(
            text,
            intent=intent.get("name"),
            intent_confidence=float(intent.get("confidence") or 0.0),
            vector=vector_from_parse_data(message.get(EMBEDDING_KEY)),
        )
        # The best hit, answer or not: an unsure search can still agree with
        # the intent model (decide()).
        best = result.answer or (result.hits[0] if result.hits else None)
        article = index.article(best.slug) if best is not None else None
        runners_up = [index.article(hit.slug) for hit in result.hits[1:]]
        article_intents = article.intents if article is not None else ()
        hit_intents = [
            article_intents,
            *(runner.intents for runner in runners_up if runner is not None),
        ]
        override = decide(
            message.data, result, article_intents, self.settings, hit_intents[1:]
        )
        final_intent = override.intent if override is not None else intent.get("name")
        product = None
        if answers_with_article(final_intent, self.settings) or final_intent == (
            FALLBACK_INTENT
        ):
            product = other_product(message.data, _article_text(article), self.settings)
        acknowledge = False
        if product is not None:
            override = Override(
                GENERIC_INTENT, result.confidence, other_product=product
            )
        elif _frustrated(message):
            acknowledge = soften(
                message.data, result, override, hit_intents, self.settings
            )
        if override is not None:
            apply_override(message.data, override)
        message.set(
            PARSE_KEY,
            knowledge_parse_data(result, override, acknowledge=acknowledge),
            add_to_output=True,
        )


def _article_text(article: Article | None) -> str:
    """All of an article's own words, to look for a product's name in."""
    if article is None:
        return ""
    return "\n".join(
        [article.title, article.summary, article.body, *article.tags, *article.examples]
    )


def _frustrated(message: Message) -> bool:
    """The frustration detector's verdict (it runs before this component)."""
    found = message.get(FRUSTRATION)
    return isinstance(found, dict) and found.get("frustrated") is True

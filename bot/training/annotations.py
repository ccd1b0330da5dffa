"""A trainer's decision about messages from the inbox, and its undo.

The request names what is labelled (``message_id``, or ``group_id``: the
group's messages) and exactly one label: ``article`` (a published article's
slug), ``intent`` (an intent's name), ``out_of_scope: true`` or
``dismiss: true``. An article becomes a labelled question of that article and
``out_of_scope`` one labelled "none": the knowledge-base search learns from
it at its next search in every process, without training. An intent label
makes the (masked) message a training example of that intent, used by the
next training job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.exceptions import BadRequest, Conflict
from bot.knowledge.articles import SLUG_PATTERN
from bot.knowledge.records import ArticleNotFound
from bot.training.intents import IntentNotFound
from bot.training.masking import mask
from bot.training.repository import AnnotationRecord, TrainingRepository
from bot.training.validation import example_text, intent_name

#: Most messages one group annotation may label.
MAX_GROUP_SIZE = 500
#: The labels a request may carry, each mapped to its annotation kind.
LABELS = ("article", "intent", "out_of_scope", "dismiss")
_TARGETS = ("message_id", "group_id")


def _message_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(
            f"{name} must be a message's id (a whole number)", code=f"bad_{name}"
        )
    return value


def _group(value: Any) -> tuple[int, ...]:
    if not isinstance(value, str) or not value:
        raise BadRequest(
            "group_id must be a group's id from the inbox", code="bad_group_id"
        )
    parts = value.split(",")
    if len(parts) > MAX_GROUP_SIZE or not all(
        part.isascii() and part.isdigit() and len(part) <= 10 for part in parts
    ):
        raise BadRequest(
            "group_id must be a group's id from the inbox", code="bad_group_id"
        )
    ids = tuple(dict.fromkeys(int(part) for part in parts))
    return tuple(_message_id(i, "group_id") for i in ids)


@dataclass(frozen=True)
class AnnotationRequest:
    """A validated annotation request.

    Attributes:
        message_ids: The messages to label (one, or a group's).
        kind: ``article``, ``intent``, ``out_of_scope`` or ``dismiss``.
        article: The slug, for ``article``.
        intent: The intent's name, for ``intent``.
    """

    message_ids: tuple[int, ...]
    kind: str
    article: str | None = None
    intent: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> AnnotationRequest:
        """Validate a request body.

        Raises:
            BadRequest: No or both targets, no or several labels, or a value
                of the wrong type; the code names the problem.
        """
        unknown = sorted(set(body) - {*_TARGETS, *LABELS})
        if unknown:
            raise BadRequest(
                f"unknown field(s): {', '.join(unknown)}", code="unknown_field"
            )
        targets = [name for name in _TARGETS if name in body]
        if len(targets) != 1:
            raise BadRequest(
                "give exactly one of message_id or group_id", code="one_target"
            )
        labels = [name for name in LABELS if name in body]
        if len(labels) != 1:
            raise BadRequest(
                "give exactly one label: article, intent, out_of_scope or dismiss",
                code="one_label",
            )
        (label,) = labels
        ids = (
            (_message_id(body["message_id"], "message_id"),)
            if targets == ["message_id"]
            else _group(body["group_id"])
        )
        if label == "article":
            slug = body["article"]
            if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
                raise BadRequest(
                    "article must be an article's slug", code="bad_article"
                )
            return cls(ids, "article", slug)
        if label == "intent":
            return cls(ids, "intent", intent=intent_name(body["intent"]))
        if body[label] is not True:
            raise BadRequest(f"{label} must be true", code=f"bad_{label}")
        return cls(ids, label)


class ArticleNotPublished(BadRequest):
    """The article exists but is a draft: the bot cannot answer with it."""

    code = "article_not_published"


class Annotations:
    """Stores trainers' decisions (through :class:`TrainingRepository`)."""

    def __init__(self, repository: TrainingRepository) -> None:
        self.repository = repository

    async def annotate(
        self, request: AnnotationRequest, *, author: str
    ) -> list[AnnotationRecord]:
        """Label the messages of ``request``, all or none.

        Returns:
            One annotation per message.

        Raises:
            MessageNotFound: A message is not a stored customer message.
            ArticleNotPublished: The article is a draft.
            ArticleNotFound: No article has the slug.
            IntentNotFound: No intent has the name.
            BadRequest: ``bad_example``: a message cannot be an example
                (e.g. several lines).
            Conflict: ``already_annotated``, ``example_in_other_intent``.
        """
        knowledge = self.repository.knowledge
        async with self.repository.engine.begin() as connection:
            found = await self.repository.customer_messages(
                connection, request.message_ids
            )
            labelled = [(message, mask(message.text)) for message in found]
            if request.intent is not None:
                return await self._label_intent(
                    connection, labelled, request.intent, author
                )
            if request.article is not None and request.article not in (
                await knowledge.published_slugs(connection)
            ):
                await knowledge.get(request.article)  # ArticleNotFound if none
                raise ArticleNotPublished(
                    f"article {request.article!r} is a draft: publish it first"
                )
            return await self.repository.add(
                connection,
                labelled,
                kind=request.kind,
                article=request.article,
                author=author,
            )

    async def _label_intent(
        self,
        connection: Any,
        labelled: list[tuple[Any, str]],
        intent: str,
        author: str,
    ) -> list[AnnotationRecord]:
        examples = self.repository.examples
        if examples is None:
            raise ValueError("intent annotations need the NLU repository")
        await examples.lock(connection)
        data = await examples.data(connection)
        if intent not in data.examples:
            raise IntentNotFound(f"no intent {intent!r}: create it first")
        texts = [(message, example_text(text)) for message, text in labelled]
        current = set(data.texts(intent))
        new: list[str] = []
        for _, text in texts:
            owner = data.intent_of(text)
            if owner is not None and owner != intent:
                raise Conflict(
                    f"{text!r} is an example of {owner!r} already: an example "
                    "belongs to one intent",
                    code="example_in_other_intent",
                )
            if text not in current and text not in new:
                new.append(text)
        return await self.repository.add(
            connection,
            texts,
            kind="intent",
            article=None,
            intent=intent,
            author=author,
            new_examples=new,
        )

    async def undo(self, annotation_id: int, *, author: str) -> AnnotationRecord:
        """Undo one annotation (see :meth:`TrainingRepository.undo`)."""
        return await self.repository.undo(annotation_id, author=author)


__all__ = [
    "AnnotationRequest",
    "Annotations",
    "ArticleNotFound",
    "ArticleNotPublished",
    "IntentNotFound",
]

"""A trainer's decision about messages from the inbox, and its undo.

The request names what is labelled (``message_id``, or ``group_id``: the
group's messages) and exactly one label: ``article`` (a published article's
slug), ``out_of_scope: true`` or ``dismiss: true``. ``intent`` is the label
the next slice adds beside ``article``; until then it is refused clearly.
An article becomes a labelled question of that article and ``out_of_scope``
one labelled "none": the knowledge-base search learns from it at its next
search in every process, without training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.exceptions import BadRequest
from bot.knowledge.articles import SLUG_PATTERN
from bot.knowledge.repository import ArticleNotFound
from bot.training.masking import mask
from bot.training.repository import AnnotationRecord, TrainingRepository

#: Most messages one group annotation may label.
MAX_GROUP_SIZE = 500
#: The labels a request may carry, each mapped to its annotation kind.
LABELS = ("article", "out_of_scope", "dismiss")
#: Labels that later slices add; named so the refusal is clear.
COMING_LABELS = ("intent",)
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
        kind: ``article``, ``out_of_scope`` or ``dismiss``.
        article: The slug, for ``article``.
    """

    message_ids: tuple[int, ...]
    kind: str
    article: str | None = None

    @classmethod
    def parse(cls, body: dict[str, Any]) -> AnnotationRequest:
        """Validate a request body.

        Raises:
            BadRequest: No or both targets, no or several labels, a label
                that is not supported yet, or a value of the wrong type; the
                code names the problem.
        """
        unknown = sorted(set(body) - {*_TARGETS, *LABELS, *COMING_LABELS})
        if unknown:
            raise BadRequest(
                f"unknown field(s): {', '.join(unknown)}", code="unknown_field"
            )
        targets = [name for name in _TARGETS if name in body]
        if len(targets) != 1:
            raise BadRequest(
                "give exactly one of message_id or group_id", code="one_target"
            )
        labels = [name for name in (*LABELS, *COMING_LABELS) if name in body]
        if len(labels) != 1:
            raise BadRequest(
                "give exactly one label: article, out_of_scope or dismiss",
                code="one_label",
            )
        (label,) = labels
        if label in COMING_LABELS:
            raise BadRequest(
                "intent labels are not supported yet: label an article, "
                "out of scope, or dismiss",
                code="unsupported_label",
            )
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
            Conflict: ``already_annotated``.
        """
        knowledge = self.repository.knowledge
        async with self.repository.engine.begin() as connection:
            found = await self.repository.customer_messages(
                connection, request.message_ids
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
                [(message, mask(message.text)) for message in found],
                kind=request.kind,
                article=request.article,
                author=author,
            )

    async def undo(self, annotation_id: int, *, author: str) -> AnnotationRecord:
        """Undo one annotation (see :meth:`TrainingRepository.undo`)."""
        return await self.repository.undo(annotation_id, author=author)


__all__ = [
    "AnnotationRequest",
    "Annotations",
    "ArticleNotFound",
    "ArticleNotPublished",
]

"""What trainers may write: intent names, example texts and intent changes.

Checked before anything is stored, so that bad input gets a clear 400 and
changes nothing (:mod:`bot.training.intents` checks the change against the
whole data set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.exceptions import BadRequest
from bot.knowledge.articles import INTENT_PATTERN

#: Longest example text (characters) and name of an intent.
MAX_EXAMPLE_CHARS = 500
MAX_INTENT_CHARS = 64
#: Most examples one request may carry.
MAX_EXAMPLES_PER_REQUEST = 1000
#: Intent names Rasa gives a meaning of its own.
RESERVED_INTENTS = ("nlu_fallback", "restart", "back", "out_of_scope_default")
#: Rasa reads ``[text](entity)`` and ``[text]{...}`` in an example as an entity.
_ENTITY_SYNTAX = re.compile(r"\]\s*[({]")


def intent_name(value: Any, what: str = "intent") -> str:
    """Validate an intent's name.

    Raises:
        BadRequest: ``bad_intent``: not lowercase letters, digits and
            underscores starting with a letter, too long, or reserved.
    """
    if (
        not isinstance(value, str)
        or len(value) > MAX_INTENT_CHARS
        or not INTENT_PATTERN.match(value)
    ):
        raise BadRequest(
            f"{what} must be an intent's name: lowercase letters, digits and "
            f"underscores, starting with a letter, at most {MAX_INTENT_CHARS} "
            "characters (no spaces)",
            code="bad_intent",
        )
    if value in RESERVED_INTENTS:
        raise BadRequest(f"{value!r} is reserved by Rasa", code="bad_intent")
    return value


def example_text(value: Any) -> str:
    """Validate one example's text (surrounding spaces are dropped).

    Raises:
        BadRequest: ``bad_example``: empty, too long, several lines,
            control characters, or Rasa's entity syntax.
    """
    if not isinstance(value, str):
        raise BadRequest("an example must be a text", code="bad_example")
    text = " ".join(value.split())
    if not text:
        raise BadRequest("an example must not be empty", code="bad_example")
    if len(text) > MAX_EXAMPLE_CHARS:
        raise BadRequest(
            f"an example has at most {MAX_EXAMPLE_CHARS} characters",
            code="bad_example",
        )
    if any(
        ord(char) < 32 or ord(char) == 127 for char in value if char not in "\t\n\r"
    ):
        raise BadRequest(
            "an example must not contain control characters", code="bad_example"
        )
    if value.strip() != value.strip().replace("\n", "").replace("\r", ""):
        raise BadRequest("an example is one line", code="bad_example")
    if _ENTITY_SYNTAX.search(text):
        raise BadRequest(
            f"{text!r}: '](' and ']{{' mark entities in Rasa's format; "
            "reword the example",
            code="bad_example",
        )
    return text


def example_list(value: Any, what: str = "examples") -> list[str]:
    """Validate a list of example texts (duplicates in it are refused).

    Raises:
        BadRequest: Not a list, too long, a bad example or a duplicate.
    """
    if not isinstance(value, list):
        raise BadRequest(f"{what} must be a list of texts", code="bad_examples")
    if len(value) > MAX_EXAMPLES_PER_REQUEST:
        raise BadRequest(
            f"at most {MAX_EXAMPLES_PER_REQUEST} examples per request",
            code="bad_examples",
        )
    texts = [example_text(item) for item in value]
    seen: set[str] = set()
    for text in texts:
        if text in seen:
            raise BadRequest(f"{text!r} is given twice", code="duplicate_example")
        seen.add(text)
    return texts


@dataclass(frozen=True)
class IntentChange:
    """A validated ``PUT /api/training/intents/{name}`` body."""

    rename_to: str | None = None
    examples: list[str] | None = None
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, body: dict[str, Any]) -> IntentChange:
        """Validate a change.

        ``name`` renames; ``examples`` is the whole new list, or ``add`` and
        ``remove`` list texts to add and remove.

        Raises:
            BadRequest: An unknown field, nothing to change, ``examples``
                together with ``add``/``remove``, or a bad value.
        """
        unknown = sorted(set(body) - {"name", "examples", "add", "remove"})
        if unknown:
            raise BadRequest(
                f"unknown field(s): {', '.join(unknown)}", code="unknown_field"
            )
        if not body:
            raise BadRequest(
                "give name, examples, add or remove", code="nothing_to_change"
            )
        if "examples" in body and ("add" in body or "remove" in body):
            raise BadRequest(
                "give either examples (the whole list) or add/remove",
                code="examples_or_changes",
            )
        return cls(
            rename_to=intent_name(body["name"], "name") if "name" in body else None,
            examples=example_list(body["examples"]) if "examples" in body else None,
            add=example_list(body.get("add", []), "add"),
            remove=example_list(body.get("remove", []), "remove"),
        )


__all__ = [
    "MAX_EXAMPLES_PER_REQUEST",
    "MAX_EXAMPLE_CHARS",
    "MAX_INTENT_CHARS",
    "RESERVED_INTENTS",
    "IntentChange",
    "example_list",
    "example_text",
    "intent_name",
]

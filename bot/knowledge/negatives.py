"""Sentences that no knowledge-base article answers: the "none" examples.

The nearest-example matcher (:mod:`bot.knowledge.similarity`) and the meaning
classifier compare a message with these as well as with the articles; a
message closer to them than to any article is less likely to be a support
question.

They come from two places, both data: the package's ``negatives.yml`` (the
sentences written for the knowledge base, in groups, and the names of NLU
intents whose examples count too) and the NLU training data the Rasa model
is trained on (``data/nlu``, read with Rasa's own reader): the chit-chat and
out-of-scope examples are read from there, so that the two never drift apart.

``negatives.yml`` is a mapping with exactly two keys: ``nlu_intents``, a list
of intent names, and ``groups``, a list of mappings each with ``about`` (what
the group is) and ``sentences`` (a list of texts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge.articles import KnowledgeError, read_yaml, shipped_yaml

#: Where the NLU training data lives inside a project directory.
NLU_DATA = Path("data") / "nlu"
#: The root of a source checkout (``bot/knowledge/negatives.py`` → the root).
CHECKOUT_ROOT = Path(__file__).resolve().parents[2]
MAX_TEXT_LENGTH = 1000
SHIPPED_FILE = "negatives.yml"


@dataclass(frozen=True)
class NegativeSources:
    """What ``negatives.yml`` holds.

    Attributes:
        nlu_intents: Intents of the NLU data whose examples are "none"
            sentences, in the order their sentences are used.
        sentences: The sentences written for the knowledge base, in file order.
    """

    nlu_intents: tuple[str, ...]
    sentences: tuple[str, ...]


def _error(message: str, source: str, field: str | None = None) -> KnowledgeError:
    return KnowledgeError(
        message, code="bad_negatives_file", field=field, source=source
    )


def _texts(value: Any, where: str, source: str, field: str) -> tuple[str, ...]:
    """A list of non-empty strings, or a :class:`KnowledgeError` naming it."""
    if not isinstance(value, list) or not value:
        raise _error(f"{where} must be a non-empty list", source, field)
    texts = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str) or not item.strip():
            raise _error(f"{where}, item {position}, is not a text", source, field)
        if len(item) > MAX_TEXT_LENGTH:
            raise _error(
                f"{where}, item {position}, is {len(item)} characters, "
                f"the limit is {MAX_TEXT_LENGTH}",
                source,
                field,
            )
        texts.append(item.strip())
    return tuple(texts)


def parse_negatives(data: Any, source: str = "<data>") -> NegativeSources:
    """Validate the parsed contents of a negatives file.

    Args:
        data: The parsed YAML (see the module docstring for the shape).
        source: Where it came from, for the error messages.

    Returns:
        The NLU intents to read and the written sentences.

    Raises:
        KnowledgeError: A key is missing or unknown, a group has no ``about``
            or no sentences, or an item is not a non-empty text (code
            ``bad_negatives_file``; the message names the place).
    """
    if not isinstance(data, dict):
        raise _error("expected a mapping with 'nlu_intents' and 'groups'", source)
    unknown = sorted(set(data) - {"nlu_intents", "groups"})
    if unknown:
        raise _error(f"unknown keys: {', '.join(map(str, unknown))}", source)
    missing = [key for key in ("nlu_intents", "groups") if key not in data]
    if missing:
        raise _error(f"missing keys: {', '.join(missing)}", source, missing[0])
    intents = _texts(data["nlu_intents"], "'nlu_intents'", source, "nlu_intents")
    groups = data["groups"]
    if not isinstance(groups, list) or not groups:
        raise _error("'groups' must be a non-empty list", source, "groups")
    sentences: list[str] = []
    for position, group in enumerate(groups, start=1):
        where = f"group {position}"
        if not isinstance(group, dict) or set(group) != {"about", "sentences"}:
            raise _error(
                f"{where} must be a mapping with exactly 'about' and 'sentences'",
                source,
                "groups",
            )
        if not isinstance(group["about"], str) or not group["about"].strip():
            raise _error(f"{where} has no 'about' text", source, "groups")
        sentences.extend(
            _texts(
                group["sentences"], f"{where} ('{group['about']}')", source, "groups"
            )
        )
    return NegativeSources(intents, tuple(sentences))


def load_negatives_file(path: str | Path) -> NegativeSources:
    """Load a negatives file.

    Raises:
        KnowledgeError: The file cannot be read, is not YAML, or is invalid
            (see :func:`parse_negatives`).
    """
    return parse_negatives(read_yaml(path), str(path))


def shipped_negative_sources() -> NegativeSources:
    """The ``negatives.yml`` shipped with the package."""
    return parse_negatives(shipped_yaml(SHIPPED_FILE), f"bot/knowledge/{SHIPPED_FILE}")


def nlu_directory(project_dir: Path | None = None) -> Path:
    """The folder of NLU training data the "none" intents are read from.

    Args:
        project_dir: The project (``domain.yml``, ``data/``); when omitted,
            the working directory (the servers run from the project, as
            :class:`~bot.config.Settings` assumes) and then the source
            checkout this package belongs to are tried, in that order.

    Returns:
        ``<project>/data/nlu``.

    Raises:
        KnowledgeError: No such folder (code ``missing_nlu_data``); the
            message says where it looked.
    """
    candidates = (
        [project_dir / NLU_DATA]
        if project_dir is not None
        else [Path.cwd() / NLU_DATA, CHECKOUT_ROOT / NLU_DATA]
    )
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    looked = " or ".join(str(candidate) for candidate in dict.fromkeys(candidates))
    raise KnowledgeError(
        f"the NLU training data is not in {looked}: the knowledge base reads its "
        "chit-chat 'none' sentences from there; run from the project directory "
        "or pass the project directory",
        code="missing_nlu_data",
    )


def nlu_examples(directory: Path, intents: Sequence[str]) -> tuple[str, ...]:
    """The examples of some intents in a folder of Rasa NLU YAML files.

    Every ``*.yml`` / ``*.yaml`` file of the folder (and below it) is read
    with Rasa's reader, in name order, so entity annotations and the other
    forms Rasa accepts come out as the plain text the model trains on.

    Args:
        directory: The NLU data folder (:func:`nlu_directory`).
        intents: The intents wanted.

    Returns:
        Their examples: intent by intent in the order given, each intent's in
        file order.

    Raises:
        KnowledgeError: A file is not valid Rasa NLU data (code
            ``bad_nlu_data``), or an intent has no example in any file (code
            ``missing_nlu_intent``): a renamed intent must not silently drop
            its sentences from the "none" class.
    """
    # Rasa's reader costs half a second to import: only when the data is read.
    from rasa.shared.exceptions import RasaException
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    found: dict[str, list[str]] = {intent: [] for intent in intents}
    files = sorted(
        path
        for pattern in ("*.yml", "*.yaml")
        for path in directory.rglob(pattern)
        if path.is_file()
    )
    for path in files:
        try:
            data = RasaYAMLReader().read(path)
        except (RasaException, OSError, ValueError) as error:
            raise KnowledgeError(
                f"not valid Rasa NLU data: {error}",
                code="bad_nlu_data",
                source=str(path),
            ) from error
        for message in data.intent_examples:
            examples = found.get(message.get("intent"))
            if examples is not None:
                examples.append(message.get("text"))
    empty = [intent for intent, examples in found.items() if not examples]
    if empty:
        raise KnowledgeError(
            f"no examples of the intents {', '.join(empty)} in {directory} "
            f"(named in bot/knowledge/{SHIPPED_FILE}'s nlu_intents)",
            code="missing_nlu_intent",
            source=str(directory),
        )
    return tuple(text for intent in intents for text in found[intent])


def load_negatives(
    project_dir: Path | None = None, sources: NegativeSources | None = None
) -> tuple[str, ...]:
    """Every "none" sentence: the NLU intents' examples, then the written ones.

    Args:
        project_dir: The project whose ``data/nlu`` is read
            (:func:`nlu_directory`).
        sources: The parsed negatives file; the shipped one when omitted.

    Returns:
        The sentences (a sentence may appear twice).

    Raises:
        KnowledgeError: A file is missing or invalid (see
            :func:`nlu_directory`, :func:`nlu_examples`,
            :func:`parse_negatives`).
    """
    sources = sources or shipped_negative_sources()
    from_nlu = nlu_examples(nlu_directory(project_dir), sources.nlu_intents)
    return (*from_nlu, *sources.sentences)

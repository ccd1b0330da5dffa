"""Rasa's NLU training data on disk: the committed baseline and where intents are used.

``data/nlu/*.yml`` in the project is the baseline: the examples of each
intent in the order written. Rules and stories (``data/rules``,
``data/stories``) and the domain's slot mappings name intents; an intent
they use cannot be deleted or renamed. Read with PyYAML (the files are small
and read once per request); :mod:`bot.training.nlu_files` writes them back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.exceptions import BatonError

#: Where the NLU, rule and story files are, relative to the project.
NLU_DIR = Path("data") / "nlu"
RULES_DIR = Path("data") / "rules"
STORIES_DIR = Path("data") / "stories"
DOMAIN = Path("domain.yml")
CONFIG = Path("config.yml")


class TrainingDataError(BatonError):
    """A training data file cannot be read as Rasa YAML."""

    status = 400
    code = "bad_training_data"


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Parsed files by path, with the (mtime, size) they were read at: the hub
#: reads the same few files for every request about intents.
_parsed: dict[Path, tuple[tuple[int, int], Any]] = {}


def _load(path: Path) -> Any:
    try:
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = _parsed.get(path)
        if cached is not None and cached[0] == key:
            return copy.deepcopy(cached[1])
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise TrainingDataError(f"{path}: not readable YAML ({error})") from error
    _parsed[path] = (key, data)
    return copy.deepcopy(data)


def parse_examples(block: Any, where: str) -> list[str]:
    """The example texts of one ``examples: |`` block, in order.

    Raises:
        TrainingDataError: The block is not a string of ``- text`` lines.
    """
    if not isinstance(block, str):
        raise TrainingDataError(f"{where}: examples must be a block of '- text' lines")
    texts = []
    for line in block.splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith("- "):
            raise TrainingDataError(f"{where}: example line {line!r} must start '- '")
        texts.append(line[2:].strip())
    return texts


@dataclass
class NluFiles:
    """The intents of a folder of Rasa NLU files.

    Attributes:
        examples: Each intent's examples, in file order (Rasa joins the
            blocks of an intent listed in several files).
        files: The files (relative to the folder) each intent is in.
    """

    examples: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, list[Path]] = field(default_factory=dict)


def read_nlu(folder: Path) -> NluFiles:
    """Read every ``*.yml`` file under ``folder`` (Rasa's NLU format).

    Only ``nlu:`` items with ``intent`` and ``examples`` are read; synonyms,
    regexes and lookup tables are kept as they are by the export.

    Raises:
        TrainingDataError: A file is not valid YAML, or examples are not a
            block of ``- text`` lines.
    """
    found = NluFiles()
    for path in sorted(folder.rglob("*.yml")):
        data = _load(path) or {}
        items = data.get("nlu") if isinstance(data, dict) else None
        for item in items or []:
            if not isinstance(item, dict) or "intent" not in item:
                continue
            name = str(item["intent"])
            relative = path.relative_to(folder)
            found.examples.setdefault(name, []).extend(
                parse_examples(item.get("examples", ""), f"{relative}: intent {name!r}")
            )
            files = found.files.setdefault(name, [])
            if relative not in files:
                files.append(relative)
    return found


def _intents_in(value: Any) -> list[str]:
    """Every intent named by a step (``intent:``, also under ``or:``)."""
    names: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("intent", "not_intent"):
                if isinstance(inner, str):
                    names.append(inner)
                elif isinstance(inner, list):
                    names.extend(str(name) for name in inner)
            else:
                names.extend(_intents_in(inner))
    elif isinstance(value, list):
        for inner in value:
            names.extend(_intents_in(inner))
    return names


def intent_usage(project_dir: Path) -> dict[str, list[str]]:
    """Where each intent is used: rules, stories and the domain's slots.

    Returns:
        Intent name → places, e.g. ``data/rules/support.yml: rule 'Greet'``.
    """
    usage: dict[str, list[str]] = {}

    def note(name: str, place: str) -> None:
        places = usage.setdefault(name, [])
        if place not in places:
            places.append(place)

    for folder, key, kind in (
        (RULES_DIR, "rules", "rule"),
        (STORIES_DIR, "stories", "story"),
    ):
        for path in sorted((project_dir / folder).rglob("*.yml")):
            data = _load(path) or {}
            for item in (data.get(key) or []) if isinstance(data, dict) else []:
                if not isinstance(item, dict):
                    continue
                place = f"{path.relative_to(project_dir)}: {kind} {item.get(kind)!r}"
                for name in _intents_in(item.get("steps", [])) + _intents_in(
                    item.get("condition", [])
                ):
                    note(name, place)
    domain = _load(project_dir / DOMAIN) or {}
    for slot, definition in (domain.get("slots") or {}).items():
        for name in _intents_in((definition or {}).get("mappings", [])):
            note(name, f"{DOMAIN}: slot {slot!r}")
    return usage


__all__ = [
    "CONFIG",
    "DOMAIN",
    "NLU_DIR",
    "RULES_DIR",
    "STORIES_DIR",
    "NluFiles",
    "TrainingDataError",
    "intent_usage",
    "parse_examples",
    "read_nlu",
]

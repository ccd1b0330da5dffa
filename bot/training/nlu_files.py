"""Training data between SQL and Rasa YAML: ``baton nlu export`` / ``import``.

The export writes a project folder Rasa trains on (``config.yml``,
``domain.yml``, ``data/``): the committed files with trainers' changes
applied. A file no change touches is copied byte for byte; a changed one is
edited in place with ruamel.yaml's round trip, so its comments, order and
quoting stay as written and a pull request shows only the examples that
changed. Intents trainers created go to ``data/nlu/trainers.yml``, and the
domain's intent list follows created and deleted intents.

The import reads the NLU files of such a folder and stores their difference
from the committed baseline as the trainers' changes (replacing the stored
ones), checked as the console checks them. Rules, stories, the domain and the
configuration stay in git: the import reads only ``data/nlu``.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.exceptions import BadRequest
from bot.training.intents import (
    MIN_EXAMPLES,
    IntentInUse,
    NluRepository,
    TrainingData,
)
from bot.training.nlu_data import (
    CONFIG,
    DOMAIN,
    NLU_DIR,
    RULES_DIR,
    STORIES_DIR,
    NluFiles,
    TrainingDataError,
    intent_usage,
    read_nlu,
)
from bot.training.validation import example_text, intent_name

#: Where the export puts the intents trainers created.
TRAINERS_FILE = NLU_DIR / "trainers.yml"
#: Indentation styles tried on a file; the one that reproduces it is used.
_INDENTS = ((2, 2, 0), (2, 4, 2))


def _yaml_for(text: str) -> tuple[YAML, Any]:
    """A round-trip YAML that writes ``text`` back as it was, and its data."""
    chosen: tuple[YAML, Any] | None = None
    for mapping, sequence, offset in _INDENTS:
        yaml: Any = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        data = yaml.load(text)
        if chosen is None:
            chosen = (yaml, data)
        out = io.StringIO()
        yaml.dump(data, out)
        if out.getvalue() == text:
            return yaml, data
    assert chosen is not None
    return chosen


def _dump(yaml: YAML, data: Any) -> str:
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _block(texts: list[str]) -> LiteralScalarString:
    return LiteralScalarString("".join(f"- {text}\n" for text in texts))


def _nlu_file(source: Path, data: TrainingData, first_files: dict[str, Path]) -> str:
    """A baseline NLU file's text with trainers' changes applied."""
    text = source.read_text(encoding="utf-8")
    yaml, document = _yaml_for(text)
    items = document.get("nlu") or []
    changed = False
    for item in list(items):
        if not hasattr(item, "get") or "intent" not in item:
            continue
        name = str(item["intent"])
        if name in data.deleted:
            items.remove(item)
            changed = True
            continue
        removed = data.removed.get(name, set())
        texts = [line for line in _texts(item) if line not in removed]
        if first_files.get(name) == source:
            texts += [e.text for e in data.examples[name] if e.source == "trainer"]
        if texts != _texts(item):
            item["examples"] = _block(texts)
            changed = True
    return _dump(yaml, document) if changed else text


def _texts(item: Any) -> list[str]:
    return [
        line.strip()[2:].strip()
        for line in str(item.get("examples", "")).splitlines()
        if line.strip().startswith("- ")
    ]


def _domain(source: Path, data: TrainingData) -> str:
    """``domain.yml`` with created intents added and deleted ones gone."""
    text = source.read_text(encoding="utf-8")
    if not data.created and not data.deleted:
        return text
    yaml, document = _yaml_for(text)
    intents = document.setdefault("intents", [])
    for entry in list(intents):
        name = next(iter(entry)) if hasattr(entry, "keys") else str(entry)
        if name in data.deleted:
            intents.remove(entry)
    listed = {next(iter(e)) if hasattr(e, "keys") else str(e) for e in intents}
    for name in sorted(data.created):
        if name not in listed:
            intents.append(name)
    return _dump(yaml, document)


def _trainers_file(data: TrainingData) -> str | None:
    created = sorted(data.created)
    if not created:
        return None
    yaml: Any = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=2, offset=0)
    document = {
        "version": "3.1",
        "nlu": [
            {"intent": name, "examples": _block(data.texts(name))} for name in created
        ],
    }
    header = "# Intents created by trainers in the console (baton nlu export).\n"
    return header + _dump(yaml, document)


def export_files(data: TrainingData, project_dir: Path) -> dict[Path, bytes]:
    """The files of a Rasa project with the training data ``data``.

    Returns:
        Path relative to the project → content: ``config.yml``,
        ``domain.yml`` and every file under ``data/``.
    """
    files: dict[Path, bytes] = {}
    files[CONFIG] = (project_dir / CONFIG).read_bytes()
    files[DOMAIN] = _domain(project_dir / DOMAIN, data).encode("utf-8")
    first_files = {
        name: project_dir / NLU_DIR / paths[0]
        for name, paths in data.baseline.files.items()
    }
    for folder in (RULES_DIR, STORIES_DIR):
        for path in sorted((project_dir / folder).rglob("*.yml")):
            files[path.relative_to(project_dir)] = path.read_bytes()
    for path in sorted((project_dir / NLU_DIR).rglob("*.yml")):
        files[path.relative_to(project_dir)] = _nlu_file(
            path, data, first_files
        ).encode("utf-8")
    trainers = _trainers_file(data)
    if trainers is not None:
        files[TRAINERS_FILE] = trainers.encode("utf-8")
    return files


def fingerprint(files: dict[Path, bytes]) -> str:
    """SHA-256 over the files' paths and contents (what a model learns from)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        content = files[path]
        digest.update(f"{path.as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def write_files(files: dict[Path, bytes], out_dir: Path) -> list[Path]:
    """Write ``files`` under ``out_dir`` (its ``data/`` is replaced).

    Returns:
        The paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "data").is_dir():
        shutil.rmtree(out_dir / "data")
    written = []
    for relative, content in sorted(files.items()):
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written


@dataclass
class ImportReport:
    """What an import stored."""

    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0


async def import_folder(
    repository: NluRepository, folder: Path, *, author: str
) -> ImportReport:
    """Store the difference between ``folder``'s NLU data and the baseline.

    ``folder`` is a project folder (with ``data/nlu``) or an NLU folder. The
    stored changes are replaced, all or nothing.

    Raises:
        TrainingDataError: A file is not Rasa YAML.
        BadRequest: A bad intent name or example, too few examples for a new
            intent, or an example under two intents.
        IntentInUse: The files drop an intent that a rule, story or slot uses.
    """
    nlu_folder = folder / NLU_DIR if (folder / NLU_DIR).is_dir() else folder
    if not nlu_folder.is_dir():
        raise TrainingDataError(f"{folder}: no such folder")
    imported: NluFiles = read_nlu(nlu_folder)
    if not imported.examples:
        raise TrainingDataError(f"{nlu_folder}: no intents in its *.yml files")
    baseline = repository.baseline()
    usage = intent_usage(repository.project_dir)
    report = ImportReport()
    owners: dict[str, str] = {}
    for name, texts in imported.examples.items():
        for text in texts:
            owner = owners.setdefault(text, name)
            if owner != name:
                raise BadRequest(
                    f"{text!r} is an example of both {owner!r} and {name!r}",
                    code="example_in_other_intent",
                )
    for name in baseline.examples:
        if name not in imported.examples:
            if usage.get(name):
                raise IntentInUse(
                    f"intent {name!r} is missing from {nlu_folder} but is used "
                    "by " + "; ".join(usage[name])
                )
            report.deleted.append(name)
    async with repository.engine.begin() as connection:
        await repository.lock(connection)
        current = await repository.data(connection)
        annotated = {
            (name, e.text): e.annotation_id
            for name, examples in current.examples.items()
            for e in examples
            if e.annotation_id is not None
        }
        await repository.clear(connection)
        for name in report.deleted:
            await repository.mark_intent(connection, name, "deleted", author=author)
        for name, texts in imported.examples.items():
            if name not in baseline.examples:
                intent_name(name, f"intent {name!r}")
                if len(texts) < MIN_EXAMPLES:
                    raise BadRequest(
                        f"new intent {name!r} has {len(texts)} examples; it needs "
                        f"at least {MIN_EXAMPLES}",
                        code="too_few_examples",
                    )
                report.created.append(name)
                await repository.mark_intent(connection, name, "created", author=author)
                before: list[str] = []
            else:
                before = baseline.examples[name]
            known = set(before)
            added = [text for text in texts if text not in known]
            for text in added:
                if example_text(text) != text:
                    raise BadRequest(
                        f"intent {name!r}: example {text!r} has extra spaces",
                        code="bad_example",
                    )
                await repository.add(
                    connection,
                    name,
                    [text],
                    author=author,
                    annotation_id=annotated.get((name, text)),
                )
            kept = set(texts)
            gone = [text for text in before if text not in kept]
            await repository.remove(connection, name, gone, author=author)
            report.added += len(added)
            report.removed += len(gone)
    return report


__all__ = [
    "TRAINERS_FILE",
    "ImportReport",
    "export_files",
    "fingerprint",
    "import_folder",
    "write_files",
]

"""``baton nlu export`` / ``import``: SQL ↔ Rasa YAML, read back by Rasa itself."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.loading import load_data

from bot.cli import main
from bot.exceptions import BadRequest
from bot.training.intents import IntentInUse, Intents, NluRepository
from bot.training.nlu_files import (
    TRAINERS_FILE,
    export_files,
    fingerprint,
    import_folder,
    write_files,
)
from bot.training.validation import IntentChange
from tests.bot.training.helpers import NEW_EXAMPLES, clear_training_data
from tests.conftest import PROJECT_DIR


@pytest.fixture
async def repository(engine: Any) -> AsyncIterator[NluRepository]:
    await clear_training_data(engine)
    yield NluRepository(engine, PROJECT_DIR)
    await clear_training_data(engine)


def project_files() -> dict[Path, bytes]:
    files = {
        Path("config.yml"): (PROJECT_DIR / "config.yml").read_bytes(),
        Path("domain.yml"): (PROJECT_DIR / "domain.yml").read_bytes(),
    }
    for path in sorted((PROJECT_DIR / "data").rglob("*.yml")):
        files[path.relative_to(PROJECT_DIR)] = path.read_bytes()
    return files


def as_rasa_reads_it(folder: Path) -> dict[str, list[str]]:
    """Each intent's examples as Rasa's own loader reads the exported files.

    An example's entities (``[gmail](product)``) are written back into its
    text the way the files mark them, so an entity Rasa did not read shows.
    """
    examples: dict[str, list[str]] = {}
    for message in load_data(str(folder / "data" / "nlu")).intent_examples:
        text = message.get("text")
        for entity in sorted(
            message.get("entities") or [], key=lambda e: e["start"], reverse=True
        ):
            start, end = entity["start"], entity["end"]
            marked = f"[{text[start:end]}]({entity['entity']})"
            text = text[:start] + marked + text[end:]
        examples.setdefault(message.get("intent"), []).append(text)
    return examples


async def change_some(repository: NluRepository) -> Intents:
    intents = Intents(repository)
    await intents.create("track_order", NEW_EXAMPLES, author="t@x")
    first = repository.baseline().examples["billing_question"][0]
    await intents.change(
        "billing_question",
        IntentChange.parse({"add": ["invoice in euros please"], "remove": [first]}),
        author="t@x",
    )
    return intents


async def test_without_changes_the_export_is_the_committed_files(
    repository: NluRepository,
) -> None:
    files = export_files(await repository.data(), PROJECT_DIR)
    assert files == project_files()
    assert fingerprint(files) == fingerprint(project_files())


async def test_the_export_is_what_rasa_reads_and_keeps_the_files_as_written(
    repository: NluRepository, tmp_path: Path
) -> None:
    await change_some(repository)
    data = await repository.data()
    files = export_files(data, PROJECT_DIR)
    write_files(files, tmp_path)
    assert as_rasa_reads_it(tmp_path) == {
        name: [example.text for example in examples]
        for name, examples in data.examples.items()
    }
    domain = Domain.load(str(tmp_path / "domain.yml"))
    assert "track_order" in domain.intents
    committed = project_files()
    changed = {path for path in files if files[path] != committed.get(path)}
    assert changed == {
        Path("domain.yml"),
        Path("data/nlu/billing.yml"),
        TRAINERS_FILE,
    }
    # The edited file keeps its comments and layout: only the examples differ.
    before = committed[Path("data/nlu/billing.yml")].decode().splitlines()
    after = files[Path("data/nlu/billing.yml")].decode().splitlines()
    first = repository.baseline().examples["billing_question"][0]
    assert [line for line in before if line != f"    - {first}"] == [
        line for line in after if line != "    - invoice in euros please"
    ]
    assert fingerprint(files) != fingerprint(committed)


async def test_an_export_imports_back_as_the_same_data(
    repository: NluRepository, tmp_path: Path
) -> None:
    await change_some(repository)
    exported = await repository.data()
    write_files(export_files(exported, PROJECT_DIR), tmp_path)
    await clear_training_data(repository.engine)
    report = await import_folder(repository, tmp_path, author="import")
    assert (report.created, report.deleted, report.added, report.removed) == (
        ["track_order"],
        [],
        len(NEW_EXAMPLES) + 1,
        1,
    )
    imported = await repository.data()
    assert {n: [e.text for e in x] for n, x in imported.examples.items()} == {
        n: [e.text for e in x] for n, x in exported.examples.items()
    }
    assert export_files(imported, PROJECT_DIR) == export_files(exported, PROJECT_DIR)


async def test_a_bad_import_changes_nothing(
    repository: NluRepository, tmp_path: Path
) -> None:
    await change_some(repository)
    before = export_files(await repository.data(), PROJECT_DIR)
    shutil.copytree(PROJECT_DIR / "data" / "nlu", tmp_path / "nlu")
    billing = tmp_path / "nlu" / "billing.yml"
    text = billing.read_text()
    billing.write_text(text.replace("- intent: refund_request", "- intent: refunds"))
    with pytest.raises(IntentInUse) as used:
        await import_folder(repository, tmp_path / "nlu", author="import")
    assert "data/rules/support.yml" in used.value.message
    billing.write_text(text + "- intent: tiny\n  examples: |\n    - one\n    - two\n")
    with pytest.raises(BadRequest) as few:
        await import_folder(repository, tmp_path / "nlu", author="import")
    assert few.value.code == "too_few_examples"
    greeting = repository.baseline().examples["greet"][0]
    billing.write_text(
        text.replace("examples: |\n", f"examples: |\n    - {greeting}\n", 1)
    )
    with pytest.raises(BadRequest) as twice:
        await import_folder(repository, tmp_path / "nlu", author="import")
    assert twice.value.code == "example_in_other_intent"
    assert export_files(await repository.data(), PROJECT_DIR) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_baton_nlu_export_and_import(
    repository: NluRepository,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await change_some(repository)
    monkeypatch.setenv("BATON_DATABASE_URL", database_url)
    monkeypatch.setenv("BATON_PROJECT_DIR", str(PROJECT_DIR))
    monkeypatch.setenv("BATON_DATA_DIR", str(tmp_path / "var"))
    out = tmp_path / "export"
    assert await asyncio.to_thread(main, ["nlu", "export", str(out)]) == 0
    assert "changed by trainers: billing_question, track_order" in (
        capsys.readouterr().out
    )
    assert (out / TRAINERS_FILE).is_file()
    await clear_training_data(repository.engine)
    assert await asyncio.to_thread(main, ["nlu", "import", str(out)]) == 0
    assert "intents created: track_order" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["nlu", "import", str(tmp_path / "none")]) == 2
    assert "no such folder" in capsys.readouterr().err

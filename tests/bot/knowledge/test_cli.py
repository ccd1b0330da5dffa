"""``baton kb import`` and ``baton kb export`` (YAML and Markdown files).

The command line runs its own event loop, so each call runs in a thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.knowledge import (
    KnowledgeRepository,
    article_to_markdown,
    article_to_yaml,
    load_directory,
    load_seed,
)


@pytest.fixture
def baton(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Any:
    monkeypatch.setenv("BATON_DATABASE_URL", database_url)
    monkeypatch.setenv("BATON_DATA_DIR", str(tmp_path))

    async def run(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))

    return run


@pytest.mark.parametrize("file_format", ["yaml", "markdown"])
async def test_export_writes_every_article(
    baton: Any, kb_engine: Any, tmp_path: Path, file_format: str
) -> None:
    target = tmp_path / "out"
    assert await baton("kb", "export", str(target), "--format", file_format) == 0
    suffix = ".md" if file_format == "markdown" else ".yml"
    assert {path.suffix for path in target.iterdir()} == {suffix}
    exported = {article.slug: article for article in load_directory(target)}
    assert exported == {article.slug: article for article in load_seed()}


async def test_import_creates_and_versions(
    baton: Any, kb_engine: Any, tmp_path: Path
) -> None:
    seed = {article.slug: article for article in load_seed()}
    folder = tmp_path / "in"
    folder.mkdir()
    edited = dataclasses.replace(seed["refund-request"], title="Get your money back")
    (folder / "refund-request.md").write_text(article_to_markdown(edited))
    new = dataclasses.replace(seed["export-notes"], slug="print-notes", title="Print")
    (folder / "print-notes.yml").write_text(article_to_yaml(new))
    (folder / "password-reset.yml").write_text(article_to_yaml(seed["password-reset"]))

    assert await baton("kb", "import", str(folder)) == 0
    repository = KnowledgeRepository(kb_engine)
    refund = await repository.get("refund-request")
    assert (refund.article.version, refund.article.title) == (2, "Get your money back")
    assert refund.updated_by == "import"
    assert (await repository.get("print-notes")).article.version == 1
    assert (await repository.get("password-reset")).article.version == 1

    assert await baton("kb", "import", str(folder / "refund-request.md")) == 0
    assert (await repository.get("refund-request")).article.version == 2


async def test_import_refuses_bad_files(
    baton: Any, kb_engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("slug: broken\ntitle: [unclosed\n")
    assert await baton("kb", "import", str(broken)) == 2
    assert "not valid YAML" in capsys.readouterr().err
    assert await baton("kb", "import", str(tmp_path / "missing")) == 2
    assert "neither a folder" in capsys.readouterr().err

"""Every data file of the knowledge base refuses an unreadable file the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError
from bot.knowledge.labelled import load_labelled
from bot.knowledge.negatives import load_negatives_file
from bot.knowledge.settings import load_search_settings

LOADERS = [load_labelled, load_negatives_file, load_search_settings]


@pytest.mark.parametrize("load", LOADERS, ids=lambda load: load.__name__)
@pytest.mark.parametrize(
    ("contents", "code", "words"),
    [
        (None, "unreadable_file", "cannot read it"),
        (b"\xff\xfe not text", "unreadable_file", "cannot read it"),
        (b"key: [\n", "bad_yaml", "not valid YAML"),
        (b"- a list\n", None, "expected a mapping"),
    ],
    ids=["missing", "not-utf8", "bad-yaml", "not-a-mapping"],
)
def test_an_unreadable_file_is_refused_with_its_name(
    tmp_path: Path,
    load: Callable[[Path], object],
    contents: bytes | None,
    code: str | None,
    words: str,
) -> None:
    path = tmp_path / "data.yml"
    if contents is not None:
        path.write_bytes(contents)
    with pytest.raises(KnowledgeError) as caught:
        load(path)
    if code is not None:
        assert caught.value.code == code
    assert str(caught.value).startswith(f"{path}: ")
    assert words in str(caught.value)

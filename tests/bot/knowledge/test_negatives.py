"""The "none" sentences: the written file, the NLU data they share, and failures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.knowledge import KnowledgeError, KnowledgeIndex
from bot.knowledge import negatives as negatives_module
from bot.knowledge.negatives import (
    CHECKOUT_ROOT,
    MAX_TEXT_LENGTH,
    NLU_DATA,
    NegativeSources,
    load_negatives,
    load_negatives_file,
    nlu_directory,
    parse_negatives,
    shipped_negative_sources,
)
from tests.bot.knowledge.helpers import make_article

CHITCHAT = CHECKOUT_ROOT / NLU_DATA / "chitchat.yml"


def _project(root: Path, nlu: str) -> Path:
    """A project directory whose data/nlu holds one file."""
    (root / NLU_DATA).mkdir(parents=True)
    (root / NLU_DATA / "chat.yml").write_text(nlu, encoding="utf-8")
    return root


def _examples(intent: str) -> list[str]:
    """An intent's examples in the project's chit-chat file, read as plain YAML.

    Entity markup ("[gmail](product)") is read as the text the customer
    types ("gmail"), as Rasa reads it.
    """
    blocks = yaml.safe_load(CHITCHAT.read_text(encoding="utf-8"))["nlu"]
    block = next(block for block in blocks if block.get("intent") == intent)
    return [
        re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line[2:].strip())
        for line in block["examples"].splitlines()
        if line
    ]


def test_the_chitchat_is_read_from_the_nlu_data_not_copied() -> None:
    sentences = load_negatives()
    sources = shipped_negative_sources()
    assert "greet" in sources.nlu_intents
    assert "out_of_scope" in sources.nlu_intents
    # Every chit-chat example the model trains on is a "none" sentence, in
    # the file's order, followed by the written ones.
    from_nlu = [text for intent in sources.nlu_intents for text in _examples(intent)]
    assert list(sentences) == [*from_nlu, *sources.sentences]
    # The deny examples added to the NLU data after the old hand copy was made.
    assert "no, that answer is useless" in sentences


def test_the_nlu_examples_are_read_as_rasa_reads_them(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        'version: "3.1"\n'
        "nlu:\n"
        "- intent: greet\n"
        "  examples: |\n"
        "    - hello [Baton](name)\n"
        "    - good morning\n"
        "- intent: ask_weather\n"
        "  examples: |\n"
        "    - will it rain\n",
    )
    sources = NegativeSources(nlu_intents=("greet",), sentences=("tell me a joke",))
    assert load_negatives(project, sources) == (
        "hello Baton",
        "good morning",
        "tell me a joke",
    )


def test_the_working_directory_is_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, "nlu: []\n")
    monkeypatch.chdir(project)
    assert nlu_directory() == project / NLU_DATA


def test_without_nlu_data_here_the_checkout_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert nlu_directory() == CHECKOUT_ROOT / NLU_DATA


def test_missing_nlu_data_is_an_error_not_an_empty_none_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(negatives_module, "CHECKOUT_ROOT", tmp_path / "elsewhere")
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeIndex.build([make_article("print", "Print notes")])
    assert caught.value.code == "missing_nlu_data"
    assert str(tmp_path / NLU_DATA) in str(caught.value)
    with pytest.raises(KnowledgeError) as given:
        load_negatives(tmp_path / "project")
    assert given.value.code == "missing_nlu_data"
    assert str(tmp_path / "project" / NLU_DATA) in str(given.value)


def test_an_intent_without_examples_is_an_error(tmp_path: Path) -> None:
    project = _project(tmp_path, "nlu:\n- intent: greet\n  examples: |\n    - hello\n")
    sources = NegativeSources(nlu_intents=("greet", "goodbye"), sentences=("x",))
    with pytest.raises(KnowledgeError) as caught:
        load_negatives(project, sources)
    assert caught.value.code == "missing_nlu_intent"
    assert f"intents goodbye in {project / NLU_DATA}" in str(caught.value)


@pytest.mark.parametrize(
    "contents",
    [
        "nlu:\n- intent: greet\n  examples: [\n",
        "nlu:\n- intent: greet\n  examples: 3\n",
    ],
    ids=["bad-yaml", "bad-shape"],
)
def test_invalid_nlu_data_is_an_error(tmp_path: Path, contents: str) -> None:
    project = _project(tmp_path, contents)
    sources = NegativeSources(nlu_intents=("greet",), sentences=("x",))
    with pytest.raises(KnowledgeError) as caught:
        load_negatives(project, sources)
    assert caught.value.code == "bad_nlu_data"
    assert "chat.yml" in str(caught.value)


GROUP = {"about": "small talk", "sentences": ["tell me a joke"]}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (["a list"], "expected a mapping"),
        ({"groups": [GROUP]}, "missing keys: nlu_intents"),
        ({"nlu_intents": ["greet"]}, "missing keys: groups"),
        (
            {"nlu_intents": ["greet"], "groups": [GROUP], "sentences": []},
            "unknown keys: sentences",
        ),
        ({"nlu_intents": [], "groups": [GROUP]}, "'nlu_intents' must be"),
        ({"nlu_intents": "greet", "groups": [GROUP]}, "'nlu_intents' must be"),
        ({"nlu_intents": ["greet", 3], "groups": [GROUP]}, "item 2, is not a text"),
        ({"nlu_intents": ["greet"], "groups": []}, "'groups' must be"),
        ({"nlu_intents": ["greet"], "groups": ["text"]}, "group 1 must be"),
        (
            {"nlu_intents": ["greet"], "groups": [{**GROUP, "note": "x"}]},
            "group 1 must be",
        ),
        (
            {"nlu_intents": ["greet"], "groups": [{**GROUP, "about": " "}]},
            "group 1 has no 'about'",
        ),
        (
            {"nlu_intents": ["greet"], "groups": [{**GROUP, "sentences": []}]},
            "group 1 ('small talk') must be a non-empty list",
        ),
        (
            {"nlu_intents": ["greet"], "groups": [{**GROUP, "sentences": ["", "a"]}]},
            "item 1, is not a text",
        ),
        (
            {
                "nlu_intents": ["greet"],
                "groups": [{**GROUP, "sentences": ["a" * (MAX_TEXT_LENGTH + 1)]}],
            },
            f"the limit is {MAX_TEXT_LENGTH}",
        ),
    ],
)
def test_a_bad_negatives_file_is_refused_with_the_reason(
    data: object, words: str
) -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse_negatives(data, "negatives.yml")
    assert caught.value.code == "bad_negatives_file"
    assert words in str(caught.value)
    assert str(caught.value).startswith("negatives.yml: ")


def test_a_negatives_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "negatives.yml"
    path.write_text(
        "nlu_intents: [greet]\n"
        "groups:\n"
        "- about: small talk\n"
        "  sentences: [tell me a joke, ' lol ']\n"
        "- about: other products\n"
        "  sentences: [reset my Apple ID]\n",
        encoding="utf-8",
    )
    assert load_negatives_file(path) == NegativeSources(
        ("greet",), ("tell me a joke", "lol", "reset my Apple ID")
    )

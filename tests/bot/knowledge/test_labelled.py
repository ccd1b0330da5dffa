"""Labelled customer questions: the file, its validation, and what the search learns."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError, KnowledgeIndex, load_seed
from bot.knowledge.labelled import (
    MAX_TEXT_LENGTH,
    LabelledQuestion,
    by_article,
    load_labelled,
    parse_labelled,
    shipped_labelled,
)
from tests.bot.knowledge.helpers import make_article


def test_shipped_questions_label_published_seed_articles_or_none() -> None:
    shipped = shipped_labelled()
    published = {article.slug for article in load_seed() if article.is_published}
    assert len(shipped) >= 2000
    assert {question.slug for question in shipped} - {None} <= published
    assert any(question.slug is None for question in shipped)
    assert all(question.batch for question in shipped)


def test_a_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "labelled.yml"
    path.write_text(
        "questions:\n"
        "- {text: 'my money back please', expected: refund-request, batch: inbox}\n"
        "- {text: ' what is the weather ', expected: none, intent: greet}\n",
        encoding="utf-8",
    )
    assert load_labelled(path) == (
        LabelledQuestion("my money back please", "refund-request", "inbox"),
        LabelledQuestion("what is the weather", None, ""),
    )


@pytest.mark.parametrize(
    ("contents", "code", "words"),
    [
        ("- just a list\n", "bad_labelled_file", "'questions' list"),
        ("questions: {text: hi}\n", "bad_labelled_file", "'questions' list"),
        ("questions:\n- plain text\n", "bad_labelled_file", "question 1 is not"),
        ("questions:\n- {expected: none}\n", "missing_field", "question 1 has no text"),
        ("questions:\n- {text: '  ', expected: none}\n", "missing_field", "no text"),
        ("questions:\n- {text: hi}\n", "bad_slug", "got None"),
        ("questions:\n- {text: hi, expected: Not A Slug}\n", "bad_slug", "slug"),
        ("questions: [\n", "bad_yaml", "not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_the_reason(
    tmp_path: Path, contents: str, code: str, words: str
) -> None:
    path = tmp_path / "labelled.yml"
    path.write_text(contents, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_labelled(path)
    assert caught.value.code == code
    assert words in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_overlong_text_is_refused() -> None:
    data = {"questions": [{"text": "a" * (MAX_TEXT_LENGTH + 1), "expected": "none"}]}
    with pytest.raises(KnowledgeError) as caught:
        parse_labelled(data)
    assert caught.value.code == "too_long"


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as caught:
        load_labelled(tmp_path / "absent.yml")
    assert caught.value.code == "unreadable_file"


def test_questions_are_grouped_by_known_article() -> None:
    questions = [
        LabelledQuestion("a", "print"),
        LabelledQuestion("b", "gone"),
        LabelledQuestion("c", None),
        LabelledQuestion("d", "print"),
    ]
    assert by_article(questions, ["print", "export"]) == (
        {"print": ["a", "d"], "export": []},
        ["c"],
    )


ARTICLES = [
    make_article("print", "Print notes", examples=["put my notes on paper"]),
    make_article("export", "Export notes", examples=["save notes as a file"]),
]
#: A phrasing that shares no word with either article.
PHRASING = "my parrot wants hard copies"


def test_a_labelled_question_teaches_its_article() -> None:
    plain = KnowledgeIndex.build(ARTICLES, labelled=())
    taught = KnowledgeIndex.build(
        ARTICLES, labelled=[LabelledQuestion(PHRASING, "print")]
    )
    position = taught.slugs.index("print")
    before, after = plain.signals(PHRASING), taught.signals(PHRASING)
    assert before.similarity[position] < 0.5
    assert after.similarity[position] == pytest.approx(1.0)
    assert after.semantic[position] == pytest.approx(1.0, abs=1e-5)
    assert after.lexical[position] > before.lexical[position]
    assert after.classifier[position] > before.classifier[position]


def test_labelled_questions_are_not_shown_as_the_articles_examples() -> None:
    index = KnowledgeIndex.build(
        ARTICLES, labelled=[LabelledQuestion(PHRASING, "print")]
    )
    served = index.article("print")
    assert served is not None and served.examples == ("put my notes on paper",)


def test_a_none_question_counts_against_answering() -> None:
    query = "what is the weather in paris"
    plain = KnowledgeIndex.build(ARTICLES, negatives=(), labelled=())
    taught = KnowledgeIndex.build(
        ARTICLES, negatives=(), labelled=[LabelledQuestion(query, None)]
    )
    assert plain.signals(query).negative == 0.0
    assert taught.signals(query).negative == pytest.approx(1.0)
    assert taught.search(query).confidence < plain.search(query).confidence


def test_questions_for_unpublished_or_unknown_articles_are_ignored() -> None:
    draft = make_article("draft-one", "Draft feature", status="draft")
    labelled = [
        LabelledQuestion(PHRASING, "draft-one"),
        LabelledQuestion(PHRASING, "not-here"),
    ]
    with_them = KnowledgeIndex.build([*ARTICLES, draft], labelled=labelled)
    without = KnowledgeIndex.build([*ARTICLES, draft], labelled=())
    assert with_them.slugs == without.slugs == ["export", "print"]
    assert with_them.signals(PHRASING).negative == without.signals(PHRASING).negative
    assert list(with_them.signals(PHRASING).similarity) == list(
        without.signals(PHRASING).similarity
    )


def test_the_index_learns_from_the_shipped_questions_by_default() -> None:
    seed = load_seed()
    question = next(q for q in shipped_labelled() if q.slug == "refund-request")
    default = KnowledgeIndex.build(seed)
    position = default.slugs.index("refund-request")
    assert default.signals(question.text).similarity[position] == pytest.approx(1.0)

"""Articles: validation, YAML and Markdown round-trips, folders, the seed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.exceptions import BadRequest
from bot.knowledge import (
    Article,
    KnowledgeError,
    article_from_markdown,
    article_from_yaml,
    article_to_markdown,
    article_to_yaml,
    dump_directory,
    load_directory,
    load_seed,
)
from bot.knowledge.articles import MAX_BODY_BYTES

REQUIRED_SLUGS = (
    "password-reset",
    "account-locked",
    "two-factor-reset",
    "change-email",
    "billing-invoice",
    "update-payment-method",
    "refund-request",
    "cancel-subscription",
    "sync-not-working",
    "install-desktop-app",
    "service-status",
    "contact-support-hours",
)
#: The intents the assistant knows: an article's intents must be among them.
KNOWN_INTENTS = set(
    yaml.safe_load((Path(__file__).resolve().parents[3] / "domain.yml").read_text())[
        "intents"
    ]
)


def valid_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": "reset-password",
        "title": "Reset your password",
        "summary": "Use the link on the sign-in page.",
        "body": "## Steps\n\nClick **Forgot password?**\n",
        "steps": ["Open the sign-in page", "Click the link"],
        "tags": ["password"],
        "intents": ["password_reset"],
        "examples": ["I forgot my password"],
        "status": "published",
    }
    data.update(changes)
    return data


def test_valid_article_has_defaults() -> None:
    article = Article.from_dict(valid_data())
    assert article.version == 1
    assert article.steps == ("Open the sign-in page", "Click the link")
    assert article.is_published


def test_optional_lists_default_to_empty() -> None:
    data = valid_data()
    for name in ("steps", "tags", "intents", "examples"):
        del data[name]
    article = Article.from_dict(data)
    assert article.steps == article.tags == article.intents == article.examples == ()


def test_article_is_frozen() -> None:
    article = Article.from_dict(valid_data())
    with pytest.raises(dataclasses.FrozenInstanceError):
        article.title = "other"  # type: ignore[misc]


def test_knowledge_error_is_a_bad_request_with_a_code() -> None:
    with pytest.raises(KnowledgeError) as caught:
        Article.from_dict(valid_data(slug="Bad Slug"))
    assert isinstance(caught.value, BadRequest)
    assert caught.value.status == 400
    assert caught.value.to_dict()["error"]["code"] == "bad_slug"


@pytest.mark.parametrize("name", ["slug", "title", "summary", "body"])
def test_missing_required_field(name: str) -> None:
    data = valid_data()
    del data[name]
    with pytest.raises(KnowledgeError) as caught:
        Article.from_dict(data)
    assert (caught.value.code, caught.value.field) == ("missing_field", name)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"slug": "Password-Reset"}, "bad_slug", "slug"),
        ({"slug": "password_reset"}, "bad_slug", "slug"),
        ({"slug": "-password"}, "bad_slug", "slug"),
        ({"slug": "password-"}, "bad_slug", "slug"),
        ({"slug": "pass--word"}, "bad_slug", "slug"),
        ({"slug": ""}, "bad_slug", "slug"),
        ({"slug": "a" * 81}, "slug_too_long", "slug"),
        ({"title": "   "}, "empty_field", "title"),
        ({"summary": ""}, "empty_field", "summary"),
        ({"body": "\n\n"}, "empty_field", "body"),
        ({"title": "t" * 201}, "too_long", "title"),
        ({"summary": "s" * 601}, "too_long", "summary"),
        ({"body": "x" * (MAX_BODY_BYTES + 1)}, "body_too_large", "body"),
        ({"body": "é" * (MAX_BODY_BYTES // 2 + 1)}, "body_too_large", "body"),
        ({"status": "archived"}, "bad_status", "status"),
        ({"intents": ["Password Reset"]}, "bad_intent", "intents"),
        ({"version": 0}, "bad_version", "version"),
        ({"version": "2"}, "wrong_type", "version"),
        ({"version": True}, "wrong_type", "version"),
        ({"title": 42}, "wrong_type", "title"),
        ({"tags": "password"}, "wrong_type", "tags"),
        ({"examples": ["fine", ""]}, "wrong_type", "examples"),
        ({"steps": [1, 2]}, "wrong_type", "steps"),
        ({"colour": "blue"}, "unknown_field", "colour"),
    ],
)
def test_invalid_article(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        Article.from_dict(valid_data(**changes))
    assert (caught.value.code, caught.value.field) == (code, field)


@pytest.mark.parametrize("slug", ["a", "a1", "2fa", "reset-2fa-codes", "x" * 80])
def test_valid_slugs(slug: str) -> None:
    assert Article.from_dict(valid_data(slug=slug)).slug == slug


def test_body_at_the_limit_is_accepted() -> None:
    article = Article.from_dict(valid_data(body="x" * MAX_BODY_BYTES))
    assert len(article.body) == MAX_BODY_BYTES


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(KnowledgeError) as caught:
        Article(slug="ok", title="T", summary="S", body="B", status="live")
    assert caught.value.code == "bad_status"


@pytest.mark.parametrize("payload", [["a", "list"], "text", 3])
def test_not_a_mapping(payload: Any) -> None:
    with pytest.raises(KnowledgeError) as caught:
        Article.from_dict(payload)
    assert caught.value.code == "not_a_mapping"


TRICKY_BODIES = [
    "One line, no newline",
    "Ends with a newline\n",
    "# Heading\n\n- list\n- items\n\n```sh\nchmod +x Lumen.AppImage\n```\n",
    "Trailing spaces   \nand a tab\there\n",
    "---\nA line that looks like a fence\n---\n",
    "Unicode: café, 日本語, → arrows, emoji 🎉\n",
    "key: value\n# not yaml, just text\n",
]


@pytest.mark.parametrize("body", TRICKY_BODIES)
def test_yaml_round_trip(body: str) -> None:
    article = Article.from_dict(valid_data(body=body, version=7))
    assert article_from_yaml(article_to_yaml(article)) == article


@pytest.mark.parametrize("body", TRICKY_BODIES)
def test_markdown_round_trip(body: str) -> None:
    article = Article.from_dict(valid_data(body=body, version=3, status="draft"))
    text = article_to_markdown(article)
    assert text.startswith("---\n")
    assert text.endswith(body)
    assert article_from_markdown(text) == article


def test_yaml_writes_multiline_body_as_block() -> None:
    text = article_to_yaml(Article.from_dict(valid_data()))
    assert "body: |" in text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("slug: x\ntitle: [unclosed\n", "bad_yaml"),
        ("- just\n- a list\n", "not_a_mapping"),
    ],
)
def test_bad_yaml(text: str, code: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        article_from_yaml(text)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "text",
    [
        "slug: x\n---\nbody\n",
        "---\nslug: x\ntitle: never closed\n",
        "---\n- a\n- list\n---\nbody\n",
        "---\nslug: x\nbody: inside\n---\nbody\n",
    ],
)
def test_bad_front_matter(text: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        article_from_markdown(text)
    assert caught.value.code == "bad_front_matter"


def test_front_matter_errors_name_the_source() -> None:
    text = "---\nslug: Bad\ntitle: T\nsummary: S\n---\nbody\n"
    with pytest.raises(KnowledgeError) as caught:
        article_from_markdown(text, source="kb/Bad.md")
    assert caught.value.code == "bad_slug"
    assert caught.value.source == "kb/Bad.md"
    assert "kb/Bad.md" in str(caught.value)


@pytest.mark.parametrize("file_format", ["yaml", "markdown"])
def test_directory_round_trip(tmp_path: Path, file_format: Any) -> None:
    articles = [
        Article.from_dict(valid_data(slug=f"article-{number}", version=number))
        for number in (3, 1, 2)
    ]
    written = dump_directory(articles, tmp_path / "kb", file_format=file_format)
    suffix = ".md" if file_format == "markdown" else ".yml"
    assert [path.name for path in written] == [
        f"article-{number}{suffix}" for number in (3, 1, 2)
    ]
    (tmp_path / "kb" / "README.txt").write_text("ignored", encoding="utf-8")
    loaded = load_directory(tmp_path / "kb")
    assert loaded == sorted(articles, key=lambda article: article.slug)


def test_directory_reads_yml_yaml_and_md_together(tmp_path: Path) -> None:
    first, second, third = (
        Article.from_dict(valid_data(slug=slug)) for slug in ("one", "two", "three")
    )
    (tmp_path / "one.yml").write_text(article_to_yaml(first), encoding="utf-8")
    (tmp_path / "two.yaml").write_text(article_to_yaml(second), encoding="utf-8")
    (tmp_path / "three.md").write_text(article_to_markdown(third), encoding="utf-8")
    assert [a.slug for a in load_directory(tmp_path)] == ["one", "three", "two"]


def test_file_name_must_match_slug(tmp_path: Path) -> None:
    article = Article.from_dict(valid_data(slug="real-slug"))
    (tmp_path / "other-name.yml").write_text(article_to_yaml(article), "utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_directory(tmp_path)
    assert caught.value.code == "slug_mismatch"
    assert "other-name.yml" in str(caught.value)


def test_same_slug_in_two_files(tmp_path: Path) -> None:
    article = Article.from_dict(valid_data(slug="twice"))
    (tmp_path / "twice.yml").write_text(article_to_yaml(article), "utf-8")
    (tmp_path / "twice.md").write_text(article_to_markdown(article), "utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_directory(tmp_path)
    assert caught.value.code == "duplicate_slug"


def test_invalid_file_names_its_path(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text("slug: broken\ntitle: T\n", "utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_directory(tmp_path)
    assert caught.value.code == "missing_field"
    assert str(tmp_path / "broken.yml") in str(caught.value)


def test_load_directory_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as caught:
        load_directory(tmp_path / "missing")
    assert caught.value.code == "not_a_folder"


def test_dump_refuses_duplicate_slugs(tmp_path: Path) -> None:
    article = Article.from_dict(valid_data())
    with pytest.raises(KnowledgeError) as caught:
        dump_directory([article, article], tmp_path)
    assert caught.value.code == "duplicate_slug"
    assert list(tmp_path.iterdir()) == []


SEED = load_seed()
SEED_BY_SLUG = {article.slug: article for article in SEED}


def test_seed_has_enough_articles() -> None:
    assert sum(article.is_published for article in SEED) >= 32


@pytest.mark.parametrize("slug", REQUIRED_SLUGS)
def test_seed_has_required_slug(slug: str) -> None:
    assert SEED_BY_SLUG[slug].is_published


@pytest.mark.parametrize("article", SEED, ids=lambda article: article.slug)
def test_seed_article_is_complete(article: Article) -> None:
    # At most 40 in English, plus 12 in German, Spanish, French, Portuguese,
    # Italian and Dutch (2 each, issue #19).
    assert 5 <= len(article.examples) <= 52
    assert set(article.intents) <= KNOWN_INTENTS
    assert article.tags
    sentences = re.findall(r"[.!?](?:\s|$)", article.summary)
    assert 1 <= len(sentences) <= 2
    assert len(set(article.examples)) == len(article.examples)


def test_seed_files_round_trip(tmp_path: Path) -> None:
    dump_directory(SEED, tmp_path)
    assert load_directory(tmp_path) == SEED

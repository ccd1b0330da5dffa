"""Articles in SQL with versions, seeding, import and feedback (SQLite + PostgreSQL)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import sqlalchemy as sa

from bot.db.models import Conversation
from bot.exceptions import Conflict
from bot.knowledge import (
    Article,
    ArticleFeedbackRepository,
    ArticleNotFound,
    KnowledgeError,
    KnowledgeRepository,
    load_seed,
)


def make_article(slug: str = "export-pdf", **fields: Any) -> Article:
    data: dict[str, Any] = {
        "slug": slug,
        "title": "Export a note as PDF",
        "summary": "Any note can be saved as a PDF file.",
        "body": "Open the note, then choose Share > Export as PDF.",
        "steps": ["Open the note", "Choose Share > Export as PDF"],
        "tags": ["pdf", "export"],
        "intents": [],
        "examples": ["how do I print a note to pdf"],
        "status": "published",
    }
    data.update(fields)
    return Article.from_dict(data)


@pytest.fixture
def repository(kb_engine: Any) -> KnowledgeRepository:
    return KnowledgeRepository(kb_engine)


async def new_conversation(engine: Any) -> str:
    conversation_id = secrets.token_hex(8)
    async with engine.begin() as connection:
        await connection.execute(
            sa.insert(Conversation.__table__).values(
                id=conversation_id, token_hash="0" * 64, state="bot", last_seq=0
            )
        )
    return conversation_id


async def test_create_stores_version_one(repository: KnowledgeRepository) -> None:
    stored = await repository.create(make_article(version=7), author="ann@x.test")
    assert stored.article == make_article(version=1)
    assert stored.updated_by == "ann@x.test"
    assert (await repository.get("export-pdf")).article == stored.article
    versions = await repository.versions("export-pdf")
    assert [(v.article.version, v.author) for v in versions] == [(1, "ann@x.test")]


async def test_duplicate_slug_is_a_conflict(repository: KnowledgeRepository) -> None:
    await repository.create(make_article(), author=None)
    with pytest.raises(Conflict) as caught:
        await repository.create(make_article(title="Other"), author=None)
    assert caught.value.code == "duplicate_slug"


async def test_update_saves_a_new_version_and_keeps_the_old(
    repository: KnowledgeRepository,
) -> None:
    await repository.create(make_article(), author="ann@x.test")
    updated = await repository.update(
        "export-pdf", {"title": "Save a note as PDF"}, author="bob@x.test"
    )
    assert updated.article.version == 2
    assert updated.article.title == "Save a note as PDF"
    assert updated.article.body == make_article().body
    versions = await repository.versions("export-pdf")
    assert [v.article.version for v in versions] == [2, 1]
    assert versions[1].article.title == "Export a note as PDF"
    assert versions[0].author == "bob@x.test"
    assert (await repository.version("export-pdf", 1)).article.title == (
        "Export a note as PDF"
    )


async def test_update_without_change_keeps_the_version(
    repository: KnowledgeRepository,
) -> None:
    await repository.create(make_article(), author=None)
    revision = await repository.revision()
    same = await repository.update(
        "export-pdf", {"title": make_article().title}, author=None
    )
    assert same.article.version == 1
    assert await repository.revision() == revision


async def test_update_checks_the_expected_version(
    repository: KnowledgeRepository,
) -> None:
    await repository.create(make_article(), author=None)
    await repository.update("export-pdf", {"title": "Second"}, author=None)
    with pytest.raises(Conflict) as caught:
        await repository.update(
            "export-pdf", {"title": "Third"}, author=None, expected_version=1
        )
    assert caught.value.code == "version_conflict"
    third = await repository.update(
        "export-pdf", {"title": "Third"}, author=None, expected_version=2
    )
    assert third.article.version == 3


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"slug": "renamed"}, "unknown_field"),
        ({"colour": "red"}, "unknown_field"),
        ({"title": ""}, "empty_field"),
        ({"status": "archived"}, "bad_status"),
        ({"steps": "not a list"}, "wrong_type"),
    ],
)
async def test_invalid_update_changes_nothing(
    repository: KnowledgeRepository, changes: dict[str, Any], code: str
) -> None:
    await repository.create(make_article(), author=None)
    with pytest.raises(KnowledgeError) as caught:
        await repository.update("export-pdf", changes, author=None)
    assert caught.value.code == code
    assert (await repository.get("export-pdf")).article.version == 1


async def test_unknown_article(repository: KnowledgeRepository) -> None:
    for attempt in (
        repository.get("nope"),
        repository.update("nope", {"title": "x"}, author=None),
        repository.versions("nope"),
        repository.version("nope", 1),
        repository.delete("nope"),
    ):
        with pytest.raises(ArticleNotFound):
            await attempt
    await repository.create(make_article(), author=None)
    with pytest.raises(ArticleNotFound):
        await repository.version("export-pdf", 2)


async def test_restore_saves_the_old_content_as_a_new_version(
    repository: KnowledgeRepository,
) -> None:
    await repository.create(make_article(), author=None)
    await repository.update("export-pdf", {"title": "Wrong"}, author=None)
    restored = await repository.restore("export-pdf", 1, author="ann@x.test")
    assert restored.article.version == 3
    assert restored.article.title == make_article().title


async def test_delete_removes_the_article_and_its_history(
    repository: KnowledgeRepository,
) -> None:
    await repository.create(make_article(), author=None)
    await repository.update("export-pdf", {"title": "Second"}, author=None)
    await repository.delete("export-pdf")
    with pytest.raises(ArticleNotFound):
        await repository.get("export-pdf")
    recreated = await repository.create(make_article(), author=None)
    assert recreated.article.version == 1
    assert len(await repository.versions("export-pdf")) == 1


async def test_every_change_bumps_the_revision(
    repository: KnowledgeRepository,
) -> None:
    seen = [await repository.revision()]
    await repository.create(make_article(), author=None)
    seen.append(await repository.revision())
    await repository.update("export-pdf", {"status": "draft"}, author=None)
    seen.append(await repository.revision())
    await repository.delete("export-pdf")
    seen.append(await repository.revision())
    assert seen == sorted(set(seen))


async def test_list_filters_by_status_and_text(
    repository: KnowledgeRepository,
) -> None:
    await repository.create(make_article("export-pdf"), author=None)
    await repository.create(
        make_article("print-notes", title="Print notes", status="draft"), author=None
    )
    assert [s.article.slug for s in await repository.list_articles()] == [
        "export-pdf",
        "print-notes",
    ]
    drafts = await repository.list_articles(status="draft")
    assert [s.article.slug for s in drafts] == ["print-notes"]
    assert [s.article.slug for s in await repository.list_articles(query="PRINT")] == [
        "print-notes"
    ]
    revision, published = await repository.published()
    assert [a.slug for a in published] == ["export-pdf"]
    assert revision == await repository.revision()


async def test_seed_is_loaded_once(repository: KnowledgeRepository) -> None:
    seed = load_seed()
    assert not await repository.seeded()
    assert await repository.seed_if_new(seed) == len(seed)
    assert await repository.seeded()
    await repository.delete("password-reset")
    assert await repository.seed_if_new(seed) == 0
    slugs = {stored.article.slug for stored in await repository.list_articles()}
    assert slugs == {article.slug for article in seed} - {"password-reset"}


async def test_seed_keeps_articles_created_before_it(
    repository: KnowledgeRepository,
) -> None:
    mine = make_article("password-reset", title="Our own reset article")
    await repository.create(mine, author=None)
    await repository.seed_if_new(load_seed())
    assert (await repository.get("password-reset")).article.title == mine.title


async def test_import_creates_updates_and_skips(
    repository: KnowledgeRepository,
) -> None:
    await repository.create(make_article("export-pdf"), author=None)
    await repository.create(make_article("print-notes"), author=None)
    report = await repository.import_articles(
        [
            make_article("export-pdf", title="Changed", version=9),
            make_article("print-notes"),
            make_article("new-one"),
        ],
        author="import",
    )
    assert report.created == ("new-one",)
    assert report.updated == ("export-pdf",)
    assert report.unchanged == ("print-notes",)
    changed = await repository.get("export-pdf")
    assert (changed.article.version, changed.article.title) == (2, "Changed")


async def test_feedback_is_recorded_per_conversation(kb_engine: Any) -> None:
    first = await new_conversation(kb_engine)
    second = await new_conversation(kb_engine)
    store = ArticleFeedbackRepository(kb_engine)
    await store.record(first, "password-reset", helped=False)
    await store.record(first, "account-locked", helped=True)
    await store.record(second, "refund-request", helped=True)
    feedback = await store.for_conversation(first)
    assert [(f.slug, f.helped) for f in feedback] == [
        ("password-reset", False),
        ("account-locked", True),
    ]

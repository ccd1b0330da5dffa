"""The knowledge-base API on a real hub: CRUD, versions, publishing, bad input."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from bot.config import Limits
from bot.knowledge import load_seed
from tests.bot.auth.test_auth_api import call, login, new_account
from tests.conftest import shared_hub
from tests.hub import RunningHub

ARTICLES = "/api/kb/articles"


# One hub per database for the module: each test edits articles of its own.
hub = shared_hub(limits=Limits(logins_per_ip_per_minute=1000))


@pytest.fixture(scope="module")
async def editor(hub: RunningHub) -> tuple[str, str]:
    """Session cookie and CSRF token of a signed-in trainer."""
    return await login(hub, await new_account(hub, "trainer"))


def new_article(**fields: Any) -> dict[str, Any]:
    slug = f"test-{secrets.token_hex(4)}"
    return {
        "slug": slug,
        "title": "Print a notebook",
        "summary": "Any notebook can be printed from the desktop app.",
        "body": "Open the notebook, then choose File > Print.",
        "steps": ["Open the notebook", "Choose File > Print"],
        "tags": ["print"],
        "intents": [],
        "examples": ["how can I print all my notes"],
        **fields,
    }


async def create(
    hub: RunningHub, editor: tuple[str, str], **fields: Any
) -> dict[str, Any]:
    session, csrf = editor
    status, body, _ = await call(
        hub, "POST", ARTICLES, session=session, csrf=csrf, json=new_article(**fields)
    )
    assert status == 201, body
    article: dict[str, Any] = body["article"]
    return article


async def test_seed_articles_are_listed(
    hub: RunningHub, editor: tuple[str, str]
) -> None:
    session, _ = editor
    status, body, _ = await call(hub, "GET", ARTICLES, session=session)
    assert status == 200
    slugs = {article["slug"] for article in body["articles"]}
    assert {article.slug for article in load_seed()} <= slugs
    status, body, _ = await call(hub, "GET", f"{ARTICLES}?q=refund", session=session)
    assert "refund-request" in {article["slug"] for article in body["articles"]}


def as_editor(hub: RunningHub, editor: tuple[str, str]) -> Any:
    """The signed-in editor's calls (session and CSRF): (status, body, headers)."""
    session, csrf = editor

    async def request(method: str, path: str, **kwargs: Any) -> Any:
        return await call(hub, method, path, session=session, csrf=csrf, **kwargs)

    return request


async def test_create_get_update_versions_publish_delete(
    hub: RunningHub, editor: tuple[str, str]
) -> None:
    created = await create(hub, editor)
    edit = as_editor(hub, editor)
    slug = created["slug"]
    assert (created["version"], created["status"]) == (1, "draft")
    assert created["updated_by"].startswith("trainer-")

    status, body, _ = await edit("GET", f"{ARTICLES}/{slug}")
    assert status == 200 and body["article"]["title"] == "Print a notebook"

    status, body, _ = await edit(
        "PUT", f"{ARTICLES}/{slug}", json={"title": "Print notebooks", "version": 1}
    )
    assert status == 200, body
    assert (body["article"]["version"], body["article"]["title"]) == (
        2,
        "Print notebooks",
    )

    status, body, _ = await edit("POST", f"{ARTICLES}/{slug}/publish")
    assert status == 200 and body["article"]["status"] == "published"
    assert body["article"]["version"] == 3

    status, body, _ = await edit("GET", f"{ARTICLES}/{slug}/versions")
    assert status == 200
    assert [v["version"] for v in body["versions"]] == [3, 2, 1]
    assert [v["status"] for v in body["versions"]] == ["published", "draft", "draft"]

    status, body, _ = await edit("GET", f"{ARTICLES}/{slug}/versions/1")
    assert status == 200 and body["version"]["title"] == "Print a notebook"

    status, body, _ = await edit("POST", f"{ARTICLES}/{slug}/versions/1/restore")
    assert status == 200
    assert (body["article"]["version"], body["article"]["title"]) == (
        4,
        "Print a notebook",
    )

    status, _, _ = await edit("DELETE", f"{ARTICLES}/{slug}")
    assert status == 204
    status, body, _ = await edit("GET", f"{ARTICLES}/{slug}")
    assert status == 404 and body["error"]["code"] == "article_not_found"


async def test_search_ranks_like_the_bot(
    hub: RunningHub, editor: tuple[str, str]
) -> None:
    session, csrf = editor
    created = await create(
        hub,
        editor,
        title="Print a notebook zebracorn",
        examples=["print my zebracorn notebook"],
    )
    search = f"{ARTICLES}?search=print+my+zebracorn+notebook"
    status, body, _ = await call(hub, "GET", search, session=session)
    assert status == 200
    assert created["slug"] not in {hit["slug"] for hit in body["hits"]}  # a draft
    await call(
        hub,
        "POST",
        f"{ARTICLES}/{created['slug']}/publish",
        session=session,
        csrf=csrf,
    )
    status, body, _ = await call(hub, "GET", search, session=session)
    assert body["hits"][0]["slug"] == created["slug"]
    assert body["answer"] == created["slug"]


async def test_duplicate_slug_is_409(hub: RunningHub, editor: tuple[str, str]) -> None:
    session, csrf = editor
    created = await create(hub, editor)
    status, body, _ = await call(
        hub,
        "POST",
        ARTICLES,
        session=session,
        csrf=csrf,
        json=new_article(slug=created["slug"]),
    )
    assert status == 409 and body["error"]["code"] == "duplicate_slug"


async def test_stale_version_is_409(hub: RunningHub, editor: tuple[str, str]) -> None:
    session, csrf = editor
    slug = (await create(hub, editor))["slug"]
    path = f"{ARTICLES}/{slug}"
    await call(hub, "PUT", path, session=session, csrf=csrf, json={"title": "Two"})
    status, body, _ = await call(
        hub,
        "PUT",
        path,
        session=session,
        csrf=csrf,
        json={"title": "Three", "version": 1},
    )
    assert status == 409 and body["error"]["code"] == "version_conflict"


@pytest.mark.parametrize(
    ("missing", "code"),
    [
        ("title", "missing_field"),
        ("summary", "missing_field"),
        ("body", "missing_field"),
        ("slug", "missing_field"),
    ],
)
async def test_missing_field_is_400(
    hub: RunningHub, editor: tuple[str, str], missing: str, code: str
) -> None:
    session, csrf = editor
    article = new_article()
    del article[missing]
    status, body, _ = await call(
        hub, "POST", ARTICLES, session=session, csrf=csrf, json=article
    )
    assert status == 400, body
    assert body["error"]["code"] == code
    assert missing in body["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"slug": "Not A Slug"}, "bad_slug"),
        ({"status": "archived"}, "bad_status"),
        ({"steps": "one step"}, "wrong_type"),
        ({"title": ""}, "empty_field"),
        ({"colour": "red"}, "unknown_field"),
        ({"body": "x" * (70 * 1024)}, "body_too_large"),
        ({"intents": ["Password Reset"]}, "bad_intent"),
    ],
)
async def test_invalid_article_is_400(
    hub: RunningHub, editor: tuple[str, str], fields: dict[str, Any], code: str
) -> None:
    session, csrf = editor
    status, body, _ = await call(
        hub, "POST", ARTICLES, session=session, csrf=csrf, json=new_article(**fields)
    )
    assert status == 400, body
    assert body["error"]["code"] == code
    # The error names the field at fault, so an editor can point at it.
    expected_field = "intents" if code == "bad_intent" else next(iter(fields))
    assert body["error"]["field"] == expected_field


async def test_an_invalid_edit_names_its_field(
    hub: RunningHub, editor: tuple[str, str]
) -> None:
    session, csrf = editor
    slug = (await create(hub, editor))["slug"]
    status, body, _ = await call(
        hub,
        "PUT",
        f"{ARTICLES}/{slug}",
        session=session,
        csrf=csrf,
        json={"title": "  ", "body": "still fine", "version": 1},
    )
    assert status == 400, body
    assert body["error"] == {
        "code": "empty_field",
        "message": "'title' is empty",
        "field": "title",
    }


@pytest.mark.parametrize("size", [300 * 1024, 1024 * 1024, 2 * 1024 * 1024])
async def test_huge_body_is_refused(
    hub: RunningHub, editor: tuple[str, str], size: int
) -> None:
    session, csrf = editor
    status, body, _ = await call(
        hub,
        "POST",
        ARTICLES,
        session=session,
        csrf=csrf,
        json=new_article(body="x" * size),
    )
    assert status == 413, body
    assert set(body["error"]) == {"code", "message"}


async def test_bad_json_is_400(hub: RunningHub, editor: tuple[str, str]) -> None:
    session, csrf = editor
    for data in (b"{not json", b"[1, 2]"):
        status, body, _ = await call(
            hub, "POST", ARTICLES, session=session, csrf=csrf, data=data
        )
        assert status == 400 and body["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/does-not-exist"),
        ("PUT", "/does-not-exist"),
        ("DELETE", "/does-not-exist"),
        ("POST", "/does-not-exist/publish"),
        ("GET", "/does-not-exist/versions"),
        ("GET", "/password-reset/versions/999"),
    ],
)
async def test_unknown_article_is_404(
    hub: RunningHub, editor: tuple[str, str], method: str, path: str
) -> None:
    session, csrf = editor
    status, body, _ = await call(
        hub,
        method,
        f"{ARTICLES}{path}",
        session=session,
        csrf=csrf,
        json={"title": "x"},
    )
    assert status == 404, body
    assert body["error"]["code"] == "article_not_found"


async def test_update_rules(hub: RunningHub, editor: tuple[str, str]) -> None:
    session, csrf = editor
    slug = (await create(hub, editor))["slug"]
    path = f"{ARTICLES}/{slug}"
    cases = [
        ({"slug": "another-slug"}, "slug_immutable"),
        ({}, "missing_field"),
        ({"version": "two", "title": "x"}, "wrong_type"),
        ({"summary": None}, "missing_field"),
    ]
    for change, code in cases:
        status, body, _ = await call(
            hub, "PUT", path, session=session, csrf=csrf, json=change
        )
        assert (status, body["error"]["code"]) == (400, code), change
    status, body, _ = await call(hub, "GET", f"{path}/versions/two", session=session)
    assert status == 400 and body["error"]["code"] == "bad_version"


async def test_needs_a_session_and_csrf(
    hub: RunningHub, editor: tuple[str, str]
) -> None:
    session, _ = editor
    status, body, _ = await call(hub, "GET", ARTICLES)
    assert status == 401
    status, body, _ = await call(
        hub, "POST", ARTICLES, session=session, json=new_article()
    )
    assert status == 403 and body["error"]["code"] == "csrf_failed"
    status, body, _ = await call(
        hub, "DELETE", f"{ARTICLES}/password-reset", session=session, csrf="wrong"
    )
    assert status == 403 and body["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize("role", ["agent", "admin"])
async def test_agents_and_admins_may_edit(hub: RunningHub, role: str) -> None:
    editor = await login(hub, await new_account(hub, role))
    created = await create(hub, editor)
    assert created["version"] == 1


async def test_openapi_describes_the_kb_api(hub: RunningHub) -> None:
    status, body, _ = await call(hub, "GET", "/api/openapi.json")
    assert status == 200
    paths = body["paths"]
    assert {"get", "post"} <= set(paths[ARTICLES])
    assert {"get", "put", "delete"} <= set(paths[f"{ARTICLES}/{{slug}}"])
    assert "get" in paths[f"{ARTICLES}/{{slug}}/versions"]
    assert "post" in paths[f"{ARTICLES}/{{slug}}/publish"]

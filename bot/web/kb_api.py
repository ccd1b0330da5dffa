"""Knowledge-base articles over HTTP: list and search, edit, versions, publish.

Every route needs a signed-in console session (agents, trainers and admins
may all edit articles) and, for changes, the session's CSRF token
(``bot/web/auth_api.py``). Every change saves a new version and is used by
the bot's next answer, without a restart (``bot/knowledge/service.py``).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, empty
from sanic.response import json as json_response

from bot.exceptions import BadRequest
from bot.knowledge import Article, KnowledgeError
from bot.knowledge.articles import STATUSES
from bot.knowledge.records import EDITABLE_FIELDS
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object, whole_number
from bot.web.context import hub_of

#: Roles that may read and edit articles (admins always may).
EDITOR_ROLES = ("agent", "trainer")
#: Largest request body accepted, well above the largest valid article.
MAX_BODY_BYTES = 256 * 1024

ARTICLE_PATH = "/api/kb/articles"

kb_api = Blueprint("kb_api", url_prefix="/api/kb")


def _expected_version(body: dict[str, Any]) -> int | None:
    version = body.pop("version", None)
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int):
        raise KnowledgeError(
            "'version' must be the whole number of the version you edited",
            code="wrong_type",
            field="version",
        )
    return version


def _version_number(raw: str) -> int:
    return whole_number(raw, "version", minimum=1) or 1


@kb_api.get("/articles")
async def list_articles(request: Request) -> HTTPResponse:
    """List articles (``?status=``, ``?q=`` on slug and title), or search them.

    With ``?search=<customer message>``, the published articles are ranked as
    the bot ranks them, each with its score, and ``answer`` says which one the
    bot would give (``null``: it would not guess).
    """
    await require_agent(request, *EDITOR_ROLES)
    hub = hub_of(request)
    search = request.args.get("search")
    if search is not None:
        result = await hub.knowledge.search(search, limit=10)
        return json_response(
            {
                "hits": [
                    {"slug": hit.slug, "title": hit.title, "score": hit.score}
                    for hit in result.hits
                ],
                "answer": result.answer.slug if result.answer else None,
            }
        )
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise BadRequest(
            f"status must be one of {', '.join(STATUSES)}", code="bad_status"
        )
    articles = await hub.knowledge.repository.list_articles(
        status=status, query=request.args.get("q")
    )
    return json_response({"articles": [stored.public() for stored in articles]})


@kb_api.post("/articles")
async def create_article(request: Request) -> HTTPResponse:
    """Create an article (version 1); ``status`` defaults to ``draft``."""
    agent = await require_agent(request, *EDITOR_ROLES)
    body = json_object(request, MAX_BODY_BYTES)
    body.pop("version", None)
    body.setdefault("status", "draft")
    article = Article.from_dict(body)
    stored = await hub_of(request).knowledge.repository.create(
        article, author=agent.email
    )
    return json_response({"article": stored.public()}, status=201)


@kb_api.get("/articles/<slug:str>")
async def get_article(request: Request, slug: str) -> HTTPResponse:
    """The current version of an article."""
    await require_agent(request, *EDITOR_ROLES)
    stored = await hub_of(request).knowledge.repository.get(slug)
    return json_response({"article": stored.public()})


async def _update(request: Request, slug: str) -> HTTPResponse:
    agent = await require_agent(request, *EDITOR_ROLES)
    body = json_object(request, MAX_BODY_BYTES)
    expected = _expected_version(body)
    given_slug = body.pop("slug", slug)
    if given_slug != slug:
        raise KnowledgeError(
            "an article's slug cannot be changed; create a new article instead",
            code="slug_immutable",
            field="slug",
        )
    if not body:
        raise KnowledgeError(
            f"nothing to change; send some of: {', '.join(EDITABLE_FIELDS)}",
            code="missing_field",
        )
    stored = await hub_of(request).knowledge.repository.update(
        slug, body, author=agent.email, expected_version=expected
    )
    return json_response({"article": stored.public()})


@kb_api.put("/articles/<slug:str>")
async def replace_article(request: Request, slug: str) -> HTTPResponse:
    """Save a new version with the fields given (the others are kept).

    An optional ``version`` is the version the editor started from: if
    someone saved another one meanwhile, the answer is ``409
    version_conflict``.
    """
    return await _update(request, slug)


@kb_api.patch("/articles/<slug:str>")
async def patch_article(request: Request, slug: str) -> HTTPResponse:
    """Same as ``PUT``: save a new version with the fields given."""
    return await _update(request, slug)


@kb_api.delete("/articles/<slug:str>")
async def delete_article(request: Request, slug: str) -> HTTPResponse:
    """Delete an article and its history (unpublish it to keep them)."""
    await require_agent(request, *EDITOR_ROLES)
    await hub_of(request).knowledge.repository.delete(slug)
    return empty(status=204)


@kb_api.post("/articles/<slug:str>/publish")
async def publish_article(request: Request, slug: str) -> HTTPResponse:
    """Publish an article (a new version): the bot may answer with it."""
    agent = await require_agent(request, *EDITOR_ROLES)
    stored = await hub_of(request).knowledge.repository.update(
        slug, {"status": "published"}, author=agent.email
    )
    return json_response({"article": stored.public()})


@kb_api.post("/articles/<slug:str>/unpublish")
async def unpublish_article(request: Request, slug: str) -> HTTPResponse:
    """Make an article a draft again (a new version): the bot stops using it."""
    agent = await require_agent(request, *EDITOR_ROLES)
    stored = await hub_of(request).knowledge.repository.update(
        slug, {"status": "draft"}, author=agent.email
    )
    return json_response({"article": stored.public()})


@kb_api.get("/articles/<slug:str>/versions")
async def list_versions(request: Request, slug: str) -> HTTPResponse:
    """Every saved version of an article, newest first."""
    await require_agent(request, *EDITOR_ROLES)
    versions = await hub_of(request).knowledge.repository.versions(slug)
    return json_response({"versions": [version.public() for version in versions]})


@kb_api.get("/articles/<slug:str>/versions/<version:str>")
async def get_version(request: Request, slug: str, version: str) -> HTTPResponse:
    """One saved version of an article."""
    await require_agent(request, *EDITOR_ROLES)
    found = await hub_of(request).knowledge.repository.version(
        slug, _version_number(version)
    )
    return json_response({"version": found.public()})


@kb_api.post("/articles/<slug:str>/versions/<version:str>/restore")
async def restore_version(request: Request, slug: str, version: str) -> HTTPResponse:
    """Save an old version's content as the article's newest version."""
    agent = await require_agent(request, *EDITOR_ROLES)
    stored = await hub_of(request).knowledge.repository.restore(
        slug, _version_number(version), author=agent.email
    )
    return json_response({"article": stored.public()})

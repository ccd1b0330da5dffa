"""bot/web/openapi.yaml against the hub's routes and the code's enums.

No server is started: creating the app does no I/O, and its router lists the
routes. A route added without describing it in ``bot/web/openapi.yaml`` (or
a described route removed from the code) fails here.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from sanic import Sanic

import bot
from bot.auth import PRESENCES, ROLES
from bot.config import Settings
from bot.contract import ConversationState
from bot.handoff.service import OUTCOMES
from bot.knowledge.articles import STATUSES
from bot.knowledge.records import EDITABLE_FIELDS
from bot.training import Reason
from bot.training.inbox import MAX_GROUPS, SORTS
from bot.web.app import create_app
from bot.web.openapi import SHARED_KEY, SOURCE, document, openapi_document

#: Blueprints that serve no API: the HTML pages and their static files.
UNDOCUMENTED_BLUEPRINTS = frozenset({"pages"})
#: Routes outside those blueprints that the document leaves out on purpose.
UNDOCUMENTED = frozenset(
    {
        # The document itself.
        ("GET", "/api/openapi.json"),
        # WebSockets: their frames are described in bot/contract.py.
        ("GET", "/api/conversations/{conversation_id}/ws"),
        ("GET", "/api/agent/ws"),
        # CORS preflights of the customer API (answered by the browser's rules).
        ("OPTIONS", "/api/conversations"),
        ("OPTIONS", "/api/conversations/{conversation_id}/messages"),
        ("OPTIONS", "/api/conversations/{conversation_id}/recap"),
        ("OPTIONS", "/api/conversations/{conversation_id}/contact"),
        ("OPTIONS", "/api/conversations/{conversation_id}/leave"),
    }
)
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})


@pytest.fixture(scope="module")
def app() -> Sanic:
    return create_app(Settings.from_env({}), name="baton_openapi_test")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def template(sanic_path: str) -> str:
    """``api/handoffs/<handoff_id:int>`` as ``/api/handoffs/{handoff_id}``."""
    return "/" + re.sub(r"<([a-z_]+)(?::[^>]*)?>", r"{\1}", sanic_path)


def routes(app: Sanic) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes:
        if route.name.split(".")[1] in UNDOCUMENTED_BLUEPRINTS:
            continue
        for method in route.methods:
            found.add((method, template(route.path)))
    return found


def operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_route_is_described_and_every_described_route_exists(
    app: Sanic, spec: dict[str, Any]
) -> None:
    served = routes(app)
    assert UNDOCUMENTED <= served, "an undocumented route no longer exists"
    missing = sorted(served - UNDOCUMENTED - operations(spec))
    assert not missing, f"describe these routes in {SOURCE.name}: {missing}"
    unknown = sorted(operations(spec) - served)
    assert not unknown, f"{SOURCE.name} describes routes the hub lacks: {unknown}"


def test_route_templates_are_read_as_the_document_writes_them() -> None:
    assert template("api/handoffs/<handoff_id:int>") == "/api/handoffs/{handoff_id}"
    assert template("api/kb/articles/<slug:str>/versions/<version:str>") == (
        "/api/kb/articles/{slug}/versions/{version}"
    )
    assert template("") == "/"


def test_each_operation_declares_its_path_parameters_and_answers(
    spec: dict[str, Any],
) -> None:
    for path, item in spec["paths"].items():
        in_template = set(re.findall(r"{([a-z_]+)}", path))
        for method, operation in item.items():
            declared = {
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "path"
            }
            assert declared == in_template, (method, path)
            assert operation["summary"] and operation["responses"], (method, path)
            for status in operation["responses"]:
                assert re.fullmatch(r"[1-5][0-9][0-9]", status), (method, path)


def test_every_reference_names_a_schema_of_the_document(spec: dict[str, Any]) -> None:
    text = json.dumps(spec)
    references = set(re.findall(r'"\$ref": "#/components/schemas/([A-Za-z]+)"', text))
    assert references and references <= set(spec["components"]["schemas"])
    assert text.count('"$ref"') == text.count('"$ref": "#/components/schemas/')


def test_the_enums_are_the_codes(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    paths = spec["paths"]

    def body(path: str, method: str) -> dict[str, Any]:
        content = paths[path][method]["requestBody"]["content"]
        schema: dict[str, Any] = content["application/json"]["schema"]
        return schema

    def query(path: str, name: str) -> dict[str, Any]:
        (schema,) = [
            parameter["schema"]
            for parameter in paths[path]["get"]["parameters"]
            if parameter["name"] == name
        ]
        return schema

    assert set(schemas["Status"]["properties"]["state"]["enum"]) == {
        state.value for state in ConversationState
    }
    assert schemas["Agent"]["properties"]["role"]["enum"] == list(ROLES)
    assert schemas["KbArticle"]["properties"]["status"]["enum"] == list(STATUSES)
    assert set(body("/api/kb/articles/{slug}", "patch")["properties"]) == {
        *EDITABLE_FIELDS,
        "version",
    }
    account = body("/api/admin/agents", "post")
    assert account["properties"]["role"]["enum"] == list(ROLES)
    assert set(account["required"]) == {"email", "name", "role", "password"}
    presence = body("/api/auth/presence", "post")["properties"]["presence"]
    assert presence["enum"] == list(PRESENCES)
    outcome = body("/api/handoffs/{handoff_id}/resolve", "post")["properties"]
    assert outcome["outcome"]["enum"] == list(OUTCOMES)
    inbox = "/api/training/inbox"
    assert query(inbox, "reason")["enum"] == [reason.value for reason in Reason]
    assert query(inbox, "sort")["enum"] == list(SORTS)
    assert query(inbox, "limit")["maximum"] == MAX_GROUPS


async def test_the_served_document_is_the_file_without_its_shared_pieces() -> None:
    with SOURCE.open(encoding="utf-8") as source:
        written = yaml.safe_load(source)
    assert SHARED_KEY in written
    response = await openapi_document(None)  # type: ignore[arg-type]
    served = json.loads(response.body)
    assert SHARED_KEY not in served
    assert served["info"]["version"] == bot.__version__
    assert served["paths"] == written["paths"]
    assert served["components"] == written["components"]

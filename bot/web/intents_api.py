"""Intents and their training examples over HTTP (trainers and admins).

``GET|POST /api/training/intents``, ``GET|PUT|DELETE
/api/training/intents/{name}``. The committed ``data/nlu`` files are the
baseline; changes are stored in SQL (every hub sees them) and used by the
next training job. Every route checks the role (agents get 403); changes
need the session's CSRF token and are written to the audit log.
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, empty
from sanic.response import json as json_response

from bot.exceptions import BadRequest
from bot.training.evaluation import last_f1
from bot.training.intents import MIN_EXAMPLES, Intents, NluRepository
from bot.training.models import ModelRegistry
from bot.training.validation import IntentChange, example_list, intent_name
from bot.web.auth_api import require_agent
from bot.web.bodies import json_object
from bot.web.context import hub_of

#: Roles that may change training data (admins always may).
TRAINER_ROLES = ("trainer",)
#: Largest request body: up to 1,000 examples of up to 500 characters.
MAX_BODY_BYTES = 1024 * 1024

intents_api = Blueprint("intents_api", url_prefix="/api/training/intents")


def intents_of(request: Request) -> Intents:
    """The intents service over the hub's database and project folder."""
    hub = hub_of(request)
    return Intents(NluRepository(hub.engine, hub.settings.project_dir))


def _name(value: str) -> str:
    return intent_name(value, "the intent in the path")


@intents_api.get("")
async def list_intents(request: Request) -> HTTPResponse:
    """Every intent with its number of examples and its last evaluated F1."""
    await require_agent(request, *TRAINER_ROLES)
    hub = hub_of(request)
    models = (await ModelRegistry(hub.engine, hub.settings.model_dir).listing())[
        "models"
    ]
    evaluated = [m for m in models if m["metrics"].get("evaluation")]
    f1 = last_f1(m["metrics"]["evaluation"] for m in evaluated)
    intents = await intents_of(request).summaries()
    for intent in intents:
        intent["f1"] = f1.get(intent["name"])
    return json_response(
        {
            "intents": intents,
            "min_examples": MIN_EXAMPLES,
            "evaluated_model": evaluated[0]["version"] if evaluated else None,
        }
    )


@intents_api.post("")
async def create_intent(request: Request) -> HTTPResponse:
    """Create an intent with at least ``MIN_EXAMPLES`` examples."""
    agent = await require_agent(request, *TRAINER_ROLES)
    body = json_object(request, MAX_BODY_BYTES)
    unknown = sorted(set(body) - {"name", "examples"})
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(unknown)}", code="unknown_field"
        )
    if "name" not in body or "examples" not in body:
        raise BadRequest("give name and examples", code="missing_field")
    name = intent_name(body["name"], "name")
    texts = example_list(body["examples"])
    detail = await intents_of(request).create(name, texts, author=agent.email)
    await hub_of(request).auth.repository.record_audit(
        agent.email, "training.intent_create", name, {"examples": len(texts)}
    )
    return json_response({"intent": detail}, status=201)


@intents_api.get("/<name:str>")
async def get_intent(request: Request, name: str) -> HTTPResponse:
    """One intent with its examples and where it is used."""
    await require_agent(request, *TRAINER_ROLES)
    return json_response({"intent": await intents_of(request).detail(_name(name))})


@intents_api.put("/<name:str>")
async def change_intent(request: Request, name: str) -> HTTPResponse:
    """Change an intent's examples (whole list, or add/remove) and/or rename it."""
    agent = await require_agent(request, *TRAINER_ROLES)
    intent = _name(name)
    change = IntentChange.parse(json_object(request, MAX_BODY_BYTES))
    detail = await intents_of(request).change(intent, change, author=agent.email)
    await hub_of(request).auth.repository.record_audit(
        agent.email,
        "training.intent_change",
        intent,
        {
            "renamed_to": change.rename_to,
            "examples": len(change.examples) if change.examples is not None else None,
            "added": change.add,
            "removed": change.remove,
        },
    )
    return json_response({"intent": detail})


@intents_api.delete("/<name:str>")
async def delete_intent(request: Request, name: str) -> HTTPResponse:
    """Delete an intent no rule, story or slot uses."""
    agent = await require_agent(request, *TRAINER_ROLES)
    intent = _name(name)
    await intents_of(request).delete(intent, author=agent.email)
    await hub_of(request).auth.repository.record_audit(
        agent.email, "training.intent_delete", intent, {}
    )
    return empty(status=204)

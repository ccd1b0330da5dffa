"""The OpenAPI document of the REST part of the public contract.

The document is written by hand in ``bot/web/openapi.yaml``, next to this
module; a new or changed endpoint is described there.
``tests/bot/web/test_openapi.py`` fails when a route is missing from it or it
names a route that does not exist.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

import bot

#: The document as written (with its ``x-shared`` pieces and no version).
SOURCE = Path(__file__).with_name("openapi.yaml")
#: The top-level key holding the YAML anchors shared by many operations.
SHARED_KEY = "x-shared"

openapi = Blueprint("openapi")


@functools.cache
def _load() -> dict[str, Any]:
    with SOURCE.open(encoding="utf-8") as source:
        loaded = yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(loaded, dict) or not isinstance(loaded.get("paths"), dict):
        raise ValueError(f"{SOURCE} is not an OpenAPI document with paths")
    loaded.pop(SHARED_KEY, None)
    loaded["info"]["version"] = bot.__version__
    return loaded


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.0 document (a copy the caller may change)."""
    return copy.deepcopy(_load())


@openapi.get("/api/openapi.json")
async def openapi_document(_: Request) -> HTTPResponse:
    """Serve the OpenAPI document."""
    return json(_load())

"""The OpenAPI document of the REST part of the public contract."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json

import bot
from bot.web.admin_api import add_admin_paths
from bot.web.agent_openapi import add_agent_paths
from bot.web.kb_api import add_kb_paths
from bot.web.openapi_parts import CSRF_HEADER, SESSION, error_responses
from bot.web.training_api import add_training_paths

openapi = Blueprint("openapi")

_AGENT = {"$ref": "#/components/schemas/Agent"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


_USER_HASH = (
    "hex(HMAC-SHA256(BATON_IDENTITY_SECRET, 'baton-identity-v2\\n' + user.id + "
    "'\\n' + user.name + '\\n' + user.email + '\\n' + str(user_expires))), a "
    "missing name or email as '': the conversation is marked verified. 400 "
    "identity_unavailable without a secret, 400 bad_identity when malformed, "
    "401 identity_invalid when forged, 401 identity_expired after user_expires, "
    "401 identity_too_long when user_expires is further ahead than "
    "BATON_IDENTITY_MAX_HOURS."
)


def _mail_paths(conversation_id: dict[str, Any]) -> dict[str, Any]:
    recap = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["recap"]},
            "status": {"type": "string", "enum": ["sent", "kept", "failed"]},
            "email": {"type": "string", "description": "the address, masked"},
        },
    }
    return {
        "/api/conversations/{conversation_id}/recap": {
            "post": {
                "summary": "E-mail the customer a recap (transcript, steps taken)",
                "description": 'Also a WebSocket frame: {"type": "recap", '
                '"email"}. Without email, a verified customer\'s own address. '
                "Errors: bad_email, nothing_to_recap (409), too_many_recaps (429, "
                "3 per hour). Without SMTP (demo mode) the mail is kept in the "
                "outbox (status kept).",
                "security": [{"conversationToken": []}],
                "parameters": [conversation_id],
                "requestBody": {
                    "content": _json_content(
                        {"type": "object", "properties": {"email": {"type": "string"}}}
                    )
                },
                "responses": {
                    "202": {"description": "accepted", "content": _json_content(recap)},
                    **error_responses(400, 401, 404, 409, 429),
                },
            }
        },
        "/api/outbox": {
            "get": {
                "summary": "Mail sent, failed, or kept in demo mode (agents, admins)",
                "security": SESSION,
                "parameters": [
                    {"name": n, "in": "query", "schema": {"type": t}}
                    for n, t in (
                        ("limit", "integer"),
                        ("before", "integer"),
                        ("conversation_id", "string"),
                    )
                ],
                "responses": {
                    "200": {
                        "description": "newest first",
                        "content": _json_content(
                            {
                                "type": "object",
                                "properties": {
                                    "mails": {"type": "array", "items": {}},
                                    "demo_mode": {"type": "boolean"},
                                },
                            }
                        ),
                    },
                    **error_responses(400, 401, 403),
                },
            }
        },
    }


def _auth_paths() -> dict[str, Any]:
    signed_in = {
        "description": "the signed-in account and its CSRF token",
        "content": _json_content(
            {
                "type": "object",
                "required": ["agent", "csrf_token"],
                "properties": {"agent": _AGENT, "csrf_token": {"type": "string"}},
            }
        ),
    }
    return {
        "/api/auth/login": {
            "post": {
                "summary": "Sign in to the console; sets the baton_session cookie",
                "description": "Wrong email and wrong password get the same "
                "invalid_credentials error; after repeated failures the account "
                "is locked for a while (429 locked_out, with Retry-After), and "
                "each address may only try so often (429 rate_limited).",
                "requestBody": {
                    "required": True,
                    "content": _json_content(
                        {
                            "type": "object",
                            "required": ["email", "password"],
                            "properties": {
                                "email": {"type": "string"},
                                "password": {"type": "string", "format": "password"},
                            },
                        }
                    ),
                },
                "responses": {
                    "200": {
                        **signed_in,
                        "headers": {
                            "Set-Cookie": {
                                "description": "baton_session; HttpOnly; "
                                "SameSite=Strict; Path=/",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    **error_responses(400, 401, 403, 429),
                },
            }
        },
        "/api/auth/logout": {
            "post": {
                "summary": "End the session and expire the cookie",
                "security": SESSION,
                "parameters": [CSRF_HEADER],
                "responses": {
                    "204": {"description": "signed out"},
                    **error_responses(403),
                },
            }
        },
        "/api/auth/me": {
            "get": {
                "summary": "The signed-in account",
                "security": SESSION,
                "responses": {"200": signed_in, **error_responses(401)},
            }
        },
        "/api/auth/presence": {
            "post": {
                "summary": "Set the agent's presence (agents and admins)",
                "security": SESSION,
                "parameters": [CSRF_HEADER],
                "requestBody": {
                    "required": True,
                    "content": _json_content(
                        {
                            "type": "object",
                            "required": ["presence"],
                            "properties": {
                                "presence": {
                                    "type": "string",
                                    "enum": ["online", "away", "offline"],
                                }
                            },
                        }
                    ),
                },
                "responses": {
                    "200": {
                        "description": "the new presence",
                        "content": _json_content(
                            {
                                "type": "object",
                                "properties": {
                                    "agent": _AGENT,
                                    "presence": {"type": "string"},
                                },
                            }
                        ),
                    },
                    **error_responses(400, 401, 403),
                },
            }
        },
    }


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.0 document."""
    message = {
        "type": "object",
        "required": ["type", "seq", "role", "text", "at"],
        "properties": {
            "type": {"type": "string", "enum": ["message"]},
            "seq": {"type": "integer", "minimum": 1},
            "role": {"type": "string", "enum": ["customer", "bot", "agent", "system"]},
            "text": {"type": "string"},
            "buttons": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "payload": {"type": "string"},
                    },
                },
            },
            "client_id": {"type": "string"},
            "meta": {"type": "object"},
            "at": {"type": "string", "format": "date-time"},
        },
    }
    status = {
        "type": "object",
        "required": ["type", "state"],
        "properties": {
            "type": {"type": "string", "enum": ["status"]},
            "state": {
                "type": "string",
                "enum": ["bot", "queued", "agent", "follow_up", "resolved"],
            },
            "position": {"type": "integer"},
            "eta_s": {"type": "integer"},
            "agent": {"type": "object", "properties": {"name": {"type": "string"}}},
            "due_at": {"type": "string", "format": "date-time"},
        },
    }
    conversation_id = {
        "name": "conversation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Baton hub API", "version": bot.__version__},
        "paths": {
            "/api/conversations": {
                "post": {
                    "summary": "Start a conversation",
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "locale": {"type": "string", "maxLength": 35},
                                        "page_url": {
                                            "type": "string",
                                            "maxLength": 2048,
                                        },
                                        "user": {
                                            "type": "object",
                                            "properties": {
                                                "id": {"type": "string"},
                                                "name": {"type": "string"},
                                                "email": {"type": "string"},
                                            },
                                        },
                                        "user_hash": {
                                            "type": "string",
                                            "description": _USER_HASH,
                                        },
                                        "user_expires": {
                                            "type": "integer",
                                            "description": "Unix time (seconds) "
                                            "after which user_hash is refused",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "created",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["conversation_id", "token"],
                                        "properties": {
                                            "conversation_id": {"type": "string"},
                                            "token": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        **error_responses(400, 401, 403, 429),
                    },
                }
            },
            **_mail_paths(conversation_id),
            "/api/conversations/{conversation_id}/messages": {
                "get": {
                    "summary": "Messages after a sequence number, and the status",
                    "security": [{"conversationToken": []}],
                    "parameters": [
                        conversation_id,
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the messages",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "messages": {
                                                "type": "array",
                                                "items": message,
                                            },
                                            "status": status,
                                        },
                                    }
                                }
                            },
                        },
                        **error_responses(400, 401, 404),
                    },
                }
            },
            **_auth_paths(),
            "/health": {
                "get": {
                    "summary": "Status of every dependency",
                    "responses": {
                        "200": {"description": "all dependencies are up"},
                        "503": {"description": "a dependency is down"},
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "conversationToken": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "baton_session",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "field": {
                                    "type": "string",
                                    "description": "the request field at fault, "
                                    "when the error is about one",
                                },
                            },
                        }
                    },
                },
                "Message": message,
                "Status": status,
                "Agent": {
                    "type": "object",
                    "required": ["id", "name", "email", "role"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "role": {
                            "type": "string",
                            "enum": ["agent", "trainer", "admin"],
                        },
                    },
                },
            },
        },
    }


@openapi.get("/api/openapi.json")
async def openapi_document(_: Request) -> HTTPResponse:
    """Serve the OpenAPI document."""
    return json(
        add_training_paths(add_admin_paths(add_kb_paths(add_agent_paths(document()))))
    )

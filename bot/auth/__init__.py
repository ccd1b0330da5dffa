"""Console accounts (agents, trainers, admins), login and sessions.

The public surface: :class:`AuthService` (login, logout, session checks),
:func:`require_role`, the records, and :data:`ROLES`.
"""

from bot.auth.availability import unable_accounts
from bot.auth.passwords import MIN_PASSWORD_LENGTH, Passwords, validate_new_password
from bot.auth.records import (
    CHAT_ROLES,
    PRESENCES,
    ROLES,
    AgentRecord,
    AuditRecord,
    OpenWork,
    SessionRecord,
    normalize_email,
)
from bot.auth.repository import AuthRepository
from bot.auth.service import (
    RESET_LINK_LIFETIME,
    AuthPolicy,
    AuthService,
    LoginResult,
    Principal,
    hash_session_token,
    mask_email,
    require_role,
)

__all__ = [
    "CHAT_ROLES",
    "MIN_PASSWORD_LENGTH",
    "PRESENCES",
    "RESET_LINK_LIFETIME",
    "ROLES",
    "AgentRecord",
    "AuditRecord",
    "AuthPolicy",
    "AuthRepository",
    "AuthService",
    "LoginResult",
    "OpenWork",
    "Passwords",
    "Principal",
    "SessionRecord",
    "hash_session_token",
    "mask_email",
    "normalize_email",
    "require_role",
    "unable_accounts",
    "validate_new_password",
]

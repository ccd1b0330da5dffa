"""Signing in to the console: accounts, login, sessions, roles and CSRF.

Sessions live in SQL, so any hub instance can check any session and a logout
takes effect everywhere at once. A session ends after an absolute lifetime or
when it has not been used for the idle timeout, whichever comes first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, replace
from typing import NoReturn

from bot.auth.passwords import Passwords, validate_new_password
from bot.auth.records import (
    PRESENCES,
    ROLES,
    AgentCredentials,
    AgentRecord,
    SessionRecord,
    normalize_email,
)
from bot.auth.repository import AuthRepository
from bot.config import Settings
from bot.db.models import utcnow
from bot.exceptions import BadRequest, Forbidden, NotFound, RateLimited, Unauthorized

logger = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: ``last_seen_at`` is written at most this often per session, not on every
#: request; far finer than any idle timeout.
_TOUCH_INTERVAL = dt.timedelta(seconds=30)
_MAX_USER_AGENT = 512
#: How long a password-reset link an admin sends keeps working (once).
RESET_LINK_LIFETIME = dt.timedelta(hours=24)


def hash_session_token(token: str) -> str:
    """Return the stored form (session id) of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def mask_email(email: str) -> str:
    """Shorten an email for logs: ``alice@example.com`` → ``a***@example.com``."""
    local, at, domain = email.strip().partition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def require_role(agent: AgentRecord, *roles: str) -> None:
    """Check that ``agent`` may act as one of ``roles``; admins always may.

    Args:
        agent: The signed-in account.
        roles: Roles allowed to do the thing; none means any signed-in account.

    Raises:
        Forbidden: The account has another role.
    """
    if not roles or agent.role == "admin" or agent.role in roles:
        return
    raise Forbidden(f"this needs the role {' or '.join(roles)}; you are {agent.role}")


@dataclass(frozen=True)
class AuthPolicy:
    """Session lifetimes and login throttling."""

    session_lifetime: dt.timedelta = dt.timedelta(hours=12)
    idle_timeout: dt.timedelta = dt.timedelta(hours=2)
    max_failed_logins: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        """The policy the settings describe."""
        return cls(
            session_lifetime=dt.timedelta(hours=settings.session_hours),
            idle_timeout=dt.timedelta(minutes=settings.session_idle_minutes),
            max_failed_logins=settings.limits.failed_logins_before_lockout,
            lockout=dt.timedelta(minutes=settings.limits.lockout_minutes),
        )


@dataclass(frozen=True)
class Principal:
    """A signed-in account and the session it came with."""

    agent: AgentRecord
    session: SessionRecord


@dataclass(frozen=True)
class LoginResult:
    """A new session: the token goes into the cookie, once, and nowhere else."""

    agent: AgentRecord
    session: SessionRecord
    token: str


class AuthService:
    """Console accounts, login and session checks."""

    def __init__(
        self,
        repository: AuthRepository,
        policy: AuthPolicy | None = None,
        passwords: Passwords | None = None,
    ) -> None:
        self.repository = repository
        self.policy = policy or AuthPolicy()
        self.passwords = passwords or Passwords()

    async def create_agent(
        self, email: str, name: str, role: str, password: str
    ) -> AgentRecord:
        """Create an account after validating every field.

        Raises:
            BadRequest: The email, name, role or password is not acceptable.
            Conflict: The email is taken (in any letter case).
        """
        email = _check_email(email)
        name = _check_name(name)
        _check_role_name(role)
        validate_new_password(password)
        password_hash = await asyncio.to_thread(self.passwords.hash, password)
        agent = await self.repository.create_agent(email, name, role, password_hash)
        logger.info("created %s account %s", role, mask_email(email))
        return agent

    async def set_role(self, email: str, role: str) -> AgentRecord:
        """Give the account with ``email`` another role.

        Raises:
            BadRequest: The role is unknown.
            NotFound: There is no such account.
        """
        _check_role_name(role)
        agent = await self.repository.get_agent_by_email(email)
        if agent is None:
            raise NotFound(f"no account has the email {email}", code="unknown_agent")
        updated = await self.repository.set_role(agent.id, role)
        logger.info("%s is now %s", mask_email(agent.email), role)
        return updated

    async def set_profile(
        self, agent_id: int, *, name: str | None = None, email: str | None = None
    ) -> AgentRecord:
        """Change an account's name and/or e-mail after validating them.

        Raises:
            BadRequest: ``bad_name`` or ``bad_email``.
            NotFound: There is no such account.
            Conflict: ``email_taken``.
        """
        updated = await self.repository.set_profile(
            agent_id,
            name=_check_name(name) if name is not None else None,
            email=_check_email(email) if email is not None else None,
        )
        logger.info("account %s changed its name or e-mail", agent_id)
        return updated

    async def issue_password_reset(
        self, agent: AgentRecord, issued_by: str
    ) -> tuple[str, dt.datetime]:
        """Make a one-time password-reset token for ``agent``.

        Only its hash is stored; the account's earlier unused links stop
        working.

        Returns:
            The token (to send in a link, once) and when it expires.
        """
        token = secrets.token_urlsafe(32)
        now = utcnow()
        expires_at = now + RESET_LINK_LIFETIME
        await self.repository.add_password_reset(
            agent.id, hash_session_token(token), issued_by, now, expires_at
        )
        logger.info("password reset link for %s", mask_email(agent.email))
        return token, expires_at

    async def reset_password(self, token: str, password: str) -> AgentRecord:
        """Set a new password with a reset link's token; the link is spent.

        The account is signed out everywhere and any login lock is lifted.
        A refused password leaves the link usable.

        Raises:
            BadRequest: ``weak_password``, or ``reset_link_invalid`` when the
                link is unknown, used, expired or its account disabled.
        """
        validate_new_password(password)
        password_hash = await asyncio.to_thread(self.passwords.hash, password)
        agent = await self.repository.use_password_reset(
            hash_session_token(token), password_hash, utcnow()
        )
        if agent is None:
            raise BadRequest(
                "this link is not valid: it was used already, has expired, or a "
                "newer one was sent; ask an admin for a new one",
                code="reset_link_invalid",
            )
        logger.info("password of %s reset with a link", mask_email(agent.email))
        return agent

    async def login(
        self, email: str, password: str, *, ip: str | None, user_agent: str | None
    ) -> LoginResult:
        """Check the credentials and open a session.

        A wrong password and an unknown email are refused alike, in about the
        same time. The ``max_failed_logins``-th failure in a row locks the
        account for ``lockout``, during which even the right password is refused.

        Args:
            email: As typed (any case).
            password: As typed.
            ip: The client's address, kept with the session.
            user_agent: The browser's ``User-Agent``, kept with the session.

        Returns:
            The account, the session and its token.

        Raises:
            Unauthorized: ``invalid_credentials``.
            RateLimited: ``locked_out``, with the time until the lock ends.
        """
        masked = mask_email(email)
        now = utcnow()
        credentials = await self.repository.credentials(email)
        if credentials is not None and credentials.locked_until is not None:
            if credentials.locked_until > now:
                logger.warning("login refused for %s from %s: locked", masked, ip)
                raise _locked_out(credentials.locked_until - now)
        check = await asyncio.to_thread(
            self.passwords.verify,
            credentials.password_hash if credentials else None,
            password,
        )
        if credentials is None or not check.ok or not credentials.agent.active:
            await self._refuse(credentials, check.ok, masked, ip, now)
        assert credentials is not None
        agent = credentials.agent
        if credentials.failed_logins or credentials.locked_until is not None:
            await self.repository.clear_failed_logins(agent.id)
        if check.new_hash is not None:
            await self.repository.set_password_hash(agent.id, check.new_hash)
        await self.repository.delete_expired_sessions(agent.id, now)
        await self.repository.record_login(agent.id, now)
        agent = replace(agent, last_login_at=now)
        token = secrets.token_urlsafe(32)
        session = SessionRecord(
            id=hash_session_token(token),
            agent_id=agent.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.policy.session_lifetime,
            ip=ip,
            user_agent=user_agent[:_MAX_USER_AGENT] if user_agent else None,
        )
        await self.repository.create_session(session)
        logger.info("login of %s (%s) from %s", masked, agent.role, ip)
        return LoginResult(agent=agent, session=session, token=token)

    async def _refuse(
        self,
        credentials: AgentCredentials | None,
        password_ok: bool,
        masked: str,
        ip: str | None,
        now: dt.datetime,
    ) -> NoReturn:
        if credentials is None:
            logger.warning("login failed for %s from %s: no such account", masked, ip)
        elif password_ok:
            logger.warning("login failed for %s from %s: account disabled", masked, ip)
        else:
            logger.warning("login failed for %s from %s: wrong password", masked, ip)
            locked_until = await self.repository.record_failed_login(
                credentials.agent.id,
                self.policy.max_failed_logins,
                now + self.policy.lockout,
            )
            if locked_until is not None:
                logger.warning(
                    "%s locked until %s after %d failed logins",
                    masked,
                    locked_until.isoformat(timespec="seconds"),
                    self.policy.max_failed_logins,
                )
        raise Unauthorized("wrong email or password", code="invalid_credentials")

    async def authenticate(self, token: str | None) -> Principal:
        """Return who holds the session ``token``, if it is still valid.

        An expired session (absolute lifetime or idle timeout) is deleted.

        Raises:
            Unauthorized: ``unauthorized`` without a valid session,
                ``session_expired`` when it has ended.
        """
        if not token:
            raise Unauthorized("sign in first")
        found = await self.repository.get_session(hash_session_token(token))
        if found is None:
            raise Unauthorized("sign in first")
        session, agent = found
        now = utcnow()
        if (
            now >= session.expires_at
            or now - session.last_seen_at >= self.policy.idle_timeout
        ):
            await self.repository.delete_session(session.id)
            raise Unauthorized(
                "your session has expired; please sign in again",
                code="session_expired",
            )
        if not agent.active:
            await self.repository.delete_session(session.id)
            raise Unauthorized("this account is disabled")
        return Principal(agent=agent, session=session)

    async def touch(self, principal: Principal) -> None:
        """Note that the session is in use, which postpones its idle timeout."""
        now = utcnow()
        if now - principal.session.last_seen_at >= _TOUCH_INTERVAL:
            await self.repository.touch_session(principal.session.id, now)

    @staticmethod
    def check_csrf(principal: Principal, csrf_token: str | None) -> None:
        """Check the ``X-CSRF-Token`` of a state-changing request.

        Raises:
            Forbidden: ``csrf_failed`` when it is missing or wrong.
        """
        if not csrf_token or not hmac.compare_digest(
            csrf_token.encode(), principal.session.csrf_token.encode()
        ):
            raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf_failed")

    async def logout(self, principal: Principal) -> None:
        """End the session; an agent with no session left goes offline."""
        agent = principal.agent
        await self.repository.delete_session(principal.session.id)
        if not await self.repository.has_sessions(agent.id):
            await self.repository.set_presence(agent.id, "offline")
        logger.info("logout of %s", mask_email(agent.email))

    async def set_presence(self, agent: AgentRecord, presence: object) -> AgentRecord:
        """Set the account's presence.

        Raises:
            BadRequest: ``bad_presence`` unless online, away or offline.
        """
        if presence not in PRESENCES:
            raise BadRequest(
                f"presence must be one of {', '.join(PRESENCES)}",
                code="bad_presence",
            )
        return await self.repository.set_presence(agent.id, str(presence))

    async def set_active(self, email: str, active: bool) -> AgentRecord:
        """Enable or disable the account with ``email``; disabling signs it out.

        Raises:
            NotFound: There is no such account.
        """
        agent = await self.repository.get_agent_by_email(email)
        if agent is None:
            raise NotFound(f"no account has the email {email}", code="unknown_agent")
        updated = await self.repository.set_active(agent.id, active)
        state = "enabled" if active else "disabled"
        logger.info("%s is now %s", mask_email(agent.email), state)
        return updated


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise BadRequest("a name needs 1 to 255 characters", code="bad_name")
    return name


def _check_email(email: str) -> str:
    email = normalize_email(email)
    if len(email) > 320 or not _EMAIL.match(email):
        raise BadRequest(f"{email!r} is not an email address", code="bad_email")
    return email


def _check_role_name(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(
            f"unknown role {role!r}; use one of {', '.join(ROLES)}", code="bad_role"
        )


def _locked_out(remaining: dt.timedelta) -> RateLimited:
    return RateLimited(
        "too many failed logins; this account is locked for a while",
        retry_after_s=max(1.0, remaining.total_seconds()),
        code="locked_out",
    )

"""The one configuration object of Baton.

Settings are read once, from environment variables with the ``BATON_`` prefix,
parsed and validated here; nothing else in the code reads ``os.environ``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from bot.exceptions import ConfigurationError

PREFIX = "BATON_"


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(PREFIX + name, "").strip()
    return value or default


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(
            f"{PREFIX}{name} must be a whole number, got {raw!r}"
        ) from error
    if value < minimum:
        raise ConfigurationError(f"{PREFIX}{name} must be at least {minimum}")
    return value


def _float(
    env: Mapping[str, str], name: str, default: float, at_most: float | None = None
) -> float:
    """A positive number; with ``at_most``, a number from 0 to ``at_most``."""
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return default
    span = "" if at_most is None else f" from 0 to {at_most:g}"
    try:
        value = float(raw)
    except ValueError as error:
        raise ConfigurationError(
            f"{PREFIX}{name} must be a number{span}, got {raw!r}"
        ) from error
    if at_most is None and value <= 0:
        raise ConfigurationError(f"{PREFIX}{name} must be positive")
    if at_most is not None and not 0 <= value <= at_most:
        raise ConfigurationError(f"{PREFIX}{name} must be{span}, got {raw!r}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(PREFIX + name, "")
    return tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())


def _url(value: str, name: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ConfigurationError(
            f"{PREFIX}{name} must start with one of {', '.join(schemes)}: {value!r}"
        )
    return value.rstrip("/")


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, as browsers write an ``Origin``."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = "" if parts.port in (None, default) else f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


@dataclass(frozen=True)
class Limits:
    """Abuse limits; over a limit the client gets a clear error."""

    max_text_bytes: int = 4096
    max_frame_bytes: int = 65536
    messages_per_minute: int = 30
    messages_per_ip_per_minute: int = 120
    conversations_per_ip_per_hour: int = 30
    logins_per_ip_per_minute: int = 10
    failed_logins_before_lockout: int = 5
    lockout_minutes: int = 15


@dataclass(frozen=True)
class Smtp:
    """Where e-mail (conversation recaps) goes; no host means demo mode.

    In demo mode mail is kept in the outbox table, readable by agents and
    admins at ``GET /api/outbox``, instead of being sent.
    """

    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "Baton Support <support@localhost>"
    #: ``starttls`` (upgrade a plain connection), ``tls`` (implicit TLS,
    #: usually port 465) or ``none``.
    security: str = "starttls"
    timeout_s: float = 10.0


def _smtp(env: Mapping[str, str]) -> Smtp:
    security = _text(env, "SMTP_SECURITY", "starttls").lower()
    if security not in {"starttls", "tls", "none"}:
        raise ConfigurationError(f"{PREFIX}SMTP_SECURITY must be starttls, tls or none")
    return Smtp(
        host=_text(env, "SMTP_HOST", "") or None,
        port=_int(env, "SMTP_PORT", 465 if security == "tls" else 587, minimum=1),
        username=_text(env, "SMTP_USERNAME", "") or None,
        password=_text(env, "SMTP_PASSWORD", "") or None,
        sender=_text(env, "SMTP_FROM", "Baton Support <support@localhost>"),
        security=security,
        timeout_s=_float(env, "SMTP_TIMEOUT", 10.0),
    )


#: A plausible e-mail address (the SMTP server is the real judge).
_EMAIL = re.compile(r"^[^@\s,;<>\"]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class Promises:
    """How promises to customers are kept (``bot.promises``).

    Attributes:
        reminder_lead_minutes: How long before a follow-up is due its owner
            is reminded (console and e-mail).
        escalation_emails: Who is mailed when a follow-up becomes overdue;
            empty: every active admin account.
        resume_link_hours: How long the link in a reply mail reopens the
            conversation.
        interval_s: How often the scheduler looks for work.
        lease_s: How long the hub acting for all holds the lease without
            renewing it; after a hub dies, another takes over within this.
    """

    reminder_lead_minutes: int = 15
    escalation_emails: tuple[str, ...] = ()
    resume_link_hours: int = 72
    interval_s: float = 5.0
    lease_s: float = 30.0


def _promises(env: Mapping[str, str]) -> Promises:
    recipients = _list(env, "ESCALATION_EMAILS")
    for address in recipients:
        if not _EMAIL.fullmatch(address):
            raise ConfigurationError(
                f"{PREFIX}ESCALATION_EMAILS must be comma-separated e-mail "
                f"addresses, got {address!r}"
            )
    interval_s = _float(env, "SCHEDULER_INTERVAL", 5.0)
    lease_s = _float(env, "SCHEDULER_LEASE", 30.0)
    if lease_s < interval_s * 2:
        raise ConfigurationError(
            f"{PREFIX}SCHEDULER_LEASE must be at least twice "
            f"{PREFIX}SCHEDULER_INTERVAL, or the lease lapses between rounds"
        )
    return Promises(
        reminder_lead_minutes=_int(env, "REMINDER_LEAD_MINUTES", 15, minimum=1),
        escalation_emails=tuple(address.lower() for address in recipients),
        resume_link_hours=_int(env, "RESUME_LINK_HOURS", 72, minimum=1),
        interval_s=interval_s,
        lease_s=lease_s,
    )


#: What ``BATON_ACCOUNTS`` may name (:mod:`bot.accounts`).
ACCOUNT_PROVIDERS = ("none", "builtin", "webhook")


@dataclass(frozen=True)
class Accounts:
    """Self-service password reset in the chat (:mod:`bot.accounts`).

    Attributes:
        provider: ``none`` (the bot answers with the help article only),
            ``builtin`` (customer accounts in the hub database, reset page
            served by the hub) or ``webhook`` (the company's own system).
        webhook_url: Base URL of the company's endpoints (``webhook``).
        webhook_secret: The secret that signs the calls (``webhook``, at
            least 32 characters).
        webhook_timeout_s: How long a call may take before a person takes over.
        code_minutes: How long a mailed one-time code works.
        link_minutes: How long a reset link works (``builtin``).
        max_code_attempts: Wrong codes before a person takes over.
        codes_per_conversation: Codes one conversation may ask for per hour.
        codes_per_email: Codes one e-mail address may get per hour.
        codes_per_address: Codes one client address may ask for per hour.
    """

    provider: str = "none"
    webhook_url: str = ""
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_timeout_s: float = 5.0
    code_minutes: int = 10
    link_minutes: int = 30
    max_code_attempts: int = 3
    codes_per_conversation: int = 3
    codes_per_email: int = 5
    codes_per_address: int = 10

    @property
    def enabled(self) -> bool:
        """Whether the bot may reset passwords itself."""
        return self.provider != "none"


def _accounts(env: Mapping[str, str]) -> Accounts:
    provider = _text(env, "ACCOUNTS", "none").lower()
    if provider not in ACCOUNT_PROVIDERS:
        raise ConfigurationError(
            f"{PREFIX}ACCOUNTS must be one of {', '.join(ACCOUNT_PROVIDERS)}, "
            f"got {provider!r}"
        )
    url = _text(env, "ACCOUNTS_WEBHOOK_URL", "")
    secret = _text(env, "ACCOUNTS_WEBHOOK_SECRET", "") or None
    if provider == "webhook":
        if not url:
            raise ConfigurationError(
                f"{PREFIX}ACCOUNTS=webhook needs {PREFIX}ACCOUNTS_WEBHOOK_URL"
            )
        if secret is None or len(secret) < 32:
            raise ConfigurationError(
                f"{PREFIX}ACCOUNTS=webhook needs {PREFIX}ACCOUNTS_WEBHOOK_SECRET "
                "of at least 32 characters"
            )
    return Accounts(
        provider=provider,
        webhook_url=url and _url(url, "ACCOUNTS_WEBHOOK_URL", ("http", "https")),
        webhook_secret=secret,
        webhook_timeout_s=_float(env, "ACCOUNTS_WEBHOOK_TIMEOUT", 5.0),
        code_minutes=_int(env, "ACCOUNTS_CODE_MINUTES", 10, minimum=1),
        link_minutes=_int(env, "ACCOUNTS_LINK_MINUTES", 30, minimum=1),
        max_code_attempts=_int(env, "ACCOUNTS_CODE_ATTEMPTS", 3, minimum=1),
        codes_per_conversation=_int(
            env, "ACCOUNTS_CODES_PER_CONVERSATION", 3, minimum=1
        ),
        codes_per_email=_int(env, "ACCOUNTS_CODES_PER_EMAIL", 5, minimum=1),
        codes_per_address=_int(env, "ACCOUNTS_CODES_PER_ADDRESS", 10, minimum=1),
    )


@dataclass(frozen=True)
class Settings:
    """Everything configurable about a Baton deployment.

    Attributes:
        host: Interface the hub binds to.
        port: Port of the hub.
        project_dir: Folder with ``domain.yml``, ``data/``, ``endpoints.yml``.
        data_dir: Folder for the embedded SQLite files and run-time state.
        model_dir: Folder of trained Rasa models.
        database_url: SQLAlchemy URL of the hub database (sync form).
        redis_url: Redis URL; when set, the event bus and Rasa's lock store use
            Redis, otherwise they are in-process.
        rasa_url: Base URL of the Rasa server.
        rasa_token: Shared secret for Rasa's HTTP API and the Baton channel.
        action_server_url: Base URL of the action server.
        rasa_timeout_s: How long a Rasa turn may take before the hub gives up
            and hands the conversation to a person.
        action_timeout_s: How long Rasa waits for one custom action before it
            counts the action server as failed for the turn (the Baton
            channel reports it, and the hub hands the conversation over).
        public_url: The URL(s) customers and agents reach the hub at,
            comma-separated (``BATON_PUBLIC_URL``, e.g.
            ``https://support.example.com``); their origins are the hub's own
            (see :attr:`public_origins`). Empty: derived from host and port.
        allowed_origins: Extra origins (besides the hub's own) allowed to open
            WebSockets and call the customer API.
        trust_proxy: Whether to take the client address from
            ``X-Forwarded-For`` (only behind a trusted load balancer).
        support_hours: When agents work, e.g. ``mon-fri 09:00-17:00`` or
            ``always``; outside them a handoff becomes a follow-up.
        timezone: Time zone of the support hours (IANA name).
        follow_up_hours: How many opening hours a follow-up promise allows.
        instance_id: Random identity of this hub process (relay leases).
        session_hours: Absolute lifetime of a console session.
        session_idle_minutes: A console session unused this long expires.
        limits: Abuse limits.
        smtp: Outgoing mail (``BATON_SMTP_*``).
        identity_secret: The site secret that signs customer identities
            (``user_hash``); identity verification is off without it.
        identity_max_hours: The longest a signed identity may live: a
            ``user_expires`` further ahead than this is refused, so a leaked
            signature cannot be replayed for years.
        model_server_url: Where Rasa pulls the live model from
            (``BATON_MODEL_SERVER_URL``): the hub's ``/api/models/live``;
            empty: this hub's, derived from host and port. Behind a load
            balancer, its URL, so that every Rasa server follows a deploy.
        model_pull_s: Seconds between Rasa's checks for a new live model
            (``BATON_MODEL_PULL_SECONDS``): a deploy or rollback reaches every
            Rasa server within this time.
        regression_margin: How much lower a candidate model's accuracy on
            the held-out set may be than the live model's before a deploy is
            refused (``BATON_REGRESSION_MARGIN``, a fraction from 0 to 1;
            default 0.02, two points); see :mod:`bot.training.evaluation`.
        embedding_model: The sentence-embedding model's directory
            (``BATON_EMBEDDING_MODEL``); ``None``: where ``make install`` puts
            it (see :mod:`bot.knowledge.embedding.model`).
        secret_key: The hub's own secret (``BATON_SECRET_KEY``, at least 32
            characters), which signs the links mailed to customers; see
            :attr:`link_secret` when it is not set.
        knowledge_warm_up: Build the hub's knowledge index in the
            background when the hub starts, once the assistant is ready
            (``BATON_KNOWLEDGE_WARM_UP``, ``0`` turns it off: the first
            search builds it, as the trainers' inbox's first read did); see
            :mod:`bot.training.warm_up`.
        promises: Reminders, escalation and resume links (``bot.promises``).
        accounts: Self-service password reset (``BATON_ACCOUNTS*``).
        environment: The whole environment the settings were read from;
            child processes (Rasa, the action server, training workers)
            inherit it (see :meth:`child_environment`).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    project_dir: Path = field(default_factory=Path.cwd)
    data_dir: Path = field(default_factory=lambda: Path.cwd() / "var")
    model_dir: Path = field(default_factory=lambda: Path.cwd() / "models")
    database_url: str = ""
    redis_url: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout_s: float = 20.0
    action_timeout_s: float = 5.0
    public_url: str = ""
    allowed_origins: tuple[str, ...] = ()
    trust_proxy: bool = False
    log_level: str = "INFO"
    support_hours: str = "always"
    timezone: str = "UTC"
    follow_up_hours: float = 4.0
    instance_id: str = field(default_factory=lambda: secrets.token_hex(6))
    session_hours: int = 12
    session_idle_minutes: int = 120
    limits: Limits = field(default_factory=Limits)
    smtp: Smtp = field(default_factory=Smtp)
    identity_secret: str | None = field(default=None, repr=False)
    identity_max_hours: int = 24
    embedding_model: Path | None = None
    model_server_url: str = ""
    model_pull_s: int = 2
    regression_margin: float = 0.02
    secret_key: str | None = field(default=None, repr=False)
    knowledge_warm_up: bool = True
    promises: Promises = field(default_factory=Promises)
    accounts: Accounts = field(default_factory=Accounts)
    environment: Mapping[str, str] = field(
        default_factory=lambda: dict(os.environ), repr=False, compare=False
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings from ``BATON_*`` variables.

        Args:
            env: The environment; ``os.environ`` when omitted.

        Returns:
            The parsed settings.

        Raises:
            ConfigurationError: A variable has an invalid value.
        """
        env = os.environ if env is None else env
        project_dir = Path(_text(env, "PROJECT_DIR", str(Path.cwd()))).resolve()
        data_dir = Path(_text(env, "DATA_DIR", str(project_dir / "var"))).resolve()
        model_dir = Path(_text(env, "MODEL_DIR", str(project_dir / "models")))
        database_url = _text(env, "DATABASE_URL", f"sqlite:///{data_dir / 'baton.db'}")
        _url(database_url, "DATABASE_URL", ("sqlite", "postgresql", "postgres"))
        redis_url = _text(env, "REDIS_URL", "") or None
        if redis_url:
            _url(redis_url, "REDIS_URL", ("redis", "rediss"))
        level = _text(env, "LOG_LEVEL", "INFO").upper()
        embedding_model = _text(env, "EMBEDDING_MODEL", "")
        model_server_url = _text(env, "MODEL_SERVER_URL", "")
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigurationError(f"{PREFIX}LOG_LEVEL must be DEBUG..ERROR")
        secret_key = _text(env, "SECRET_KEY", "") or None
        if secret_key is not None and len(secret_key) < 32:
            raise ConfigurationError(
                f"{PREFIX}SECRET_KEY must be at least 32 characters"
            )
        return cls(
            host=_text(env, "HOST", "127.0.0.1"),
            port=_int(env, "PORT", 8000, minimum=0),
            project_dir=project_dir,
            data_dir=data_dir,
            model_dir=model_dir.resolve(),
            database_url=database_url,
            redis_url=redis_url,
            rasa_url=_url(
                _text(env, "RASA_URL", "http://127.0.0.1:5005"),
                "RASA_URL",
                ("http", "https"),
            ),
            rasa_token=_text(env, "RASA_TOKEN", ""),
            action_server_url=_url(
                _text(env, "ACTION_SERVER_URL", "http://127.0.0.1:5055"),
                "ACTION_SERVER_URL",
                ("http", "https"),
            ),
            rasa_timeout_s=_float(env, "RASA_TIMEOUT", 20.0),
            action_timeout_s=_float(env, "ACTION_TIMEOUT", 5.0),
            public_url=",".join(
                _url(url, "PUBLIC_URL", ("http", "https"))
                for url in _list(env, "PUBLIC_URL")
            ),
            allowed_origins=_list(env, "ALLOWED_ORIGINS"),
            trust_proxy=_text(env, "TRUST_PROXY", "0").lower() in {"1", "true", "yes"},
            log_level=level,
            support_hours=_text(env, "SUPPORT_HOURS", "always"),
            timezone=_text(env, "TIMEZONE", "UTC"),
            follow_up_hours=_float(env, "FOLLOW_UP_HOURS", 4.0),
            session_hours=_int(env, "SESSION_HOURS", 12, minimum=1),
            session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 120, minimum=1),
            smtp=_smtp(env),
            identity_secret=_text(env, "IDENTITY_SECRET", "") or None,
            identity_max_hours=_int(env, "IDENTITY_MAX_HOURS", 24, minimum=1),
            embedding_model=Path(embedding_model) if embedding_model else None,
            model_server_url=model_server_url
            and _url(model_server_url, "MODEL_SERVER_URL", ("http", "https")),
            model_pull_s=_int(env, "MODEL_PULL_SECONDS", 2, minimum=1),
            regression_margin=_float(env, "REGRESSION_MARGIN", 0.02, at_most=1),
            secret_key=secret_key,
            knowledge_warm_up=_text(env, "KNOWLEDGE_WARM_UP", "1").lower()
            in {"1", "true", "yes"},
            promises=_promises(env),
            accounts=_accounts(env),
            environment=dict(env),
            limits=Limits(
                max_text_bytes=_int(env, "MAX_TEXT_BYTES", 4096, minimum=1),
                max_frame_bytes=_int(env, "MAX_FRAME_BYTES", 65536, minimum=1024),
                messages_per_minute=_int(env, "MESSAGES_PER_MINUTE", 30, minimum=1),
                messages_per_ip_per_minute=_int(
                    env, "MESSAGES_PER_IP_PER_MINUTE", 120, minimum=1
                ),
                conversations_per_ip_per_hour=_int(
                    env, "CONVERSATIONS_PER_IP_PER_HOUR", 30, minimum=1
                ),
                logins_per_ip_per_minute=_int(
                    env, "LOGINS_PER_IP_PER_MINUTE", 10, minimum=1
                ),
                failed_logins_before_lockout=_int(
                    env, "FAILED_LOGINS_BEFORE_LOCKOUT", 5, minimum=1
                ),
                lockout_minutes=_int(env, "LOCKOUT_MINUTES", 15, minimum=1),
            ),
        )

    def with_changes(self, **changes: object) -> Settings:
        """Return a copy with some fields replaced (used by tests and the runner)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def public_origins(self) -> tuple[str, ...]:
        """The hub's own origins: what a browser on its pages sends as ``Origin``.

        Those of :attr:`public_url`; without one, the embedded setup's
        ``http://127.0.0.1:PORT`` and ``http://localhost:PORT`` (or
        ``http://HOST:PORT`` when bound to a named interface). Never taken
        from a request's ``Host``, which the page's own site chooses.
        """
        urls = [url.strip() for url in self.public_url.split(",") if url.strip()]
        if urls:
            return tuple(_origin(url) for url in urls)
        suffix = "" if self.port == 80 else f":{self.port}"
        if self.host in {"127.0.0.1", "localhost", "0.0.0.0", "::", "::1", ""}:
            return (f"http://127.0.0.1{suffix}", f"http://localhost{suffix}")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (f"http://{host}{suffix}",)

    @property
    def link_secret(self) -> bytes:
        """The key that signs links mailed to customers.

        :attr:`secret_key`; without one, a key derived from the Rasa token
        (set by the operator for several hubs, or made per run by ``baton
        run``: links then last until the next restart); ``b""`` with neither,
        and no link is made.
        """
        if self.secret_key:
            return self.secret_key.encode()
        if self.rasa_token:
            return hmac.new(
                self.rasa_token.encode(), b"baton link secret", hashlib.sha256
            ).digest()
        return b""

    @property
    def live_model_url(self) -> str:
        """The URL Rasa pulls the live model from (see :attr:`model_server_url`)."""
        if self.model_server_url:
            return self.model_server_url
        local = {"127.0.0.1", "localhost", "0.0.0.0", "::", "::1", ""}
        host = "127.0.0.1" if self.host in local else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/api/models/live"

    @property
    def uses_postgresql(self) -> bool:
        """Whether the hub database is PostgreSQL."""
        return self.database_url.startswith(("postgresql", "postgres"))

    @property
    def operator(self) -> str:
        """Who runs a command, as recorded when ``--by`` is not given.

        The login name (``USER``), or ``cli``.
        """
        return self.environment.get("USER") or "cli"

    @property
    def new_agent_password(self) -> str | None:
        """A new account's password given in ``BATON_NEW_AGENT_PASSWORD``.

        For scripts that create accounts without a terminal to type it in.
        """
        return self.environment.get(PREFIX + "NEW_AGENT_PASSWORD") or None

    def child_environment(self, **extra: str) -> dict[str, str]:
        """The environment of a child process (Rasa, actions, a worker).

        :attr:`environment`, then :meth:`rasa_environment`, then ``extra``.
        """
        return {**self.environment, **self.rasa_environment(), **extra}

    def rasa_environment(self) -> dict[str, str]:
        """Variables that ``endpoints.yml`` and ``credentials.yml`` refer to.

        Rasa's tracker store uses the same PostgreSQL database as the hub; with
        the embedded default it gets its own SQLite file so that two processes
        never contend for one SQLite write lock.
        """
        if self.uses_postgresql:
            tracker_url = self.database_url.replace("postgres://", "postgresql://", 1)
            tracker_dialect = "postgresql"
        else:
            tracker_url = f"sqlite:///{self.data_dir / 'rasa-tracker.db'}"
            tracker_dialect = "sqlite"
        env = {
            "BATON_TRACKER_DIALECT": tracker_dialect,
            "BATON_TRACKER_URL": tracker_url,
            "BATON_ACTION_SERVER_URL": self.action_server_url,
            "BATON_RASA_TOKEN": self.rasa_token,
            "BATON_LOCK_STORE": "in_memory",
            "BATON_LOCK_REDIS_HOST": "127.0.0.1",
            "BATON_LOCK_REDIS_PORT": "6379",
            "BATON_LOCK_REDIS_DB": "0",
            "BATON_LOCK_REDIS_PASSWORD": "",
            "BATON_MODEL_SERVER_URL": self.live_model_url,
            "BATON_MODEL_PULL_SECONDS": str(self.model_pull_s),
            # Rasa would otherwise send usage data and crash reports out.
            "RASA_TELEMETRY_ENABLED": "false",
        }
        if self.redis_url:
            parts = urlsplit(self.redis_url)
            env.update(
                BATON_LOCK_STORE="redis",
                BATON_LOCK_REDIS_HOST=parts.hostname or "127.0.0.1",
                BATON_LOCK_REDIS_PORT=str(parts.port or 6379),
                BATON_LOCK_REDIS_DB=(parts.path.lstrip("/") or "0"),
                BATON_LOCK_REDIS_PASSWORD=parts.password or "",
            )
        return env

"""Shared fixtures: real PostgreSQL and Redis, databases, buses, a running hub.

PostgreSQL and Redis are found at ``BATON_TEST_POSTGRES_URL`` and
``BATON_TEST_REDIS_URL`` (defaults: the local servers). Without them the
suites that need them skip, except when ``CI`` is set: then they fail.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import secrets
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

# aiogram, which Rasa imports with its channels (an evaluation loading an
# Agent, the hub's input channel), installs uvloop's event-loop policy for the
# whole process when it is first imported, unless this is set; the tests'
# asyncio loops then could not start a subprocess (asyncio asks the new
# policy for a child watcher: NotImplementedError), seen as a training job
# that could not start after an evaluation test. Served processes choose
# their loop themselves (sanic).
os.environ.setdefault("DISABLE_UVLOOP", "1")

from bench.ports import free_port
from bot.bus import EventBus, create_bus
from bot.config import Settings
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database
from bot.db.models import LabelledQuestion
from bot.knowledge.repository import kb_articles, kb_state, kb_versions
from tests.hub import RunningHub, running_hub

Sanic.test_mode = True

POSTGRES_ADMIN_URL = os.environ.get(
    "BATON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BATON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = bool(os.environ.get("CI"))
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Seconds a finished test run may take to exit before it is made to.
EXIT_GRACE_S = 60.0


def pytest_unconfigure(config: pytest.Config) -> None:
    """Make sure a finished run exits, and say what held it if it did not.

    A thread that outlives the tests (an unclosed aiosqlite connection, a
    stuck executor job) keeps the interpreter alive after the summary, and CI
    would wait for it until its time limit. After a grace period, print every
    thread's stack and exit with the run's own status.
    """
    if hasattr(config, "workerinput"):
        # A pytest-xdist worker: it is done when the controller says so,
        # which may be long after its own last test; the controller has this
        # same guard.
        return
    status = int(getattr(config, "_baton_exit_status", 0))

    def force_exit() -> None:
        print(
            f"\nthe test run did not exit {EXIT_GRACE_S:.0f}s after it finished; "
            "threads still running:",
            file=sys.stderr,
        )
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(status)

    timer = threading.Timer(EXIT_GRACE_S, force_exit)
    timer.daemon = True
    timer.start()


#: Test modules that take minutes (whole stacks, real training, browsers) and
#: run first, so that the two test workers end together rather than one
#: finishing such a module alone while the other has nothing left.
SLOW_FIRST = (
    "tests/e2e/test_training_loop.py",
    "tests/e2e/",
    "tests/reliability/",
    "tests/bench/",
    "tests/bot/training/test_evaluation.py",
    "tests/security/test_fuzz.py",
    "tests/security/test_shared_secret.py",
)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Put the slow modules first, each module's own order kept.

    A test marked ``only_with(fixture=value, ...)`` runs with those fixture
    parameters only: the others are deselected (reported as such, not
    skipped). For a slow test whose cost is in what the variants share
    (a real evaluation, a benchmark through the stack), not in what they
    change (the database, the bus).
    """
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (kept if _wanted_variant(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        for position, prefix in enumerate(SLOW_FIRST):
            if path.startswith(prefix):
                return position
        return len(SLOW_FIRST)

    items.sort(key=rank)  # stable: a module's tests keep their order


def _wanted_variant(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("only_with")
    callspec = getattr(item, "callspec", None)
    if marker is None or callspec is None:
        return True
    return all(
        callspec.params.get(name, wanted) == wanted
        for name, wanted in marker.kwargs.items()
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remember the run's status for :func:`pytest_unconfigure`."""
    session.config._baton_exit_status = exitstatus  # type: ignore[attr-defined]


def unavailable(what: str, error: Exception) -> None:
    """Skip (or, in CI, fail) a test whose real dependency is not there."""
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if IN_CI:
        pytest.fail(f"{message}; CI requires it", pytrace=False)
    pytest.skip(message)


async def empty_knowledge_base(engine: Any) -> None:
    """Delete every article, version and labelled question; mark the KB unseeded.

    The PostgreSQL database is shared by a whole run: a test that needs a
    known knowledge base starts from this rather than from what earlier tests
    left (the next hub, or ``seed_if_new``, seeds it afresh).
    """
    async with engine.begin() as connection:
        await connection.execute(LabelledQuestion.__table__.delete())
        await connection.execute(kb_versions.delete())
        await connection.execute(kb_articles.delete())
        await connection.execute(kb_state.update().values(seeded=False))


@contextlib.asynccontextmanager
async def served(app: Sanic) -> AsyncIterator[int]:
    """Serve ``app`` on a free loopback port until the block ends; yield the port."""
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield port
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@contextlib.contextmanager
def scratch_postgres(prefix: str) -> Iterator[str]:
    """The URL of a new PostgreSQL database ``<prefix>_<random>``, dropped on exit
    (with any connections still open to it)."""
    import psycopg2

    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        admin = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=3)
    except Exception as error:
        unavailable("PostgreSQL", error)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    with scratch_postgres("baton_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis server."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        unavailable("Redis", error)
    return REDIS_URL


#: The databases every SQL test runs on.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _database_url(request: pytest.FixtureRequest, folder: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{folder / 'baton.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each SQL test runs on the embedded SQLite file and on PostgreSQL."""
    return _database_url(request, tmp_path)


@pytest.fixture(scope="module", params=DATABASES)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """Like :func:`database_url`, one per test module: its shared hub's."""
    return _database_url(request, tmp_path_factory.mktemp("database"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[object]:
    """A migrated database engine."""
    engine = create_engine(database_url)
    await upgrade_database(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def bus_factory(request: pytest.FixtureRequest) -> Iterator[object]:
    """Creates buses of one backend; Redis ones share a per-test prefix."""
    prefix = f"baton-test-{secrets.token_hex(4)}:"
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    shared = create_bus(url, prefix=prefix) if url is None else None
    created: list[EventBus] = []

    def make() -> EventBus:
        # In-process buses are one per process: every "instance" shares it.
        bus = shared if shared is not None else create_bus(url, prefix=prefix)
        created.append(bus)
        return bus

    make.backend = request.param  # type: ignore[attr-defined]
    yield make


def settings_in(folder: Path) -> Settings:
    """Settings of a hub on the embedded defaults keeping its data in
    ``folder``, Rasa not running."""
    return Settings(
        host="127.0.0.1",
        port=free_port(),
        project_dir=PROJECT_DIR,
        data_dir=folder,
        model_dir=PROJECT_DIR / "models",
        database_url=f"sqlite:///{folder / 'hub.db'}",
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
        rasa_timeout_s=5.0,
        # Tests' hubs build the knowledge index when a test searches (the
        # background build costs ~10 s of CPU per hub started).
        knowledge_warm_up=False,
    )


@pytest.fixture
def hub_settings(tmp_path: Path) -> Settings:
    """Settings of a hub on the embedded defaults, Rasa not running."""
    return settings_in(tmp_path)


@pytest.fixture
async def hub(hub_settings: Settings) -> AsyncIterator[RunningHub]:
    """A hub served on loopback, in this process."""
    async with running_hub(hub_settings) as running:
        yield running


def shared_hub(*, on_databases: bool = True, name: str = "hub", **changes: Any) -> Any:
    """A module's ``hub`` fixture: one hub per module (and database), shared.

    Starting a hub migrates and seeds its database, which costs more than
    most tests; a module whose tests do not need a fresh hub each says
    ``hub = shared_hub(...)`` with the settings it differs in. Its tests
    share the database, limiters and sockets, as tests on PostgreSQL share
    the database anyway; a test that needs its own hub starts one with
    :func:`tests.hub.running_hub`.

    Args:
        on_databases: Run the module on SQLite and PostgreSQL (else the
            embedded SQLite file only).
        name: The fixture's name; a module whose tests each need some
            cleaning first names it otherwise and wraps it in a ``hub``
            fixture of its own.
        changes: Settings of the hub that differ from :func:`settings_in`.
    """
    if on_databases:

        @pytest.fixture(scope="module", name=name)
        async def hub_on_databases(
            tmp_path_factory: pytest.TempPathFactory, module_database_url: str
        ) -> AsyncIterator[RunningHub]:
            folder = tmp_path_factory.mktemp("hub")
            changed = {"database_url": module_database_url, **changes}
            async with running_hub(settings_in(folder).with_changes(**changed)) as hub:
                yield hub

        return hub_on_databases

    @pytest.fixture(scope="module", name=name)
    async def hub_on_sqlite(
        tmp_path_factory: pytest.TempPathFactory,
    ) -> AsyncIterator[RunningHub]:
        folder = tmp_path_factory.mktemp("hub")
        async with running_hub(settings_in(folder).with_changes(**changes)) as hub:
            yield hub

    return hub_on_sqlite

"""The embedded SQLite files hold password hashes and transcripts: owner only."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.db.engine import create_engine
from bot.db.migrate import upgrade_database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_is_private(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    engine = create_engine(f"sqlite:///{folder / 'baton.db'}")
    await upgrade_database(engine)
    await engine.dispose()
    assert mode(folder) == 0o700
    files = list(folder.iterdir())
    assert files and all(mode(path) == 0o600 for path in files), [
        (path.name, oct(mode(path))) for path in files
    ]


async def test_an_existing_world_readable_database_is_made_private(
    tmp_path: Path,
) -> None:
    path = tmp_path / "baton.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    engine = create_engine(f"sqlite:///{path}")
    await engine.dispose()
    assert mode(path) == 0o600


def test_rasa_creates_its_tracker_database_private(tmp_path: Path) -> None:
    """The Rasa process's own SQLite tracker file is created 0600 too."""
    import subprocess
    import sys

    tracker = tmp_path / "rasa-tracker.db"
    script = (
        "import sqlite3, sys\n"
        "from bot.rasa_server import keep_files_private\n"
        "keep_files_private()\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('create table t (x)')\n"
        "db.commit()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(tracker)],
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert mode(tracker) == 0o600

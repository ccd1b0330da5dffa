"""What every ``baton`` command shares: error lines and logging."""

from __future__ import annotations

import logging
import sys

#: Libraries that log what they carry at DEBUG (aiosqlite every query's
#: parameters: CSRF tokens, e-mail addresses, mail bodies with reset links;
#: websockets every frame): kept at INFO whatever BATON_LOG_LEVEL says.
CHATTY_LOGGERS = ("aiosqlite", "websockets")


def fail(message: str, status: int) -> int:
    """Print ``baton: message`` to stderr and return the exit status."""
    print(f"baton: {message}", file=sys.stderr)
    return status


def configure_logging(level: str) -> None:
    """Log at ``level`` (``BATON_LOG_LEVEL``), never below INFO for chatty libraries.

    Args:
        level: A level name, DEBUG to ERROR.
    """
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger().setLevel(level)
    floor = max(logging.INFO, logging.getLevelName(level))
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(floor)

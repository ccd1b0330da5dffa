"""Loopback ports for the servers that tests and benchmarks start.

A port the kernel picks (binding port 0) lies in its ephemeral range, from
which it also picks the local port of every outgoing connection: between the
moment such a port is chosen and the moment a server binds it, a client
socket (a test's, a database pool's) may take it, and the server cannot
start. :func:`free_port` hands out ports below that range instead, which only
a server asking for one by number gets.

Each pytest-xdist worker (``PYTEST_XDIST_WORKER``: ``gw0``, ``gw1``, ...) has
a block of its own, and a process outside any worker has another. Within a
block the ports are handed out in turn from a cursor kept in a file under a
lock, shared by every process of that block (a worker, the subprocesses it
starts, a benchmark), so that none hands out a port another has just chosen
but not bound yet. A port that anything holds is skipped.
"""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
import zlib
from pathlib import Path

#: The first port handed out: well above the well-known services' ports.
FIRST_PORT = 20000
#: The ports of one block: with Linux's default range, twelve blocks (no
#: worker, and ``gw0`` to ``gw10``).
BLOCK_SIZE = 1000
#: Where the ephemeral range starts when the kernel does not say (Linux's
#: default; IANA's is 49152).
DEFAULT_EPHEMERAL_FLOOR = 32768
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_floor(source: Path = EPHEMERAL_RANGE) -> int:
    """The lowest port the kernel gives outgoing connections."""
    try:
        return int(source.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_FLOOR


def port_block(worker: str | None) -> range:
    """The ports of a pytest-xdist worker (``gw3``), or of no worker (``None``).

    Raises:
        RuntimeError: The ephemeral range starts too low for two blocks.
    """
    floor = ephemeral_floor()
    blocks = (floor - FIRST_PORT) // BLOCK_SIZE
    if blocks < 2:
        raise RuntimeError(
            f"the ephemeral port range starts at {floor}: too low to "
            f"hand out ports from {FIRST_PORT} in blocks of {BLOCK_SIZE}"
        )
    if worker is None:
        index = 0
    else:
        number = worker.removeprefix("gw")
        # Past the last block, workers share blocks, and with them the cursor:
        # they take turns, and a block goes round sooner.
        found = int(number) if number.isdigit() else zlib.crc32(worker.encode())
        index = 1 + found % (blocks - 1)
    start = FIRST_PORT + index * BLOCK_SIZE
    return range(start, start + BLOCK_SIZE)


def cursor_path(block: range) -> Path:
    """The file that holds the next port of ``block`` for this user's processes."""
    return Path(tempfile.gettempdir()) / f"baton-ports-{os.getuid()}-{block.start}"


def take_port(block: range, cursor: Path) -> int:
    """Hand out the next port of ``block`` that nothing holds.

    The search starts after the port last handed out (kept in ``cursor``)
    and wraps around at the end of the block.

    Raises:
        RuntimeError: Every port of the block is held.
    """
    descriptor = os.open(cursor, os.O_RDWR | os.O_CREAT, 0o600)
    with open(descriptor, "r+", encoding="ascii") as state:
        # Released when the file closes; another open() of the file, even in
        # this process, waits for it.
        fcntl.flock(state, fcntl.LOCK_EX)
        text = state.read().strip()
        following = int(text) if text.isdigit() else block.start
        if following not in block:
            following = block.start
        for offset in range(len(block)):
            port = block.start + (following - block.start + offset) % len(block)
            if unused(port):
                state.seek(0)
                state.truncate()
                state.write(str(port + 1))
                return port
    raise RuntimeError(f"every port from {block.start} to {block.stop - 1} is held")


def unused(port: int) -> bool:
    """Whether no socket holds ``port`` on any IPv4 address.

    Without ``SO_REUSEADDR`` the bind fails for a listener, a connection and
    a closed connection in TIME_WAIT alike (a server binding with
    ``SO_REUSEADDR`` could take the last, but the check keeps clear of it).
    The wildcard address conflicts with loopback and every other address.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback TCP port below the ephemeral range that nothing holds now.

    It comes from the block of this pytest-xdist worker (or of no worker), after
    the block's last port handed out, so no other process of this user's test
    runs and benchmarks is given it until the block has gone round.
    """
    block = port_block(os.environ.get("PYTEST_XDIST_WORKER"))
    return take_port(block, cursor_path(block))

"""The loopback ports that tests and benchmarks give their servers."""

from __future__ import annotations

import contextlib
import itertools
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.ports import (
    FIRST_PORT,
    ephemeral_floor,
    free_port,
    port_block,
    take_port,
    unused,
)
from tests.conftest import PROJECT_DIR
from tests.conftest import free_port as free_port_of_the_tests


@contextlib.contextmanager
def listening(ports: range) -> Iterator[set[int]]:
    """Listen on loopback, as a server does, on each of ``ports`` that is free."""
    with contextlib.ExitStack() as stack:
        held: set[int] = set()
        for port in ports:
            listener = stack.enter_context(socket.socket())
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with contextlib.suppress(OSError):
                listener.bind(("127.0.0.1", port))
                listener.listen()
                held.add(port)
        yield held


def leave_in_time_wait(port: int) -> None:
    """Serve one connection on ``port`` and close it from the server's side,
    which leaves it in TIME_WAIT; then stop listening."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = listener.accept()
            accepted.close()
            client.recv(1)


def test_the_tests_use_the_shared_helper() -> None:
    assert free_port_of_the_tests is free_port


def test_two_calls_give_two_ports_below_the_ephemeral_range() -> None:
    first, second = free_port(), free_port()

    assert first != second
    assert FIRST_PORT <= min(first, second)
    assert max(first, second) < ephemeral_floor()


def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path: Path) -> None:
    kernel = tmp_path / "ip_local_port_range"
    kernel.write_text("40000\t60999\n")

    assert ephemeral_floor(kernel) == 40000
    assert ephemeral_floor(tmp_path / "absent") == 32768


def test_each_worker_has_its_own_block_below_the_ephemeral_range() -> None:
    blocks = [port_block(None), port_block("gw0"), port_block("gw1")]

    for block in blocks:
        assert FIRST_PORT <= block.start
        assert block.stop <= ephemeral_floor()
    for one, other in itertools.combinations(blocks, 2):
        assert set(one).isdisjoint(other)


def test_free_port_takes_from_this_workers_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    assert free_port() in port_block("gw1")

    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert free_port() in port_block(None)


def test_ports_follow_each_other_and_wrap_around(tmp_path: Path) -> None:
    block = port_block("gw5")
    cursor = tmp_path / "cursor"

    taken = [take_port(block, cursor) for _ in range(3)]
    cursor.write_text(str(block.stop - 1))
    last, wrapped = take_port(block, cursor), take_port(block, cursor)

    free = [port for port in block if unused(port)]
    assert taken == free[:3]
    from_the_end = [port for port in free if port == block.stop - 1] + free
    assert [last, wrapped] == from_the_end[:2]


def test_a_port_a_server_listens_on_is_never_handed_out(tmp_path: Path) -> None:
    block = port_block("gw6")
    with listening(block[:10]) as held:
        assert held
        taken = {take_port(block, tmp_path / "cursor") for _ in range(10)}

    assert taken.isdisjoint(held)
    assert taken <= set(block)


def test_a_port_with_a_connection_in_time_wait_is_skipped(tmp_path: Path) -> None:
    block = port_block("gw7")
    port = next(port for port in block if unused(port))
    leave_in_time_wait(port)

    assert not unused(port)
    assert take_port(block, tmp_path / "cursor") != port


def test_processes_of_one_worker_share_the_block(tmp_path: Path) -> None:
    """Ports chosen but not bound yet are not held: only the shared cursor
    keeps another process from choosing them too."""
    block = port_block("gw2")
    cursor = tmp_path / "cursor"
    program = (
        "import sys\n"
        "from bench.ports import port_block, take_port\n"
        "from pathlib import Path\n"
        "for _ in range(40):\n"
        "    print(take_port(port_block('gw2'), Path(sys.argv[1])))\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", program, str(cursor)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    mine = [take_port(block, cursor) for _ in range(40)]
    output, _ = other.communicate(timeout=60)
    theirs = [int(line) for line in output.split()]

    assert other.returncode == 0
    assert len(theirs) == 40
    assert len(set(mine) | set(theirs)) == 80

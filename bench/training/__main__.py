"""``python -m bench.training inbox|loop [options]`` (see :mod:`bench.training`)."""

from __future__ import annotations

import sys

from bench.training import inbox, loop


def main(argv: list[str]) -> int:
    """Run one benchmark by name."""
    benchmarks = {"inbox": inbox.main, "loop": loop.main}
    if not argv or argv[0] not in benchmarks:
        print("usage: python -m bench.training inbox|loop [--help]", file=sys.stderr)
        return 2
    return benchmarks[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

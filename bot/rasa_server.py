"""Run Rasa with the shared secret taken from the settings, not the command line.

``rasa run --auth-token=...`` would show the token to every local user in the
process list (``/proc/<pid>/cmdline``). ``python -m bot.rasa_server run ...``
takes the same arguments as ``rasa``, reads the token from
``BATON_RASA_TOKEN`` (:class:`bot.config.Settings`) and hands it to Rasa's
own command line parser inside the process, where no other user can see it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from bot.config import Settings


def rasa_arguments(arguments: Sequence[str], token: str) -> list[str]:
    """Rasa's command line for ``arguments``, with the token added.

    Raises:
        SystemExit: The token is not set, or was given on the command line.
    """
    if not token:
        raise SystemExit("bot.rasa_server: BATON_RASA_TOKEN is not set")
    if any(argument.startswith("--auth-token") for argument in arguments):
        raise SystemExit("bot.rasa_server: pass the token in BATON_RASA_TOKEN only")
    # "=" form: a random token may start with "-".
    return [*arguments, f"--auth-token={token}"]


def keep_files_private() -> None:
    """Have every file Rasa creates readable by its owner only.

    With the embedded default Rasa's tracker store is a SQLite file
    (``var/rasa-tracker.db``) holding every conversation; SQLite creates it
    and its journal with the process's umask.
    """
    os.umask(0o077)


def main() -> None:
    """Run ``rasa`` with this process's arguments and the shared token."""
    keep_files_private()
    arguments = rasa_arguments(sys.argv[1:], Settings.from_env().rasa_token)
    from bot.assistant import model_swap

    # A deployed model is loaded beside the running one, not in its place.
    model_swap.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *arguments]
    rasa_main()


if __name__ == "__main__":
    main()

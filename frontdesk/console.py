"""Console output of the command-line tools (the desk's ``frontdesk`` and ``frontdesk-server``)."""

from __future__ import annotations

import os
import sys


def stdout_closed() -> int:
    """The output was piped into a command that stopped reading (``… | head -1``): not an
    error. Point stdout at devnull so Python's exit flush does not complain; exit 0."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0

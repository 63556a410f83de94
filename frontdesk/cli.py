"""Command-line entry: ``frontdesk [--data-dir DIR] [command …]``. Without a command the desktop
app opens. Each command lives in its own module under ``frontdesk.commands`` and registers a
sub-parser whose ``run(args)`` returns the exit code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from frontdesk import __version__

COMMAND_MODULES = (
    "frontdesk.commands.demo",
    "frontdesk.commands.backup",
    "frontdesk.commands.invoices",
    "frontdesk.commands.messages",
    "frontdesk.commands.patients",
    "frontdesk.commands.sync",
)


def _global_options(**kw: Any) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontdesk", description="Front desk for allied-health clinics.", **kw
    )
    parser.add_argument("--version", action="version", version=f"frontdesk {__version__}")
    parser.add_argument("--data-dir", help="folder for this desk's database, backups and logs")
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="open the database, draw the main window off screen, and exit 0 when all is well",
    )
    parser.add_argument(
        "--demo-if-empty",
        action="store_true",
        help="fill an empty database with the demo clinic before opening",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _global_options()
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    # ``frontdesk demo --data-dir DIR`` (as ``make demo ARGS="--data-dir DIR"`` writes it) means
    # the same as ``frontdesk --data-dir DIR demo``; given only after the command, it is kept.
    for command in sub.choices.values():
        command.add_argument("--data-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments. Opening the app (global options only, the usual start) does not import
    the commands' modules — they bring in SQLAlchemy and the models before the window's
    start-up could overlap them with its check of the database file (issue 21)."""
    words = list(sys.argv[1:] if argv is None else argv)
    known, rest = _global_options(add_help=False).parse_known_args(words)
    if not rest:
        known.command = None
        return known
    return build_parser().parse_args(words)

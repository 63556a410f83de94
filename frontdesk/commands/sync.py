"""``frontdesk enrol --server URL --code CODE`` and ``frontdesk sync``: set up and run sync from
the command line (for setting up desks by script)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from frontdesk.domain.errors import FrontdeskError
from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "enrol", help="enrol this desk with a clinic server"
    )
    p.add_argument("--server", required=True, help="the server's address, e.g. http://host:8765")
    p.add_argument("--code", required=True, help="the one-time enrolment code")
    p.add_argument("--name", default="", help="a name for this desk (e.g. Front desk)")
    p.set_defaults(run=run_enrol)
    s: argparse.ArgumentParser = sub.add_parser("sync", help="sync once with the clinic server")
    s.set_defaults(run=run_sync)


def run_enrol(args: argparse.Namespace) -> int:
    from frontdesk.sync.setup import enrol

    ctx = open_desk(desk_paths(args.data_dir))
    try:
        prefix = enrol(ctx, args.server, args.code, device_name=args.name)
    except FrontdeskError as exc:
        print(exc.user_message, file=sys.stderr)
        return 2
    print(f"Enrolled. This desk numbers its invoices {prefix}-000001 onwards.")
    return run_sync(args)


def run_sync(args: argparse.Namespace) -> int:
    from frontdesk.sync.setup import engine_for

    ctx = open_desk(desk_paths(args.data_dir))
    try:
        summary = engine_for(ctx).sync()
    except FrontdeskError as exc:
        print(f"Sync did not finish: {exc.user_message}", file=sys.stderr)
        return 1
    print(summary.text())
    return 0 if not summary.pending else 1

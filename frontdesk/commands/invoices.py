"""``frontdesk invoices print --date YYYY-MM-DD --out DIR``: one PDF per invoice issued that day."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("invoices", help="print invoices as PDF files")
    verbs = p.add_subparsers(dest="invoices_command", metavar="action", required=True)
    pr = verbs.add_parser("print", help="write one PDF per invoice issued on a day")
    pr.add_argument("--date", required=True, help="the day of issue, e.g. 2026-11-27")
    pr.add_argument("--out", required=True, help="folder to write the PDF files into")
    pr.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from frontdesk.services.documents import print_invoices_for_day

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"“{args.date}” is not a date; write it as 2026-11-27.", file=sys.stderr)
        return 2
    ctx = open_desk(desk_paths(args.data_dir))
    try:
        written = print_invoices_for_day(ctx, day, Path(args.out))
    finally:
        ctx.engine.dispose()
    if not written:
        print(f"No invoices were issued on {day:%d/%m/%Y}.")
        return 0
    print(f"Wrote {len(written)} invoice PDF{'s' if len(written) != 1 else ''} to {args.out}")
    return 0

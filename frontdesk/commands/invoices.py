"""``frontdesk invoices print --date YYYY-MM-DD --out DIR``: one PDF per invoice issued that day.
``frontdesk invoices days``: the latest days on which invoices were issued, with how many."""

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
    days = verbs.add_parser("days", help="list the latest days with invoices issued, newest first")
    days.add_argument("--limit", type=int, default=10, help="how many days to list (default 10)")
    days.set_defaults(run=run_days)


def run_days(args: argparse.Namespace) -> int:
    """One line a day, ``2026-12-04 37`` (ISO date, invoices issued); nothing when none."""
    from frontdesk.services.billing.views import invoice_issue_days

    if args.limit < 1:
        print("--limit must be 1 or more.", file=sys.stderr)
        return 2
    ctx = open_desk(desk_paths(args.data_dir))
    try:
        found = invoice_issue_days(ctx, args.limit)
    finally:
        ctx.engine.dispose()
    for day, count in found:
        print(f"{day.isoformat()} {count}")
    return 0


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

"""``frontdesk demo``: fill a new desk database with the demo clinic."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from frontdesk.domain.clock import FakeClock, SystemClock
from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("demo", help="create the demo clinic")
    p.add_argument("--years", type=float, help="history to generate (default 12 weeks)")
    p.add_argument("--practitioners", type=int, default=None)
    p.add_argument("--patients", type=int, default=None)
    p.add_argument(
        "--time-zone",
        default=None,
        help="the clinic's time zone, e.g. Australia/Perth (default: the demo clinic's, Sydney)",
    )
    p.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD[THH:MM]",
        help="build the clinic as it stands at this moment in its own zone (default: now); "
        "a date alone means 07:00 that day. Benchmarks use it to be repeatable.",
    )
    p.set_defaults(run=run)


def _as_of(text: str, zone: ZoneInfo) -> datetime:
    """The instant the demo is built at, from a clinic-local date or date and time."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"“{text}” is not a date; write it as 2026-11-27 or 2026-11-27T07:00"
        ) from None
    if len(text) <= len("2026-11-27"):
        local = local.replace(hour=7)
    return local.replace(tzinfo=zone).astimezone(UTC) if local.tzinfo is None else local


def run(args: argparse.Namespace) -> int:
    # The generator is imported only to build a demo: the desktop app starts without it.
    from frontdesk.demo.generator import DemoSpec, build_demo, is_empty

    args.time_zone = args.time_zone or DemoSpec.time_zone
    try:
        zone = ZoneInfo(args.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        print(
            f"“{args.time_zone}” is not a time zone; write it as Australia/Perth.", file=sys.stderr
        )
        return 2
    try:
        clock = FakeClock(_as_of(args.as_of, zone)) if args.as_of else SystemClock()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    paths = desk_paths(args.data_dir)
    ctx = open_desk(paths, clock=clock)
    if not is_empty(ctx):
        print(f"{paths.database} already holds a clinic; demo data goes in a new data folder.")
        return 1
    if args.years:
        spec = DemoSpec.for_years(args.years, args.practitioners or 20, args.patients)
    else:
        spec = DemoSpec(practitioners=args.practitioners or 8, patients=args.patients)
    spec = replace(spec, time_zone=args.time_zone)
    started = time.perf_counter()
    last = [""]

    def progress(stage: str, fraction: float) -> None:
        line = f"{stage}: {fraction:4.0%}"
        if line != last[0]:
            print(f"\r{line:<40}", end="", file=sys.stderr, flush=True)
            last[0] = line

    summary = build_demo(ctx, spec, progress)
    print(file=sys.stderr)
    took = time.perf_counter() - started
    size = paths.database.stat().st_size / 1e6
    print(f"Demo clinic built in {took:.1f} s at {paths.database} ({size:.0f} MB)")
    for table in ("practitioners", "patients", "appointments", "invoices", "payments"):
        print(f"  {table:<14} {summary.counts.get(table, 0):>10,}")
    return 0

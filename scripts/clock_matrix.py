"""Run the date-sensitive tests (``pytest -m dates``) and, with ``--bundle``, the packaged app's
smoke test with the clock set to awkward moments: a Sunday, Christmas Day, 29 February, New Year's
Eve at 23:59 clinic time, both daylight-saving change days in Australia/Sydney, and a machine on
UTC while the clinic is in Perth.

The clock is moved for whole processes with ``faketime`` (libfaketime, Debian's ``faketime``
package) as an offset from the real time, so every process a test starts (a desk, the clinic
server, PostgreSQL, the bundle) agrees on the moment and time still runs. The machine's own zone
is set with ``TZ``.

    python scripts/clock_matrix.py                    # pytest -m dates at every moment
    python scripts/clock_matrix.py --only leap-day    # one moment
    python scripts/clock_matrix.py --bundle           # also the bundle in dist/ (make package)
    python scripts/clock_matrix.py --all-tests        # the whole suite, not only -m dates
    python scripts/clock_matrix.py --list             # the moments, as UTC instants
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Moment:
    name: str
    clinic_wall: str  # ISO local time in the clinic's zone
    clinic_zone: str
    machine_zone: str  # the TZ of every process (the computer's own zone)
    fold: int = 0  # 0: the first of a repeated hour (daylight saving ends), 1: the second

    def instant(self) -> datetime:
        local = datetime.fromisoformat(self.clinic_wall).replace(
            tzinfo=ZoneInfo(self.clinic_zone), fold=self.fold
        )
        return local.astimezone(UTC)


MOMENTS = (
    Moment("sunday", "2026-12-06T10:00", "Australia/Sydney", "UTC"),
    Moment("christmas", "2026-12-25T09:00", "Australia/Sydney", "Australia/Sydney"),
    Moment("leap-day", "2028-02-29T12:00", "Australia/Sydney", "UTC"),
    # 12:59 UTC on 31 December: the machine's date and the clinic's agree, the year ends in a minute
    Moment("new-years-eve", "2026-12-31T23:59", "Australia/Sydney", "UTC"),
    # clocks jump from 02:00 to 03:00 on Sunday 4 October 2026: one minute before
    Moment("dst-starts", "2026-10-04T01:59", "Australia/Sydney", "Australia/Sydney"),
    # clocks go back from 03:00 to 02:00 on Sunday 4 April 2027: inside the repeated hour
    Moment("dst-ends", "2027-04-04T02:30", "Australia/Sydney", "Australia/Sydney"),
    # Monday morning in Perth is still Sunday on the machine's own (UTC) clock
    Moment("perth-on-utc", "2026-12-07T07:30", "Australia/Perth", "UTC"),
)


def faketime_env(moment: Moment) -> dict[str, str]:
    """The environment that puts a process (and every process it starts) at ``moment``."""
    offset = round(moment.instant().timestamp() - time.time())
    return dict(
        os.environ,
        TZ=moment.machine_zone,
        FAKETIME=f"{offset:+d}",
        # monotonic clocks keep running from boot: a negative offset would make them negative
        FAKETIME_DONT_FAKE_MONOTONIC="1",
        FAKETIME_DONT_RESET="1",
        FRONTDESK_CLOCK_MOMENT=moment.name,
    )


def run(moment: Moment, command: list[str]) -> int:
    env = faketime_env(moment)
    print(f"\n== {moment.name}: {' '.join(command)}", flush=True)
    return subprocess.run(
        ["faketime", "-f", env["FAKETIME"], *command], env=env, cwd=ROOT, check=False
    ).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="run only this moment (repeatable)")
    parser.add_argument("--bundle", action="store_true", help="also smoke-test dist/frontdesk")
    parser.add_argument("--all-tests", action="store_true", help="the whole suite at each moment")
    parser.add_argument("--list", action="store_true", help="print the moments and exit")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest")
    args = parser.parse_args(argv)
    moments = [m for m in MOMENTS if not args.only or m.name in args.only]
    if args.only and len(moments) != len(set(args.only)):
        known = ", ".join(m.name for m in MOMENTS)
        print(f"Unknown moment in {args.only}; the moments are: {known}", file=sys.stderr)
        return 2
    if args.list:
        for m in moments:
            clinic = f"{m.clinic_wall} {m.clinic_zone}"
            print(f"{m.name:<14} {clinic:<36} machine TZ={m.machine_zone:<18} = {m.instant()} UTC")
        return 0
    if shutil.which("faketime") is None:
        print("faketime is not installed: apt-get install faketime", file=sys.stderr)
        return 2
    selection = [] if args.all_tests else ["-m", "dates"]
    results: list[tuple[str, str, int]] = []
    for m in moments:
        pytest = [sys.executable, "-m", "pytest", "-q", *selection, *args.pytest_args]
        results.append((m.name, "tests", run(m, pytest)))
        if args.bundle:
            smoke = [sys.executable, "packaging/build.py", "--smoke-only"]
            results.append((m.name, "bundle", run(m, [*smoke, "--time-zone", m.clinic_zone])))
    print("\nclock matrix:")
    for name, what, code in results:
        print(f"  {name:<14} {what:<7} {'ok' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for _, _, code in results) else 1


if __name__ == "__main__":
    sys.exit(main())

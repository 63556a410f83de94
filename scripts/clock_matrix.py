"""Run the date-sensitive tests (``pytest -m dates``) and, with ``--bundle``, the packaged app's
smoke test with the clock set to awkward moments: a Sunday, Christmas Day, 29 February, New Year's
Eve at 23:59 clinic time, both daylight-saving change days in Australia/Sydney, and a machine on
UTC while the clinic is in Perth.

The clock is moved as an offset from the real time, so every process agrees on the moment and
time still runs: Python processes (the test run and every desk, server or command it starts) by
``time-machine``, loaded from ``scripts/clock_shift/sitecustomize.py`` on ``PYTHONPATH``; the
packaged app, which is not a Python you can inject into, by ``faketime`` (libfaketime, Debian's
``faketime`` package). libfaketime is not used for Python: under it, a thread waiting on a
condition with a timeout never wakes. The machine's own zone is set with ``TZ``.

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
    # False: the tests that start real desk and server processes (TLS certificates, tokens,
    # enrolment: dates in UTC, years and expiry) are left to the moments that can break them
    processes: bool = True

    def instant(self) -> datetime:
        local = datetime.fromisoformat(self.clinic_wall).replace(
            tzinfo=ZoneInfo(self.clinic_zone), fold=self.fold
        )
        return local.astimezone(UTC)


MOMENTS = (
    Moment("sunday", "2026-12-06T10:00", "Australia/Sydney", "UTC"),
    Moment(
        "christmas", "2026-12-25T09:00", "Australia/Sydney", "Australia/Sydney", processes=False
    ),
    Moment("leap-day", "2028-02-29T12:00", "Australia/Sydney", "UTC"),
    # 12:59 UTC on 31 December: the machine's date and the clinic's agree, the year ends in a minute
    Moment("new-years-eve", "2026-12-31T23:59", "Australia/Sydney", "UTC"),
    # clocks jump from 02:00 to 03:00 on Sunday 4 October 2026: one minute before
    Moment(
        "dst-starts", "2026-10-04T01:59", "Australia/Sydney", "Australia/Sydney", processes=False
    ),
    # clocks go back from 03:00 to 02:00 on Sunday 4 April 2027: inside the repeated hour
    Moment("dst-ends", "2027-04-04T02:30", "Australia/Sydney", "Australia/Sydney", processes=False),
    # Monday morning in Perth is still Sunday on the machine's own (UTC) clock
    Moment("perth-on-utc", "2026-12-07T07:30", "Australia/Perth", "UTC", processes=False),
)
# The real-process tests (clinic server, enrolment, TLS, keychain) take most of the matrix's time;
# at the moments marked processes=False they are left out (--all-tests keeps them everywhere).
PROCESS_TESTS = ("tests/server", "tests/sync")


def moment_env(moment: Moment) -> dict[str, str]:
    """The environment that puts a process (and every process it starts) at ``moment``."""
    # inside a process this script already moved, time.time() is moved too: undo that first
    real_now = time.time() - float(os.environ.get("CLOCK_MATRIX_OFFSET", "0"))
    offset = round(moment.instant().timestamp() - real_now)
    shift = str(ROOT / "scripts" / "clock_shift")
    path = os.pathsep.join(p for p in (shift, os.environ.get("PYTHONPATH", "")) if p)
    return dict(
        os.environ,
        TZ=moment.machine_zone,
        PYTHONPATH=path,
        CLOCK_MATRIX_OFFSET=str(offset),
        CLOCK_MATRIX_MOMENT=moment.name,
    )


def run(moment: Moment, command: list[str]) -> int:
    print(f"\n== {moment.name}: {' '.join(command)}", flush=True)
    return subprocess.run(command, env=moment_env(moment), cwd=ROOT, check=False).returncode


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
    if args.bundle and shutil.which("faketime") is None:
        print("faketime is not installed: apt-get install faketime", file=sys.stderr)
        return 2
    selection = [] if args.all_tests else ["-m", "dates"]
    results: list[tuple[str, str, int]] = []
    for m in moments:
        # time_machine is imported by sitecustomize before pytest can rewrite its plugin: harmless
        quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
        # in parallel processes like make test (each started with this moment's environment)
        workers = ["-n", os.environ.get("JOBS", "3"), "--dist", "worksteal"]
        pytest = [sys.executable, "-m", "pytest", "-q", *quiet, *workers, *selection]
        if not (m.processes or args.all_tests):
            pytest += [f"--ignore={p}" for p in PROCESS_TESTS]
        pytest += args.pytest_args
        results.append((m.name, "tests", run(m, pytest)))
        if args.bundle:
            smoke = [sys.executable, "packaging/build.py", "--smoke-only"]
            smoke += ["--time-zone", m.clinic_zone, "--faketime"]
            results.append((m.name, "bundle", run(m, smoke)))
    print("\nclock matrix:")
    for name, what, code in results:
        print(f"  {name:<14} {what:<7} {'ok' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for _, _, code in results) else 1


if __name__ == "__main__":
    sys.exit(main())

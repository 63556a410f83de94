"""Foundation figures: building the 10-year demo clinic, and cold start to a visible window.

Baselines, measured in the same run:
- demo build: ``VACUUM INTO`` of the finished database — writing the same pages the plainest way,
  the I/O floor of producing that file;
- cold start: a bare PySide6 process that opens a QMainWindow and exits — the floor of any Qt app
  on this machine. The app's start adds the database open, migrations check and the first area.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import ROOT, Bench, ensure_scale_db, percentile

BARE_QT = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1440, 900); w.show()
app.processEvents(); w.grab()
"""
# The same window, reporting when it has painted (as FRONTDESK_STARTUP_PROBE makes the app do).
BARE_QT_PROBE = """
import sys, time
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1440, 900); w.show()
app.processEvents()
print("FRONTDESK_STARTUP_PROBE", f"{time.time():.6f}", f"{time.process_time():.6f}", flush=True)
"""


def _wall(cmd: list[str], runs: int) -> list[float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def _to_painted(
    cmd: list[str],
    runs: int,
    cpu: list[float] | None = None,
    cpu_painted: list[float] | None = None,
) -> list[float]:
    """Milliseconds from launching the process to its window painted (the probe's line);
    ``cpu`` gets each process's CPU time (user + system, to its exit) and ``cpu_painted`` its
    CPU time when it painted (the probe's third field): on a machine shared with other work the
    steadier figures, as waiting for a core is not counted."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FRONTDESK_STARTUP_PROBE="1")
    samples = []
    for _ in range(runs):
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        launched = time.time()
        done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=120)
        line = next(x for x in done.stdout.splitlines() if x.startswith("FRONTDESK_STARTUP_PROBE "))
        fields = line.split()
        samples.append((float(fields[1]) - launched) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if cpu is not None:
            cpu.append(1000 * (after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime))
        if cpu_painted is not None and len(fields) > 2:  # (a build from before it had none)
            cpu_painted.append(1000 * float(fields[2]))
    return samples


def _person_start(cmd: list[str], account: str) -> tuple[float, float, float]:
    """A person's start (no --selftest) signed in by the probe with ``account``: milliseconds
    from launch to the sign-in dialog painted, from signed in to the diary painted, and the
    process's CPU time when the dialog painted."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FRONTDESK_STARTUP_PROBE="1",
               FRONTDESK_STARTUP_PROBE_ACCOUNT=account)  # fmt: skip
    launched = time.time()
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=120)
    lines = {x.split()[0]: x.split()[1:] for x in done.stdout.splitlines() if x.strip()}
    signin = lines["FRONTDESK_STARTUP_PROBE_SIGNIN"]
    signed_in = float(lines["FRONTDESK_STARTUP_PROBE_SIGNED_IN"][0])
    diary = float(lines["FRONTDESK_STARTUP_PROBE"][0])
    return (float(signin[0]) - launched) * 1000, (diary - signed_in) * 1000, float(signin[1]) * 1000


def signin_start(bench: Bench, data_dir: Path, runs: int = 7) -> None:
    """A person's start on the clinic (the demo's reception account): launch to the sign-in
    dialog painted, and signed in to the diary painted, against a bare Qt window painted,
    interleaved."""
    from frontdesk.demo.generator import DEMO_ACCOUNTS

    account = next(f"{a[0]} {a[3]}" for a in DEMO_ACCOUNTS if a[0] == "reception")
    cmd = [sys.executable, "-m", "frontdesk.app", "--data-dir", str(data_dir)]
    to_dialog: list[float] = []
    to_diary: list[float] = []
    dialog_cpu: list[float] = []
    bare: list[float] = []
    bare_cpu: list[float] = []
    _person_start(cmd, account)  # the account's first sign-in rehashes its demo password
    for _ in range(runs):
        bare += _to_painted([sys.executable, "-c", BARE_QT_PROBE], 1, None, bare_cpu)
        dialog, diary, cpu = _person_start(cmd, account)
        to_dialog.append(dialog)
        to_diary.append(diary)
        dialog_cpu.append(cpu)
    load = f"load {os.getloadavg()[0]:.1f}"
    note = f"a person's start, FRONTDESK_STARTUP_PROBE; baseline: bare Qt window; {load}"
    for stat in ("p50", "p95"):
        q = int(stat[1:])
        bench.record("cold start to the sign-in dialog painted (a person's start)", stat,
                     percentile(to_dialog, q), "ms", percentile(bare, q), note)  # fmt: skip
    bench.record("cold start to the sign-in dialog painted, process CPU", "p50",
                 percentile(dialog_cpu, 50), "ms", percentile(bare_cpu, 50),
                 f"user + system to the paint; baseline: bare Qt window; {load}")  # fmt: skip
    bench.record(
        "signed in → diary painted (a person's start)",
        "p50",
        percentile(to_diary, 50),
        "ms",
        percentile(bare, 50),
        f"baseline: bare Qt window launch → painted; {load}",
    )


def compile_bytecode() -> None:
    """Write the package's bytecode, as the bundle ships it: with PYTHONDONTWRITEBYTECODE set
    (as on this machine) every start from source would otherwise compile ~130 modules."""
    import compileall

    compileall.compile_dir(str(ROOT / "frontdesk"), quiet=1)


def cold_start(bench: Bench, data_dir: Path, runs: int = 7, exe: Path | None = None) -> None:
    """Process launch to the diary painted, against a bare Qt window painted, interleaved;
    ``exe``: the bundle's executable instead of ``python -m frontdesk.app``."""
    # --selftest: no sign-in dialog (it runs as the system), the diary as a receptionist sees it
    what = "bundle " if exe is not None else ""
    app_cmd = [str(exe)] if exe is not None else [sys.executable, "-m", "frontdesk.app"]
    app_cmd += ["--data-dir", str(data_dir), "--selftest"]
    if exe is None:
        compile_bytecode()
    ours: list[float] = []
    bare: list[float] = []
    ours_cpu: list[float] = []
    bare_cpu: list[float] = []
    ours_painted: list[float] = []
    bare_painted: list[float] = []
    for _ in range(runs):
        bare += _to_painted([sys.executable, "-c", BARE_QT_PROBE], 1, bare_cpu, bare_painted)
        ours += _to_painted(app_cmd, 1, ours_cpu, ours_painted)
    load = f"load {os.getloadavg()[0]:.1f}"
    note = f"FRONTDESK_STARTUP_PROBE; baseline: bare Qt window; {load}"
    for stat in ("p50", "p95"):
        q = int(stat[1:])
        bench.record(f"{what}cold start to painted diary (launch → painted)", stat,
                     percentile(ours, q), "ms", percentile(bare, q), note)  # fmt: skip
    note = f"user + system to the paint; baseline: bare Qt window; {load}"
    cpu, base = percentile(ours_painted, 50), percentile(bare_painted, 50)
    bench.record(f"{what}cold start to painted diary, process CPU", "p50", cpu, "ms", base, note)
    note = f"user + system to exit (the start's work after the paint too); {load}"
    bench.record(f"{what}cold start, process CPU to exit", "p50", percentile(ours_cpu, 50),
                 "ms", percentile(bare_cpu, 50), note)  # fmt: skip


def run(bench: Bench) -> None:
    folder = ensure_scale_db(bench)
    db = folder / "frontdesk.sqlite3"
    build_file = folder / "build.json"
    seconds = bench.build_seconds
    if seconds is None and build_file.exists():
        seconds = json.loads(build_file.read_text())["seconds"]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        conn = sqlite3.connect(db)
        conn.execute("VACUUM INTO ?", (str(Path(tmp) / "copy.sqlite3"),))
        conn.close()
        vacuum = time.perf_counter() - t0
    conn = sqlite3.connect(db)
    appts = conn.execute("SELECT count(*) FROM appointments").fetchone()[0]
    patients = conn.execute("SELECT count(*) FROM patients").fetchone()[0]
    conn.close()
    size_mb = db.stat().st_size / 1e6
    note = f"{appts:,} appointments, {patients:,} patients, {size_mb:.0f} MB"
    if seconds is not None:
        bench.record("demo build (10 years, 20 practitioners)", "total", seconds, "s", vacuum, note)

    scale_dir = bench.fresh_scale_dir()
    cold_start(bench, scale_dir)
    signin_start(bench, scale_dir)
    app_cmd = [sys.executable, "-m", "frontdesk.app", "--data-dir", str(scale_dir), "--selftest"]
    bare = _wall([sys.executable, "-c", BARE_QT], 5)
    ours = _wall(app_cmd, 5)
    note = "python -m frontdesk.app --selftest vs a bare Qt window"
    bench.record("cold start to main window (10-year db)", "p50", percentile(ours, 50), "ms",
                 percentile(bare, 50), note)  # fmt: skip
    exe = ROOT / "dist" / "frontdesk" / "frontdesk"
    if exe.exists():
        cold_start(bench, scale_dir, exe=exe)
        bundle = _wall([str(exe), "--data-dir", str(scale_dir), "--selftest"], 5)
        note = "dist/frontdesk/frontdesk --selftest vs a bare Qt window"
        bench.record("bundle cold start to main window", "p50", percentile(bundle, 50), "ms",
                     percentile(bare, 50), note)  # fmt: skip
    else:
        print("  (no dist/frontdesk: run `make package` to time the bundle)")

"""The benchmark harness: the cached 10-year demo clinic, timing helpers and the results table.

Each ``benchmarks/bench_*.py`` defines ``run(bench: Bench) -> None`` and records figures with
``bench.record(...)``, always beside a baseline measured in the same run (the same work done the
plainest way: raw sqlite3, bare Qt items), so figures are ratios, comparable across machines.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("FRONTDESK_BENCH_CACHE", ROOT / "benchmarks" / ".cache"))
SCALE_YEARS = float(os.environ.get("FRONTDESK_BENCH_YEARS", "10"))
SCALE_PRACTITIONERS = int(os.environ.get("FRONTDESK_BENCH_PRACTITIONERS", "20"))
# The benchmark clinic is built as it stands at 07:00 on this Friday (clinic time), whatever the
# date the benchmarks run on: figures and the periods they query never depend on today.
DEMO_TODAY = date(2026, 11, 27)


@dataclass
class Result:
    name: str
    statistic: str  # "p50", "p95", "total" or "rate"
    value: float
    unit: str  # "ms", "s" or "per_s"
    baseline: float
    ratio: float
    note: str = ""


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def time_ms(fn: Callable[[], Any], repeat: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds of ``fn`` over ``repeat`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def schema_key() -> str:
    """Changes whenever the migrations or the demo generator change: the cache is rebuilt."""
    digest = hashlib.sha256()
    sources = sorted((ROOT / "frontdesk" / "db" / "migrations" / "versions").glob("*.py"))
    sources += [
        ROOT / "frontdesk" / "demo" / "generator.py",
        ROOT / "frontdesk" / "demo" / "words.py",
    ]
    for path in sources:
        digest.update(path.read_bytes())
    digest.update(f"{SCALE_YEARS}/{SCALE_PRACTITIONERS}/{DEMO_TODAY}".encode())
    return digest.hexdigest()[:16]


@dataclass
class Bench:
    results: list[Result] = field(default_factory=list)
    _scale_dir: Path | None = None
    build_seconds: float | None = None

    def record(
        self, name: str, statistic: str, value: float, unit: str, baseline: float, note: str = ""
    ) -> Result:
        ratio = value / baseline if baseline else float("inf")
        if unit == "per_s":  # higher is better: express ratio as baseline time / our time
            ratio = baseline / value if value else float("inf")
        result = Result(
            name, statistic, round(value, 3), unit, round(baseline, 3), round(ratio, 3), note
        )
        self.results.append(result)
        print(f"  {name:<48} {statistic:>5} {value:>10.2f} {unit:<5} "
              f"baseline {baseline:>10.2f}  ratio {ratio:>6.2f}  {note}", flush=True)  # fmt: skip
        return result

    def scale_dir(self) -> Path:
        """A data folder holding a private copy of the cached 10-year demo clinic."""
        if self._scale_dir is None:
            source = ensure_scale_db(self)
            work = CACHE / "work"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            shutil.copy2(source / "frontdesk.sqlite3", work / "frontdesk.sqlite3")
            self._scale_dir = work
        return self._scale_dir

    def fresh_scale_dir(self) -> Path:
        """Force a new copy (for benchmarks that write)."""
        self._scale_dir = None
        return self.scale_dir()


def ensure_scale_db(bench: Bench) -> Path:
    key = schema_key()
    folder = CACHE / f"scale-{key}"
    db = folder / "frontdesk.sqlite3"
    if db.exists():
        return folder
    for old in CACHE.glob("scale-*"):
        shutil.rmtree(old, ignore_errors=True)
    tmp = CACHE / f"building-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"Building the {SCALE_YEARS:g}-year, {SCALE_PRACTITIONERS}-practitioner demo clinic "
          f"(cached in {CACHE})…", flush=True)  # fmt: skip
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "frontdesk.app", "--data-dir", str(tmp), "demo",
         "--years", str(SCALE_YEARS), "--practitioners", str(SCALE_PRACTITIONERS),
         "--as-of", DEMO_TODAY.isoformat()],
        check=True,
    )  # fmt: skip
    bench.build_seconds = time.perf_counter() - started
    (tmp / "build.json").write_text(json.dumps({"seconds": bench.build_seconds}))
    shutil.rmtree(tmp / "logs", ignore_errors=True)
    tmp.rename(folder)
    return folder


def demo_clock() -> Any:
    """A clock standing at the benchmark clinic's "now" (07:00 Sydney on ``DEMO_TODAY``)."""
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    from frontdesk.domain.clock import FakeClock

    local = datetime.combine(DEMO_TODAY, time(7, 0), ZoneInfo("Australia/Sydney"))
    return FakeClock(local.astimezone(UTC))


def write_results(results: list[Result], path: Path) -> None:
    path.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


def median(samples: list[float]) -> float:
    return statistics.median(samples)

"""Run every benchmark (or those matching ``-k``), print a table, write results.json."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.harness import ROOT, Bench, write_results


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument(
        "-k",
        default="",
        help="run only benchmark modules whose name contains this (commas: any of several; "
        "a whole module name, e.g. bench_api, runs only that module)",
    )
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    args = parser.parse_args()
    modules = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    patterns = args.k.split(",")
    chosen = [m for m in modules if any(k == m or (k not in modules and k in m) for k in patterns)]
    bench = Bench()
    failed = []
    for name in chosen:
        print(f"\n== {name}", flush=True)
        try:
            importlib.import_module(f"benchmarks.{name}").run(bench)
        except Exception:
            traceback.print_exc()
            failed.append(name)
    write_results(bench.results, Path(args.out))
    print(f"\n{len(bench.results)} figures written to {args.out}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

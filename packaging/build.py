"""Build the one-folder bundle with PyInstaller, then run its self-test on a scratch folder.

python packaging/build.py            # → dist/frontdesk/frontdesk
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
            "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build"),
            str(ROOT / "packaging" / "frontdesk.spec"),
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    exe = ROOT / "dist" / "frontdesk" / ("frontdesk.exe" if os.name == "nt" else "frontdesk")
    size = sum(f.stat().st_size for f in exe.parent.rglob("*") if f.is_file()) / 1e6
    print(f"built {exe} ({size:.0f} MB) in {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        t0 = time.perf_counter()
        result = subprocess.run(
            [str(exe), "--data-dir", tmp, "--selftest"], env=env, check=False, timeout=300
        )
        print(f"bundle self-test exit {result.returncode} in {time.perf_counter() - t0:.2f} s")
        if result.returncode:
            return result.returncode
        return _smoke_commands(exe, Path(tmp), env)


def _smoke_commands(exe: Path, tmp: Path, env: dict[str, str]) -> int:
    """The bundle's own commands on a demo clinic: PDFs (ReportLab, fonts) and a backup."""
    data, out = tmp / "demo", tmp / "pdfs"
    today = time.strftime("%Y-%m-%d")
    for args in (["demo"], ["invoices", "print", "--date", today, "--out", str(out)],
                 ["backup", "--out", str(tmp / "backup.sqlite3")]):  # fmt: skip
        result = subprocess.run(
            [str(exe), "--data-dir", str(data), *args], env=env, check=False, timeout=600
        )
        if result.returncode:
            print(f"bundle smoke test failed: frontdesk {' '.join(args)}", file=sys.stderr)
            return result.returncode
    pdfs = list(out.glob("*.pdf"))
    if not pdfs or not (tmp / "backup.sqlite3").exists():
        print("bundle smoke test: no PDFs or no backup written", file=sys.stderr)
        return 1
    print(f"bundle smoke test ok: {len(pdfs)} invoice PDFs and a backup")
    return 0


if __name__ == "__main__":
    sys.exit(main())

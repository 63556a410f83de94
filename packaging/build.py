"""Build the one-folder bundle with PyInstaller, then run its self-test on a scratch folder.

python packaging/build.py                 # → dist/frontdesk/frontdesk
python packaging/build.py --smoke-only    # test the bundle already in dist/ (e.g. under faketime)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke-only", action="store_true", help="skip the build: test the bundle in dist/"
    )
    parser.add_argument(
        "--time-zone", help="the demo clinic's time zone for the smoke test (default: the demo's)"
    )
    parser.add_argument(
        "--faketime",
        action="store_true",
        help="run the bundle under faketime, CLOCK_MATRIX_OFFSET seconds from now "
        "(scripts/clock_matrix.py sets it)",
    )
    args = parser.parse_args(argv)
    exe = ROOT / "dist" / "frontdesk" / ("frontdesk.exe" if os.name == "nt" else "frontdesk")
    if not args.smoke_only:
        build(exe)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        run = [str(exe)]
        if args.faketime:
            run = ["faketime", "-f", f"{int(os.environ['CLOCK_MATRIX_OFFSET']):+d}", str(exe)]
        t0 = time.perf_counter()
        result = subprocess.run(
            [*run, "--data-dir", tmp, "--selftest"], env=env, check=False, timeout=300
        )
        print(f"bundle self-test exit {result.returncode} in {time.perf_counter() - t0:.2f} s")
        if result.returncode:
            return result.returncode
        demo = ["demo", "--time-zone", args.time_zone] if args.time_zone else ["demo"]
        return _smoke_commands(run, Path(tmp), env, demo)


def locked_versions_differ(lock: Path) -> list[str]:
    """Packages installed here at a version other than ``requirements.lock`` pins: the bundle
    ships what is installed, so it must be what the lock (and so the tests) had."""
    from importlib import metadata

    differ = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line[:1].isalnum() and "==" in line:
            name, version = line.split("==", 1)
            version = version.split()[0]
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                installed = "not installed"
            if installed != version:
                differ.append(f"{name} {installed} (locked {version})")
    return differ


def build(exe: Path) -> None:
    differ = locked_versions_differ(ROOT / "requirements.lock")
    if differ:
        raise SystemExit(
            "The environment is not the locked one; `make .venv/.installed` first: "
            + ", ".join(differ)
        )
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
    size = sum(f.stat().st_size for f in exe.parent.rglob("*") if f.is_file()) / 1e6
    print(f"built {exe} ({size:.0f} MB) in {time.perf_counter() - started:.0f} s")


def _smoke_commands(run: list[str], tmp: Path, env: dict[str, str], demo: list[str]) -> int:
    """The bundle's own commands on a demo clinic: PDFs (ReportLab, fonts) and a backup.

    The day to print is asked of the demo data (the latest day it issued invoices), never taken
    from today's date: the demo clinic issues none on Sundays, holidays or before opening time."""
    data, out, backup = tmp / "demo", tmp / "pdfs", tmp / "backup.sqlite3"

    def frontdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*run, "--data-dir", str(data), *args],
            env=env, check=False, timeout=600, capture_output=True, text=True,
        )  # fmt: skip

    def failed(step: str, result: subprocess.CompletedProcess[str]) -> int:
        print(f"bundle smoke test failed: frontdesk {step}", file=sys.stderr)
        print(result.stdout + result.stderr, file=sys.stderr)
        return result.returncode or 1

    if (result := frontdesk(*demo)).returncode:
        return failed(" ".join(demo), result)
    if (result := frontdesk("invoices", "days", "--limit", "1")).returncode:
        return failed("invoices days", result)
    if not result.stdout.split():
        print("bundle smoke test: the demo clinic issued no invoices at all", file=sys.stderr)
        return 1
    day, expected = result.stdout.split()[0], int(result.stdout.split()[1])
    if (result := frontdesk("invoices", "print", "--date", day, "--out", str(out))).returncode:
        return failed("invoices print", result)
    if (result := frontdesk("backup", "--out", str(backup))).returncode:
        return failed("backup", result)
    problem = check_invoice_pdfs(sorted(out.glob("*.pdf")), expected)
    if problem or not backup.exists() or backup.stat().st_size == 0:
        print(f"bundle smoke test: {problem or 'no backup written'}", file=sys.stderr)
        return 1
    print(f"bundle smoke test ok: {expected} invoice PDFs of {day}, read back, and a backup")
    return 0


def check_invoice_pdfs(pdfs: list[Path], expected: int) -> str | None:
    """None when there are ``expected`` PDFs and each reads back as an invoice carrying its own
    number (the file's name); otherwise what is wrong. Catches a blank or unreadable render."""
    from pypdf import PdfReader

    if len(pdfs) != expected:
        return f"{len(pdfs)} invoice PDFs written, {expected} expected"
    for pdf in pdfs:
        try:
            text = "".join(page.extract_text() or "" for page in PdfReader(pdf).pages)
        except Exception as exc:  # any parse failure means the render is broken
            return f"{pdf.name} does not read back as a PDF: {exc}"
        if "invoice" not in text.lower() or pdf.stem not in text:
            return f"{pdf.name} does not read back as invoice {pdf.stem}"
    return None


if __name__ == "__main__":
    sys.exit(main())

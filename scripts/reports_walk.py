"""Screenshots of the Reports area as an owner sees it: the dashboard once its worker has
finished, then each chart report for a period, each grabbed once its worker has delivered.

xvfb-run -a -s "-screen 0 1440x900x24" python scripts/reports_walk.py --data-dir DIR \
    --user owner --password owner-demo OUTDIR [--as-of 2026-11-27] [--size 1280x800]
(QT_QPA_PLATFORM=offscreen works too.) Prints how long each took to appear.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSettings, QThreadPool
from PySide6.QtWidgets import QApplication

from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk
from frontdesk.services.signin import sign_in
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.reports import ReportsPage
from frontdesk.ui.style import apply_style

CHARTS = (
    "Revenue by month (by practitioner)",
    "Revenue by month (by payer)",
    "Occupancy by weekday and hour",
    "Cancellations by reason over time",
    "New and returning patients",
    "Practitioners compared",
)


def wait_until(app: QApplication, ready: Callable[[], bool], timeout: float = 300) -> float:
    started = time.perf_counter()
    while not ready():
        app.processEvents()
        time.sleep(0.01)
        if time.perf_counter() - started > timeout:
            raise TimeoutError
    for _ in range(8):
        app.processEvents()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--user", default="owner")
    parser.add_argument("--password", default="owner-demo")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--as-of", help="the clinic's today (a fake clock at 07:00 clinic time)")
    parser.add_argument("--preset", type=int, default=4, help="period preset (4: last 12 months)")
    parser.add_argument(
        "--only", nargs="*", help="report names (default: the dashboard and charts)"
    )
    parser.add_argument("--pdf", action="store_true", help="also Save PDF… each report")
    parser.add_argument("out")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    apply_style(app)
    paths = desk_paths(args.data_dir)
    clock = None
    if args.as_of:
        from frontdesk.domain.clock import FakeClock

        local = datetime.combine(
            date.fromisoformat(args.as_of), dtime(7), ZoneInfo("Australia/Sydney")
        )
        clock = FakeClock(local.astimezone(UTC))
    started = time.perf_counter()
    ctx = open_desk(paths, clock=clock)
    print(f"opened in {time.perf_counter() - started:.1f} s")
    sign_in(ctx, args.user, args.password)
    bus = ChangeBus()
    ctx.listeners.append(bus.publish)
    window = MainWindow(ctx, bus, QSettings(str(paths.config_file), QSettings.Format.IniFormat))
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    page = window.show_area("reports")
    assert isinstance(page, ReportsPage)
    took = wait_until(app, lambda: page.dashboard is not None and page.progress.isHidden())
    print(f"dashboard: {took:.2f} s")
    window.grab().save(str(out / "dashboard.png"))
    for n, name in enumerate(args.only or CHARTS, 1):
        page.report = None
        page.kind.setCurrentText(name)
        if args.preset is not None:
            page.preset.setCurrentIndex(args.preset)
            page._apply_preset(args.preset)
        took = wait_until(
            app,
            lambda: (
                page.report is not None and page.report.title != "" and page.progress.isHidden()
            ),
        )
        slug = name.lower().replace(" ", "-").replace("(", "").replace(")", "")
        path = out / f"{n}-{slug}.png"
        window.grab().save(str(path))
        print(f"{name}: {took:.2f} s -> {path} ({page.status.text()})")
        if args.pdf:  # the Save PDF… button's own path, on its worker
            page.save_to(path.with_suffix(".pdf"))
            took = wait_until(app, lambda: not page.saving)
            print(f"  {page.status.text()} ({took:.2f} s)")
    QThreadPool.globalInstance().waitForDone()  # a refresh still running when the app goes
    return 0


if __name__ == "__main__":
    sys.exit(main())

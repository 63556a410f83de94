"""Screenshots of every area, a patient's card and the new-patient dialog at one window size,
for looking at the app as a clinic would (README images, checking for clipped text):

QT_QPA_PLATFORM=offscreen python scripts/tour.py --data-dir DIR --size 1280x720 OUTDIR
QT_SCALE_FACTOR=1.5 … for 150 % scaling (the PNGs are then 1.5 × the size in pixels).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk
from frontdesk.services.patients.search import search
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.style import apply_style


def _settle(app: QApplication) -> None:
    for _ in range(8):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--patient", default="a", help="search text; the first match's card")
    parser.add_argument("out")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication(sys.argv[:1])
    apply_style(app)
    paths = desk_paths(args.data_dir)
    ctx = open_desk(paths)
    bus = ChangeBus()
    ctx.listeners.append(bus.publish)
    window = MainWindow(ctx, bus, QSettings(str(paths.config_file), QSettings.Format.IniFormat))
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def save(widget: QWidget, name: str) -> None:
        _settle(app)
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(path)

    for area in window.areas:
        window.show_area(area.key)
        save(window, area.key)
    hits = search(ctx, args.patient)
    if hits:
        page = window.show_area("patients")
        page.search.box.setText(args.patient)  # type: ignore[attr-defined]
        page.search.run_search()  # type: ignore[attr-defined]
        page.open_patient(hits[0].id)  # type: ignore[attr-defined]
        save(window, "patient-card")
        from frontdesk.ui.patients.dialogs import NewPatientDialog

        dialog = NewPatientDialog(ctx, window)
        dialog.show()
        save(dialog, "new-patient")
        dialog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

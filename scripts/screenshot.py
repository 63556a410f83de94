"""Render the main window (optionally one area) to a PNG, for looking at what we built.

QT_QPA_PLATFORM=offscreen python scripts/screenshot.py --data-dir DIR --area diary out.png
"""

from __future__ import annotations

import argparse
import os
import sys

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk
from frontdesk.ui.bus import ChangeBus
from frontdesk.ui.main_window import MainWindow
from frontdesk.ui.style import apply_style


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--area", default="diary")
    parser.add_argument("--size", default="1440x900")
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
    window.show_area(args.area)
    window.show()
    for _ in range(5):
        app.processEvents()
    window.grab().save(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

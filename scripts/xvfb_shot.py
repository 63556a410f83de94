"""Start the real app in a real window on an Xvfb screen, grab the whole screen, exit.

xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python scripts/xvfb_shot.py DIR out.png
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from frontdesk import app as frontdesk_app


def main() -> int:
    data_dir, out = sys.argv[1], sys.argv[2]

    def shoot() -> None:
        qapp = QApplication.instance()
        assert isinstance(qapp, QApplication)
        screen = qapp.primaryScreen()
        screen.grabWindow(0).save(out)
        print(out, qapp.platformName())
        qapp.quit()

    QApplication(sys.argv[:1])  # the app reuses this instance; the timer needs it to exist
    QTimer.singleShot(2500, shoot)
    return frontdesk_app.main(["--data-dir", data_dir])


if __name__ == "__main__":
    sys.exit(main())

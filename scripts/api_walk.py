"""Issue 17's done-when walk: the reference client's phone call against a clinic server started
as README says, while two desks show the booking appear, move and disappear.

    python scripts/api_walk.py [--work DIR] [--shots /work/notes/walk17] [--port 8765]

Everything is done the documented way, from an empty folder, each command printed as it runs:
a demo clinic on the first desk (``frontdesk --data-dir DESK1 demo``), ``frontdesk-server
init / seed --from-desk / run / enrol``, ``frontdesk --data-dir … enrol`` for both desks, then the
real desk app (``frontdesk --data-dir …``) twice, each
on its own Xvfb screen (``xvfb-run -a``), its own data folder and its own keychain file (this
machine has no desktop keychain: ``PYTHON_KEYRING_BACKEND`` names the file backend the tests
use, ``tests/sync/file_keyring.py``). The owner makes the key on the first desk (Settings →
Integrations → New key…: a name and three scopes typed and clicked, the key shown once, Copy —
``0-new-key-desk1.png``), the call is tried as docs/integrations.md first shows it, the first
desk offers a type online (Settings → Online booking). Then ``examples/receptionist.py --step``
makes the call and waits after each step while both desks are photographed: before the call,
while the hold is shown, after the booking, after the move (the new day, then the old), after
the cancel (``<step>-desk1.png``, ``<step>-desk2.png``).

Inside each desk process (``api_walk.py desk …``) an operator signs in with the demo owner's
password like a person would (typing into the sign-in dialog), opens the diary at the day of
the offered time, and on the conductor's word waits until the diary shows what the API did
(it never makes the desk sync: the desk's own background worker does), then grabs the screen.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCREEN = "1440x900"


# -- the conductor ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Walk:
    def __init__(self, work: Path, shots: Path, port: int) -> None:
        self.work, self.shots, self.port = work, shots, port
        self.srv, self.desks = work / "srv", [work / "desk1", work / "desk2"]
        self.env = dict(os.environ)
        self.env.update(
            PYTHONPATH=str(ROOT),
            PYTHON_KEYRING_BACKEND="tests.sync.file_keyring.FileKeyring",
            PYTHONUNBUFFERED="1",
        )
        self.procs: list[subprocess.Popen[str]] = []  # the server and the desks
        self.caller: subprocess.Popen[str] | None = None
        self.seq = 0
        self.timings: dict[str, list[float]] = {}

    def run(self, *cmd: str, keyring: str = "server") -> str:
        shown = " ".join(c if " " not in c else repr(c) for c in cmd)
        print(f"$ {shown}", flush=True)
        env = {**self.env, "FRONTDESK_TEST_KEYRING": str(self.work / f"keyring-{keyring}.json")}
        done = subprocess.run(
            [str(BIN / cmd[0]), *cmd[1:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        out = done.stdout + done.stderr
        for line in out.splitlines()[:6]:
            print(f"    {line}")
        if done.returncode != 0:
            raise SystemExit(f"step failed ({done.returncode}): {shown}")
        return done.stdout

    def server(self, *args: str) -> str:
        return self.run("frontdesk-server", "--data-dir", str(self.srv), *args)

    def set_up(self) -> str:
        """README's Connecting desks, literally; answers the caller's number."""
        d1 = str(self.desks[0])
        self.run("frontdesk", "--data-dir", d1, "demo", keyring="desk1")
        self.server("init")
        self.server("seed", "--from-desk", d1)
        url = f"http://127.0.0.1:{self.port}"
        print(f"$ frontdesk-server --data-dir {self.srv} run --host 127.0.0.1 --port {self.port} &")
        log = (self.work / "server.log").open("w")
        self.procs.append(
            subprocess.Popen(
                [str(BIN / "frontdesk-server"), "--data-dir", str(self.srv), "run",
                 "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )
        )  # fmt: skip
        self._wait_for(url + "/health")
        for n, (desk, name) in enumerate(
            zip(self.desks, ("Front desk", "Back office"), strict=True), 1
        ):
            printed = self.server("enrol", "--name", name)
            code = re.search(r":\s*(\S+)\s*$", printed.splitlines()[0])
            assert code, printed
            self.run("frontdesk", "--data-dir", str(desk), "enrol", "--server", url,
                     "--code", code.group(1), "--name", name, keyring=f"desk{n}")  # fmt: skip
        return self._a_callers_number(self.desks[0])

    def make_key(self) -> str:
        """README's Integrations: the owner makes the key on the front desk (Settings →
        Integrations → New key…, typed and clicked), copies it and pastes it into the call."""
        print("  on desk1: Settings → Integrations → New key… → name, three scopes → Create key"
              " → Copy → Done")  # fmt: skip
        scopes = ["availability:read", "appointments:write", "patients:read"]
        answer = self.ask(
            1,
            {"make_key": "Phone receptionist", "scopes": scopes,
             "shots": str(self.shots / "0-new-key-desk1.png")},
            timeout=60,
        )  # fmt: skip
        key = str(answer["key"])
        assert key.startswith("fdk_"), "the desk showed no key"
        print(f"    the desk showed the key once: {key[:8]}… (copied to the clipboard)")
        return key

    def offer_online(self, type_name: str) -> None:
        """The demo clinic offers no type online: the manager ticks one on the front desk
        (Settings → Online booking), which syncs it to the server."""
        print(f"  on desk1: Settings → Online booking → {type_name} → Edit… → online → Save")
        self.ask(1, {"online": type_name})
        time.sleep(3)  # the desk pushes it within a second (debounced), the API reads it

    @staticmethod
    def _a_callers_number(desk: Path) -> str:
        """The mobile of a patient of the demo clinic with a future booking (as a receptionist
        would read it off the patient's card)."""
        db = sqlite3.connect(desk / "frontdesk.sqlite3")
        try:
            row = db.execute(
                "select mobile_phone from patients where mobile_phone like '04%' "
                "and archived_at is null and deleted_at is null order by last_name limit 1"
            ).fetchone()
        finally:
            db.close()
        assert row, "the demo clinic has no patient with a mobile number"
        return "+61 " + str(row[0])[1:]  # as caller ID shows it: the API normalises both

    def _wait_for(self, url: str) -> None:
        import httpx

        for _ in range(300):
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server did not answer at {url}")

    # -- the desks ---------------------------------------------------------------------------
    def open_desks(self) -> None:
        for n, desk in enumerate(self.desks, 1):
            control = self.work / f"desk{n}.control"
            control.write_text("")
            (self.work / f"desk{n}.ack").write_text("")
            env = {**self.env, "FRONTDESK_TEST_KEYRING": str(self.work / f"keyring-desk{n}.json")}
            cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}x24", str(BIN / "python"),
                   str(Path(__file__).resolve()), "desk", "--data-dir", str(desk),
                   "--control", str(control), "--ack", str(self.work / f"desk{n}.ack")]  # fmt: skip
            print(f"$ xvfb-run -a frontdesk --data-dir {desk}   (signed in as owner)", flush=True)
            log = (self.work / f"desk{n}.log").open("w")
            self.procs.append(
                subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
            )
        for n in (1, 2):
            self.ask(n, {"ready": True}, timeout=180)

    def ask(self, n: int, command: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        self.seq += 1
        command = {**command, "id": self.seq, "timeout": timeout}
        with (self.work / f"desk{n}.control").open("a") as f:
            f.write(json.dumps(command) + "\n")
        ack = self.work / f"desk{n}.ack"
        deadline = time.monotonic() + timeout + 30
        while time.monotonic() < deadline:
            for line in ack.read_text().splitlines():
                answer = json.loads(line)
                if answer["id"] == self.seq:
                    if not answer["ok"]:
                        raise SystemExit(f"desk{n}: {command} failed: {answer}")
                    return dict(answer)
            if any(p.poll() is not None for p in self.procs):
                raise SystemExit(f"a process ended early; see the logs in {self.work}")
            time.sleep(0.1)
        raise SystemExit(f"desk{n} did not answer {command}")

    def both(self, command: dict[str, Any], timeout: float = 30) -> list[dict[str, Any]]:
        return [self.ask(n, command, timeout) for n in (1, 2)]

    def shoot(self, step: str) -> None:
        for n in (1, 2):
            path = self.shots / f"{step}-desk{n}.png"
            self.ask(n, {"shoot": str(path)})
            print(f"    screenshot {path}")

    def seen(self, step: str, condition: dict[str, Any], since: float) -> None:
        for n, answer in enumerate(self.both({"wait": condition}, timeout=30), 1):
            after = answer["at"] - since
            self.timings.setdefault(step, []).append(after)
            print(f"    desk{n} shows it {after:.1f} s after the API answered")

    # -- the phone call ----------------------------------------------------------------------
    def try_call_first(self, key: str, caller: str) -> None:
        """The call as docs/integrations.md first shows it, straight after making the key."""
        cmd = [str(BIN / "python"), str(ROOT / "examples" / "receptionist.py"), "--server",
               f"http://127.0.0.1:{self.port}", "--key", key, "--caller", caller]  # fmt: skip
        print(f"$ python examples/receptionist.py --server http://127.0.0.1:{self.port} "
              f"--key fdk_… --caller {caller!r}", flush=True)  # fmt: skip
        done = subprocess.run(
            cmd, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        for line in (done.stdout + done.stderr).splitlines():
            print(f"    {line}")
        print(f"    (exit {done.returncode})")

    def call(self, key: str, caller: str) -> None:
        cmd = [str(BIN / "python"), str(ROOT / "examples" / "receptionist.py"), "--server",
               f"http://127.0.0.1:{self.port}", "--key", key, "--caller", caller,
               "--step"]  # fmt: skip
        print(f"$ python examples/receptionist.py --server http://127.0.0.1:{self.port} "
              f"--key fdk_… --caller {caller!r} --step", flush=True)  # fmt: skip
        call = subprocess.Popen(
            cmd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.caller = call
        assert call.stdin is not None and call.stdout is not None
        lines: dict[str, str] = {}

        def until(prefix: str) -> str:
            while True:
                line = call.stdout.readline()  # type: ignore[union-attr]
                if not line:
                    raise SystemExit(f"the call ended before {prefix!r} (exit {call.wait()})")
                print(f"    {line.rstrip()}", flush=True)
                lines[line.split(":")[0]] = line.strip()
                if line.startswith(prefix):
                    return line.strip()

        def go_on() -> None:
            call.stdin.write("\n")  # type: ignore[union-attr]
            call.stdin.flush()  # type: ignore[union-attr]

        until("offer 3")
        first = lines["offer 1"].split(": ", 1)[1].split(" with ")[0]
        self.both({"go": first})
        self.shoot("1-before")
        go_on()
        hold_id = until("hold").split()[1]
        at = time.time()
        self.seen("hold", {"hold": hold_id}, at)
        self.shoot("2-held")
        go_on()
        booked = until("booked")
        at = time.time()
        appt_id = booked.split()[1]
        self.seen("booked", {"appt": appt_id, "no_hold": hold_id}, at)
        until("confirmed")
        self.shoot("3-booked")
        go_on()
        moved_to = until("moved").rsplit(" to ", 1)[1]
        at = time.time()
        self.both({"go": moved_to})
        self.seen("moved", {"appt": appt_id, "start": moved_to}, at)
        self.shoot("4-moved")
        self.both({"go": first})  # and gone from where it was
        self.shoot("4-moved-away")
        self.both({"go": moved_to})
        go_on()
        until("cancelled")
        at = time.time()
        self.seen("cancelled", {"gone": appt_id}, at)
        self.shoot("5-cancelled")
        if call.wait(timeout=60) != 0:
            raise SystemExit("the reference client failed")
        time.sleep(1)  # read calls reach the call log within a quarter of a second
        shot = self.shots / "6-integrations-log-desk1.png"
        answer = self.ask(1, {"log_shot": str(shot)}, timeout=30)
        print(f"    screenshot {shot} ({answer['calls']} calls listed)")

    def close(self) -> None:
        for n in (1, 2):
            if (self.work / f"desk{n}.ack").exists():  # the desk was started
                with contextlib.suppress(SystemExit):
                    self.ask(n, {"quit": True}, timeout=5)
        for p in [*reversed(self.procs), *([self.caller] if self.caller else [])]:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


def conduct(args: argparse.Namespace) -> int:
    work = Path(args.work or tempfile.mkdtemp(prefix="api-walk-"))
    if work.exists() and any(work.iterdir()):
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    shots = Path(args.shots)
    shots.mkdir(parents=True, exist_ok=True)
    walk = Walk(work, shots, args.port or _free_port())
    try:
        caller = walk.set_up()
        walk.open_desks()
        key = walk.make_key()
        walk.try_call_first(key, caller)
        walk.offer_online(args.type)
        walk.call(key, caller)
    finally:
        walk.close()
    for step, seconds in walk.timings.items():
        print(f"{step}: on both desks after " + ", ".join(f"{s:.1f} s" for s in seconds))
    print(f"screenshots in {shots}; folders and logs in {work}")
    return 0


# -- inside a desk process -------------------------------------------------------------------
class Operator:
    """Signs in, opens the diary and carries out the conductor's commands, one at a time."""

    def __init__(self, control: Path, ack: Path, user: str, password: str) -> None:
        self.control, self.ack = control, ack
        self.user, self.password = user, password
        self.done = 0  # commands read so far
        self.pending: dict[str, Any] | None = None
        self.started = 0.0
        self.signed_in = False
        self.busy = False  # a modal dialog's own event loop runs the timer too

    def window(self) -> Any:
        from PySide6.QtWidgets import QApplication

        from frontdesk.ui.main_window import MainWindow

        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible():
                return w
        return None

    def sign_in(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication

        dialog = next(
            (w for w in QApplication.topLevelWidgets()
             if w.objectName() == "signInDialog" and w.isVisible()), None,
        )  # fmt: skip
        if dialog is None:
            return
        panel = dialog.panel  # type: ignore[attr-defined]
        panel.username.clear()
        QTest.keyClicks(panel.username, self.user)
        QTest.keyClicks(panel.secret, self.password)
        QTest.keyClick(panel.secret, Qt.Key.Key_Return)
        self.signed_in = True

    def tick(self) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            self._tick()
        finally:
            self.busy = False

    def _tick(self) -> None:
        if not self.signed_in:
            self.sign_in()
            return
        if self.pending is None:
            lines = self.control.read_text().splitlines()
            if len(lines) <= self.done:
                return
            self.pending = json.loads(lines[self.done])
            self.done += 1
            self.started = time.monotonic()
        command = self.pending
        try:
            result = self.carry_out(command)
        except Exception as exc:  # told to the conductor, which stops the walk
            self.answer(command, ok=False, error=repr(exc))
            return
        if result is None:  # not yet
            if time.monotonic() - self.started > command["timeout"]:
                self.answer(command, ok=False, error="timed out", state=self.state())
            return
        self.answer(command, ok=True, **result)

    def answer(self, command: dict[str, Any], **values: Any) -> None:
        with self.ack.open("a") as f:
            f.write(json.dumps({"id": command["id"], "at": time.time(), **values}) + "\n")
        self.pending = None

    @staticmethod
    def open_topic(window: Any, topic: str) -> None:
        """Settings, then the topic in its list clicked with the mouse."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QListWidget

        window.show_area("settings")
        topics = next(
            t for t in window.findChildren(QListWidget)
            if t.findItems(topic, Qt.MatchFlag.MatchExactly)
        )  # fmt: skip
        item = topics.findItems(topic, Qt.MatchFlag.MatchExactly)[0]
        QTest.mouseClick(
            topics.viewport(), Qt.MouseButton.LeftButton, pos=topics.visualItemRect(item).center()
        )

    def offer_online(self, window: Any, type_name: str) -> None:
        """Settings → Online booking: the type's row, Edit…, tick "online", Save — by mouse."""
        from PySide6.QtCore import Qt, QTimer
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication, QPushButton

        from frontdesk.ui.settings.online_booking import OnlineBookingPage

        self.open_topic(window, "Online booking")
        page = window.findChild(OnlineBookingPage)
        model = page.types.model
        row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == type_name)
        page.types.view.selectRow(row)

        def tick_and_save() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(50, tick_and_save)
                return
            if not dialog.online.isChecked():  # type: ignore[attr-defined]
                dialog.online.click()  # type: ignore[attr-defined]
            save = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Save")
            QTest.mouseClick(save, Qt.MouseButton.LeftButton)

        QTimer.singleShot(50, tick_and_save)
        QTest.mouseClick(page.types.edit, Qt.MouseButton.LeftButton)  # returns once saved
        assert model.index(row, 1).data() == "Yes", "the type was not made bookable online"

    def make_key(self, window: Any, name: str, scopes: list[str], shot: str) -> str:
        """Settings → Integrations → New key…: the name typed, the scopes ticked, Create key,
        the key shown once (the dialog photographed), Copy, Done — by keyboard and mouse.
        Answers what the clipboard then holds."""
        from PySide6.QtCore import Qt, QTimer
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication, QCheckBox

        from frontdesk.ui.settings.integrations import IntegrationsPage, NewKeyDialog

        left = Qt.MouseButton.LeftButton
        self.open_topic(window, "Integrations")
        page = window.findChild(IntegrationsPage)
        deadline = time.monotonic() + 30
        while page.loaded < 1 and time.monotonic() < deadline:  # the keys listed first
            QApplication.processEvents()
            time.sleep(0.05)
        problems: list[str] = []

        def fill_in() -> None:
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, NewKeyDialog):
                QTimer.singleShot(50, fill_in)
                return
            try:
                dialog.name.setFocus()
                QTest.keyClicks(dialog.name, name)
                for scope in scopes:  # each box: focused and ticked with the space bar
                    box = dialog.findChild(QCheckBox, f"scope_{scope}")
                    box.setFocus()
                    QTest.keyClick(box, Qt.Key.Key_Space)
                ticked = [s for s, b in dialog.scopes.items() if b.isChecked()]
                if sorted(ticked) != sorted(scopes):
                    problems.append(f"ticked {ticked}, not {scopes}")
                QTest.mouseClick(dialog.create_button, left)  # the server makes it
                if not dialog.token.text().startswith("fdk_"):
                    problems.append(f"no key shown: {dialog.form}")
                for _ in range(5):
                    QApplication.processEvents()
                QApplication.primaryScreen().grabWindow(0).save(shot)
                QTest.mouseClick(dialog.copy, left)
                QTest.mouseClick(dialog.done_button, left)
            except Exception as exc:  # told to the conductor
                problems.append(repr(exc))
                dialog.reject()

        QTimer.singleShot(50, fill_in)
        QTest.mouseClick(page.new_button, left)  # returns once the dialog is closed
        if problems:
            raise RuntimeError(problems[0])
        return str(QApplication.clipboard().text())

    def page(self) -> Any:
        window = self.window()
        return window.show_area("diary") if window is not None else None

    def state(self) -> dict[str, Any]:
        page = self.page()
        return {
            "holds": [h.id for h in page.scene.holds_shown],
            "appointments": len(page.scene.items_by_id),
            "day": str(page.day),
        }

    def carry_out(self, c: dict[str, Any]) -> dict[str, Any] | None:
        from PySide6.QtWidgets import QApplication

        window = self.window()
        if window is None:
            return None
        if c.get("ready"):
            window.move(0, 0)
            window.resize(*(int(v) for v in SCREEN.split("x")))
            self.page()
            return {}
        page = self.page()
        if c.get("quit"):
            QApplication.instance().quit()  # type: ignore[union-attr]
            return {}
        if "go" in c:
            when = datetime.fromisoformat(c["go"]).astimezone(page.tz)
            page.go_to(when.date())
            lay = page.layout_
            minute = max(lay.first_minute, when.hour * 60 + when.minute - 90)
            page.view.verticalScrollBar().setValue(int(lay.y_of(minute)))
            return {}
        if "online" in c:
            self.offer_online(window, c["online"])
            return {}
        if "log_shot" in c:  # Settings → Integrations, refreshed: the key's calls listed
            from PySide6.QtCore import Qt
            from PySide6.QtTest import QTest

            from frontdesk.ui.settings.integrations import IntegrationsPage

            self.open_topic(window, "Integrations")
            log_page = window.findChild(IntegrationsPage)
            seen = log_page.loaded
            QTest.mouseClick(log_page.refresh_button, Qt.MouseButton.LeftButton)
            if log_page.loaded <= seen or log_page.log_table.rowCount() == 0:
                deadline = time.monotonic() + 20
                while log_page.loaded <= seen and time.monotonic() < deadline:
                    QApplication.processEvents()
                    time.sleep(0.05)
            for _ in range(5):
                QApplication.processEvents()
            QApplication.primaryScreen().grabWindow(0).save(c["log_shot"])
            return {"calls": log_page.log_table.rowCount()}
        if "make_key" in c:
            return {"key": self.make_key(window, c["make_key"], c["scopes"], c["shots"])}
        if "shoot" in c:
            for _ in range(5):
                QApplication.processEvents()
            screen = QApplication.primaryScreen()
            screen.grabWindow(0).save(c["shoot"])
            return {}
        want = c["wait"]
        holds = {h.id for h in page.scene.holds_shown}
        items = page.scene.items_by_id
        if "hold" in want and want["hold"] not in holds:
            return None
        if "no_hold" in want and want["no_hold"] in holds:
            return None
        if "appt" in want and want["appt"] not in items:
            return None
        if "start" in want:
            shown = items[want["appt"]].appt.starts_at
            if shown != datetime.fromisoformat(want["start"]):
                return None
        if "gone" in want and want["gone"] in items:
            return None
        return {"state": self.state()}


def desk(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from frontdesk import app as frontdesk_app

    QApplication(sys.argv[:1])  # the app reuses this instance; the timer needs it to exist
    operator = Operator(Path(args.control), Path(args.ack), args.user, args.password)
    timer = QTimer()
    timer.timeout.connect(operator.tick)
    timer.start(200)
    return frontdesk_app.main(["--data-dir", args.data_dir])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="role")
    p.add_argument("--work", help="an empty folder for the server and the desks (default: new)")
    p.add_argument("--shots", default="/work/notes/walk17")
    p.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    p.add_argument("--type", default="Physiotherapist standard", help="the type to offer online")
    d = sub.add_parser("desk", help="(inside xvfb-run) one desk app with its operator")
    d.add_argument("--data-dir", required=True)
    d.add_argument("--control", required=True)
    d.add_argument("--ack", required=True)
    d.add_argument("--user", default="owner")
    d.add_argument("--password", default="owner-demo")
    args = p.parse_args()
    return desk(args) if args.role == "desk" else conduct(args)


if __name__ == "__main__":
    sys.exit(main())

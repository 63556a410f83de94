"""Walk issue 18 as a person would, on a real X screen: messages reach real local servers, and an
SMS "C" reply shows on a second desk's diary.

    xvfb-run -a -s "-screen 0 1500x950x24" .venv/bin/python scripts/messaging_walk.py OUT_DIR

What it starts (all on 127.0.0.1, in a fresh folder under OUT_DIR/run):

* the local SMS provider (Twilio's API) and an aiosmtpd SMTP server requiring STARTTLS, from
  tests/messaging/local_providers.py, in this process; what they receive is printed;
* a demo clinic on desk A (``frontdesk demo``) with messaging switched on through the
  messaging settings service (provider → the local SMS server, SMTP → the local aiosmtpd) and
  one patient given a mobile, an email address and consent for both;
* ``frontdesk-server init / seed --from-desk A / enrol / run`` and three desks enrolled with
  ``frontdesk enrol``: A (this process, the real app), B (a second process, the real app) and M,
  the messaging desk, running ``frontdesk messages send --loop 5``;
* keychain: every process uses tests/sync/file_keyring.py (a JSON file, chosen explicitly with
  PYTHON_KEYRING_BACKEND) because an X server alone has no keychain; SSL_CERT_FILE makes the
  sender trust the local SMTP server's self-signed certificate.

On desk A it signs in as reception and, with QTest key and mouse events on the real widgets,
books two appointments for the patient (diary slot → Return → booking dialog), cancels one
(click, Delete, reason, Return) and drags the other to a new time; between steps it waits for
the confirmation / cancellation / move notices to reach the local servers. Then it posts an
inbound "C" to the clinic server's Twilio webhook, signed with X-Twilio-Signature as Twilio
would, and desk B (which watches its own diary) records when the appointment shows cancelled.
Navigation (which area, which day, scrolling the slot into view) uses the page's methods; the
actions under test are key and mouse events. Screenshots (QWidget.grab) go to OUT_DIR.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
MOBILE, E164, EMAIL = "0412 345 678", "+61412345678", "walk.patient@example.com"
EMAIL2 = "eli.emerson@example.com"
SENDER = "+61400999999"


def env_for(run: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "tests.sync.file_keyring.FileKeyring",
        "FRONTDESK_TEST_KEYRING": str(run / "keyring.json"),
    }


def sh(*args: str, **kw: Any) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False, **kw)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


# -- in a desk's process: sign in like a person -------------------------------------------------
def sign_in_when_asked(username: str, password: str) -> None:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        panel = getattr(dialog, "panel", None)
        if panel is None:
            QTimer.singleShot(50, poll)
            return
        QTest.keyClicks(panel.username, username)
        QTest.keyClicks(panel.secret, password)
        QTest.keyClick(panel.secret, Qt.Key.Key_Return)

    QTimer.singleShot(0, poll)


def main_window() -> Any:
    from PySide6.QtWidgets import QApplication

    from frontdesk.ui.main_window import MainWindow

    for w in QApplication.topLevelWidgets():
        if isinstance(w, MainWindow) and w.isVisible():
            return w
    return None


def prefs_show_cancelled(data_dir: Path) -> None:
    from frontdesk.paths import desk_paths

    desk_paths(str(data_dir)).config_file.write_text("[diary]\nshow_cancelled=true\n")


# -- desk B: the real app, watching its diary ---------------------------------------------------
def watch(data_dir: Path, out: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from frontdesk import app as frontdesk_app

    QApplication(sys.argv[:1])
    sign_in_when_asked(RECEPTION, RECEPTION_PASSWORD)
    state: dict[str, Any] = {}

    def tick() -> None:
        QTimer.singleShot(100, tick)
        window = main_window()
        order = out / "watch.json"
        if window is None or not order.exists():
            return
        want = json.loads(order.read_text())
        page = window.pages.get("diary") or window.show_area("diary")
        if not state:
            window.show_area("diary")
            page.go_to(date.fromisoformat(want["day"]))
            state["at"] = want["day"]
        item = page.scene.items_by_id.get(want["appt"])
        if item is None:
            return
        status = item.appt.status
        if status == "booked" and "booked" not in state:
            state["booked"] = time.time()
            page.view.centerOn(item)
            QTest.qWait(200)
            window.grab().save(str(out / "05_deskB_before_reply.png"))
            (out / "b_booked.json").write_text(json.dumps({"t": state["booked"]}))
        if status == "cancelled" and "cancelled" not in state:
            state["cancelled"] = time.time()
            page.view.centerOn(item)
            window.grab().save(str(out / "07_deskB_after_reply.png"))
            note = getattr(item.appt, "cancellation_note", "")
            (out / "b_seen.json").write_text(json.dumps({"t": state["cancelled"], "note": note}))

    QTimer.singleShot(500, tick)
    return frontdesk_app.main(["--data-dir", str(data_dir)])


# -- the clinic: server, desks, settings --------------------------------------------------------
RECEPTION, RECEPTION_PASSWORD = "reception", "reception-walk-18"


def prepare(data_dir: Path, sms_url: str, smtp_port: int, smtp_password: str) -> int:
    """Desk A's clinic from nothing, as the owner sets one up (signed in, so every settings
    change is signed): clinic details, a location, a physiotherapist rostered on weekdays,
    an appointment type, a reception account, messaging on, and one patient reachable by SMS
    and email. The diary starts empty, so every slot in the practitioner's hours is free."""
    from frontdesk.domain.clinic_setup import RosterBlock
    from frontdesk.domain.vocab import Role
    from frontdesk.paths import desk_paths
    from frontdesk.services import signin, staff
    from frontdesk.services.desk import open_desk
    from frontdesk.services.messaging.secrets import save_secret
    from frontdesk.services.messaging.setup import save_settings
    from frontdesk.services.patients.records import create_patient
    from frontdesk.services.setup import (
        appointment_types,
        clinic,
        locations,
        practitioners,
        rosters,
    )
    from tests.messaging.local_providers import TWILIO_ACCOUNT, TWILIO_TOKEN

    ctx = open_desk(desk_paths(str(data_dir)))
    staff.create_first_owner(ctx, "owner", "Olive Owner", "owner-walk-18")
    signin.sign_in(ctx, "owner", "owner-walk-18")
    clinic.save_profile(ctx, clinic.ClinicProfile(
        "Harbourside Physio", "53 004 085 616", "118 King Street, Newtown NSW 2042",
        "(02) 9550 1234", "hello@harbourside.example", "Australia/Sydney", True, "NSW",
    ))  # fmt: skip
    where = locations.add_location(
        ctx, locations.LocationEntry("Newtown", "118 King Street, Newtown NSW 2042")
    )
    physio = practitioners.add_practitioner(
        ctx, practitioners.PractitionerEntry("Priya", "Shah", "Physiotherapy",
                                             default_location_id=where),
    )  # fmt: skip
    today = date.today()
    week = tuple(RosterBlock(d, 9 * 60, 17 * 60) for d in range(5))
    monday = today - timedelta(today.weekday())
    rosters.save_roster(ctx, physio, rosters.RosterPlan(1, monday, week))
    appointment_types.add_type(ctx, appointment_types.TypeEntry(
        "Physio consult", 30, profession="Physiotherapy", price_cents=9500,
    ))  # fmt: skip
    staff.create_staff(ctx, staff.NewStaff(RECEPTION, "Rita Reception", Role.RECEPTION,
                                           RECEPTION_PASSWORD))  # fmt: skip
    clinic.finish(ctx)
    save_secret("twilio", TWILIO_TOKEN)
    save_secret("smtp", smtp_password)
    save_settings(
        ctx, enabled=True, sms_provider="twilio", provider_account=TWILIO_ACCOUNT,
        sms_sender=SENDER, provider_base_url=sms_url, smtp_host="127.0.0.1",
        smtp_port=smtp_port, smtp_username="clinic", email_from="desk@harbour.example",
        cancellation_policy="Please give 24 hours' notice.",
    )  # fmt: skip
    made = create_patient(ctx, {
        "first_name": "Wanda", "last_name": "Walker", "date_of_birth": date(1980, 5, 17),
        "mobile_phone": MOBILE, "email": EMAIL, "sms_consent": True, "email_consent": True,
    })  # fmt: skip
    create_patient(ctx, {  # reached by email only
        "first_name": "Eli", "last_name": "Emerson", "date_of_birth": date(1975, 2, 3),
        "email": EMAIL2, "email_consent": True,
    })  # fmt: skip
    print(json.dumps({"patient": made.patient_id, "name": "Wanda Walker", "last": "Walker"}))
    return 0


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    run = out / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    for stale in out.glob("*.json"):
        stale.unlink()
    os.environ.update(env_for(run))
    from tests.messaging.local_providers import LocalSms, LocalSmtp

    sms = LocalSms().start()
    smtp = LocalSmtp(run).start()
    os.environ["SSL_CERT_FILE"] = str(smtp.cafile)
    env = dict(os.environ)
    print(f"local SMS provider {sms.url}; local SMTP 127.0.0.1:{smtp.port} (STARTTLS)")

    desk = {k: run / f"desk-{k}" for k in "ABM"}
    fd, fds = str(BIN / "frontdesk"), str(BIN / "frontdesk-server")
    prep = sh(sys.executable, __file__, "--prepare", str(desk["A"]), sms.url, str(smtp.port),
              smtp.password, env=env)  # fmt: skip
    patient = json.loads(prep.strip().splitlines()[-1])
    print(
        "patients:",
        patient["name"],
        MOBILE,
        EMAIL,
        "(SMS and email consent);",
        "Eli Emerson",
        EMAIL2,
        "(email only)",
    )
    srv = ["--data-dir", str(run / "server")]
    sh(fds, *srv, "init", env=env)
    sh(fds, *srv, "seed", "--from-desk", str(desk["A"]), env=env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([fds, *srv, "run", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=open(run / "server.log", "w"),  # noqa: SIM115
                              stderr=subprocess.STDOUT)  # fmt: skip
    procs = [server]
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(url + "/health", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        for k, name in (("A", "Front desk"), ("B", "Reception 2"), ("M", "Messaging")):
            code_text = sh(fds, *srv, "enrol", "--name", name, env=env)
            code = re.search(r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}", code_text)
            assert code, code_text
            enrolled = subprocess.run([fd, "--data-dir", str(desk[k]), "enrol", "--server", url,
                                       "--code", code.group(0), "--name", name], env=env,
                                      capture_output=True, text=True, check=False)  # fmt: skip
            print(f"   desk {k} enrolled (exit {enrolled.returncode}):",
                  " ".join(enrolled.stdout.split()))  # fmt: skip
            subprocess.run([fd, "--data-dir", str(desk[k]), "sync"], env=env,
                           capture_output=True, check=False)  # fmt: skip
        hooks = sh(fds, *srv, "sms-webhook-key", env=env)
        key = re.search(r"key=([\w\-]+)", hooks)
        assert key, hooks
        sender = subprocess.Popen([fd, "--data-dir", str(desk["M"]), "messages", "send", "--loop",
                                   "5"], env=env, stdout=open(run / "sender.log", "w"),  # noqa: SIM115
                                  stderr=subprocess.STDOUT)  # fmt: skip
        procs.append(sender)
        for k in "AB":
            prefs_show_cancelled(desk[k])
        deskb = subprocess.Popen([sys.executable, __file__, "--watch", str(desk["B"]), str(out)],
                                 env=env, stdout=open(run / "deskB.log", "w"),  # noqa: SIM115
                                 stderr=subprocess.STDOUT)  # fmt: skip
        procs.append(deskb)
        return desk_a(desk["A"], out, patient, sms, smtp, url, key.group(1))
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        sms.stop()
        smtp.stop()


# -- desk A: the walk ---------------------------------------------------------------------------
def desk_a(data_dir: Path, out: Path, patient: dict[str, str], sms: Any, smtp: Any, url: str,
           key: str) -> int:  # fmt: skip
    from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from frontdesk import app as frontdesk_app

    QApplication(sys.argv[:1])
    sign_in_when_asked(RECEPTION, RECEPTION_PASSWORD)
    result: dict[str, int] = {"code": 1}

    def wait_for(what: str, done: Any, seconds: float = 60) -> Any:
        end = time.time() + seconds
        while time.time() < end:
            got = done()
            if got:
                return got
            QTest.qWait(200)
        raise SystemExit(f"gave up waiting for {what}")

    def received() -> list[str]:
        rows = [f"SMS to {r.get('to') or r.get('To')}: {r.get('body') or r.get('Body')}"
                for r in sms.state.sent]  # fmt: skip
        mails = []
        for _frm, to, raw in smtp.messages:
            text = raw.decode("utf-8", "replace")
            subject = re.search(r"^Subject: (.*)$", text, re.M)
            mails.append(f"email to {to[0]}: {subject.group(1) if subject else '?'}")
        return rows + mails

    def arrived(n: int) -> list[str]:  # once n messages in all have arrived
        got = received()
        return got if len(got) >= n else []

    def print_new(seen: set[str], lines: list[str]) -> None:
        for line in lines:
            if line not in seen:
                seen.add(line)
                print("   received →", line)

    def walk() -> None:
        window = wait_for("the main window", main_window)
        window.resize(1450, 900)

        def activate() -> None:
            # Xvfb has no window manager: after a dialog closes nothing gives the main window
            # focus back (a person would click into it), and its shortcuts wait for that.
            window.activateWindow()
            window.raise_()
            assert QTest.qWaitForWindowActive(window), "the window never became active"

        activate()
        page = window.show_area("diary")

        day = date.today() + timedelta(days=3)
        while day.weekday() >= 5:  # the physiotherapist works weekdays
            day += timedelta(days=1)
        page.go_to(day)
        QTest.qWait(300)
        lay = page.layout_
        col = 0
        first, second, target = 10 * 60, 14 * 60, 11 * 60 + 30

        def scene_at(minute: float) -> QPointF:
            return QPointF(lay.x_of(col) + lay.column_width * 0.5, lay.y_of(minute))

        def free(minute: int) -> bool:  # the diary's own model: nothing drawn there
            return all(page.scene.appointment_at(scene_at(minute + m)) is None
                       for m in range(0, 30, 5))  # fmt: skip

        assert lay.columns and all(free(m) for m in (first, second, target)), "slots not free"
        window.grab().save(str(out / "01_deskA_empty_diary.png"))
        print("   using", lay.columns[col].title, day.isoformat(), "10:00, 14:00, then 11:30")

        def at(minute: float) -> QPoint:
            page.view.centerOn(scene_at(minute))
            QTest.qWait(50)
            return page.view.mapFromScene(scene_at(minute))

        def book(minute: int, who: str) -> str:
            before = set(page.scene.items_by_id)
            activate()
            vp = page.view.viewport()
            QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=at(minute + 5))
            assert page.view.cursor_slot == (col, minute), page.view.cursor_slot
            assert page.view.item_at_cursor() is None, "the clicked slot is not free"

            def fill() -> None:
                dialog = QApplication.activeModalWidget()
                if dialog is None or not hasattr(dialog, "search"):
                    QTimer.singleShot(50, fill)
                    return
                QTest.keyClicks(dialog.search, who)
                QTest.qWait(600)  # the picker searches as you type
                QTest.keyClick(dialog.search, Qt.Key.Key_Down)
                QTest.keyClick(dialog.search, Qt.Key.Key_Return)  # picks, never books
                QTest.qWait(200)
                shot = f"02_booking_dialog_{minute // 60:02}{minute % 60:02}.png"
                dialog.grab().save(str(out / shot))
                QTest.keyClick(dialog.type, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
                QTest.qWait(800)
                if dialog.isVisible():  # Ctrl+Return did not book: press the Book button
                    from PySide6.QtWidgets import QPushButton

                    dialog.grab().save(str(out / f"02x_still_open_{minute}.png"))
                    button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Book")
                    QTest.mouseClick(button, Qt.MouseButton.LeftButton)

            QTimer.singleShot(0, fill)
            QTest.keyClick(page.view, Qt.Key.Key_Return)
            return str(wait_for("the booking", lambda: set(page.scene.items_by_id) - before).pop())

        seen: set[str] = set()
        print("1. desk A books Wanda Walker (SMS) at 10:00 and Eli Emerson (email) at 14:00")
        kept, other = book(first, "Walker"), book(second, "Emerson")
        window.grab().save(str(out / "03_deskA_booked.png"))
        print_new(seen, wait_for("two confirmations", lambda: arrived(2)))

        print("2. desk A cancels Eli's (click, Delete, reason, Return)")
        activate()
        QTest.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=at(second + 10))
        assert page.view.selected_item() is page.scene.items_by_id[other], "not Eli's selected"

        def reason() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None or not hasattr(dialog, "reason_box"):
                QTimer.singleShot(50, reason)
                return
            QTest.keyClick(dialog.reason_box, Qt.Key.Key_Down)
            dialog.grab().save(str(out / "04_cancel_dialog.png"))
            QTest.keyClick(dialog.reason_box, Qt.Key.Key_Return)

        QTimer.singleShot(0, reason)
        QTest.keyClick(page.view, Qt.Key.Key_Delete)
        QTest.qWait(500)
        extra = QApplication.activeModalWidget()
        if extra is not None:  # e.g. the waitlist offer for the freed slot
            extra.grab().save(str(out / "04b_after_cancel_dialog.png"))
            extra.reject()
        wait_for("the cancellation", lambda: page.scene.items_by_id[other].appt.status
                 == "cancelled")  # fmt: skip
        print_new(seen, wait_for("the cancellation notice", lambda: arrived(len(seen) + 1)))

        print("3. desk A drags Wanda's appointment to 11:30")
        (out / "watch.json").write_text(json.dumps({"day": day.isoformat(), "appt": kept}))
        activate()
        vp = page.view.viewport()
        start = at(first + 10)
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
        end = page.view.mapFromScene(QPointF(lay.x_of(col) + lay.column_width * 0.5,
                                             lay.y_of(target + 10)))  # fmt: skip
        for i in range(1, 9):
            QTest.mouseMove(vp, start + (end - start) * (i / 8))
            QTest.qWait(20)
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
        QTest.qWait(500)
        moved = page.scene.items_by_id[kept].appt.starts_at.astimezone(lay.tz)
        print("   now at", moved.strftime("%a %d %b %H:%M"))
        window.grab().save(str(out / "05_deskA_moved_and_cancelled.png"))
        print_new(seen, wait_for("the moved notice", lambda: arrived(len(seen) + 1)))
        wait_for("desk B showing the booking", (out / "b_booked.json").exists)

        print("4. the provider posts the patient's reply \"C\" to the clinic server's webhook")
        import httpx

        from frontdesk.services.messaging.providers import twilio_signature
        from tests.messaging.local_providers import TWILIO_TOKEN

        hook = f"{url}/webhooks/sms/twilio/inbound?key={key}"
        form = {"MessageSid": "SMwalkreplyC", "From": E164, "To": SENDER, "Body": "C"}
        sig = twilio_signature(TWILIO_TOKEN, hook, form)
        posted = time.time()
        answer = httpx.post(hook, data=form, headers={"X-Twilio-Signature": sig})
        print("   webhook answered", answer.status_code, answer.text)
        seen_b = wait_for("desk B's diary", lambda: (out / "b_seen.json").exists() and json.loads(
            (out / "b_seen.json").read_text()), 30)  # fmt: skip
        print(f"   desk B's diary showed it cancelled {seen_b['t'] - posted:.1f} s after the "
              f"reply was posted ({seen_b.get('note')!r})")  # fmt: skip
        wait_for("desk A too", lambda: page.scene.items_by_id[kept].appt.status == "cancelled")
        page.view.centerOn(page.scene.items_by_id[kept])
        QTest.qWait(300)
        window.grab().save(str(out / "06_deskA_after_reply.png"))
        result["code"] = 0

    def start() -> None:
        if main_window() is None:  # signing in: the walk runs once the window is up
            QTimer.singleShot(200, start)
            return
        try:
            walk()
        except BaseException as exc:
            print("walk stopped:", exc)
        finally:
            w = main_window()
            if w is not None:
                w.close()
            # the walk may run inside the app's processEvents before its exec(): a quit then
            # would be lost, so it is posted for the event loop
            QTimer.singleShot(0, QApplication.quit)

    boxes: list[str] = []

    def answer_message_boxes() -> None:  # a question or warning: read it, keep it, press Return
        QTimer.singleShot(300, answer_message_boxes)
        from PySide6.QtWidgets import QMessageBox

        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            boxes.append(box.text())
            box.grab().save(str(out / f"0x_message_{len(boxes)}.png"))
            print("   message box:", box.text().replace("\n", " "))
            QTest.keyClick(box, Qt.Key.Key_Return)
        elif box is not None and not hasattr(box, "search") and not hasattr(box, "reason_box"):
            name = f"{type(box).__name__}: {box.windowTitle()}"
            if name not in boxes:
                boxes.append(name)
                box.grab().save(str(out / f"0x_dialog_{len(boxes)}.png"))
                print("   unexpected dialog:", name)
            if box.windowTitle() == "Appointment notes":  # a stray Return on the new booking
                box.reject()

    QTimer.singleShot(300, answer_message_boxes)
    QTimer.singleShot(1500, start)
    frontdesk_app.main(["--data-dir", str(data_dir)])
    return result["code"]


if __name__ == "__main__":
    if sys.argv[1] == "--prepare":
        sys.exit(prepare(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]))
    if sys.argv[1] == "--watch":
        sys.exit(watch(Path(sys.argv[2]), Path(sys.argv[3])))
    sys.exit(main(Path(sys.argv[1])))

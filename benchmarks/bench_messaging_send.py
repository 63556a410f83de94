"""Sending and replies, on loopback against real servers:

- 1,000 queued SMS handed to the local provider (an HTTP server answering like Twilio's
  Messages API) by the sender on the 10-year clinic's desk (a private copy) — claim, send,
  record, each message once — against 1,000 bare HTTP POSTs of the same forms to the same
  server in the same run;
- a patient's "C" reply reaching another desk's diary: the provider's callback posted to a real
  ``frontdesk-server`` process, the messaging desk polling the events as ``frontdesk messages
  send --loop`` does between rounds (every second by default; 0.25 s here), applying and
  syncing, the reception desk woken by the change long-poll — p95 over 20 replies, against a
  plain change (a note on an appointment) travelling the same push / long-poll / pull path.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import keyring
from sqlalchemy import select

from benchmarks.bench_sync import START, ServerProcess, _MemoryKeyring
from benchmarks.harness import Bench, demo_clock, percentile
from frontdesk.commands.messages import take_replies
from frontdesk.domain.ids import uuid7
from frontdesk.domain.vocab import MessageChannel
from frontdesk.models import Appointment, OutgoingMessage, Patient, Practitioner
from frontdesk.paths import DeskPaths
from frontdesk.protocol import Endpoint
from frontdesk.server.webhooks import webhook_key
from frontdesk.services.desk import open_desk
from frontdesk.services.diary.view import load_view
from frontdesk.services.messaging import queueing, sender
from frontdesk.services.messaging.providers import ClickSendSms, TwilioSms, twilio_signature
from frontdesk.services.messaging.setup import save_settings
from frontdesk.store.changes import ChangeNotice
from tests.messaging.local_providers import (
    CLICKSEND_KEY,
    CLICKSEND_USER,
    TWILIO_ACCOUNT,
    TWILIO_TOKEN,
    LocalSms,
)

MESSAGES = 1000
SENDER = "+61400999999"
REPLIES = 20


def run(bench: Bench) -> None:
    keyring.set_keyring(_MemoryKeyring())
    work = Path(tempfile.mkdtemp(prefix="fd-bench-msg-"))
    sms = LocalSms().start()
    try:
        server = ServerProcess(work / "server.sqlite3")
        try:
            _send_thousand(bench, server, work, sms)
            _reply_latency(bench, server, work, sms)
        finally:
            server.stop()
    finally:
        sms.stop()
        shutil.rmtree(work, ignore_errors=True)


def _practitioner(ctx) -> str:  # type: ignore[no-untyped-def]
    with ctx.write("bench: practitioner") as s:
        p = Practitioner(first_name="Bench", last_name="Mark", display_name="Bench Mark",
                         profession="Physiotherapist")  # fmt: skip
        s.add(p)
        s.flush()
        return p.id


def _patients(ctx, count: int, mobiles: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    """``count`` patients with SMS consent; mobiles ``{mobiles} nnn`` when given."""
    ids = []
    with ctx.write("bench: patients") as s:
        for n in range(count):
            mobile = f"{mobiles} {n:03d}" if mobiles else f"0412 {n // 1000:03d} {n % 1000:03d}"
            number = f"B{mobiles.replace(' ', '')}-{n}" if mobiles else f"B{n}"
            p = Patient(patient_number=number, first_name=f"P{n}", last_name="Bench",
                        mobile_phone=mobile, sms_consent=True)  # fmt: skip
            s.add(p)
            s.flush()
            ids.append(p.id)
    return ids


def _send_thousand(bench: Bench, server: ServerProcess, work: Path, sms: LocalSms) -> None:
    # the messaging desk of the 10-year clinic (a private copy): claims and records meet its
    # tables as they are after ten years
    ctx = open_desk(DeskPaths(bench.fresh_scale_dir()), clock=demo_clock())
    save_settings(ctx, enabled=True)
    patients = _patients(ctx, MESSAGES)
    now = ctx.clock.now()
    rows = [
        {"id": uuid7(), "patient_id": pid, "channel": "sms",
         "to_address": f"+61412{n // 1000:03d}{n % 1000:03d}", "subject": "",
         "body": f"Hi P{n}, a reminder of your appointment. - Bench clinic. Reply STOP to opt out",
         "status": "queued", "queued_at": now, "kind": "reminder", "send_after": now,
         "idempotency_key": f"bench-{n:05d}", "segments": 1}
        for n, pid in enumerate(patients)
    ]  # fmt: skip
    with ctx.write("bench: queue") as s:
        queueing._insert_many(s, rows, "bench: queued")
    twilio = TwilioSms(TWILIO_ACCOUNT, TWILIO_TOKEN, "+61400999999", base_url=sms.url)
    started = time.perf_counter()
    report = sender.send_due(ctx, {MessageChannel.SMS: twilio}, sender_id="bench", limit=MESSAGES)
    took = time.perf_counter() - started
    assert report.sent == MESSAGES, report
    assert len({r["body"] for r in sms.state.sent}) == MESSAGES  # each once
    path = f"/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Messages.json"
    with httpx.Client(base_url=sms.url, auth=(TWILIO_ACCOUNT, TWILIO_TOKEN)) as client:
        started = time.perf_counter()
        for r in rows:
            client.post(path, data={"To": r["to_address"], "From": "+61400999999",
                                    "Body": r["body"]})  # fmt: skip
        raw = time.perf_counter() - started
    bench.record(f"messaging: hand {MESSAGES:,} SMS to the local provider", "total", took, "s",
                 raw, "claimed/recorded 25 a time; baseline: bare POSTs, one client")  # fmt: skip
    ctx.engine.dispose()


def _reply_latency(bench: Bench, server: ServerProcess, work: Path, sms: LocalSms) -> None:
    m_ctx, m = server.desk(work / "messaging", "Messaging desk")
    r_ctx, r = server.desk(work / "reception", "Reception")
    save_settings(m_ctx, enabled=True)
    appts, refs = _book_and_confirm(m_ctx, m, r_ctx, r, sms, START + timedelta(days=3), "0412 000")
    _measure(bench, server, m_ctx, m, r_ctx, r, appts, refs, "0412 000",
             "messaging: a C reply on another desk's diary", "")  # fmt: skip
    m_ctx.engine.dispose()
    r_ctx.engine.dispose()


def _book_and_confirm(  # type: ignore[no-untyped-def]
    m_ctx, m, r_ctx, r, sms: LocalSms, first: datetime, mobiles: str, twilio: bool = False
) -> tuple[list[str], dict[str, str]]:
    """A practitioner and ``REPLIES`` patients (mobiles ``{mobiles} nnn``) booked half-hourly
    from ``first`` on the messaging desk, their confirmations sent, both desks synced."""
    prac = _practitioner(m_ctx)
    patients = _patients(m_ctx, REPLIES, mobiles)
    appts = []
    for n, pid in enumerate(patients):
        start = first + timedelta(minutes=30 * n)
        with m_ctx.write("bench: book") as s:
            a = Appointment(practitioner_id=prac, patient_id=pid, starts_at=start,
                            ends_at=start + timedelta(minutes=30))  # fmt: skip
            s.add(a)
            s.flush()
            appts.append(a.id)
    queueing.appointments_changed(m_ctx, appts)
    m_ctx.clock.advance(timedelta(hours=2))  # past quiet hours (the clinic's 07:00 → 09:00)
    r_ctx.clock.advance(timedelta(hours=2))
    provider = (TwilioSms(TWILIO_ACCOUNT, TWILIO_TOKEN, SENDER, base_url=sms.url) if twilio
                else ClickSendSms(CLICKSEND_USER, CLICKSEND_KEY, base_url=sms.url))  # fmt: skip
    sent = sender.send_due(m_ctx, {MessageChannel.SMS: provider}, sender_id="bench")
    assert sent.sent >= REPLIES, sent
    m.sync()
    r.sync()
    with m_ctx.read() as s:
        confirmations = select(OutgoingMessage).where(
            OutgoingMessage.kind == "confirmation", OutgoingMessage.appointment_id.in_(appts)
        )
        refs = {row.appointment_id: row.provider_ref for row in s.scalars(confirmations)}
    return appts, refs


def _measure(  # type: ignore[no-untyped-def]
    bench: Bench, server: ServerProcess, m_ctx, m, r_ctx, r, appts: list[str],
    refs: dict[str, str], mobiles: str, name: str, extra: str, poll_s: float = 0.25,
    twilio: bool = False,
) -> None:  # fmt: skip
    """For each appointment: a note made on the messaging desk (the baseline), then the
    patient's "C" posted to the server's webhook; each timed until the reception desk's diary
    read (``load_view``, as the diary page draws) shows it. The messaging desk looks for
    replies every ``poll_s`` seconds (``frontdesk messages send --replies-every``)."""
    key = webhook_key(server.store)
    provider = "twilio" if twilio else "clicksend"
    hook = f"{server.url}{Endpoint.SMS_WEBHOOK.path(provider=provider, kind='inbound')}"
    with r_ctx.read() as s:
        where = {aid: s.get(Appointment, aid) for aid in appts}
        places = {aid: (a.practitioner_id, a.starts_at.astimezone(r_ctx.tz).date())
                  for aid, a in where.items() if a is not None}  # fmt: skip
    assert len(places) == len(appts), "the reception desk lacks the bench appointments"

    stop = threading.Event()
    seen: dict[str, float] = {}
    watch: dict[str, str] = {}  # appointment id → what shows it arrived: "cancelled" or a note

    events: list[tuple[str, float]] = []  # (stage, when) for the breakdown printed below

    def diary() -> None:  # the diary page's reload: its own read of the day
        for aid, want in list(watch.items()):
            prac, day = places[aid]
            shown = load_view(r_ctx, [day], [prac]).appointments
            a = next((x for x in shown if x.id == aid), None)
            if a is not None and want in (a.status, a.notes):
                seen[aid] = time.perf_counter()
                watch.pop(aid, None)

    def reception_notice(notice: ChangeNotice) -> None:
        # The diary page reloads on the change notice the pull's transaction announces when it
        # commits (``ui/diary/page.py: _on_changed``), not when the whole sync (with its table
        # check) returns.
        if "appointments" in notice.kinds:
            events.append(("reception pull committed", time.perf_counter()))
            diary()

    def messaging_notice(notice: ChangeNotice) -> None:
        if "inbound_messages" in notice.kinds:
            events.append(("messaging desk applied it", time.perf_counter()))

    r_ctx.listeners.append(reception_notice)
    m_ctx.listeners.append(messaging_notice)

    idle = threading.Event()  # the reception desk's worker is back on its long-poll
    m_busy = threading.Lock()  # one sync at a time on the messaging desk, as in its process

    def reception() -> None:  # the desk's sync worker: woken by the long-poll, then pulls
        while not stop.is_set():
            idle.set()
            if r.wait_for_change(timeout_s=5):
                idle.clear()
                events.append(("reception woken", time.perf_counter()))
                r.sync()
                events.append(("reception sync returned", time.perf_counter()))
                diary()  # (already seen on the notice, unless no notice came)

    def messaging_desk() -> None:  # ``frontdesk messages send --loop`` between rounds
        while not stop.is_set():
            with m_busy:
                take_replies(m)
            time.sleep(poll_s)

    threads = [threading.Thread(target=f, daemon=True) for f in (reception, messaging_desk)]
    for t in threads:
        t.start()

    def wait_for(aid: str, t0: float) -> float:
        deadline = time.perf_counter() + 30
        while aid in watch and time.perf_counter() < deadline:
            time.sleep(0.005)
        took = (seen.get(aid, time.perf_counter()) - t0) * 1000
        # the next sample starts with both desks' syncs done (the table check after a pull
        # keeps a desk busy a while after the diary has the change)
        time.sleep(0.1)
        idle.wait(30)
        with m_busy:
            pass
        return took

    phase = random.Random(18)
    plain: list[float] = []
    replies: list[float] = []
    stages: list[dict[str, float]] = []
    digits = "61" + mobiles.replace(" ", "")[1:]
    for n, aid in enumerate(appts):
        note = f"bench note {n}"
        watch[aid] = note
        t0 = time.perf_counter()
        with m_ctx.write("bench: note") as s:
            a = s.get(Appointment, aid)
            assert a is not None
            a.notes = note
        with m_busy:
            m.sync()
        plain.append(wait_for(aid, t0))
        watch[aid] = "cancelled"
        # a patient replies at any moment of the messaging desk's poll interval (not just as it
        # started sleeping, where the note's sync leaves it)
        time.sleep(phase.uniform(0, poll_s))
        t0 = time.perf_counter()
        answer = _post_reply(hook, key, f"+{digits}{n:03d}", f"{digits}-{n}", refs[aid], twilio)
        assert answer.status_code == 200, answer.text
        events.append(("webhook answered", time.perf_counter()))
        replies.append(wait_for(aid, t0))
        stages.append(_stages(events, t0, seen.get(aid)))
    stop.set()
    for t in threads:
        t.join(timeout=10)
    r_ctx.listeners.remove(reception_notice)
    m_ctx.listeners.remove(messaging_notice)
    missed = len(appts) - len(seen)
    about = (f"webhook → messaging desk ({poll_s:g} s poll) → push → long-poll → pull → "
            f"diary read; baseline: a note on the same path{extra}"
            + (f"; {missed} NOT SEEN within 30 s" if missed else ""))  # fmt: skip
    bench.record(name, "p95", percentile(replies, 95), "ms", percentile(plain, 95), about)
    bench.record(name, "p50", percentile(replies, 50), "ms", percentile(plain, 50), about)
    print("    where a reply's time goes (median ms from the previous step):")
    for stage in _STAGES:
        took = [s[stage] for s in stages if stage in s]
        if took:
            p50, p95 = percentile(took, 50), percentile(took, 95)
            print(f"      {stage:<34} {p50:>8.1f}  (p95 {p95:.1f})")


def _post_reply(  # the provider's inbound callback with the patient's "C"
    hook: str, key: str, e164: str, ref: str, answering: str, twilio: bool
) -> httpx.Response:
    if not twilio:
        form = {"message_id": f"in-{ref}", "from": e164, "body": "C",
                "original_message_id": answering}  # fmt: skip
        return httpx.post(hook, params={"key": key}, data=form)
    # Twilio names no message it answers: the newest SMS sent to that number is the one
    url = f"{hook}?key={key}"
    form = {"MessageSid": f"SMin{ref}", "From": e164, "To": SENDER, "Body": "C"}
    signature = twilio_signature(TWILIO_TOKEN, url, form)
    return httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})


_STAGES = (
    "webhook answered",
    "messaging desk applied it",
    "reception woken",
    "reception pull committed",
    "diary read shows it",
    "reception sync returned",
)


def _stages(events: list[tuple[str, float]], t0: float, seen: float | None) -> dict[str, float]:
    """Each stage's first moment after ``t0``, as milliseconds after the stage before it."""
    firsts: dict[str, float] = {}
    for stage, when in events:
        if when >= t0 and stage not in firsts:
            firsts[stage] = when
    if seen is not None:
        firsts["diary read shows it"] = seen
    out, before = {}, t0
    for stage in _STAGES:
        if stage in firsts and firsts[stage] >= before:
            out[stage] = (firsts[stage] - before) * 1000
            before = firsts[stage]
    return out

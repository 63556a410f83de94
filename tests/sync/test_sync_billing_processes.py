"""Real processes (issue 12): a clinic server on loopback and two desks synced with the
``frontdesk sync`` command. Each desk's drafts and invoices reach the server; a refused change
makes ``frontdesk sync`` exit 1; ``frontdesk-server devices`` shows when each desk was seen."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment, Invoice, Practitioner
from frontdesk.paths import DeskPaths
from frontdesk.services.billing.invoices import (
    DraftHeader,
    DraftLine,
    create_draft,
    issue_invoice,
)
from frontdesk.services.billing.ledger import patient_account
from frontdesk.services.billing.payments import take_payment
from frontdesk.services.desk import open_desk
from frontdesk.services.patients import create_patient, update_patient
from frontdesk.store.context import ServiceContext
from frontdesk.sync.conflicts import list_open
from tests.sync.test_sync_kill import Server, _desk_cli, _enrol, _sync_ok

pytestmark = pytest.mark.slow


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path)
    s.cli("init")
    s.start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.kill()


def _on_desk(desk: Path) -> ServiceContext:
    return open_desk(DeskPaths(desk))


def _book(ctx: ServiceContext, prac: str, patient: str, at: datetime) -> str:
    with ctx.write("book") as s:
        appt = Appointment(
            practitioner_id=prac,
            patient_id=patient,
            starts_at=at,
            ends_at=at + timedelta(minutes=30),
        )
        s.add(appt)
        s.flush()
        return appt.id


def _wait_paused(proc: subprocess.Popen[bytes], tmp: Path) -> None:
    deadline = time.monotonic() + 120
    while not (tmp / "paused").exists():
        assert proc.poll() is None, "the sync ended before its pull arrived"
        assert time.monotonic() < deadline, "the sync never reached its pull"
        time.sleep(0.02)


def _clinic_of_two(tmp_path: Path, server: Server) -> tuple[Path, Path, str]:
    a, b = tmp_path / "a", tmp_path / "b"
    _enrol(tmp_path, server, a, "Front desk")
    _enrol(tmp_path, server, b, "Back office")
    ctx = _on_desk(a)
    patient = create_patient(ctx, {"first_name": "Sam", "last_name": "Lee"}).patient_id
    ctx.engine.dispose()
    _sync_ok(tmp_path, a)
    _sync_ok(tmp_path, b)
    return a, b, patient


def _sync(tmp: Path, desk: Path) -> tuple[int, str]:
    proc = _desk_cli(tmp, desk, "sync")
    out, err = proc.communicate(timeout=300)
    return proc.returncode, (out + err).decode()


def test_every_desks_drafts_and_invoices_reach_the_server(tmp_path: Path, loopback: Server) -> None:
    a, b, patient = _clinic_of_two(tmp_path, loopback)
    drafts = {}
    for desk in (a, b):
        ctx = _on_desk(desk)
        drafts[desk] = create_draft(ctx, DraftHeader(patient), [DraftLine("Consult", 9900)])
        ctx.engine.dispose()
        assert "rejected" not in _sync_ok(tmp_path, desk)
    assert loopback.count("SELECT count(*) FROM invoices WHERE status = 'draft'") == 2
    for desk in (a, b):
        ctx = _on_desk(desk)
        issue_invoice(ctx, drafts[desk])
        ctx.engine.dispose()
        _sync_ok(tmp_path, desk)
    numbers = "SELECT count(DISTINCT substr(number, 1, 2)) FROM invoices WHERE status = 'issued'"
    assert loopback.count(numbers) == 2  # D1-… and D2-…
    listing = loopback.cli("devices")
    assert "last seen" in listing and "never" not in listing and "to send" in listing
    assert listing.count("active") == 2

    # A change the server refuses: the sync command says so and exits 1.
    ctx = _on_desk(b)
    with ctx.write("invoice from another series") as s:
        s.add(
            Invoice(
                status="issued",
                number="D1-000077",
                patient_id=patient,
                issued_at=ctx.clock.now(),
                total_cents=100,
            )
        )
    ctx.engine.dispose()
    proc = _desk_cli(tmp_path, b, "sync")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out.decode()
    assert "1 rejected" in out.decode() and "refused" in err.decode()
    assert "revoke" not in (out + err).decode().lower()


def test_a_shared_draft_issued_and_paid_on_two_desks(tmp_path: Path, loopback: Server) -> None:
    a, b, patient = _clinic_of_two(tmp_path, loopback)
    ctx = _on_desk(a)
    draft = create_draft(ctx, DraftHeader(patient), [DraftLine("Consult", 9000)])
    ctx.engine.dispose()
    _sync_ok(tmp_path, a)
    _sync_ok(tmp_path, b)
    for desk in (a, b):  # both issue the shared draft before either syncs
        ctx = _on_desk(desk)
        issue_invoice(ctx, draft)
        ctx.engine.dispose()
    _sync_ok(tmp_path, a)
    code, said = _sync(tmp_path, b)
    assert code == 1 and "1 rejected" in said, said  # refused as documented, and answered
    ctx = _on_desk(b)
    later = create_patient(ctx, {"first_name": "Later", "last_name": "Lee"}).patient_id
    ctx.engine.dispose()
    _sync_ok(tmp_path, b)  # not stuck: it pulls and pushes again
    assert loopback.count(f"SELECT count(*) FROM patients WHERE id = '{later}'") == 1

    for desk in (a, b):  # the invoice paid in full at both desks before either syncs
        ctx = _on_desk(desk)
        take_payment(ctx, method="cash", amount_cents=9000, invoice_ids=[draft])
        ctx.engine.dispose()
    for desk in (a, b, a):
        _sync_ok(tmp_path, desk)
    paid = f"SELECT sum(amount_cents) FROM payment_allocations WHERE invoice_id = '{draft}'"
    assert loopback.count(paid) == 9000
    for desk in (a, b):
        ctx = _on_desk(desk)
        acc = patient_account(ctx, patient)
        notices = [c.title for c in list_open(ctx)]
        ctx.engine.dispose()
        assert (acc.balance_cents, acc.owing_cents, acc.credit_cents) == (-9000, 0, 9000)
        assert any("paid more than it owes" in t for t in notices), notices


def test_a_fixed_clock_and_a_slow_pull(tmp_path: Path, loopback: Server) -> None:
    a, b, patient = _clinic_of_two(tmp_path, loopback)
    # Changes made while b's clock ran three days ahead; then its clock is right again.
    ahead = open_desk(DeskPaths(b), clock=FakeClock(datetime.now(UTC) + timedelta(days=3)))
    update_patient(ahead, patient, {"mobile_phone": "0400000001"})
    ahead.engine.dispose()
    code, said = _sync(tmp_path, b)
    assert code == 0, said
    assert loopback.count("SELECT count(*) FROM patients WHERE mobile_phone LIKE '%1'") == 1
    # The stamps the server keeps are its own time, not three days ahead.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None).isoformat(sep=" ")
    assert loopback.count(f"SELECT count(*) FROM patients WHERE updated_at > '{tomorrow}'") == 0

    # A booking made on b while its sync has pushed and its pull is still on the way.
    ctx = _on_desk(a)
    with ctx.write("add practitioner") as s:
        kim = Practitioner(
            first_name="Kim", last_name="Ng", display_name="Kim Ng", profession="Physiotherapist"
        )
        s.add(kim)
        s.flush()
        prac = kim.id
    ctx.engine.dispose()
    _sync_ok(tmp_path, a)
    _sync_ok(tmp_path, b)
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    ctx = _on_desk(a)
    _book(ctx, prac, patient, at)
    ctx.engine.dispose()
    _sync_ok(tmp_path, a)
    slow = _desk_cli(tmp_path, b, "sync", pause_at="desk.pull.received")
    _wait_paused(slow, tmp_path)
    ctx = _on_desk(b)
    _book(ctx, prac, patient, at + timedelta(minutes=15))
    ctx.engine.dispose()
    (tmp_path / "paused").unlink()  # the pull lands
    assert slow.wait(timeout=300) == 0
    _sync_ok(tmp_path, b)
    clashes = "SELECT count(*) FROM sync_conflicts WHERE kind = 'clash'"
    assert loopback.count(clashes) == 1

"""A desk restored from an older backup of itself: its change numbers and its invoice and
patient number series went back in time. The next sync must carry on without losing the
changes made after the backup (the server has them), without losing the changes made after the
restore, and without handing out an invoice or patient number a second time."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from frontdesk.db.backup import backup_file
from frontdesk.models import Appointment, AuditEvent, Invoice, Patient
from frontdesk.paths import DeskPaths
from frontdesk.services.audit import verify_chain
from frontdesk.services.backups import note_restore, restore_database
from frontdesk.services.desk import open_desk
from frontdesk.store.context import SYSTEM
from frontdesk.sync.setup import engine_for
from tests.sync.clinic import START, Clinic, Desk


def _restore(clinic: Clinic, desk: Desk, backup: Path) -> Desk:
    desk.ctx.engine.dispose()
    paths = DeskPaths(clinic.root / desk.name)
    result = restore_database(paths, backup, now=desk.clock.now())
    note_restore(paths, desk.clock, SYSTEM, result)
    ctx = open_desk(paths, clock=desk.clock)
    restored = Desk(
        desk.name, ctx, desk.clock, desk.plain, desk.transport, engine_for(ctx, desk.transport)
    )
    clinic.desks[clinic.desks.index(desk)] = restored
    return restored


def test_desk_restored_from_an_old_backup_carries_on(any_clinic: Clinic, tmp_path: Path) -> None:
    clinic = any_clinic
    a, b = clinic.add_desk(), clinic.add_desk()
    prac = a.add_practitioner()
    pat = a.add_patient("Ada", "Byron")
    first_invoice = a.invoice(pat)
    clinic.settle()
    backup = tmp_path / "a-backup.sqlite3"
    backup_file(DeskPaths(clinic.root / a.name).database, backup)

    # After the backup: a booking, a patient and an invoice, all reach the server.
    lost_booking = a.book(prac, pat, START + timedelta(hours=2))
    lost_patient = a.add_patient("Grace", "Hopper")
    lost_invoice = a.invoice(pat)
    clinic.settle()

    a = _restore(clinic, a, backup)
    assert lost_booking not in a.ids(Appointment)

    # Carrying on after the restore, before any sync.
    new_booking = a.book(prac, pat, START + timedelta(hours=4))
    new_patient = a.add_patient("Alan", "Turing")
    new_invoice = a.invoice(pat)
    assert a.sync(), "the restored desk could not sync"
    clinic.settle()

    rows = clinic.server_rows()
    for booking in (lost_booking, new_booking):
        assert booking in rows["appointments"]
        assert booking in a.ids(Appointment) and booking in b.ids(Appointment)
    for patient in (lost_patient, new_patient):
        assert patient in a.ids(Patient)
    numbers = sorted(r["number"] for r in rows["invoices"].values())
    assert first_invoice in numbers and lost_invoice in numbers
    assert len(set(numbers)) == len(numbers) == 3, numbers
    assert new_invoice not in (first_invoice, lost_invoice)
    assert re.fullmatch(re.escape(first_invoice.split("-")[0]) + r"\.[0-9A-Z]{3}-0+1", new_invoice)
    assert len(a.ids(Invoice)) == 3
    clinic.assert_no_duplicates()
    clinic.assert_converged()
    # Both audit chains of the restored desk (before and after the restore) check out, on
    # both desks; the restore itself is the first entry of the new chain.
    for desk in (a, b):
        report = verify_chain(desk.ctx)
        assert report.broken is None, report
    with a.ctx.read() as s:
        first = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.device_id == a.ctx.audit_chain)
            .order_by(AuditEvent.device_seq)
        ).first()
    assert first is not None and first.action == "database restored"
    assert a.engine._state().restored_at is None


def test_restoring_twice_from_one_backup_never_repeats_a_number(
    clinic: Clinic, tmp_path: Path
) -> None:
    a = clinic.add_desk()
    pat = a.add_patient()
    clinic.settle()
    backup = tmp_path / "a.sqlite3"
    backup_file(DeskPaths(clinic.root / a.name).database, backup)
    numbers = []
    for _ in range(2):
        a = _restore(clinic, a, backup)
        numbers.append(a.invoice(pat))
        assert a.sync()
    assert len(set(numbers)) == 2, numbers
    clinic.settle()
    clinic.assert_no_duplicates()
    clinic.assert_converged()


def test_a_pulled_row_clashing_with_a_local_number_stops_with_a_clear_message(
    clinic: Clinic,
) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    pat = a.add_patient()
    clinic.settle()
    theirs = b.invoice(pat)
    assert b.sync()
    mine = a.invoice(pat)
    # Damage desk a's copy by hand (bypassing the services): its invoice now carries desk b's
    # number, so desk b's invoice cannot be stored here.
    with a.ctx.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE invoices SET number = ? WHERE number = ?", (theirs, mine))
        conn.exec_driver_sql("DELETE FROM sync_outbox WHERE state = 'pending'")
    assert not a.sync()
    state = a.engine._state()
    assert state.last_error is not None and "same number" in state.last_error
    assert _numbers(a) == [theirs]  # its own invoice kept; desk b's not half-stored


def _numbers(desk: Desk) -> list[str]:
    with desk.ctx.read() as s:
        return list(s.scalars(select(Invoice.number)))


def test_backup_of_another_desk_restored_here_keeps_this_desks_identity(
    any_clinic: Clinic, tmp_path: Path
) -> None:
    """The reception PC dies; its last backup is restored onto the back-office laptop, which was
    enrolled as a desk of its own. The laptop stays that desk (its key, its number series), and
    the changes the PC had not yet sent are sent from the laptop."""
    clinic = any_clinic
    pc, laptop = clinic.add_desk("pc"), clinic.add_desk("laptop")
    prac = pc.add_practitioner()
    pat = pc.add_patient("Ada", "Byron")
    clinic.settle()
    laptop_device = laptop.ctx.device_id
    unsent = pc.book(prac, pat, START + timedelta(hours=1))  # made offline, never sent
    pc_invoice = pc.invoice(pat)
    backup = tmp_path / "pc.sqlite3"
    backup_file(DeskPaths(clinic.root / pc.name).database, backup)
    pc.ctx.engine.dispose()
    clinic.desks.remove(pc)  # the PC is gone: the admin revokes it (README, Backups)
    clinic.store.revoke(pc.ctx.device_id)

    laptop.book(prac, pat, START + timedelta(hours=6))  # the laptop's own, never sent (lost)
    laptop = _restore(clinic, laptop, backup)
    assert laptop.ctx.device_id == laptop_device
    later = laptop.invoice(pat)
    assert laptop.sync(), "the laptop could not sync after the restore"
    clinic.settle()

    rows = clinic.server_rows()
    assert unsent in rows["appointments"]
    numbers = sorted(r["number"] for r in rows["invoices"].values())
    assert pc_invoice in numbers and later in numbers and len(set(numbers)) == len(numbers)
    laptop_root = later.split(".")[0]
    assert laptop_root != pc_invoice.split("-")[0]  # the laptop's own series, not the PC's
    with clinic.store.reading() as conn:
        from frontdesk.server import schema as s

        owners = dict(
            conn.execute(select(s.series_registry.c.prefix, s.series_registry.c.device_id)).all()
        )
    assert owners[later.rsplit("-", 1)[0]] == laptop_device
    clinic.assert_converged()
    assert verify_chain(laptop.ctx).broken is None

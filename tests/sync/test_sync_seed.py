"""A clinic that started on one desk goes multi-desk: ``frontdesk-server seed --from-desk`` loads
that desk's clinic into a new server. The desk then enrols without sending its history again
(it is in the server's first copy), and a second desk gets the clinic by snapshot."""

from __future__ import annotations

from sqlalchemy import func, select

from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment, ClinicSettings, Patient, SyncOutbox
from frontdesk.paths import DeskPaths
from frontdesk.server.seed import seed_from_desk
from frontdesk.services.desk import open_desk
from tests.sync.clinic import START, Clinic

NAME = "Harbourside Health & Movement"


def test_seeded_desk_enrols_without_sending_its_history(any_clinic: Clinic) -> None:
    clinic = any_clinic
    solo = open_desk(DeskPaths(clinic.root / "solo"), clock=FakeClock(START))
    build_demo(solo, DemoSpec(practitioners=3, weeks_past=2, weeks_future=1, patients=150))
    solo.engine.dispose()
    counts = seed_from_desk(clinic.store, clinic.root / "solo")
    assert counts["appointments"] > 0
    # Work goes on at that desk before it enrols: a correction to a patient's name.
    solo = open_desk(DeskPaths(clinic.root / "solo"), clock=FakeClock(START))
    with solo.write("correct a name") as s:
        patient = s.scalars(select(Patient).order_by(Patient.id).limit(1)).one()
        patient.last_name, corrected = patient.last_name + "-Smith", patient.id
    solo.engine.dispose()

    first = clinic.add_desk("solo")  # the desk it was seeded from
    with clinic.store.reading() as conn:
        through = int(clinic.store.info(conn, "seeded_through"))
    with first.ctx.read() as s:  # only the correction made after the seeding is still to send
        waiting = s.scalars(select(SyncOutbox.seq).where(SyncOutbox.state == "pending")).all()
        assert waiting and min(waiting) > through
    second = clinic.add_desk("new")
    assert first.engine.sync().snapshot_rows == 0  # it has the clinic: no copy back onto it
    assert second.engine.sync().snapshot_rows > 0
    clinic.settle()
    for desk in (first, second):
        with desk.ctx.read() as s:
            assert desk.ctx.settings(s).name == NAME  # not the blank "My clinic" of a new desk
            assert s.scalar(select(func.count()).select_from(Appointment)) == counts["appointments"]
    with clinic.store.reading() as conn:
        live = (
            conn.execute(
                select(ClinicSettings.__table__.c.name).where(  # type: ignore[attr-defined]
                    ClinicSettings.__table__.c.deleted_at.is_(None)  # type: ignore[attr-defined]
                )
            )
            .scalars()
            .all()
        )
    assert live == [NAME]
    # The correction arrived as a plain change of the desk's own, not a conflict with itself.
    assert first.open_conflicts() == [] and second.open_conflicts() == []
    with second.ctx.read() as s:
        assert s.get(Patient, corrected).last_name.endswith("-Smith")  # type: ignore[union-attr]
    # What the seeded desk does next travels as usual.
    pat = first.add_patient("Ada", "Byron")
    clinic.settle()
    assert pat in second.ids(Patient)
    clinic.assert_converged()

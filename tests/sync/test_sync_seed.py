"""A clinic that started on one desk goes multi-desk: ``frontdesk-server seed --from-desk`` loads
that desk's clinic into a new server. The desk then enrols without sending its history again
(it is in the server's first copy), and a second desk gets the clinic by snapshot."""

from __future__ import annotations

from sqlalchemy import func, select, text

from frontdesk.demo.generator import DemoSpec, build_demo
from frontdesk.domain.clock import FakeClock
from frontdesk.models import Appointment, ClinicSettings, Patient, StaffUser, SyncOutbox
from frontdesk.paths import DeskPaths
from frontdesk.server.seed import seed_from_desk
from frontdesk.services.desk import open_desk
from frontdesk.services.signin import sign_in
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
    # Enrolling set every row's version to 1 with the figures' triggers paused, then counted
    # them once (seed_from_desk's bulk copy kept the server's by its triggers).
    assert clinic.totals_differences() == []
    with first.ctx.read() as s:
        assert s.scalar(text("SELECT paused FROM ledger_summary_state")) == 0
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
    assert clinic.totals_differences() == []


def test_a_seeded_demo_clinic_signs_in_on_two_desks_with_nothing_refused(
    any_clinic: Clinic,
) -> None:
    """Issue 17's walk: the demo clinic seeded into a server, the seeded desk and a new, empty
    one enrolled, the owner signing in on both. Before, the demo's accounts had no signing key:
    each desk made one at the first sign-in and the second desk's was refused; and the new
    desk sent its own blank clinic settings, refused as unsigned. Both showed "1 refused"."""
    clinic = any_clinic
    solo = open_desk(DeskPaths(clinic.root / "solo"), clock=FakeClock(START))
    build_demo(solo, DemoSpec(practitioners=2, weeks_past=1, weeks_future=1, patients=40))
    solo.engine.dispose()
    seed_from_desk(clinic.store, clinic.root / "solo")
    first, second = clinic.add_desk("solo"), clinic.add_desk("new")
    clinic.settle()
    for desk in (first, second):
        actor = sign_in(desk.ctx, "owner", "owner-demo")
        assert actor.signing_key is not None
    clinic.settle()
    for desk in (first, second):
        with desk.ctx.read() as s:
            refused = s.scalars(
                select(SyncOutbox.entity).where(SyncOutbox.state == "rejected")
            ).all()
            assert refused == [], desk.name
    for desk in (first, second):
        with desk.ctx.read() as s:
            keys = set(s.scalars(select(StaffUser.signing_public_key)).all())
            assert None not in keys and len(keys) == 4  # each demo account its own key
    with first.ctx.read() as a, second.ctx.read() as b:
        assert first.ctx.settings(a).name == second.ctx.settings(b).name == NAME

"""Issue 15, item 10 on the desk: a revoked desk is told to enrol again, and can: with a fresh
code it gets a new token, keeps its number series and sends what waited meanwhile."""

from __future__ import annotations

from sqlalchemy import select

from frontdesk.models import NumberSeries, Patient
from frontdesk.sync.setup import engine_for, enrol
from tests.sync.clinic import Clinic


def test_a_revoked_desk_enrols_again(clinic: Clinic) -> None:
    a, b = clinic.add_desk(), clinic.add_desk()
    a.add_patient("Ann")
    clinic.settle()
    assert clinic.store.revoke(a.ctx.device_id) == 1
    waiting = a.add_patient("Ben")
    assert not a.sync()  # told to enrol again
    code = clinic.store.create_enrolment_code("desk1 again")
    enrol(a.ctx, "http://testserver", code, transport=a.plain, device_name="desk1")

    a.engine = engine_for(a.ctx, transport=a.transport)
    clinic.settle()
    assert waiting in b.ids(Patient)
    with a.ctx.read() as s:
        active = s.scalars(select(NumberSeries.prefix).where(NumberSeries.active)).all()
    assert "D1" in active  # the same series as before
    clinic.assert_converged()

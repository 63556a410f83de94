"""A clinic with funded patients, on top of tests/billing_world: Medicare, DVA and NDIS payers,
a patient with a chronic condition management plan, a veteran with a DVA referral and an NDIS
participant (agency-managed) with a Capacity Building budget. The NDIS plan runs in 2024–25,
the year of the real support-catalogue sample in data/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from billing_world import World, make_world

from frontdesk.models import Appointment, CatalogueFunderPrice, Funder, Patient
from frontdesk.services.claims.checkout import import_support_catalogue
from frontdesk.services.claims.plans import BudgetInput, PlanInput, book_under_plan, save_plan
from frontdesk.store.context import ServiceContext

DATA = Path(__file__).parent / "claims" / "data"
SYDNEY_9AM = 22  # 09:00 AEDT is 22:00 UTC the day before


@dataclass
class Funded:
    w: World
    medicare: str
    dva: str
    ndis: str
    cdm_patient: str
    veteran: str
    participant: str
    cdm_plan: str
    dva_plan: str
    ndis_plan: str


def at(day: date, hour_utc: int = SYDNEY_9AM) -> datetime:
    return datetime(day.year, day.month, day.day, hour_utc, tzinfo=UTC) - timedelta(days=1)


def appointment(
    ctx: ServiceContext, f: Funded, patient_id: str, day: date, minutes: int = 30, **kw: object
) -> str:
    """An appointment at 09:00 Sydney on ``day`` (written directly: test set-up)."""
    start = at(day)
    with ctx.write("set up an appointment") as s:
        a = Appointment(
            practitioner_id=f.w.practitioner,
            patient_id=patient_id,
            appointment_type_id=f.w.appt_type,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            status=kw.get("status", "completed"),
        )
        s.add(a)
        s.flush()
        return a.id


def make_funded(ctx: ServiceContext) -> Funded:
    w = make_world(ctx, appointments=1)
    with ctx.write("set up funders") as s:
        s.add(medicare := Funder(kind="medicare", name="Medicare"))
        s.add(dva := Funder(kind="dva", name="Department of Veterans' Affairs"))
        s.add(ndis := Funder(kind="ndis_plan_manager", name="NDIA"))
        s.add(
            cdm := Patient(patient_number="P-10", first_name="Maria", last_name="Santos",
                           medicare_number="2953701341", medicare_irn="1")
        )  # fmt: skip
        s.add(vet := Patient(patient_number="P-11", first_name="Ted", last_name="Walsh",
                             dva_number="NX123456"))  # fmt: skip
        s.add(part := Patient(patient_number="P-12", first_name="Ava", last_name="Chen",
                              ndis_number="430123456"))  # fmt: skip
        s.flush()
        for funder, item, cents in ((dva, "F560", 7_255), (ndis, "15_055_0128_1_3", 19_399)):
            s.add(
                CatalogueFunderPrice(
                    catalogue_item_id=w.service, funder_id=funder.id, item_number=item,
                    price_cents=cents,
                )
            )  # fmt: skip
        s.add(
            CatalogueFunderPrice(
                catalogue_item_id=w.service, funder_id=medicare.id, item_number="10960",
                price_cents=6_110,
            )
        )  # fmt: skip
        ctx.settings(s).state = "NSW"
        ids = medicare.id, dva.id, ndis.id, cdm.id, vet.id, part.id
    cdm_plan = save_plan(
        ctx,
        ids[3],
        PlanInput(
            kind="medicare_cdm", funder_id=ids[0], referrer_name="Dr Amelia Hart",
            referrer_provider_number="2345671a", starts_on=date(2026, 1, 12),
        ),
    )  # fmt: skip
    dva_plan = save_plan(
        ctx,
        ids[4],
        PlanInput(
            kind="dva", funder_id=ids[1], referrer_name="Dr Ben Ito",
            referrer_provider_number="4412345B", starts_on=date(2025, 12, 20),
        ),
    )  # fmt: skip
    ndis_plan = save_plan(
        ctx,
        ids[5],
        PlanInput(
            kind="ndis", funder_id=ids[2], starts_on=date(2024, 9, 1),
            expires_on=date(2025, 8, 31), ndis_management="agency",
            budgets=[BudgetInput("Capacity Building", 100_000)],
        ),
    )  # fmt: skip
    import_support_catalogue(ctx, DATA / "ndis_support_catalogue_sample.csv")
    return Funded(w, *ids, cdm_plan, dva_plan, ndis_plan)


def session(
    ctx: ServiceContext, f: Funded, patient_id: str, plan_id: str, day: date, **kw: object
) -> str:
    appt = appointment(ctx, f, patient_id, day, **kw)  # type: ignore[arg-type]
    price = 19_399 if plan_id == f.ndis_plan else 0
    book_under_plan(
        ctx, appt, plan_id, budget_category="Capacity Building" if price else "", price_cents=price
    )
    return appt

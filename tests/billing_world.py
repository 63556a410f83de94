"""A small clinic for billing tests: a practitioner with a provider number, a GST-free service
with a health fund's item number and price, a taxable product, patients (one paying for
themselves, one whose health fund pays, one archived) and attended appointments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from frontdesk.models import (
    Appointment,
    AppointmentType,
    CatalogueFunderPrice,
    CatalogueItem,
    Funder,
    FundingMembership,
    Patient,
    Practitioner,
    ProviderNumber,
)
from frontdesk.store.context import ServiceContext


@dataclass
class World:
    practitioner: str = ""
    fund: str = ""
    service: str = ""
    product: str = ""
    appt_type: str = ""
    patient: str = ""
    fund_patient: str = ""
    archived_patient: str = ""
    appointments: list[str] = field(default_factory=list)  # completed, for ``patient``
    fund_appointment: str = ""
    booked_appointment: str = ""
    archived_appointment: str = ""


def make_world(ctx: ServiceContext, appointments: int = 3) -> World:
    w = World()
    start = datetime(2026, 11, 26, 22, 0, tzinfo=UTC) - timedelta(hours=2)  # 07:00 Sydney
    with ctx.write("set up a test clinic") as s:
        s.add(
            prac := Practitioner(
                first_name="Ruby",
                last_name="Esposito",
                display_name="Ruby Esposito",
                profession="Physiotherapist",
            )
        )
        s.add(fund := Funder(kind="health_fund", name="Bupa", business_number="81 000 057 590"))
        s.add(
            svc := CatalogueItem(
                code="PHY-STD",
                name="Physiotherapy standard consultation",
                price_cents=9500,
                duration_minutes=30,
            )
        )
        s.add(
            prod := CatalogueItem(
                code="PRD-KNEE", name="Knee brace", kind="product", price_cents=6500, taxable=True
            )
        )
        s.flush()
        s.add(ProviderNumber(practitioner_id=prac.id, number="4123456A"))
        s.add(
            CatalogueFunderPrice(
                catalogue_item_id=svc.id, funder_id=fund.id, item_number="505", price_cents=9000
            )
        )
        s.add(
            appt_type := AppointmentType(
                name="Standard", duration_minutes=30, default_service_id=svc.id
            )
        )
        s.add(
            patient := Patient(
                patient_number="P-1",
                first_name="Karen",
                last_name="Kim",
                address_line1="177 Railway Parade",
                suburb="Blacktown",
                state="NSW",
                postcode="2148",
                date_of_birth=date(1954, 8, 21),
            )
        )
        s.add(
            fund_patient := Patient(
                patient_number="P-2",
                first_name="Liam",
                last_name="Nguyen",
                default_payer_funder_id=fund.id,
            )
        )
        s.add(
            archived := Patient(
                patient_number="P-3", first_name="Old", last_name="Card", archived_at=start
            )
        )
        s.flush()
        s.add(
            FundingMembership(
                patient_id=fund_patient.id,
                funder_id=fund.id,
                kind="health_fund",
                member_number="12345678",
            )
        )

        def appt(patient_id: str, i: int, status: str = "completed") -> str:
            a = Appointment(
                practitioner_id=prac.id,
                patient_id=patient_id,
                appointment_type_id=appt_type.id,
                starts_at=start + timedelta(minutes=30 * i),
                ends_at=start + timedelta(minutes=30 * (i + 1)),
                status=status,
            )
            s.add(a)
            s.flush()
            return a.id

        w.appointments = [appt(patient.id, i) for i in range(appointments)]
        w.fund_appointment = appt(fund_patient.id, appointments)
        w.booked_appointment = appt(patient.id, appointments + 1, "booked")
        w.archived_appointment = appt(archived.id, appointments + 2)
        w.practitioner, w.fund, w.service, w.product = prac.id, fund.id, svc.id, prod.id
        w.appt_type, w.patient, w.fund_patient = appt_type.id, patient.id, fund_patient.id
        w.archived_patient = archived.id
    with ctx.write("clinic details") as s:
        settings = ctx.settings(s)
        settings.name = "Harbourside Health"
        settings.legal_name = "Harbourside Health Pty Ltd"
        settings.business_number = "53 004 085 616"
        settings.address = "118 King Street\nNewtown NSW 2042"
    return w

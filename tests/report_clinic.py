"""A clinic with known numbers for the report tests: the diary test clinic (Anna and Ben,
rostered Monday–Saturday 8:00–17:00 with lunch 12:30–13:00) plus appointments, invoices and
payments written straight into the real SQLite file at chosen clinic-time moments, some
either side of a month end and of the April 2026 daylight-saving change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from diary_clinic import Clinic, make_clinic

from frontdesk.models import Appointment, Funder, Invoice, Payment
from frontdesk.store.context import ServiceContext


@dataclass
class ReportClinic:
    clinic: Clinic
    fund: str

    @property
    def ctx(self) -> ServiceContext:
        return self.clinic.ctx


def appointment(c: Clinic, who: str, patient: str | None, day: date, hh: int, mm: int,
                minutes: int, status: str = "completed", reason: str | None = None,
                cancelled_before: timedelta | None = None,
                booked_before: timedelta = timedelta(days=7)) -> Appointment:  # fmt: skip
    start = c.at(day, hh, mm)
    a = Appointment(
        practitioner_id=who,
        patient_id=patient,
        appointment_type_id=c.standard,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        status=status,
        cancellation_reason=reason,
        cancelled_at=start - cancelled_before if cancelled_before else None,
    )
    a.created_at = start - booked_before
    return a


def invoice(c: Clinic, n: int, who: str, patient: str, day: date, cents: int,
            payer: str | None = None, tax: int = 0) -> Invoice:  # fmt: skip
    return Invoice(
        number=f"T-{n:04d}",
        status="issued",
        patient_id=patient,
        practitioner_id=who,
        payer_funder_id=payer,
        issue_date=day,
        issued_at=c.at(day, 10),
        total_cents=cents,
        tax_cents=tax,
    )


def payment(c: Clinic, day: date, method: str, cents: int, kind: str = "payment",
            reverses: str | None = None) -> Payment:  # fmt: skip
    return Payment(
        kind=kind,
        method=method,
        amount_cents=cents,
        patient_id=c.pat,
        received_at=c.at(day, 11),
        business_date=day,
        device_id=c.ctx.device_id,
        reverses_payment_id=reverses,
    )


def make_report_clinic(ctx: ServiceContext) -> ReportClinic:
    c = make_clinic(ctx)
    with ctx.write("report test data") as s:
        fund = Funder(kind="health_fund", name="Bupa")
        s.add(fund)
        s.flush()
        # Revenue: 31 March (AEDT) and 1 April (still AEDT until the 5th), 6 April (AEST).
        s.add_all(
            [
                invoice(c, 1, c.anna, c.pat, date(2026, 3, 31), 10_000),
                invoice(c, 2, c.ben, c.pat, date(2026, 3, 31), 5_000, fund.id),
                invoice(c, 3, c.anna, c.other, date(2026, 4, 1), 7_000),
                invoice(c, 4, c.ben, c.other, date(2026, 4, 6), 2_500, fund.id),
            ]
        )
        # Pat sees Anna three times (March, April twice), each next visit booked a week
        # ahead; Olive sees Ben once in April, booked on the day, and nothing after.
        s.add_all(
            [
                appointment(c, c.anna, c.pat, date(2026, 3, 30), 9, 30, 60),
                appointment(c, c.anna, c.pat, date(2026, 4, 6), 9, 0, 30),
                appointment(c, c.anna, c.pat, date(2026, 4, 13), 12, 0, 30),
                appointment(
                    c, c.ben, c.other, date(2026, 4, 1), 0, 30, 30, booked_before=timedelta(hours=1)
                ),
                # cancelled and did not arrive, 1 April 00:30 clinic time is April
                appointment(
                    c,
                    c.ben,
                    c.other,
                    date(2026, 4, 1),
                    8,
                    0,
                    30,
                    "cancelled",
                    "sick",
                    cancelled_before=timedelta(hours=2),
                ),
                appointment(c, c.ben, c.pat, date(2026, 3, 31), 23, 30, 30, "did_not_arrive"),
                appointment(
                    c,
                    c.ben,
                    c.pat,
                    date(2026, 4, 8),
                    8,
                    0,
                    30,
                    "cancelled",
                    "away",
                    cancelled_before=timedelta(days=3),
                ),
            ]
        )
        pay = payment(c, date(2026, 4, 6), "eftpos", 9_500)
        s.add(pay)
        s.flush()
        s.add_all(
            [
                payment(c, date(2026, 4, 6), "cash", 3_000),
                payment(c, date(2026, 4, 6), "cash", 1_000, "refund"),
                payment(c, date(2026, 4, 6), "eftpos", 9_500, "reversal", pay.id),
                payment(c, date(2026, 4, 6), "eftpos", 9_000),
            ]
        )
    return ReportClinic(c, fund.id)

"""The demo clinic: a realistic practice for first start, screenshots and benchmarks.

The clinic itself (details, rooms, practitioners, rosters, types, leave, public holidays) is set
up through the same services a practice manager uses (``demo/clinic.py``); its history is then
booked only where that clinic's rosters, leave and closures allow, as the diary reads them.
The history is written with bulk ``executemany`` inserts on a raw sqlite3 connection (never the
ORM row by row), so the 10-year, 20-practitioner clinic (about 1.2 million appointments) takes
minutes. The history is not put in the sync outbox: a demo desk is for trying the product.

Over 400 lines on purpose: one builder whose steps share its random stream and the ids
they made; split, the steps would pass a dozen values around.
"""

from __future__ import annotations

import functools
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from frontdesk.demo import words
from frontdesk.demo.clinic import DemoClinic, define_clinic
from frontdesk.domain.clinic_time import day_bounds_utc
from frontdesk.domain.diary import Availability, availability_on, local_instant, local_minute
from frontdesk.domain.identifiers import medicare_check_digit
from frontdesk.domain.money import tax_inclusive
from frontdesk.domain.vocab import AppointmentStatus, CancellationReason, PaymentMethod
from frontdesk.models import (
    AppointmentType,
    CatalogueFunderPrice,
    CatalogueItem,
    Funder,
    Leave,
    Location,
    Practitioner,
    Room,
    RosterEntry,
)
from frontdesk.services.diary.view import leave_blocks, roster_rules
from frontdesk.services.setup import leave
from frontdesk.store import balances
from frontdesk.store.bulk import BulkWriter
from frontdesk.store.context import ServiceContext
from frontdesk.store.order import parents_first

Progress = Callable[[str, float], None]
TZ_NAME = "Australia/Sydney"


@dataclass(frozen=True)
class DemoSpec:
    practitioners: int = 8
    weeks_past: int = 12
    weeks_future: int = 4
    patients: int | None = None
    seed: int = 20261127
    time_zone: str = TZ_NAME  # the clinic's zone: the demo's days and opening hours are local

    @staticmethod
    def for_years(years: float, practitioners: int, patients: int | None = None) -> DemoSpec:
        return DemoSpec(
            practitioners=practitioners, weeks_past=round(years * 52), patients=patients
        )

    def first_day(self, today: date) -> date:
        return today - timedelta(weeks=self.weeks_past)

    def last_day(self, today: date) -> date:
        return today + timedelta(weeks=self.weeks_future)

    @property
    def patient_count(self) -> int:
        if self.patients is not None:
            return self.patients
        if self.weeks_past <= 16:
            return 500 * self.practitioners
        return round(750 * self.weeks_past / 52 * self.practitioners)


@dataclass
class DemoSummary:
    counts: dict[str, int]


def is_empty(ctx: ServiceContext) -> bool:
    with ctx.read() as session:
        return session.scalars(select(Practitioner.id).limit(1)).first() is None


def build_demo(
    ctx: ServiceContext, spec: DemoSpec, progress: Progress | None = None
) -> DemoSummary:
    """Fill an empty desk database with the demo clinic."""
    if not is_empty(ctx):
        raise ValueError("the database already has practitioners; demo data goes in an empty one")
    path = ctx.engine.url.database
    assert path, "the demo needs a SQLite file"
    (progress or (lambda _m, _f: None))("Clinic and practitioners", 0.0)
    rng = random.Random(spec.seed)
    today = ctx.clock.now().astimezone(ZoneInfo(spec.time_zone)).date()
    first, last = spec.first_day(today), spec.last_day(today)
    defined = define_clinic(ctx, rng, spec.practitioners, first, last, spec.time_zone)
    plan = _read_back(ctx, defined, first, last)
    ctx.engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        # A rollback journal holds only the few pages that existed before: far less writing
        # than a WAL that would hold the whole new database until checkpoint.
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-200000")
        conn.execute("BEGIN IMMEDIATE")
        balances.pause_raw(conn)  # the ledger summary is computed once, at the end
        builder = _Builder(conn, ctx, spec, progress or (lambda _m, _f: None), rng, defined, plan)
        counts = builder.build()
        balances.rebuild_raw(conn)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA optimize")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    ctx._tz = None  # settings changed underneath the context
    return DemoSummary({**_clinic_counts(ctx), **counts})


def _clinic_counts(ctx: ServiceContext) -> dict[str, int]:
    """Rows of the clinic's definition (written by the set-up services, not the bulk writer)."""
    with ctx.read() as session:
        return {
            model.__tablename__: n
            for model in (Location, Room, Practitioner, AppointmentType, RosterEntry, Leave,
                          CatalogueItem, CatalogueFunderPrice, Funder)
            if (n := session.scalar(select(func.count()).select_from(model)) or 0)
        }  # fmt: skip


@dataclass(frozen=True)
class DiaryPlan:
    """Each practitioner's bookable spans per day (local minutes), from their roster, leave and
    the clinic's closures as the diary reads them: the demo books only where the diary would."""

    spans: dict[str, dict[date, list[tuple[int, int]]]]
    holidays: frozenset[date]  # the days the whole clinic is closed


def _read_back(ctx: ServiceContext, defined: DemoClinic, first: date, last: date) -> DiaryPlan:
    ids = [p["id"] for p in defined.pracs]
    tz = ctx.tz
    with ctx.read() as session:
        rules = roster_rules(session, ids)
        start, end = day_bounds_utc(first, tz)[0], day_bounds_utc(last, tz)[1]
        away = leave_blocks(session, ids, start, end)
    spans: dict[str, dict[date, list[tuple[int, int]]]] = {}
    for pid in ids:
        closed: set[date] = set()
        for block in away[pid]:
            day = block.start.astimezone(tz).date()
            while local_instant(day, 0, tz) < block.end:
                closed.add(day)
                day += timedelta(days=1)
        days: dict[date, list[tuple[int, int]]] = {}
        day = first
        while day < last:
            if day not in closed:
                avail = availability_on(rules[pid], (), day, tz)
                if avail.work:
                    days[day] = _open_spans(avail, tz)
            day += timedelta(days=1)
        spans[pid] = days
    closed_days = {
        h.day for year in range(first.year, last.year + 1)
        for h in leave.public_holidays(ctx, year) if h.added
    }  # fmt: skip
    return DiaryPlan(spans, frozenset(closed_days))


def _open_spans(avail: Availability, tz: ZoneInfo) -> list[tuple[int, int]]:
    """Work minus breaks, as local (start, end) minutes."""
    out: list[tuple[int, int]] = []
    for w in avail.work:
        pieces = [(local_minute(w.start, tz)[1], local_minute(w.end, tz)[1] or 1440)]
        for b in avail.breaks:
            bs, be = local_minute(b.start, tz)[1], local_minute(b.end, tz)[1]
            cut = ((s, min(e, bs)) for s, e in pieces), ((max(s, be), e) for s, e in pieces)
            pieces = [p for side in cut for p in side if p[0] < p[1]]
        out += pieces
    return sorted(out)


class _Builder:
    def __init__(
        self, conn: sqlite3.Connection, ctx: ServiceContext, spec: DemoSpec, progress: Progress,
        rng: random.Random, clinic: DemoClinic, plan: DiaryPlan,
    ) -> None:  # fmt: skip
        self.conn, self.ctx, self.spec, self.progress = conn, ctx, spec, progress
        self.rng, self.plan = rng, plan
        self.location, self.rooms, self.services = clinic.location, clinic.rooms, clinic.services
        self.health_funds, self.other_funders = clinic.health_funds, clinic.other_funders
        self.third_party = [
            self.other_funders[n]
            for n in ("Department of Veterans' Affairs", "Plan Partners", "icare NSW")
        ]
        self.knee, self.band = self.services["PRD-KNEE"], self.services["PRD-BAND"]
        self.pracs, self.group_type = clinic.pracs, clinic.group_type
        self.holidays = plan.holidays
        self.tz = ZoneInfo(spec.time_zone)
        self.now = ctx.clock.now()
        self.today = self.now.astimezone(self.tz).date()
        # Parents before children, always: a child row inserted before its parent would make
        # SQLite scan child tables on every later parent insert, so a full chunk flushes all.
        self.bulk = {
            t.name: BulkWriter(conn, t, now=self.now, on_full=self._flush) for t in parents_first()
        }

    def t(self, name: str) -> BulkWriter:
        return self.bulk[name]

    def build(self) -> dict[str, int]:
        self._staff()
        self.progress("Patients", 0.05)
        self._patients()
        self._flush()
        self.progress("Appointments", 0.15)
        self._diary()
        self._flush()
        self._set_series()
        self.progress("Done", 1.0)
        return {name: b.count for name, b in self.bulk.items() if b.count}

    def _flush(self) -> None:
        for b in self.bulk.values():
            b.flush()

    def _staff(self) -> None:
        """One account per role; the passwords are in the README (demo clinic only). A name
        already taken (the owner who chose "Start from a demo clinic" in the set-up) is kept
        as it is and that demo account is left out."""
        from frontdesk.services.staff import key_fields

        taken = {name for (name,) in self.conn.execute("SELECT username FROM staff_users")}
        for username, shown, role, password, pin in DEMO_ACCOUNTS:
            linked = self.pracs[0] if role == "practitioner" and self.pracs else None
            if (role == "practitioner" and linked is None) or username in taken:
                continue
            self.t("staff_users").add(
                username=username, display_name=linked["name"] if linked else shown, role=role,
                practitioner_id=linked["id"] if linked else None,
                password_hash=_demo_hash(password), pin_hash=_demo_hash(pin),
                # each account's signing key, as a real account gets when it is made: without
                # it the first sign-in on each desk made its own, and every desk but the first
                # to sync had its key refused (two desks of a seeded demo clinic, issue 17)
                **key_fields(password),
            )  # fmt: skip

    # -- patients -----------------------------------------------------------------------------
    def _patients(self) -> None:
        rng = self.rng
        n = self.spec.patient_count
        self.patients: list[tuple[str, str | None]] = []  # id, default third-party payer
        add = self.t("patients").add
        add_member = self.t("funding_memberships").add
        add_alert = self.t("patient_alerts").add
        alerts = (
            "Latex allergy", "Falls risk — assist to the plinth", "Hard of hearing",
            "Prefers a female practitioner", "Account on hold — see manager",
            "Interpreter needed (Vietnamese)", "Pacemaker — no electrotherapy",
        )  # fmt: skip
        for i in range(n):
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
            street, (suburb, state, postcode) = rng.choice(words.STREETS), rng.choice(words.SUBURBS)
            dob = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 85))
            mobile = (
                f"04{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"
            )
            first8 = f"{rng.randrange(2, 7)}{rng.randrange(1000000, 9999999)}"
            medicare = f"{first8}{medicare_check_digit(first8)}{rng.randrange(1, 6)}"
            payer = None
            dva = ndis = ""
            roll = rng.random()
            if roll < 0.03:
                payer, dva = (
                    self.other_funders["Department of Veterans' Affairs"],
                    (f"N{rng.choice('XQ')}{rng.randrange(100000, 999999)}"),
                )
            elif roll < 0.07:
                payer = self.other_funders[rng.choice(("Plan Partners", "My Plan Manager"))]
                ndis = f"43{rng.randrange(1000000, 9999999)}"
            elif roll < 0.09:
                payer = self.other_funders["icare NSW"]
            consent_at = self.now - timedelta(days=rng.randrange(1, 3000))
            pid = add(
                patient_number=f"P-{i + 1:06d}",
                title=rng.choice(("", "", "Mr", "Ms", "Mrs", "Dr", "Mx")),
                first_name=first, last_name=last,
                preferred_name=rng.choice(("", "", "", "", first[:3])) if len(first) > 4 else "",
                pronouns=rng.choice(("", "", "", "she/her", "he/him", "they/them")),
                date_of_birth=dob, sex=rng.choice(("Female", "Male", "Female", "Male", "")),
                mobile_phone=mobile,
                home_phone=f"(02) 9{rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
                if rng.random() < 0.2 else "",
                email=f"{_slug(first)}.{_slug(last)}{rng.randrange(1, 99)}@example.com"
                if rng.random() < 0.8 else "",
                address_line1=f"{rng.randrange(1, 300)} {street}", suburb=suburb, state=state,
                postcode=postcode,
                emergency_contact_name=f"{rng.choice(words.FIRST_NAMES)} {last}",
                emergency_contact_phone=f"04{rng.randrange(10, 99)} {rng.randrange(100, 999)} "
                f"{rng.randrange(100, 999)}",
                emergency_contact_relationship=rng.choice(("Partner", "Parent", "Child", "Friend")),
                gp_name=f"Dr {rng.choice(words.FIRST_NAMES)} {rng.choice(words.LAST_NAMES)}",
                gp_practice=f"{rng.choice(words.SUBURBS)[0]} Medical Centre",
                medicare_number=medicare[:10], medicare_irn=medicare[10:],
                dva_number=dva, ndis_number=ndis, default_payer_funder_id=payer,
                sms_consent=True, sms_consent_at=consent_at,
                email_consent=rng.random() < 0.7, email_consent_at=consent_at,
                privacy_consent_at=consent_at,
                created_at=self.now
                - timedelta(days=rng.randrange(1, 7 * self.spec.weeks_past + 30)),
            )  # fmt: skip
            if rng.random() < 0.55:
                add_member(
                    patient_id=pid, funder_id=rng.choice(self.health_funds), kind="health_fund",
                    member_number=f"{rng.randrange(10000000, 99999999)}",
                    reference=str(rng.randrange(1, 5)),
                )  # fmt: skip
            if payer:
                kind = "dva" if dva else ("ndis_plan_manager" if ndis else "workers_comp")
                add_member(
                    patient_id=pid, funder_id=payer, kind=kind,
                    member_number=dva or ndis or f"WC{rng.randrange(1000000, 9999999)}",
                    claim_number=f"CLM-{rng.randrange(100000, 999999)}" if not (dva or ndis)
                    else "",
                )  # fmt: skip
            if rng.random() < 0.04:
                add_alert(patient_id=pid, text=rng.choice(alerts))
            self.patients.append((pid, payer))
            if i % 20000 == 0:
                self.progress("Patients", 0.05 + 0.1 * i / max(1, n))

    # -- diary and billing --------------------------------------------------------------------
    def _diary(self) -> None:
        spec = self.spec
        first = spec.first_day(self.today)
        last = spec.last_day(self.today)
        self.invoice_no = 0
        self.receipt_no = 0
        total_days = (last - first).days
        day = first
        while day < last:
            for prac in self.pracs:
                spans = self.plan.spans[prac["id"]].get(day)
                if not spans:  # not rostered, on leave, or the clinic is closed
                    continue
                # The first practitioner runs a pilates class in the last hour on Tue and Thu.
                has_class = prac is self.pracs[0] and day.weekday() in (1, 3)
                self._practitioner_day(prac, day, spans, has_class)
            day += timedelta(days=1)
            if day.day == 1:
                self.progress("Appointments", 0.15 + 0.85 * (day - first).days / total_days)

    def _practitioner_day(
        self, prac: dict[str, Any], day: date, spans: list[tuple[int, int]], has_class: bool
    ) -> None:
        rng = self.rng
        if has_class and self.group_type is not None and spans[-1][1] - spans[-1][0] >= 60:
            start, end = spans[-1]
            spans = [*spans[:-1], (start, end - 60)]
            self._group_class(prac, day, end - 60)
        days_ahead = (day - self.today).days
        fill = 0.9 if days_ahead <= 0 else max(0.3, 0.9 - days_ahead * 0.02)
        types = prac["types"]
        short = prac["short_share"]
        for start, end in spans:
            minute = start
            while True:
                r = rng.random()
                tid, svc = types[0] if r < 0.1 else (types[2] if r < short else types[1])
                duration = svc[2]
                if minute + duration > end:
                    break
                if rng.random() < fill:
                    self._appointment(prac, day, minute, duration, tid, svc)
                minute += duration

    def _appointment(
        self, prac: dict[str, Any], day: date, minute: int, duration: int, tid: str,
        svc: tuple[str, int, int],
    ) -> None:  # fmt: skip
        rng = self.rng
        starts = datetime.combine(day, time(minute // 60, minute % 60), self.tz).astimezone(UTC)
        ends = starts + timedelta(minutes=duration)
        patient_id, payer = self.patients[rng.randrange(len(self.patients))]
        status, reason, cancelled_at = self._status(starts, ends)
        appt = self.t("appointments").add(
            practitioner_id=prac["id"], patient_id=patient_id, appointment_type_id=tid,
            location_id=self.location, room_id=prac["room"], starts_at=starts, ends_at=ends,
            status=status, cancellation_reason=reason, cancelled_at=cancelled_at,
            reminder_sent_at=starts - timedelta(days=1) if starts - timedelta(days=1) < self.now
            else None,
            created_at=starts - timedelta(days=rng.randrange(1, 30)),
        )  # fmt: skip
        if status == AppointmentStatus.COMPLETED:
            self._invoice(appt, prac, patient_id, payer, day, ends, svc)

    def _status(self, starts: datetime, ends: datetime) -> tuple[str, str | None, datetime | None]:
        r = self.rng.random()
        if starts > self.now:
            if r < 0.04:
                return "cancelled", self._reason(), self.now - timedelta(hours=3)
            return "booked", None, None
        if r < 0.065:
            return "cancelled", self._reason(), starts - timedelta(hours=self.rng.randrange(2, 72))
        if r < 0.09:
            return "did_not_arrive", None, None
        if ends > self.now:
            return ("in_session" if starts <= self.now else "arrived"), None, None
        return "completed", None, None

    def _reason(self) -> str:
        return self.rng.choice(tuple(CancellationReason)).value

    def _invoice(
        self, appt: str, prac: dict[str, Any], patient_id: str, payer: str | None, day: date,
        ends: datetime, svc: tuple[str, int, int],
    ) -> None:  # fmt: skip
        rng = self.rng
        self.invoice_no += 1
        lines = [(svc[0], "service", svc[1], False)]
        if rng.random() < 0.03:
            product = self.knee if rng.random() < 0.5 else self.band
            lines.append((product[0], "product", product[1], True))
        total = sum(p for _, _, p, _ in lines)
        tax = sum(tax_inclusive(p, 1000) for _, _, p, t in lines if t)
        inv = self.t("invoices").add(
            number=f"INV-{self.invoice_no:06d}", status="issued", patient_id=patient_id,
            payer_funder_id=payer, practitioner_id=prac["id"], location_id=self.location,
            issue_date=day, due_date=day + timedelta(days=14), issued_at=ends,
            total_cents=total, tax_cents=tax, created_at=ends,
        )  # fmt: skip
        for pos, (item_id, kind, price, taxable) in enumerate(lines):
            self.t("invoice_lines").add(
                invoice_id=inv, position=pos, appointment_id=appt if kind == "service" else None,
                catalogue_item_id=item_id, practitioner_id=prac["id"], service_date=day,
                description=self._describe(item_id), quantity=1, unit_price_cents=price,
                taxable=taxable, tax_rate_bp=1000 if taxable else 0, total_cents=price,
                tax_cents=tax_inclusive(price, 1000) if taxable else 0,
            )  # fmt: skip
        if payer is not None:
            paid_on = self._business_day(day + timedelta(days=rng.randrange(10, 50)))
            if paid_on < self.today and rng.random() < 0.9:
                self._payment(inv, None, payer, total, "bank_transfer", paid_on, ends)
            return
        if rng.random() < 0.93 or day < self.today - timedelta(days=120):
            method = rng.choices(
                (PaymentMethod.EFTPOS, PaymentMethod.CREDIT_CARD,
                 PaymentMethod.HEALTH_FUND_TERMINAL, PaymentMethod.CASH),
                weights=(50, 25, 15, 10),
            )[0]  # fmt: skip
            self._payment(inv, patient_id, None, total, method.value, day, ends)

    def _business_day(self, day: date) -> date:
        """The day, or the next one that is not a weekend or a public holiday (a payer pays by
        bank transfer on a business day)."""
        while day.weekday() >= 5 or day in self.holidays:
            day += timedelta(days=1)
        return day

    def _payment(
        self, inv: str, patient_id: str | None, payer: str | None, amount: int, method: str,
        day: date, ends: datetime,
    ) -> None:  # fmt: skip
        received = ends + timedelta(minutes=3)
        if day > ends.astimezone(self.tz).date():
            received = datetime.combine(day, time(10, 30), self.tz).astimezone(UTC)
        self.receipt_no += 1
        pay = self.t("payments").add(
            receipt_number=f"R-{self.receipt_no:06d}", kind="payment", method=method,
            amount_cents=amount, patient_id=patient_id, payer_funder_id=payer,
            received_at=received, business_date=day, device_id=self.ctx.device_id,
            created_at=received,
        )  # fmt: skip
        self.t("payment_allocations").add(payment_id=pay, invoice_id=inv, amount_cents=amount)

    def _describe(self, item_id: str) -> str:
        if not hasattr(self, "_names"):
            self._names = {self.services[code][0]: name for code, name, *_ in words.CATALOGUE}
        return self._names[item_id]

    def _group_class(self, prac: dict[str, Any], day: date, minute: int) -> None:
        rng = self.rng
        at = time(minute // 60, minute % 60)
        starts = datetime.combine(day, at, self.tz).astimezone(UTC)
        status = "completed" if starts + timedelta(hours=1) < self.now else "booked"
        appt = self.t("appointments").add(
            practitioner_id=prac["id"], appointment_type_id=self.group_type,
            location_id=self.location, room_id=prac["room"], starts_at=starts,
            ends_at=starts + timedelta(hours=1), status=status, is_group=True, capacity=6,
            notes="Clinical pilates — all levels",
        )  # fmt: skip
        for _ in range(rng.randrange(3, 7)):
            patient_id, _payer = self.patients[rng.randrange(len(self.patients))]
            self.t("appointment_attendees").add(
                appointment_id=appt, patient_id=patient_id, status=status
            )

    def _set_series(self) -> None:
        self.conn.execute(
            "UPDATE number_series SET next_value=? WHERE kind='invoice' AND active=1",
            (self.invoice_no + 1,),
        )
        self.conn.execute(
            "UPDATE number_series SET next_value=? WHERE kind='receipt' AND active=1",
            (self.receipt_no + 1,),
        )
        self.conn.execute(
            "UPDATE number_series SET next_value=? WHERE kind='patient' AND active=1",
            (len(self.patients) + 1,),
        )
        # Search ranks recently seen patients up: stamp when each was last seen.
        self.conn.execute(
            "UPDATE patients SET last_seen_at = (SELECT max(a.ends_at) FROM appointments a"
            " WHERE a.patient_id = patients.id AND a.status = 'completed')"
        )


# (user name, display name, role, password, PIN): printed in README.md, "Demo accounts".
DEMO_ACCOUNTS = (
    ("owner", "Dana Whitfield", "owner", "owner-demo", "1111"),
    ("manager", "Priya Raman", "practice_manager", "manager-demo", "2222"),
    ("reception", "Jess Morgan", "reception", "reception-demo", "3333"),
    ("practitioner", "", "practitioner", "practitioner-demo", "4444"),
)


@functools.lru_cache(maxsize=16)
def _demo_hash(secret: str) -> str:
    from frontdesk.services.passwords import hash_secret

    return hash_secret(secret)


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum()) or "patient"

"""The clinic itself: settings, locations, rooms, practitioners, rosters, leave, funders."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.domain.vocab import FunderKind, LeaveKind, OverlapPolicy, RosterKind
from frontdesk.models.base import Base, SyncedMixin, one_of


class ClinicSettings(SyncedMixin, Base):
    """Clinic-wide settings (one row). They sync; per-machine preferences do not."""

    __tablename__ = "clinic_settings"
    __table_args__ = (
        CheckConstraint("tax_rate_bp >= 0 AND tax_rate_bp <= 10000", name="tax_rate_range"),
        CheckConstraint("idle_lock_minutes >= 1", name="idle_lock_positive"),
        one_of("default_overlap_policy", OverlapPolicy),
    )

    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    business_number: Mapped[str] = mapped_column(String(40), default="")
    business_number_label: Mapped[str] = mapped_column(String(20), default="ABN")
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    time_zone: Mapped[str] = mapped_column(String(64), default="Australia/Sydney")
    currency: Mapped[str] = mapped_column(String(3), default="AUD")
    currency_symbol: Mapped[str] = mapped_column(String(4), default="$")
    tax_registered: Mapped[bool] = mapped_column(default=True)
    tax_name: Mapped[str] = mapped_column(String(20), default="GST")
    tax_rate_bp: Mapped[int] = mapped_column(default=1000)
    date_format: Mapped[str] = mapped_column(String(20), default="%d/%m/%Y")
    default_overlap_policy: Mapped[str] = mapped_column(String(10), default=OverlapPolicy.WARN)
    idle_lock_minutes: Mapped[int] = mapped_column(default=10)
    hide_revenue_from_reception: Mapped[bool] = mapped_column(default=False)
    invoice_due_days: Mapped[int] = mapped_column(default=14)
    payment_instructions: Mapped[str] = mapped_column(Text, default="")
    # The report to a referring practitioner (services/claims/letters.py); "" = the built-in one.
    referrer_letter_template: Mapped[str] = mapped_column(Text, default="")
    # the state or territory whose public holidays the clinic keeps (NSW, VIC…), "" none
    state: Mapped[str] = mapped_column(String(3), default="")
    # the first-run set-up: the step it stopped at ("" not started), and when it was finished
    setup_step: Mapped[str] = mapped_column(String(30), default="")
    setup_completed_at: Mapped[datetime | None]
    # what a practitioner's private calendar feed shows of a booking: "busy" or "initials"
    ical_detail: Mapped[str] = mapped_column(String(10), default="busy")
    # account codes for the Xero / MYOB export, JSON (services/accounting_codes.py); "" defaults
    accounting_codes: Mapped[str] = mapped_column(Text, default="")


class Location(SyncedMixin, Base):
    __tablename__ = "locations"

    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    archived_at: Mapped[datetime | None]


class Room(SyncedMixin, Base):
    __tablename__ = "rooms"
    __table_args__ = (one_of("overlap_policy", OverlapPolicy),)

    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    overlap_policy: Mapped[str] = mapped_column(String(10), default=OverlapPolicy.BLOCK)
    sort_order: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None]
    # what the room suits ("gym, hydro"), and whether appointments may be booked into it
    suits: Mapped[str] = mapped_column(String(200), default="")
    bookable: Mapped[bool] = mapped_column(default=True)


class Practitioner(SyncedMixin, Base):
    __tablename__ = "practitioners"
    __table_args__ = (one_of("overlap_policy", OverlapPolicy),)

    title: Mapped[str] = mapped_column(String(20), default="")
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(80))
    qualifications: Mapped[str] = mapped_column(String(200), default="")
    registration_number: Mapped[str] = mapped_column(String(40), default="")
    colour: Mapped[str] = mapped_column(String(9), default="#4f86c6")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    overlap_policy: Mapped[str] = mapped_column(String(10), default=OverlapPolicy.WARN)
    default_location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"))
    sort_order: Mapped[int] = mapped_column(default=0)
    archived_at: Mapped[datetime | None]
    default_room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    # online booking (the integration API): whether callers and booking pages may book them,
    # and their own notice and reach, which apply beside the appointment type's (the stricter
    # of the two wins); None: only the type's
    online_bookable: Mapped[bool] = mapped_column(default=True)
    online_min_notice_minutes: Mapped[int | None]
    online_max_ahead_days: Mapped[int | None]


class ProviderNumber(SyncedMixin, Base):
    """A practitioner's provider number with a funder (Medicare, a health fund) at a location."""

    __tablename__ = "provider_numbers"

    practitioner_id: Mapped[str] = mapped_column(ForeignKey("practitioners.id"), index=True)
    funder_id: Mapped[str | None] = mapped_column(ForeignKey("funders.id"))
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"))
    number: Mapped[str] = mapped_column(String(40))


class RosterEntry(SyncedMixin, Base):
    """Rostered hours (or a break) on a weekday, in the clinic's local wall-clock time.

    ``every_weeks`` 1 is weekly, 2 fortnightly (``week_offset`` picks which week, counted from
    ``effective_from``). Times are minutes after local midnight so they survive DST changes.
    """

    __tablename__ = "roster_entries"
    __table_args__ = (
        one_of("kind", RosterKind),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name="minute_range"),
        CheckConstraint("start_minute < end_minute", name="start_before_end"),
        CheckConstraint("every_weeks >= 1", name="every_weeks_positive"),
        CheckConstraint("week_offset >= 0 AND week_offset < every_weeks", name="offset_range"),
    )

    practitioner_id: Mapped[str] = mapped_column(ForeignKey("practitioners.id"), index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    kind: Mapped[str] = mapped_column(String(10), default=RosterKind.WORK)
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]
    every_weeks: Mapped[int] = mapped_column(default=1)
    week_offset: Mapped[int] = mapped_column(default=0)
    effective_from: Mapped[date]
    effective_until: Mapped[date | None]
    label: Mapped[str] = mapped_column(String(80), default="")


class Leave(SyncedMixin, Base):
    """A stretch when a practitioner is not bookable: leave, an unavailable block, a meeting.

    With no practitioner it is a closure: of a room (``room_id``), of a location
    (``location_id``) or, with neither, of the whole clinic (a public holiday).
    """

    __tablename__ = "leave"
    __table_args__ = (
        one_of("kind", LeaveKind),
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
        Index("ix_leave_practitioner_span", "practitioner_id", "starts_at", "ends_at"),
    )

    practitioner_id: Mapped[str | None] = mapped_column(ForeignKey("practitioners.id"))
    kind: Mapped[str] = mapped_column(String(12), default=LeaveKind.LEAVE)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"))


class Funder(SyncedMixin, Base):
    """Someone other than the patient who pays: a health fund, insurer, NDIS plan manager…"""

    __tablename__ = "funders"
    __table_args__ = (one_of("kind", FunderKind),)

    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(20), default="")
    business_number: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]

"""The diary: appointment types, appointments, series, attendees, status history, waitlist."""

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontdesk.domain.vocab import AppointmentStatus, CancellationReason
from frontdesk.models.base import Base, SyncedMixin, filled_index, one_of


class AppointmentType(SyncedMixin, Base):
    __tablename__ = "appointment_types"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    name: Mapped[str] = mapped_column(String(120))
    duration_minutes: Mapped[int]
    colour: Mapped[str] = mapped_column(String(9), default="#7fb2e5")
    default_service_id: Mapped[str | None] = mapped_column(ForeignKey("catalogue_items.id"))
    capacity: Mapped[int] = mapped_column(default=1)
    is_group: Mapped[bool] = mapped_column(default=False)
    is_new_patient: Mapped[bool] = mapped_column(default=False)
    profession: Mapped[str] = mapped_column(String(80), default="")
    archived_at: Mapped[datetime | None]
    # the practitioners who offer it, ids separated by spaces ("" everyone of the profession)
    practitioner_ids: Mapped[str] = mapped_column(Text, default="")
    online_bookable: Mapped[bool] = mapped_column(default=False)
    # online booking rules (the integration API): book at least this long before the start,
    # and at most this many days ahead (None: no limit beyond the API's own window)
    online_min_notice_minutes: Mapped[int] = mapped_column(default=0)
    online_max_ahead_days: Mapped[int | None]


class AppointmentSeries(SyncedMixin, Base):
    """A recurring series: every N weeks, N times or until a date, from a first occurrence."""

    __tablename__ = "appointment_series"
    __table_args__ = (
        CheckConstraint("every_weeks >= 1", name="every_weeks_positive"),
        CheckConstraint("occurrences IS NULL OR occurrences >= 1", name="occurrences_positive"),
    )

    every_weeks: Mapped[int] = mapped_column(default=1)
    occurrences: Mapped[int | None]
    until: Mapped[date | None]
    first_starts_at: Mapped[datetime]


class Appointment(SyncedMixin, Base):
    """One booking in a practitioner's column. A group class has attendees instead of a patient.

    ``clash_flagged`` is set when sync finds it overlapping another booking made elsewhere; it is
    cleared when a person resolves the clash.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        one_of("status", AppointmentStatus),
        one_of("cancellation_reason", CancellationReason, nullable=True),
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
        Index("ix_appointments_practitioner_start", "practitioner_id", "starts_at"),
        Index("ix_appointments_start", "starts_at"),
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        # most bookings have no room and only one in a series: only the filled rows indexed
        filled_index("ix_appointments_room_start", "room_id", "starts_at"),
        filled_index("ix_appointments_series_id", "series_id"),
        # the pinboard lists the few pinned appointments among millions
        filled_index("ix_appointments_pinned", "pinned_at"),
    )

    practitioner_id: Mapped[str] = mapped_column(ForeignKey("practitioners.id"))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"))
    appointment_type_id: Mapped[str | None] = mapped_column(ForeignKey("appointment_types.id"))
    location_id: Mapped[str | None] = mapped_column(ForeignKey("locations.id"))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    series_id: Mapped[str | None] = mapped_column(ForeignKey("appointment_series.id"))
    series_index: Mapped[int | None]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED)
    cancellation_reason: Mapped[str | None] = mapped_column(String(20))
    cancellation_note: Mapped[str] = mapped_column(String(500), default="")
    cancelled_at: Mapped[datetime | None]
    is_group: Mapped[bool] = mapped_column(default=False)
    capacity: Mapped[int] = mapped_column(default=1)
    notes: Mapped[str] = mapped_column(Text, default="")
    reminder_sent_at: Mapped[datetime | None]
    # the patient confirmed (an SMS "Y" reply or reception on their behalf)
    confirmed_at: Mapped[datetime | None]
    pinned_at: Mapped[datetime | None]
    clash_flagged: Mapped[bool] = mapped_column(default=False)
    booked_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))


class AppointmentHold(SyncedMixin, Base):
    """A time the integration API holds for a few minutes while a caller decides.

    Written only by the clinic server (device ``server-api``); desks draw it as a tentative
    block until ``expires_at``, or until it is released or becomes ``appointment_id``."""

    __tablename__ = "appointment_holds"
    __server_only__: ClassVar[bool] = True
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="start_before_end"),)

    practitioner_id: Mapped[str] = mapped_column(ForeignKey("practitioners.id"))
    appointment_type_id: Mapped[str | None] = mapped_column(ForeignKey("appointment_types.id"))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.id"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    appointment_id: Mapped[str | None] = mapped_column(String(36))


class AppointmentAttendee(SyncedMixin, Base):
    """A patient in a group class, with their own attendance status."""

    __tablename__ = "appointment_attendees"
    __table_args__ = (one_of("status", AppointmentStatus),)

    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED)
    waitlisted: Mapped[bool] = mapped_column(default=False)


class AppointmentStatusChange(SyncedMixin, Base):
    """Append-only history of an appointment's status."""

    __tablename__ = "appointment_status_changes"

    appointment_id: Mapped[str] = mapped_column(ForeignKey("appointments.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime]
    changed_by_id: Mapped[str | None] = mapped_column(ForeignKey("staff_users.id"))
    reason: Mapped[str | None] = mapped_column(String(20))


class WaitlistEntry(SyncedMixin, Base):
    """A patient waiting for a slot. ``preferred_weekdays`` is a bit mask, Monday = bit 0."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (CheckConstraint("urgency BETWEEN 1 AND 3", name="urgency_range"),)

    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    appointment_type_id: Mapped[str | None] = mapped_column(ForeignKey("appointment_types.id"))
    preferred_practitioner_ids: Mapped[str] = mapped_column(Text, default="")
    preferred_weekdays: Mapped[int] = mapped_column(default=0b1111111)
    earliest_minute: Mapped[int] = mapped_column(default=0)
    latest_minute: Mapped[int] = mapped_column(default=1440)
    urgency: Mapped[int] = mapped_column(default=2)
    notes: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None]
    booked_appointment_id: Mapped[str | None] = mapped_column(ForeignKey("appointments.id"))

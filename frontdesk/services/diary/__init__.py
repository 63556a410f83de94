"""Diary use cases: booking and changing appointments (appointments), what a day shows (view),
group classes and attendees (groups), repeating bookings (series).

``from frontdesk.services import diary`` gives the booking functions, as ``billing`` does.
"""

from frontdesk.services.diary.appointments import (
    ACTIVE_STATUSES,
    PAST_GRACE,
    BookingRequest,
    ClashNeedsConfirmation,
    book,
    busy_between,
    cancel,
    check_time,
    enforce,
    move,
    new_appointment,
    pin,
    quick_add_patient,
    reinstate,
    reschedule,
    resize,
    set_status,
    update_details,
)

__all__ = [
    "ACTIVE_STATUSES",
    "PAST_GRACE",
    "BookingRequest",
    "ClashNeedsConfirmation",
    "book",
    "busy_between",
    "cancel",
    "check_time",
    "enforce",
    "move",
    "new_appointment",
    "pin",
    "quick_add_patient",
    "reinstate",
    "reschedule",
    "resize",
    "set_status",
    "update_details",
]

"""Diary use cases: booking and changing appointments (appointments), what a day shows (view),
group classes and attendees (groups), repeating bookings (series).

``from frontdesk.services import diary`` gives the booking functions, as ``billing`` does.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """The booking functions, imported on first use: the diary's first paint needs only
    ``view`` and ``groups``, not what booking imports (billing, patient records, claims)."""
    if name in __all__:
        from frontdesk.services.diary import appointments

        return getattr(appointments, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

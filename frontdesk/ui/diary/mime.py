"""What the diary's panels drag onto the grid: a waitlist entry or a pinned appointment."""

WAITLIST_MIME = "application/x-frontdesk-waitlist"
APPOINTMENT_MIME = "application/x-frontdesk-appointment"

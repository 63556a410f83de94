"""The clinic's integration API (``/api/v1``): keys and scopes, reading the clinic,
availability, holds, bookings and patient look-up, for AI receptionists, online booking and the
clinic's other tools. Beside the desks' sync protocol, on the same store and change log."""

"""Setting a clinic up and keeping it set up: clinic details, locations and rooms,
practitioners, rosters, leave and closures, appointment types (issue 13).

One module per subject. Every change goes through ``ctx.write`` (audit, outbox, change notice)
after the rules in ``frontdesk.domain.clinic_setup`` have passed, so nothing is saved half-way.
"""

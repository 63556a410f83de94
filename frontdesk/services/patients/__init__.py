"""Patient use cases: records and alerts (records), the patient card (card), search, CSV import
and export (importing), and merging duplicates (merge).

``from frontdesk.services import patients`` gives the record functions.
"""

from frontdesk.services.patients.records import (
    EDITABLE,
    Created,
    DuplicateCandidate,
    DuplicatePair,
    add_alert,
    alerts_for,
    archive_alert,
    archive_membership,
    archive_patient,
    count_active,
    create_patient,
    dismiss_duplicate,
    duplicates_to_review,
    find_duplicates,
    get_patient,
    possible_duplicates,
    record_privacy_consent,
    save_membership,
    today,
    unarchive_patient,
    update_patient,
)

__all__ = [
    "EDITABLE",
    "Created",
    "DuplicateCandidate",
    "DuplicatePair",
    "add_alert",
    "alerts_for",
    "archive_alert",
    "archive_membership",
    "archive_patient",
    "count_active",
    "create_patient",
    "dismiss_duplicate",
    "duplicates_to_review",
    "find_duplicates",
    "get_patient",
    "possible_duplicates",
    "record_privacy_consent",
    "save_membership",
    "today",
    "unarchive_patient",
    "update_patient",
]

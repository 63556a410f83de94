"""The Patients area: search as you type, the patient card, duplicates, import and export."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    from frontdesk.ui.patients.page import PatientsPage

    return PatientsPage(ctx, bus, parent)

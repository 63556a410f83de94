"""The areas of the main window, in the order a clinic feels them. Each area is a widget made
by a factory ``create(ctx, bus, parent)``, imported only when first shown (fast start-up)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from frontdesk.ui.bus import ChangeBus

if TYPE_CHECKING:
    from frontdesk.store.context import ServiceContext

AreaFactory = Callable[["ServiceContext", ChangeBus, QWidget | None], QWidget]


@dataclass(frozen=True)
class AreaSpec:
    key: str
    title: str
    shortcut: str
    factory: str  # "module:function"
    blurb: str

    def load(self) -> AreaFactory:
        module_name, func = self.factory.split(":")
        return getattr(importlib.import_module(module_name), func)  # type: ignore[no-any-return]


AREAS: tuple[AreaSpec, ...] = (
    AreaSpec("diary", "Diary", "Ctrl+1", "frontdesk.ui.diary:create",
             "Appointments for every practitioner, by day or week."),
    AreaSpec("patients", "Patients", "Ctrl+2", "frontdesk.ui.patients:create",
             "Find a patient, open their card, import and export."),
    AreaSpec("billing", "Billing", "Ctrl+3", "frontdesk.ui.billing:create",
             "Invoices, payments, debtors and end-of-day takings."),
    AreaSpec("reports", "Reports", "Ctrl+4", "frontdesk.ui.reports:create",
             "Revenue, occupancy, cancellations and new patients."),
    AreaSpec("settings", "Settings", "Ctrl+5", "frontdesk.ui.settings:create",
             "Clinic details, practitioners, rooms, staff and the clinic server."),
    AreaSpec("conflicts", "Conflicts", "Ctrl+6", "frontdesk.ui.conflicts:create",
             "Bookings and details changed on two desks at once, for a person to sort out."),
    AreaSpec("claims", "Claims", "Ctrl+7", "frontdesk.ui.claims:create",
             "Funded care: the claims queue, NDIS bulk payment requests and remittances."),
)  # fmt: skip

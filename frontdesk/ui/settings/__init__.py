"""The Settings area: a tab per topic. Each tab is a factory ``create(ctx, bus, parent)``
named in SETTINGS_PAGES and imported when the area opens."""

from __future__ import annotations

import importlib

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from frontdesk.store.context import ServiceContext
from frontdesk.ui.bus import ChangeBus

SETTINGS_PAGES: tuple[tuple[str, str], ...] = (
    ("Clinic", "frontdesk.ui.settings.clinic:create"),
    ("Locations & rooms", "frontdesk.ui.settings.places:create"),
    ("Practitioners", "frontdesk.ui.settings.practitioners:create"),
    ("Rosters", "frontdesk.ui.settings.rosters:create"),
    ("Leave & closures", "frontdesk.ui.settings.leave:create"),
    ("Appointment types", "frontdesk.ui.settings.appointment_types:create"),
    ("Online booking", "frontdesk.ui.settings.online_booking:create"),
    ("Staff", "frontdesk.ui.settings.staff:create"),
    ("Audit trail", "frontdesk.ui.audit:create"),
    ("Backups", "frontdesk.ui.settings.backups:create"),
    ("Catalogue", "frontdesk.ui.billing.catalogue:create"),
    ("Accounting", "frontdesk.ui.settings.accounting:create"),
    ("Clinic server", "frontdesk.ui.settings.server:create"),
    ("Integrations", "frontdesk.ui.settings.integrations:create"),
    ("Messages", "frontdesk.ui.messaging.settings_page:create"),
    ("Set-up", "frontdesk.ui.setup_wizard:create"),
)


def create(ctx: ServiceContext, bus: ChangeBus, parent: QWidget | None) -> QWidget:
    page = QWidget(parent)
    col = QVBoxLayout(page)
    col.setContentsMargins(28, 24, 28, 24)
    title = QLabel("Settings")
    title.setObjectName("pageTitle")
    col.addWidget(title)
    tabs = QTabWidget()
    tabs.setObjectName("settingsTabs")
    for label, target in SETTINGS_PAGES:
        module, func = target.split(":")
        tab = getattr(importlib.import_module(module), func)(ctx, bus, tabs)
        tabs.addTab(tab, label.replace("&", "&&"))  # a lone & would mark a shortcut key
    col.addWidget(tabs, 1)
    return page

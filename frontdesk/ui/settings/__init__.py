"""The Settings area: a page per topic, chosen from a list down the left (sixteen topics do
not fit a row of tabs). Each page is a factory ``create(ctx, bus, parent)`` named in
SETTINGS_PAGES and imported when the area opens; the pages live in a QTabWidget whose own tab
bar is hidden, so code and tests find a page by its tab text as before."""

from __future__ import annotations

import importlib

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

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
    ("Payers", "frontdesk.ui.settings.payers:create"),
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
    tabs.tabBar().hide()
    topics = QListWidget()
    topics.setObjectName("settingsTopics")
    topics.setAccessibleName("Settings topics")
    topics.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    row_height = topics.fontMetrics().height() + 14
    for label, target in SETTINGS_PAGES:
        module, func = target.split(":")
        tab = getattr(importlib.import_module(module), func)(ctx, bus, tabs)
        tabs.addTab(tab, label.replace("&", "&&"))  # a lone & would mark a shortcut key
        topics.addItem(label)
        topics.item(topics.count() - 1).setSizeHint(QSize(0, row_height))
    width = max(topics.fontMetrics().horizontalAdvance(label) for label, _ in SETTINGS_PAGES)
    topics.setFixedWidth(width + 40)
    # the list and the pages move together: a click or the arrow keys in the list, or code
    # that sets the page (a link from elsewhere, a test) — each updates the other
    topics.currentRowChanged.connect(tabs.setCurrentIndex)
    tabs.currentChanged.connect(topics.setCurrentRow)
    topics.setCurrentRow(0)
    row = QHBoxLayout()
    row.setSpacing(16)
    row.addWidget(topics)
    row.addWidget(tabs, 1)
    col.addLayout(row, 1)
    return page

"""The "is this your clinic server?" step: shows the fingerprint of a certificate this computer
does not trust and asks the person to compare it with the one the server printed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from frontdesk.sync.pinning import ServerCertificate


def security_text(url: str | None, pinned_pem: str | None, *, enrolled: bool) -> str:
    """One line for the Settings tab: is the connection to the server encrypted, and how is
    the server's identity checked."""
    from frontdesk.protocol import fingerprint
    from frontdesk.sync.pinning import is_https

    if not url:
        return ""
    if not is_https(url):
        return (
            "Not encrypted: this desk talks to the server over plain http. That is fine on the "
            "clinic's own network; elsewhere run the server with --tls and use an https:// "
            "address."
        )
    if not enrolled:
        return (
            "Encrypted (https). If this computer does not know the server's certificate, you "
            "will be asked to compare its fingerprint with the one the server printed."
        )
    if pinned_pem:
        return (
            "Encrypted (https). This desk trusts only the server certificate with fingerprint "
            f"SHA256 {fingerprint(pinned_pem)}."
        )
    return "Encrypted (https), with a certificate this computer's authorities vouch for."


class CertificateDialog(QDialog):
    """Shows ``found``'s fingerprint; accepted means the person says it matches."""

    def __init__(
        self, found: ServerCertificate, *, changed: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.found = found
        self.setObjectName("certificateDialog")
        self.setWindowTitle("Confirm the clinic server")
        self.setMinimumWidth(560)
        if changed:
            lead = (
                f"The clinic server at {found.url} now presents a different certificate from "
                "the one this desk trusts. Only accept it if the server was given a new "
                "certificate on purpose."
            )
        else:
            lead = (
                f"The clinic server at {found.url} uses its own certificate, which this "
                "computer cannot check by itself."
            )
        intro = QLabel(
            lead + " Compare this fingerprint with the one the server printed when it "
            "started (frontdesk-server run --tls):"
        )
        intro.setWordWrap(True)
        self.fingerprint_label = QLabel(_two_lines(found.fingerprint))
        self.fingerprint_label.setObjectName("certificateFingerprint")
        self.fingerprint_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.fingerprint_label.setStyleSheet("font-size: 13pt; padding: 10px;")
        warn = QLabel(
            "If they differ in any character, do not continue: this desk would be talking to "
            "another computer. Nothing is saved until you confirm."
        )
        warn.setObjectName("muted")
        warn.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.trust_button = buttons.addButton(
            "They match: trust this server", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.trust_button.setObjectName("trustCertificate")
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setDefault(True)  # Enter does not trust by accident
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.addWidget(intro)
        col.addWidget(self.fingerprint_label)
        col.addWidget(warn)
        col.addWidget(buttons)


def _two_lines(fp: str) -> str:
    """32 hex pairs read best as two rows of 16."""
    pairs = fp.split(":")
    half = len(pairs) // 2
    return ":".join(pairs[:half]) + ":\n" + ":".join(pairs[half:])

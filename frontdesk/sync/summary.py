"""What one sync did, for the status bar and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SyncSummary:
    pushed: int = 0
    merged: int = 0
    conflicts: int = 0
    rejected: int = 0
    pulled: int = 0
    snapshot_rows: int = 0
    resynced: bool = False
    repaired: int = 0
    mismatched: list[str] = field(default_factory=list)
    pending: int = 0
    cursor: int = 0
    clock_ahead: bool = False  # the server saw stamps more than a day ahead of its clock

    def text(self) -> str:
        parts = [f"pushed {self.pushed}", f"pulled {self.pulled}"]
        if self.snapshot_rows:
            parts.append(f"snapshot {self.snapshot_rows} rows")
        if self.merged:
            parts.append(f"{self.merged} merged")
        if self.conflicts:
            parts.append(f"{self.conflicts} in conflict")
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        if self.pending:
            parts.append(f"{self.pending} still waiting")
        if self.repaired:
            parts.append(f"{self.repaired} corrected")
        if self.mismatched:
            parts.append("re-checked " + ", ".join(self.mismatched))
        text = "Synced: " + ", ".join(parts) + "."
        if self.clock_ahead:
            text += (
                " This desk's clock was more than a day ahead of the clinic server: correct "
                "the computer's date and time (its changes were stamped with the server's time)."
            )
        return text

"""Who is signed in at this desk. No database here: the window is built with it before
SQLAlchemy is imported (the diary's first paint, ``services/early.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from frontdesk.domain.vocab import Role

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass
class Actor:
    """Who is signed in at this desk. ``None`` role means the system itself (start-up, demo)."""

    staff_user_id: str | None = None
    name: str = "system"
    role: Role | None = None
    practitioner_id: str | None = None
    # Unwrapped with the staff member's password at sign-in (none after a PIN-only sign-in):
    # privileged changes are signed with it (store/privilege.py).
    signing_key: Ed25519PrivateKey | None = field(default=None, repr=False, compare=False)

    @property
    def signer(self) -> tuple[str, Ed25519PrivateKey] | None:
        if self.staff_user_id is None or self.signing_key is None:
            return None
        return self.staff_user_id, self.signing_key


SYSTEM = Actor()

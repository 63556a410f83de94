"""The clinic's account codes for the accounting export, kept in the clinic settings (they sync,
so every desk exports to the same accounts): per program, the revenue account, the GST and
GST-free tax codes, the payments clearing account, and optionally a revenue account per payer
(an NDIS or DVA income account) and a clearing account per payment method (cash to
undeposited funds, card to the merchant clearing account).

Stored as JSON in ``clinic_settings.accounting_codes``; an empty value means the programs'
usual defaults (``AccountCodes``)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from frontdesk.domain.errors import ValidationFailed
from frontdesk.domain.vocab import PaymentMethod
from frontdesk.services.permissions import Action, require
from frontdesk.store.context import ServiceContext

System = Literal["xero", "myob"]
_CODE = re.compile(r"^[\w .\-/&()]{1,40}$")


@dataclass(frozen=True)
class AccountCodes:
    """Where one program's lines go (the clinic's own chart of accounts)."""

    revenue: str
    gst: str
    gst_free: str
    clearing: str  # where payments land until banked (MYOB's deposit account)
    payers: dict[str, str] = field(default_factory=dict)  # funder id → revenue account
    methods: dict[str, str] = field(default_factory=dict)  # payment method → clearing account

    def revenue_for(self, funder_id: str | None) -> str:
        return self.payers.get(funder_id or "", "") or self.revenue

    def clearing_for(self, method: str) -> str:
        return self.methods.get(method, "") or self.clearing


DEFAULTS: dict[str, AccountCodes] = {
    "xero": AccountCodes("200", "GST on Income", "GST Free Income", "090"),
    "myob": AccountCodes("4-1000", "GST", "FRE", "1-1210"),
}
SYSTEM_NAMES = {"xero": "Xero", "myob": "MYOB AccountRight"}


def _parse(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _of(system: str, stored: dict[str, Any]) -> AccountCodes:
    base = DEFAULTS[system]
    mine = stored.get(system)
    if not isinstance(mine, dict):
        return base
    text = {k: str(mine[k]) for k in ("revenue", "gst", "gst_free", "clearing") if mine.get(k)}
    maps = {
        k: {str(a): str(b) for a, b in mine[k].items() if b}
        for k in ("payers", "methods")
        if isinstance(mine.get(k), dict)
    }
    return replace(base, **text, **maps)  # type: ignore[arg-type]


def account_codes(ctx: ServiceContext, system: System) -> AccountCodes:
    """The codes the export uses for ``system`` (the defaults where the clinic set none)."""
    with ctx.read() as session:
        return _of(system, _parse(ctx.settings(session).accounting_codes))


def check(codes: AccountCodes) -> AccountCodes:
    """Trimmed codes, or ``ValidationFailed`` naming the field (nothing is saved)."""
    labels = {"revenue": "Revenue account", "gst": "GST tax code",
              "gst_free": "GST-free tax code", "clearing": "Payments clearing account"}  # fmt: skip
    clean: dict[str, Any] = {}
    for name, label in labels.items():
        value = str(getattr(codes, name)).strip()
        if not value:
            raise ValidationFailed(f"{label} is empty.", field=name)
        if not _CODE.match(value):
            raise ValidationFailed(
                f"{label} “{value}” is not an account code: letters, digits, spaces and "
                ". - / & ( ) only, up to 40.",
                field=name,
            )
        clean[name] = value
    for kind in ("payers", "methods"):
        out = {}
        for key, given in getattr(codes, kind).items():
            value = str(given).strip()
            if value and not _CODE.match(value):
                raise ValidationFailed(f"“{value}” is not an account code.", field=f"{kind}:{key}")
            if kind == "methods" and key not in {m.value for m in PaymentMethod}:
                raise ValidationFailed(f"Unknown payment method {key}.", field=f"methods:{key}")
            if value:
                out[str(key)] = value
        clean[kind] = out
    return AccountCodes(**clean)


def save_account_codes(ctx: ServiceContext, system: System, codes: AccountCodes) -> None:
    require(ctx.actor, Action.MANAGE_SETTINGS)
    if system not in DEFAULTS:
        raise ValidationFailed("Choose Xero or MYOB.", field="system")
    codes = check(codes)
    with ctx.write(f"change the {SYSTEM_NAMES[system]} account codes") as session:
        settings = ctx.settings(session)
        stored = _parse(settings.accounting_codes)
        stored[system] = asdict(codes)
        settings.accounting_codes = json.dumps(stored, sort_keys=True)

"""Rewrite imports of modules moved by the restructuring (issue 16) from old paths to new ones.

Usage: ``python scripts/restructure_imports.py PATH [PATH ...]`` (files or folders; ``.py`` files
are rewritten in place). It rewrites ``from frontdesk.X import …``, ``import frontdesk.X`` and
dotted strings such as ``"frontdesk.services.tracking.record_event"`` (monkeypatch targets), and
``from frontdesk.services import demo_data``-style imports of a moved module. Names that moved on
their own (``DeskPaths``, ``fingerprint``) are sent to their new module. Running it twice changes
nothing the second time. Delete it once every branch has been merged.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Old module -> new module. Exact module names only (``frontdesk.services.diary`` is now a
# package whose ``__init__`` re-exports its public names, so it needs no entry).
MODULES: dict[str, str] = {
    "frontdesk.services.context": "frontdesk.store.context",
    "frontdesk.services.tracking": "frontdesk.store.tracking",
    "frontdesk.services.changes": "frontdesk.store.changes",
    "frontdesk.services.numbering": "frontdesk.store.numbering",
    "frontdesk.sync.protocol": "frontdesk.protocol",
    "frontdesk.services.diary_view": "frontdesk.services.diary.view",
    "frontdesk.services.diary_groups": "frontdesk.services.diary.groups",
    "frontdesk.services.diary_series": "frontdesk.services.diary.series",
    "frontdesk.services.patient_card": "frontdesk.services.patients.card",
    "frontdesk.services.patient_import": "frontdesk.services.patients.importing",
    "frontdesk.services.patient_merge": "frontdesk.services.patients.merge",
    "frontdesk.services.patient_search": "frontdesk.services.patients.search",
    "frontdesk.services.demo": "frontdesk.demo.generator",
    "frontdesk.services.demo_data": "frontdesk.demo.words",
}

# (old module, name) -> new module, for names that moved without their module.
NAMES: dict[tuple[str, str], str] = {
    ("frontdesk.services.desk", "DeskPaths"): "frontdesk.paths",
    ("frontdesk.services.desk", "DB_NAME"): "frontdesk.paths",
    ("frontdesk.sync.pinning", "fingerprint"): "frontdesk.protocol",
    ("frontdesk.services.tracking", "renumber_pending"): "frontdesk.store.outbox",
    ("frontdesk.services.tracking", "canonical_json"): "frontdesk.store.outbox",
    ("frontdesk.services.context", "ChangeNotice"): "frontdesk.store.changes",
    ("frontdesk.sync.engine", "SyncSummary"): "frontdesk.sync.summary",
    ("frontdesk.cli", "stdout_closed"): "frontdesk.console",
    ("frontdesk.ui.billing.common", "show_error"): "frontdesk.ui.ops",
}

_MODULE_RE = re.compile(
    r"\b(" + "|".join(re.escape(m) for m in sorted(MODULES, key=len, reverse=True)) + r")(?![\w])"
)
_FROM_RE = re.compile(r"^(\s*)from (frontdesk[\w.]*) import (\(?)([^#\n]*?)(\)?)\s*$")


def _split_names(old: str, names: str) -> list[tuple[str, str]]:
    """(module, "name [as alias]") for each imported name of a one-line ``from`` import."""
    out = []
    for part in (p.strip() for p in names.split(",")):
        if not part:
            continue
        name = part.split(" as ")[0].strip()
        child = f"{old}.{name}"
        if child in MODULES:  # ``from frontdesk.services import demo_data as words``
            parent, _, leaf = MODULES[child].rpartition(".")
            alias = part.split(" as ")[1].strip() if " as " in part else name
            out.append((parent, leaf if alias == leaf else f"{leaf} as {alias}"))
            continue
        target = NAMES.get((old, name)) or MODULES.get(old, old)
        out.append((target, part))
    return out


def rewrite_text(text: str) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    for line in lines:
        match = _FROM_RE.match(line)
        if match and (match.group(3) == "") == (match.group(5) == ""):
            indent, old, _o, names, _c = match.groups()
            groups: dict[str, list[str]] = {}
            for module, part in _split_names(old, names):
                groups.setdefault(module, []).append(part)
            if list(groups) != [old]:
                out.extend(f"{indent}from {m} import {', '.join(p)}\n" for m, p in groups.items())
                continue
        out.append(_MODULE_RE.sub(lambda m: MODULES[m.group(1)], line))
    return "".join(out)


def rewrite_tree(paths: list[Path]) -> list[Path]:
    changed = []
    for root in paths:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            if path.resolve() == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8")
            new = rewrite_text(text)
            if new != text:
                path.write_text(new, encoding="utf-8")
                changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for path in rewrite_tree([Path(a) for a in argv]):
        print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

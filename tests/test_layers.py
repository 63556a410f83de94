"""The layer rules of docs/architecture.md, checked on every import in the package (AST, so a
lazy import inside a function counts too). There is no exceptions list: a rule that needs one
is a rule to change in docs/architecture.md first."""

from __future__ import annotations

import ast
from pathlib import Path

import frontdesk

PACKAGE = Path(frontdesk.__file__).parent

# Top to bottom; a module may import its own part and any part on a lower line. Parts on the
# same line are peers and never import each other.
LAYERS: list[tuple[str, ...]] = [
    ("frontdesk.app",),
    ("frontdesk.cli", "frontdesk.commands"),
    ("frontdesk.ui",),
    ("frontdesk.sync", "frontdesk.server", "frontdesk.demo"),
    ("frontdesk.services",),
    ("frontdesk.store",),
    ("frontdesk.protocol",),
    ("frontdesk.models",),
    ("frontdesk.db",),
    ("frontdesk.paths", "frontdesk.faults", "frontdesk.logs", "frontdesk.console"),
    ("frontdesk.gc_tuning",),
    ("frontdesk.domain",),
    ("frontdesk",),  # the package itself: its name and version
]
QT_ALLOWED = ("frontdesk.app", "frontdesk.commands", "frontdesk.ui")
# What a screen may not touch: it calls services (which own sessions and SQL) instead.
UI_FORBIDDEN = ("frontdesk.models", "frontdesk.db", "frontdesk.store.tracking", "sqlalchemy")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> list[tuple[str, int, str]]:
    """(importing module, line, imported module) for every import in the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(module, node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((module, node.lineno, node.module))
                # ``from frontdesk.services import billing`` imports frontdesk.services.billing
                found += [(module, node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _within(module: str, part: str) -> bool:
    return module == part or module.startswith(part + ".")


def _place(module: str) -> tuple[int, str] | None:
    """(layer index, part) of a frontdesk module: the longest part that contains it."""
    best: tuple[int, str] | None = None
    for index, parts in enumerate(LAYERS):
        for part in parts:
            if _within(module, part) and (best is None or len(part) > len(best[1])):
                best = (index, part)
    return best


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of frontdesk (not a name imported from one)."""
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").exists() or (PACKAGE.parent / rel).is_dir()


def test_every_module_has_a_layer() -> None:
    missing = sorted({m for m, _l, _t in _imports() if _place(m) is None})
    assert missing == []


def test_layers_import_only_downwards() -> None:
    wrong = []
    for module, line, target in _imports():
        if not target.startswith("frontdesk") or not _is_module(target):
            continue
        here, there = _place(module), _place(target)
        assert here is not None and there is not None
        if here[1] == there[1] or there[0] > here[0]:
            continue
        wrong.append(f"{module}:{line} imports {target}")
    assert wrong == [], "imports against the layers (docs/architecture.md):\n" + "\n".join(wrong)


def test_no_qt_below_the_ui() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, line, target in _imports()
        if target.split(".")[0] in ("PySide6", "shiboken6")
        and not any(_within(module, p) for p in QT_ALLOWED)
    ]
    assert wrong == []


def test_screens_call_services_only() -> None:
    wrong = [
        f"{module}:{line} imports {target}"
        for module, line, target in _imports()
        if _within(module, "frontdesk.ui") and any(_within(target, f) for f in UI_FORBIDDEN)
    ]
    assert wrong == [], "screens must ask a service instead:\n" + "\n".join(wrong)


def test_the_rules_catch_a_wrong_import(tmp_path: Path) -> None:
    """The checks above would see an upward import (guards against a rule that cannot fail)."""
    assert _place("frontdesk.services.diary.view") == (4, "frontdesk.services")
    assert _place("frontdesk.protocol") == (6, "frontdesk.protocol")
    here, there = _place("frontdesk.sync.engine"), _place("frontdesk.server.merge")
    assert here is not None and there is not None and there[0] == here[0] and here[1] != there[1]
    assert _is_module("frontdesk.store.outbox") and not _is_module("frontdesk.store.outbox.pending")


def test_screens_open_no_transactions() -> None:
    """A screen never opens ``ctx.read()`` / ``ctx.write()``: it calls a service."""
    wrong = []
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("read", "write")
                and isinstance(node.func.value, ast.Attribute | ast.Name)
                and (getattr(node.func.value, "attr", None) or getattr(node.func.value, "id", ""))
                == "ctx"
            ):
                wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert wrong == []


def test_one_outbox_writer() -> None:
    """Only store/outbox.py names the outbox table (models and migrations aside)."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(("models/", "db/migrations/", "server/migrations/")):
            continue
        if rel in ("store/outbox.py", "protocol.py"):  # protocol: it never travels
            continue
        text = path.read_text(encoding="utf-8")
        if "sync_outbox" in text or "SyncOutbox" in text:
            wrong.append(rel)
    assert wrong == []

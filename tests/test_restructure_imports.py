"""scripts/restructure_imports.py moves code written before the restructuring onto the new
module paths, and changes nothing the second time."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "scripts" / "restructure_imports.py"

# Spelled with @ so that running the script over tests/ leaves this sample alone.
OLD = """from frontdesk@services.context import ServiceContext
from frontdesk@services.desk import DeskPaths, open_desk
from frontdesk@services import billing, demo_data as words
from frontdesk@services.diary_view import (
    load_view,
)
from frontdesk@services.diary import book
from frontdesk@sync.pinning import CertificateProblem, fingerprint
TARGET = "frontdesk@services.tracking.record_event"
""".replace("@", ".")


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("restructure_imports", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_old_paths_become_new_ones_and_import(tmp_path: Path) -> None:
    script = _script()
    path = tmp_path / "old_code.py"
    path.write_text(OLD, encoding="utf-8")
    assert script.rewrite_tree([tmp_path]) == [path]
    new = path.read_text(encoding="utf-8")
    assert "from frontdesk.store.context import ServiceContext" in new
    assert "from frontdesk.paths import DeskPaths" in new
    assert "from frontdesk.services.desk import open_desk" in new
    assert "from frontdesk.services.diary.view import (" in new
    assert "from frontdesk.protocol import fingerprint" in new
    assert "from frontdesk.demo import words" in new
    assert '"frontdesk.store.tracking.record_event"' in new
    exec(compile(new, str(path), "exec"), {})  # every rewritten import resolves
    assert script.rewrite_tree([tmp_path]) == []  # a second run changes nothing

"""What is tested is what ships: requirements.lock pins every dependency with hashes, the
environment the tests run in is the locked one, and the bundle build refuses any other."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))

import build  # noqa: E402  (packaging/build.py)


def _name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def test_every_declared_dependency_is_locked_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    text = (ROOT / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", text, flags=re.M))
    assert declared <= set(pins), f"not locked (run make lock): {declared - set(pins)}"
    blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n\n", 1)[-1])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b)


def test_the_environment_is_the_locked_one(tmp_path: Path) -> None:
    lock = ROOT / "requirements.lock"
    assert build.locked_versions_differ(lock) == []
    other = tmp_path / "other.lock"
    other.write_text(re.sub(r"^sqlalchemy==\S+", "sqlalchemy==1.0.0", lock.read_text(), flags=re.M))
    [differ] = build.locked_versions_differ(other)
    assert differ.startswith("sqlalchemy ") and "(locked 1.0.0)" in differ

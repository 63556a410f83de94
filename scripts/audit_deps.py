"""Check the locked dependencies against published vulnerability records (issue 15, item 13).

Runs pip-audit on ``requirements.lock`` (every package that is tested and shipped, pinned with
hashes) against PyPI's advisory data. A vulnerability with a fixed release fails the check: bump
it in pyproject.toml and ``make lock``. One with no fixed release yet is listed but does not fail
the build, since nothing can be done about it but wait (and read the advisory). Where the
advisory data cannot be reached (a machine whose package mirror serves only the package index),
the check says how many packages it could not check; ``--strict`` fails then.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    strict = "--strict" in argv
    args = [a for a in argv if a != "--strict"]
    lock = Path(args[0] if args else "requirements.lock")
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--require-hashes",
         "--disable-pip", "--vulnerability-service", "pypi", "--format", "json",
         "--progress-spinner", "off"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit could not check {lock}:\n{result.stderr[-3000:]}", file=sys.stderr)
        return 2
    fixable: list[str] = []
    waiting: list[str] = []
    deps = report.get("dependencies", [])
    unchecked = [d["name"] for d in deps if d.get("skip_reason")]
    for dep in deps:
        for vuln in dep.get("vulns", []):
            line = f"{dep['name']} {dep['version']}: {vuln['id']}"
            if vuln.get("fix_versions"):
                fixable.append(f"{line} (fixed in {', '.join(vuln['fix_versions'])})")
            else:
                waiting.append(f"{line} (no fixed release yet)")
    checked = len(deps) - len(unchecked)
    for line in waiting:
        print(f"known, no fix yet: {line}")
    if fixable:
        print("Vulnerable locked dependencies with a fixed release; bump them and `make lock`:")
        for line in fixable:
            print(f"  {line}")
        return 1
    if unchecked:
        # PyPI's advisory data (its JSON API) could not be reached from here: say so plainly
        # rather than report a clean bill of health. --strict makes that a failure.
        print(
            f"dependency audit: {len(unchecked)} of {len(deps)} locked packages could not be "
            "checked: PyPI's vulnerability data did not answer from this machine "
            f"(first: {', '.join(unchecked[:5])})."
        )
        if strict:
            return 3
    if checked:
        print(f"dependency audit: {checked} locked packages checked, none with a fix outstanding")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

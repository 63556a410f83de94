"""``frontdesk patients import FILE [--dry-run]`` and ``frontdesk patients export FILE``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from frontdesk.domain.errors import FrontdeskError
from frontdesk.domain.patient_csv import ENCODINGS, guess_mapping, read_table, unmapped_columns
from frontdesk.paths import desk_paths
from frontdesk.services.desk import open_desk
from frontdesk.services.patients.importing import check_import, export_patients, import_patients


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("patients", help="import or export patients")
    verbs = p.add_subparsers(dest="verb", metavar="verb", required=True)
    imp = verbs.add_parser("import", help="import patients from a CSV file (all or nothing)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    imp.add_argument("--encoding", default="utf-8-sig", choices=sorted(ENCODINGS))
    exp = verbs.add_parser("export", help="export patients to a CSV file")
    exp.add_argument("file", type=Path)
    exp.add_argument("--include-archived", action="store_true")
    p.set_defaults(run=run)


def _progress(done: int, total: int) -> None:
    print(f"\r{done:,} of {total:,} rows", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    ctx = open_desk(desk_paths(args.data_dir))
    try:
        if args.verb == "export":
            count = export_patients(ctx, args.file, include_archived=args.include_archived)
            print(f"Exported {count:,} patients to {args.file}")
            return 0
        table = read_table(args.file.name, args.file.read_bytes(), args.encoding)
        mapping = guess_mapping(table.headers)
        for fld, index in mapping.items():
            print(f"  {table.headers[index]!r:<32} → {fld}")
        for header in unmapped_columns(table.headers, mapping):
            print(f"  {header!r:<32}   not imported")
        if args.dry_run:
            report = check_import(ctx, table, mapping, _progress)
            print(file=sys.stderr)
            for problem in report.rejected:
                print(f"line {problem.line}: rejected: {problem.reason}")
            for problem in report.duplicates:
                print(f"line {problem.line}: {problem.reason}")
            print(f"{report.accepted:,} of {report.rows:,} rows can be imported; "
                  f"{len(report.rejected):,} rejected; {len(report.duplicates):,} possible "
                  "duplicates (imported and listed for review).")  # fmt: skip
            return 0 if report.ok else 1
        report = import_patients(ctx, table, mapping, _progress)
        print(file=sys.stderr)
        print(
            f"Imported {report.imported:,} patients ({report.first_number} to "
            f"{report.last_number}); {len(report.duplicates):,} possible duplicates to review."
        )
        return 0
    except FrontdeskError as exc:
        print(exc.user_message, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 1

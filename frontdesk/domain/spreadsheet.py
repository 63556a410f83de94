"""Cells written to a CSV file that a spreadsheet will open: a cell starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is read as a formula by Excel and LibreOffice, so a
patient named ``=HYPERLINK(…)`` could run one on the practice manager's computer. Such a cell
gets a leading apostrophe, which spreadsheets show as text. Plain numbers (``-12.50``,
``-$1,234.00``, ``-5%``) are left as they are."""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?[^\W\d_]{0,3}\$?[-+]?\d[\d,]*(\.\d+)?%?")


def safe_cell(cell: str) -> str:
    if not cell.startswith(_TRIGGERS) or _NUMBER.fullmatch(cell):
        return cell
    return "'" + cell


def safe_row(cells: list[str]) -> list[str]:
    return [safe_cell(c) for c in cells]

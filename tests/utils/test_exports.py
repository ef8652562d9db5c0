"""utils.exports, the one writer of CSV and Excel exports: formula-like text stays text."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from utils.exports import csv_chunks, xlsx_bytes

DANGEROUS = ["=1+1", "+1", "-1+1", "@A1", "\t=1", "\r=1", '=cmd|" /C calc"!A0']
HARMLESS = ["Python 全栈", "1+1", "a=b", " =1", "'quoted", ""]


def _csv(rows) -> list[list[str]]:
    text = "".join(csv_chunks(["h"], rows)).removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


@pytest.mark.parametrize("text", DANGEROUS)
def test_csv_puts_a_quote_before_text_a_spreadsheet_would_evaluate(text):
    assert _csv([[text]]) == [["'" + text]]


@pytest.mark.parametrize("text", HARMLESS)
def test_csv_keeps_other_text_as_it_is(text):
    assert _csv([[text]]) == [[text]]


def test_csv_writes_numbers_as_numbers_negative_ones_too():
    assert _csv([[Decimal("-1.50"), -3, None]]) == [["-1.50", "-3", ""]]


def test_excel_writes_every_text_as_a_string_cell_and_numbers_as_numbers():
    data = xlsx_bytes(
        "s", ["=header"], [[t, Decimal("-1.50"), date(2026, 1, 2)] for t in DANGEROUS]
    )

    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows())
    assert rows[0][0].data_type == "s" and rows[0][0].value == "=header"
    # Every one a string cell (XML reads a stored CR back as LF).
    expected = [("s", t.replace("\r", "\n")) for t in DANGEROUS]
    assert [(r[0].data_type, r[0].value) for r in rows[1:]] == expected
    assert {r[1].value for r in rows[1:]} == {-1.5}
    assert rows[1][2].is_date

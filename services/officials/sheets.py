"""Reading the spreadsheet a province already keeps: CSV (UTF-8, with or without its BOM, or UTF-16; comma,
semicolon or tab) or XLSX (the first sheet). The first row names the columns; headers are read without case or
diacritics, so `Mã cán bộ` is `ma_can_bo`. Empty rows are skipped. Pure: bytes in, rows out.

Spreadsheets turn codes into numbers: a unit code of fewer than five digits is padded back (`4` → `00004`), a phone
of nine digits gets back its leading 0.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from openpyxl import load_workbook

from services.errors import Refusal
from services.officials.rules import folded

COLUMNS: dict[str, str] = {
    "ma_can_bo": "the official's code (required)",
    "ho_ten": "full name (required)",
    "chuc_vu": "position title",
    "email": "email address",
    "dien_thoai": "phone: 10 digits starting 0 (a landline: 11 starting 02), or +84 and the digits after the 0",
    "ngon_ngu": "vi (default) or en",
    "vai_tro": "role: its code (commune_officer) or its Vietnamese name (required)",
    "ma_don_vi": "unit code; empty: the whole province",
    "hieu_luc_tu": "first day the role is held (dd/mm/yyyy)",
    "hieu_luc_den": "last day the role is held (dd/mm/yyyy); empty: open-ended",
    "oidc_issuer": "the identity provider the official signs in with",
    "oidc_subject": "the official's subject there",
}
REQUIRED = ("ma_can_bo", "ho_ten", "vai_tro")
MAX_ROWS = 20_000
Format = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class SheetRow:
    line: int  # the header is line 1
    values: dict[str, str | None]  # every column of COLUMNS: None when empty or absent from the file


@dataclass(frozen=True)
class Sheet:
    format: Format
    columns: frozenset[str]  # the columns the file has: a detail whose column is absent is left as it is
    rows: list[SheetRow]


def _bad_file(detail: str) -> Refusal:
    return Refusal(422, "invalid_file", f"file: {detail}", field="file")


def _decode(data: bytes) -> str:
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad_file("the CSV is not UTF-8: save it as “CSV UTF-8”") from None


def _csv_rows(data: bytes) -> list[list[Any]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _bad_file(f"not a readable CSV ({exc})") from None


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    rows: list[list[Any]] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            for row in book.worksheets[0].iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 1:
                    break
        finally:
            book.close()
    except Exception as exc:  # whatever a damaged or foreign workbook makes openpyxl raise
        raise _bad_file(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    return rows


def _cell(column: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.isascii() and text.isdigit():  # a code a spreadsheet read as a number lost its leading zeros
        if column == "ma_don_vi" and len(text) < 5:
            return text.zfill(5)
        if column == "dien_thoai" and len(text) == 9:
            return "0" + text
    return text or None


def _header(cells: list[Any]) -> list[str | None]:
    names = [folded(str(c)) if c is not None and str(c).strip() else None for c in cells]
    unknown = [n for n in names if n is not None and n not in COLUMNS]
    if unknown:
        raise _bad_file(f"unknown columns {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise _bad_file(f"the header lacks the columns {', '.join(missing)}")
    twice = sorted({n for n in names if n is not None and names.count(n) > 1})
    if twice:
        raise _bad_file(f"the columns {', '.join(twice)} appear twice")
    return names


def read_sheet(data: bytes) -> Sheet:
    """The file's format, its columns and its rows (column → text, None when empty)."""
    if not data.strip():
        raise _bad_file("the file is empty")
    kind: Format = "xlsx" if data.startswith(b"PK\x03\x04") else "csv"
    table = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    if not table:
        raise _bad_file("the file is empty")
    names = _header(table[0])
    if len(table) > MAX_ROWS + 1:
        raise _bad_file(f"more than {MAX_ROWS} rows: import the province in parts")
    rows: list[SheetRow] = []
    for line, cells in enumerate(table[1:], start=2):
        values = {n: _cell(n, v) for n, v in zip(names, cells, strict=False) if n is not None}
        if any(values.values()):
            rows.append(SheetRow(line, {c: values.get(c) for c in COLUMNS}))
    return Sheet(kind, frozenset(n for n in names if n is not None), rows)

"""Reading a province's file of past rounds: CSV (UTF-8 with or without its BOM, or UTF-16; comma, semicolon or tab)
or XLSX (the first sheet). The first row names the columns (domain/past_rounds.py COLUMNS), read without case or
diacritics (`Mã đơn vị` is `ma_don_vi`); empty rows are skipped. A date cell reads as yyyy-mm-dd, a unit code a
spreadsheet turned into a number gets its leading zeros back. Pure: bytes in, rows out."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from openpyxl import load_workbook

from domain.past_rounds import COLUMNS, REQUIRED, folded
from services.errors import Refusal

MAX_ROWS = 20_000
Format = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class Row:
    line: int  # the header is line 1
    values: dict[str, str | None]  # every column of COLUMNS: None when empty or absent


@dataclass(frozen=True)
class Sheet:
    format: Format
    rows: list[Row]


def _bad_file(detail: str) -> Refusal:
    return Refusal(422, "invalid_file", f"file: {detail}", field="file")


def _csv_rows(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad_file("the CSV is not UTF-8: save it as “CSV UTF-8”") from None
    delimiter = max(",;\t", key=text.split("\n", 1)[0].count)
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
    if column == "ma_don_vi" and text.isascii() and text.isdigit() and len(text) < 5:
        text = text.zfill(5)
    return text or None


def _header(cells: list[Any]) -> list[str | None]:
    names = [folded(str(c)).replace(" ", "_") if c is not None and str(c).strip() else None for c in cells]
    unknown = [n for n in names if n is not None and n not in COLUMNS]
    if unknown:
        raise _bad_file(f"unknown columns {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise _bad_file(f"the header lacks the columns {', '.join(missing)}")
    if "ma_don_vi" not in names and "ten_don_vi" not in names:
        raise _bad_file("the header lacks ma_don_vi or ten_don_vi: name the units by code or by name")
    twice = sorted({n for n in names if n is not None and names.count(n) > 1})
    if twice:
        raise _bad_file(f"the columns {', '.join(twice)} appear twice")
    return names


def read_sheet(data: bytes) -> Sheet:
    """The file's format and rows (column → text, None when empty)."""
    if not data.strip():
        raise _bad_file("the file is empty")
    kind: Format = "xlsx" if data.startswith(b"PK\x03\x04") else "csv"
    table = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    if not table:
        raise _bad_file("the file is empty")
    names = _header(table[0])
    if len(table) > MAX_ROWS + 1:
        raise _bad_file(f"more than {MAX_ROWS} rows: import the province in parts")
    rows: list[Row] = []
    for line, cells in enumerate(table[1:], start=2):
        values = {n: _cell(n, v) for n, v in zip(names, cells, strict=False) if n is not None}
        if any(values.values()):
            rows.append(Row(line, {c: values.get(c) for c in COLUMNS}))
    return Sheet(kind, rows)

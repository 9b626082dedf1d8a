"""Reading a spreadsheet a province uploads (its officials, its past rounds): CSV (UTF-8 with or without its BOM, or
UTF-16; comma, semicolon or tab) or XLSX (the first sheet). The first row names the columns, read without case or
diacritics (`Mã cán bộ` is `ma_can_bo`); empty rows are skipped. Spreadsheets turn codes into numbers: a unit code of
fewer than five digits gets its leading zeros back (`4` → `00004`), a phone of nine digits its leading 0; a date cell
reads as yyyy-mm-dd. Pure: bytes in, rows out.

A file that cannot be read as a whole is refused with 422 `invalid_file`; the refusal names the `problem`
(glossary section `file_problem`) and its specifics (`columns`, `known`, `limit`), so the pages and the commands say it
in the reader's language."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from openpyxl import load_workbook

from domain.past_rounds import folded
from services.errors import Refusal

MAX_ROWS = 20_000
Format = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class Layout:
    """The columns a kind of file may have, those it must have, and a set of which it must have one at least."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    one_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    line: int  # the header is line 1
    values: dict[str, str | None]  # every column of the layout: None when empty or absent from the file


@dataclass(frozen=True)
class Sheet:
    format: Format
    columns: frozenset[str]  # the columns the file has
    rows: list[Row]


def bad_file(problem: str, detail: str, **specifics: str) -> Refusal:
    """422 `invalid_file`: `detail` says it in English (the API's reason), `problem` and `specifics` let the glossary
    say it (`file_problem`)."""
    extra: dict[str, Any] = {"field": "file", "problem": problem, **specifics}
    return Refusal(422, "invalid_file", f"file: {detail}", **extra)


def column_key(text: str) -> str:
    """A header as a column name: lower case, no diacritics, words joined by `_` ("Mã đơn vị" → "ma_don_vi")."""
    return folded(text).replace(" ", "_")


def _csv_rows(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise bad_file("not_utf8", "the CSV is not UTF-8: save it as “CSV UTF-8”") from None
    delimiter = max(",;\t", key=text.split("\n", 1)[0].count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise bad_file("unreadable_csv", f"not a readable CSV ({exc})") from None


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
        raise bad_file("unreadable_xlsx", f"not a readable XLSX workbook ({type(exc).__name__})") from None
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


def _header(cells: list[Any], layout: Layout) -> list[str | None]:
    names = [column_key(str(c)) if c is not None and str(c).strip() else None for c in cells]
    unknown = [n for n in names if n is not None and n not in layout.columns]
    if unknown:
        known = ", ".join(layout.columns)
        raise bad_file(
            "unknown_columns",
            f"unknown columns {', '.join(unknown)}; the columns are {known}",
            columns=", ".join(unknown),
            known=known,
        )
    missing = [c for c in layout.required if c not in names]
    if missing:
        listed = ", ".join(missing)
        raise bad_file("missing_columns", f"the header lacks the columns {listed}", columns=listed)
    if layout.one_of and not any(c in names for c in layout.one_of):
        either = " or ".join(layout.one_of)
        raise bad_file("none_of_columns", f"the header lacks {either}", columns=", ".join(layout.one_of))
    twice = sorted({n for n in names if n is not None and names.count(n) > 1})
    if twice:
        listed = ", ".join(twice)
        raise bad_file("repeated_columns", f"the columns {listed} appear twice", columns=listed)
    return names


def read_sheet(data: bytes, layout: Layout) -> Sheet:
    """The file's format, the columns it has, and its rows (column → text, None when empty)."""
    if not data.strip():
        raise bad_file("empty", "the file is empty")
    kind: Format = "xlsx" if data.startswith(b"PK\x03\x04") else "csv"
    table = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    if not table:
        raise bad_file("empty", "the file is empty")
    names = _header(table[0], layout)
    if len(table) > MAX_ROWS + 1:
        raise bad_file("too_many_rows", f"more than {MAX_ROWS} rows: import the province in parts", limit=str(MAX_ROWS))
    rows: list[Row] = []
    for line, cells in enumerate(table[1:], start=2):
        values = {n: _cell(n, v) for n, v in zip(names, cells, strict=False) if n is not None}
        if any(values.values()):
            rows.append(Row(line, {c: values.get(c) for c in layout.columns}))
    return Sheet(kind, frozenset(n for n in names if n is not None), rows)

"""Reading small CSV data files with errors that name the file, the line and the field."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from domain.datafiles import read_data_file
from domain.errors import UnitsFileError


def read_csv_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for each data line, values stripped. The first line that is neither blank nor a
    comment (starting with #) is the header and must name every column in `columns`; other columns are ignored.
    A row is one physical line (no quoted line breaks)."""
    text = read_data_file(path, UnitsFileError, encoding="utf-8-sig")
    header: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            fields = [f.strip() for f in next(csv.reader([raw]))]
        except csv.Error as exc:
            raise UnitsFileError(path, f"line {number}", f"not valid CSV: {exc}") from None
        if header is None:
            header = fields
            missing = [c for c in columns if c not in header]
            if missing:
                raise UnitsFileError(path, f"line {number}, header", f"missing column(s): {', '.join(missing)}")
            continue
        if len(fields) != len(header):
            raise UnitsFileError(path, f"line {number}", f"expected {len(header)} fields, got {len(fields)}")
        row = dict(zip(header, fields, strict=True))
        yield number, {c: row[c] for c in columns}
    if header is None:
        raise UnitsFileError(path, "line 1, header", f"no header; expected columns: {', '.join(columns)}")

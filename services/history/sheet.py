"""The province's file of past rounds, read by services/sheets.py: its columns (domain/past_rounds.py COLUMNS), those
it must have, and the units named by code or by name (ma_don_vi or ten_don_vi at least)."""

from __future__ import annotations

from domain.past_rounds import COLUMNS, REQUIRED
from services.sheets import Layout, Row, Sheet
from services.sheets import read_sheet as read

LAYOUT = Layout(columns=tuple(COLUMNS), required=REQUIRED, one_of=("ma_don_vi", "ten_don_vi"))

__all__ = ["LAYOUT", "Row", "Sheet", "read_sheet"]


def read_sheet(data: bytes) -> Sheet:
    """The file's format and rows (column → text, None when empty)."""
    return read(data, LAYOUT)

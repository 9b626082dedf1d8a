"""The officials' spreadsheet a province already keeps, read by services/sheets.py: its columns, those it must have.
Spreadsheets turn codes into numbers: a unit code of fewer than five digits is padded back (`4` → `00004`), a phone
of nine digits gets back its leading 0.
"""

from __future__ import annotations

from services.sheets import Layout, Sheet
from services.sheets import read_sheet as read

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
LAYOUT = Layout(columns=tuple(COLUMNS), required=REQUIRED)

__all__ = ["COLUMNS", "LAYOUT", "REQUIRED", "Sheet", "read_sheet"]


def read_sheet(data: bytes) -> Sheet:
    """The officials' file: its format, the columns it has, its rows (column → text, None when empty)."""
    return read(data, LAYOUT)

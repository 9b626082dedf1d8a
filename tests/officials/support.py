"""Helpers of the directory's tests: the reference data and demo officials of two provinces, a province's
spreadsheet as Hưng Yên would keep it (104 units × 3 commune roles + 8 provincial officials) with five planted bad
rows, written as CSV or XLSX, and a snapshot of everything the directory holds (to show a refusal changed nothing)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AbsenceRow, DirectoryEventRow, OfficialRow, RoleAssignmentRow
from domain.units import load_units
from services.access import Principal, principal_of
from services.officials.rules import role_label
from services.seed import demo_officials, seed_officials, seed_units

PROVINCE = "33"  # Hưng Yên, 104 units
OTHER = "01"  # Hà Nội
UNITS = [u.code for u in load_units(PROVINCE)]
FIRST_UNIT = UNITS[0]
OTHER_UNIT = load_units(OTHER)[0].code  # 00004

ADMIN = f"demo-admin-{PROVINCE}"
AUDITOR = f"demo-auditor-{PROVINCE}"
OFFICER = f"demo-officer-{FIRST_UNIT}"
OTHER_ADMIN = f"demo-admin-{OTHER}"

# The file's columns: the Vietnamese headers people write (read without case or diacritics).
HEADER_VI = [
    "Mã cán bộ",
    "Họ tên",
    "Chức vụ",
    "Email",
    "Điện thoại",
    "Ngôn ngữ",
    "Vai trò",
    "Mã đơn vị",
    "Hiệu lực từ",
    "Hiệu lực đến",
    "oidc_issuer",
    "oidc_subject",
]
HEADER = [
    "ma_can_bo",
    "ho_ten",
    "chuc_vu",
    "email",
    "dien_thoai",
    "ngon_ngu",
    "vai_tro",
    "ma_don_vi",
    "hieu_luc_tu",
    "hieu_luc_den",
    "oidc_issuer",
    "oidc_subject",
]
COMMUNE = (
    ("cb", "commune_officer", "Công chức Văn hóa - Xã hội"),
    ("ct", "commune_chairman", "Chủ tịch UBND xã"),
    ("hd", "council_chair", "Chủ tịch Hội đồng đánh giá"),
)
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
ISSUER = "https://sso.hungyen.gov.vn"
Row = list[Any]


def _phone(i: int) -> str:
    """Numbers as provinces write them: 0912345678, +84 912 345 678, 0912.345.678."""
    digits = f"9{i:08d}"
    return (f"0{digits}", f"+84 {digits[:2]} {digits[2:5]} {digits[5:]}", f"0{digits[:3]}.{digits[3:6]}.{digits[6:]}")[
        i % 3
    ]


def commune_rows() -> list[Row]:
    rows: list[Row] = []
    for n, unit in enumerate(UNITS):
        for k, (slug, role, title) in enumerate(COMMUNE):
            i = n * 3 + k
            oid = f"hy-{unit}-{slug}"
            sso = i % 4 == 0
            rows.append(
                [
                    oid,
                    f"{SURNAMES[i % len(SURNAMES)]} Văn {i}",
                    title,
                    f"{oid}@hungyen.gov.vn",
                    _phone(i),
                    "en" if i % 10 == 0 else "vi",
                    role_label(role) if i % 2 else role,  # its Vietnamese name or its code
                    unit,
                    "01/07/2025",
                    "",
                    ISSUER if sso else "",
                    f"sub-{oid}" if sso else "",
                ]
            )
    return rows


def provincial_rows() -> list[Row]:
    """8 officials, 9 rows: the provincial chairman decides (chairman) and commends (provincial_chairman)."""
    people = [
        ("hy-tham-dinh-1", "Phạm Thị Hoa", "Chuyên viên Sở Y tế", "appraiser", ""),
        ("hy-tham-dinh-2", "Đỗ Văn Bình", "Phó Trưởng phòng", "appraiser", ""),
        ("hy-tham-dinh-3", "Ngô Thị Thu", "Chuyên viên", "appraiser", "31/12/2030"),
        ("hy-chu-tich-tinh", "Hoàng Văn Nam", "Chủ tịch UBND tỉnh", "chairman", ""),
        ("hy-chu-tich-tinh", "Hoàng Văn Nam", "Chủ tịch UBND tỉnh", "provincial_chairman", ""),
        ("hy-quan-tri-1", "Vũ Thị Mai", "Quản trị hệ thống", "admin", ""),
        ("hy-quan-tri-2", "Lý Văn Tâm", "Quản trị hệ thống", "admin", ""),
        ("hy-kiem-toan-1", "Đặng Văn Long", "Thanh tra tỉnh", "auditor", ""),
        ("hy-kiem-toan-2", "Trịnh Thị Lan", "Thanh tra tỉnh", "auditor", ""),
    ]
    number = {oid: i for i, (oid, *_) in reversed(list(enumerate(people)))}  # one landline per official
    rows: list[Row] = []
    for oid, name, title, role, until in people:
        phone = f"0221 3{number[oid]:06d}"
        rows.append([oid, name, title, f"{oid}@hungyen.gov.vn", phone, "vi", role, "", "01/07/2025", until, "", ""])
    return rows


def good_rows() -> list[Row]:
    return commune_rows() + provincial_rows()


# The planted bad rows: official code → (the refusal's code, the column at fault).
BAD: dict[str, tuple[str, str]] = {
    "hy-sai-don-vi": ("unknown_unit", "ma_don_vi"),
    "hy-sai-pham-vi": ("wrong_scope", "ma_don_vi"),
    "hy-trung-email": ("duplicate_email", "email"),
    "hy-sai-email": ("invalid_email", "email"),
    "hy-tinh-khac": ("unit_of_other_province", "ma_don_vi"),
}


def bad_rows() -> list[Row]:
    taken = commune_rows()[0][3]

    def row(oid: str, email: str, role: str, unit: str) -> Row:
        return [oid, "Người Sai", "Chuyên viên", email, "0987654321", "vi", role, unit, "", "", "", ""]

    return [
        row("hy-sai-don-vi", "sai-don-vi@hungyen.gov.vn", "commune_officer", "99999"),
        row("hy-sai-pham-vi", "sai-pham-vi@hungyen.gov.vn", "appraiser", UNITS[5]),
        row("hy-trung-email", taken, "commune_officer", UNITS[6]),
        row("hy-sai-email", "khong-phai-email@", "council_chair", UNITS[7]),
        row("hy-tinh-khac", "tinh-khac@hungyen.gov.vn", "commune_officer", OTHER_UNIT),
    ]


def with_bad_rows() -> list[Row]:
    good = good_rows()
    return good[:100] + bad_rows() + good[100:]


def to_csv(rows: list[Row], header: list[str] = HEADER_VI) -> bytes:
    """As Excel saves “CSV UTF-8”: a BOM, commas, CRLF."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx_cell(column: str, value: Any) -> Any:
    """As a spreadsheet holds them: days as dates, some phones as numbers (their leading 0 lost)."""
    if column in ("hieu_luc_tu", "hieu_luc_den") and value:
        d, m, y = (int(p) for p in value.split("/"))
        return datetime(y, m, d)
    if column == "dien_thoai" and value.isdigit() and value.startswith("09") and int(value) % 2:
        return int(value)
    return value or None


def to_xlsx(rows: list[Row], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Cán bộ"
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_cell(c, v) for c, v in zip(HEADER, row, strict=True)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def encode(kind: str, rows: list[Row]) -> bytes:
    return to_csv(rows) if kind == "csv" else to_xlsx(rows)


async def seed_directory(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Provinces, the units of Hưng Yên and Hà Nội, and each one's demo officials (seeded, as `make run` does)."""
    async with sessions() as session, session.begin():
        for province, unit in ((PROVINCE, FIRST_UNIT), (OTHER, OTHER_UNIT)):
            await seed_units(session, province)
            await seed_officials(session, demo_officials(province, unit), province)


async def principal(sessions: async_sessionmaker[AsyncSession], official_id: str) -> Principal:
    async with sessions() as session:
        found = await principal_of(session, official_id)
    assert found is not None, official_id
    return found


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Everything the directory holds, to compare before and after a refusal."""
    async with sessions() as session:
        officials = (await session.execute(select(OfficialRow).order_by(OfficialRow.id))).scalars().all()
        assignments = (await session.execute(select(RoleAssignmentRow).order_by(RoleAssignmentRow.id))).scalars().all()
        journal = (await session.execute(select(DirectoryEventRow.hash).order_by(DirectoryEventRow.id))).scalars().all()
        leaves = (await session.execute(select(AbsenceRow).order_by(AbsenceRow.id))).scalars().all()
    columns = [c.key for c in OfficialRow.__table__.columns]
    return {
        "officials": [tuple(getattr(o, c) for c in columns) for o in officials],
        "assignments": [(a.id, a.official_id, a.role, a.unit_code, a.valid_from, a.valid_until) for a in assignments],
        "journal": list(journal),
        "absences": [(a.id, a.official_id, a.deputy_id, a.starts_on, a.ends_on, a.cancelled_at) for a in leaves],
    }


NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
TODAY = date(2026, 3, 2)

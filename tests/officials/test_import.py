"""Hưng Yên imports its officials from its spreadsheet (CSV and XLSX): 104 units × 3 commune roles and 8 provincial
officials, with five planted bad rows. The dry run reports every row and writes nothing; applying with bad rows
writes nothing; applying the clean file writes it all, journalled; applying it again changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DirectoryEventRow, OfficialRow, RoleAssignmentRow
from services.errors import Refusal
from services.officials import service
from services.officials.importer import import_officials
from services.officials.journal import verify_directory
from services.officials.schemas import ImportReport
from tests.officials.support import (
    ADMIN,
    BAD,
    NOW,
    PROVINCE,
    UNITS,
    encode,
    good_rows,
    principal,
    seed_directory,
    snapshot,
    to_csv,
    with_bad_rows,
)

GOOD = good_rows()
OFFICIALS = len({r[0] for r in GOOD})  # 312 commune officials + 8 provincial ones


async def _import(sessions: async_sessionmaker[AsyncSession], data: bytes, *, apply: bool) -> ImportReport:
    admin = await principal(sessions, ADMIN)
    async with sessions() as session:
        return await import_officials(session, admin, PROVINCE, data, apply=apply, now=NOW)


def _refusals(report: ImportReport) -> dict[str, tuple[str | None, str | None]]:
    return {o.official_id or "": (o.code, o.field) for o in report.outcomes if o.outcome == "refuse"}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_dry_run_then_apply_then_apply_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], kind: str
) -> None:
    await seed_directory(sessions)
    assert (len(GOOD), OFFICIALS) == (104 * 3 + 9, 104 * 3 + 8)
    before = await snapshot(sessions)

    # the dry run: every row reported, the five bad ones refused with their reason; nothing written
    mixed = encode(kind, with_bad_rows())
    report = await _import(sessions, mixed, apply=False)
    assert report.format == kind and not report.apply and not report.applied
    assert (report.rows, report.created, report.changed, report.unchanged, report.refused) == (
        len(GOOD) + 5,
        len(GOOD),
        0,
        0,
        5,
    ), [o for o in report.outcomes if o.outcome == "refuse"]
    assert _refusals(report) == {oid: (code, column) for oid, (code, column) in BAD.items()}
    by_id = {o.official_id: o for o in report.outcomes}
    assert by_id["hy-sai-don-vi"].value == "99999" and "99999" in (by_id["hy-sai-don-vi"].detail or "")
    assert by_id["hy-trung-email"].row == 2 + 100 + 2  # its line in the file: the header is line 1
    assert await snapshot(sessions) == before

    # applying a file with refused rows writes nothing at all
    report = await _import(sessions, mixed, apply=True)
    assert report.apply and not report.applied and report.refused == 5 and report.journal_rows == 0
    assert await snapshot(sessions) == before

    # the clean file: everything written in one transaction, each creation journalled
    clean = encode(kind, GOOD)
    report = await _import(sessions, clean, apply=True)
    assert report.applied and (report.created, report.refused) == (len(GOOD), 0)
    assert report.journal_rows == OFFICIALS + len(GOOD)  # official_created per official, role_assigned per row
    async with sessions() as session:
        listed = await service.list_officials(session, await principal(sessions, ADMIN), PROVINCE, now=NOW)
        chairman = await session.get(OfficialRow, "hy-chu-tich-tinh")
        officer = await session.get(OfficialRow, f"hy-{UNITS[0]}-cb")
        second = await session.get(OfficialRow, f"hy-{UNITS[0]}-ct")
        third = await session.get(OfficialRow, f"hy-{UNITS[0]}-hd")
        roles = set(
            await session.scalars(
                select(RoleAssignmentRow.role).where(RoleAssignmentRow.official_id == "hy-chu-tich-tinh")
            )
        )
        verified = await verify_directory(session, PROVINCE)
    assert len(listed) == OFFICIALS + 7  # and the seven demo officials
    assert roles == {"chairman", "provincial_chairman"}
    assert chairman is not None and chairman.phone == "02213000003" and chairman.created_by == ADMIN
    # phones in their national form, whether written 0912…, +84 9… or 0912.345.678 (or a number in a spreadsheet)
    assert officer is not None and second is not None and third is not None
    assert (officer.phone, second.phone, third.phone) == ("0900000000", "0900000001", "0900000002")
    assert officer.oidc_issuer == "https://sso.hungyen.gov.vn" and officer.oidc_subject == f"sub-hy-{UNITS[0]}-cb"
    assert officer.locale == "en" and second.locale == "vi"
    commune = next(o for o in listed if o.id == f"hy-{UNITS[0]}-ct")
    assert [(r.role, r.unit_code, r.valid_from) for r in commune.roles] == [
        ("commune_chairman", UNITS[0], date(2025, 7, 1))
    ]
    assert commune.roles[0].role_name == "Chủ tịch UBND cấp xã" and commune.roles[0].current
    assert verified.ok and verified.rows == report.journal_rows
    written = await snapshot(sessions)

    # the same file again: every row unchanged, nothing written, the journal as it was
    again = await _import(sessions, clean, apply=True)
    assert again.applied and (again.unchanged, again.created, again.changed, again.journal_rows) == (len(GOOD), 0, 0, 0)
    assert await snapshot(sessions) == written

    # the file with its bad rows now: the good rows unchanged, the bad ones still refused
    report = await _import(sessions, mixed, apply=False)
    assert (report.unchanged, report.refused) == (len(GOOD), 5)
    assert _refusals(report) == {oid: (code, column) for oid, (code, column) in BAD.items()}


async def test_a_changed_row_is_a_change_naming_its_columns_and_journalled_with_before_and_after(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_directory(sessions)
    assert (await _import(sessions, to_csv(GOOD), apply=True)).applied
    changed = [list(r) for r in GOOD]
    changed[0][4] = "0988 777 666"  # a new phone
    changed[-1][9] = "31/12/2027"  # the term of the last auditor ends
    report = await _import(sessions, to_csv(changed), apply=False)
    assert (report.changed, report.unchanged) == (2, len(GOOD) - 2)
    changes = {o.official_id: o.changes for o in report.outcomes if o.outcome == "change"}
    assert changes == {changed[0][0]: ["dien_thoai"], "hy-kiem-toan-2": ["hieu_luc_den"]}

    report = await _import(sessions, to_csv(changed), apply=True)
    assert report.applied and report.journal_rows == 2
    async with sessions() as session:
        last = await session.scalars(select(DirectoryEventRow).order_by(DirectoryEventRow.seq.desc()).limit(2))
        rows = sorted(last, key=lambda r: r.seq)
    assert [(r.action, r.official_id) for r in rows] == [
        ("official_changed", changed[0][0]),
        ("role_changed", "hy-kiem-toan-2"),
    ]
    assert (rows[0].before, rows[0].after) == ({"phone": "0900000000"}, {"phone": "0988777666"})
    assert rows[1].after["valid_until"] == "2027-12-31" and rows[1].before["valid_until"] is None
    assert rows[0].actor_id == ADMIN and rows[0].payload["source"] == "import" and rows[0].payload["row"] == 2


async def test_rows_that_disagree_repeat_or_reach_another_provinces_official_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_directory(sessions)
    unit = UNITS[3]

    def row(oid: str, role: str, unit_code: str = unit, **over: str) -> list[str]:
        cells = dict.fromkeys(
            ("ho_ten", "chuc_vu", "email", "dien_thoai", "ngon_ngu", "hieu_luc_tu", "hieu_luc_den"), ""
        )
        cells |= {"ho_ten": "Mai Văn Hai", "email": f"{oid}@hungyen.gov.vn"} | over
        return [
            oid,
            cells["ho_ten"],
            cells["chuc_vu"],
            cells["email"],
            cells["dien_thoai"],
            cells["ngon_ngu"],
            role,
            unit_code,
            cells["hieu_luc_tu"],
            cells["hieu_luc_den"],
            "",
            "",
        ]

    rows = [
        row("hy-a", "commune_officer"),
        row("hy-a", "council_chair", ho_ten="Mai Văn Ba"),  # the same official, another name
        row("hy-a", "commune_officer"),  # the same role and scope again
        row("demo-admin-01", "commune_officer", email="x@hungyen.gov.vn"),  # Hà Nội's administrator
        row("hy-b", "district_appraiser", ""),  # the district level has ended
        row("hy-c", "district_chairman", "", hieu_luc_den="30/06/2025"),  # history: accepted
        row("hy-d", "Kế toán"),
        row("hy-e", "commune_officer", dien_thoai="12345"),
        row("hy-f", "commune_officer", hieu_luc_tu="31/02/2026"),
        row("hy-g", "commune_officer", ngon_ngu="fr"),
        row("hy-h", "commune_officer", hieu_luc_tu="01/07/2026", hieu_luc_den="01/01/2026"),
        row("hy-i", "commune_officer", ho_ten=""),
        row("hy j", "commune_officer"),
    ]
    report = await _import(sessions, to_csv(rows), apply=False)
    outcomes = [(o.official_id, o.outcome, o.code, o.field) for o in report.outcomes]
    assert outcomes == [
        ("hy-a", "create", None, None),
        ("hy-a", "refuse", "conflicting_row", "ho_ten"),
        ("hy-a", "refuse", "duplicate_row", "vai_tro"),
        ("demo-admin-01", "refuse", "official_of_other_province", "ma_can_bo"),
        ("hy-b", "refuse", "district_role_ended", "vai_tro"),
        ("hy-c", "create", None, None),
        ("hy-d", "refuse", "unknown_role", "vai_tro"),
        ("hy-e", "refuse", "invalid_phone", "dien_thoai"),
        ("hy-f", "refuse", "invalid_date", "hieu_luc_tu"),
        ("hy-g", "refuse", "invalid_locale", "ngon_ngu"),
        ("hy-h", "refuse", "invalid_validity", "hieu_luc_den"),
        ("hy-i", "refuse", "missing_value", "ho_ten"),
        ("hy j", "refuse", "invalid_id", "ma_can_bo"),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"ma_can_bo,ho_ten\nx,y\n", "lacks the columns vai_tro"),
        (b"ma_can_bo,ho_ten,vai_tro,ghi_chu\n", "unknown columns ghi_chu"),
        ("ma_can_bo,ho_ten,vai_tro\nx,Lê Văn,admin\n".encode("cp1258", errors="replace") + b"\xff", "not UTF-8"),
        (b"PK\x03\x04 not really a workbook", "not a readable XLSX"),
    ],
)
async def test_a_file_that_cannot_be_read_is_refused_whole(
    sessions: async_sessionmaker[AsyncSession], data: bytes, reason: str
) -> None:
    await seed_directory(sessions)
    with pytest.raises(Refusal) as refused:
        await _import(sessions, data, apply=True)
    assert (refused.value.status, refused.value.code, refused.value.extra["field"]) == (422, "invalid_file", "file")
    assert reason in refused.value.detail
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DirectoryEventRow)) == 0


async def test_the_example_file_of_the_documentation_imports(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed_directory(sessions)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "officials.md").read_text()
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    report = await _import(sessions, example.encode(), apply=True)
    assert report.applied and (report.rows, report.created) == (3, 3), report.outcomes
    async with sessions() as session:
        chairman = await session.get(OfficialRow, "hy-chu-tich")
    assert chairman is not None and chairman.phone == "02213862345"

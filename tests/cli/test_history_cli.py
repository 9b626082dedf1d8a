"""`xptt history import | list` and `xptt units lineage` as an operator runs them (a process, over the database only):
the dry run's table in Vietnamese from an XLSX, an apply with a refused row writing nothing (exit 1), the clean file
written and listed, a unit's predecessors named with the streak rule."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models_history import PastRecognitionRow
from services.history.lineage import predecessors_of
from services.seed import seed_units
from tests.officials.test_cli import xptt

PROVINCE = "33"
HEADER = ["Mã đơn vị", "Tên đơn vị", "Tên huyện", "Năm", "Số quyết định", "Ngày quyết định"]


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def stored(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PastRecognitionRow)) or 0)


async def test_import_list_and_lineage_from_the_command_line(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    async with sessions() as session, session.begin():
        await seed_units(session, PROVINCE)
        unit = "12019"
        preds = await predecessors_of(session, unit)
    assert len(preds) >= 2
    good = [[int(p.code), None, None, 2024, f"{i}/QĐ-UBND", f"1{i}/12/2024"] for i, p in enumerate(preds, start=1)]
    mixed, clean = tmp_path / "ky-truoc.xlsx", tmp_path / "ky-truoc-dung.xlsx"
    mixed.write_bytes(workbook([*good, [None, "Xã Không Có", None, 2020, "9/QĐ", "20/12/2020"]]))
    clean.write_bytes(workbook(good))
    importing = ["history", "import", "--province", PROVINCE]

    code, out = await xptt(database_url, *importing, str(mixed))
    assert code == 0, out
    assert "chạy thử — chưa ghi gì" in out and "tạo mới" in out and "từ chối" in out
    assert preds[0].name in out and "ngày 11/12/2024" in out
    assert "Năm: năm 2020 không phải năm đánh giá của bộ tiêu chí nào" in out  # its column and the reason

    code, out = await xptt(database_url, *importing, str(mixed), "--apply")
    assert code == 1, out
    assert "không ghi gì: có dòng bị từ chối" in out
    assert await stored(sessions) == 0

    code, out = await xptt(database_url, *importing, str(clean), "--apply")
    assert code == 0, out
    assert "đã ghi vào kết quả các kỳ trước" in out and f"Số dòng nhật ký đã ghi: {len(preds)}" in out
    assert await stored(sessions) == len(preds)
    code, out = await xptt(database_url, *importing, str(clean), "--apply")
    assert code == 0 and "không đổi" in out and await stored(sessions) == len(preds)

    code, out = await xptt(database_url, "history", "list", "--province", PROVINCE, "--year", "2024")
    assert code == 0, out
    assert all(p.name in out for p in preds)

    code, out = await xptt(database_url, "units", "lineage", unit)
    assert code == 0, out
    assert "các đơn vị trước sáp nhập" in out and all(p.name in out for p in preds)
    assert "Quy tắc tính chuỗi: mọi đơn vị trước sáp nhập đều được công nhận" in out
    assert "vietnamadminunits 1.0.4" in out

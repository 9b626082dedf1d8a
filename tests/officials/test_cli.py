"""`xptt officials import | list | verify` as an operator runs them (a process, over the database only): the dry
run's table in Vietnamese, an apply with refused rows writing nothing (exit 1), the clean file written, again
changing nothing; the list; the journal verified, and named broken once a row is altered by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from infra.clock import today_vn
from tests.officials.support import (
    ADMIN,
    AUDITOR,
    PROVINCE,
    UNITS,
    good_rows,
    seed_directory,
    snapshot,
    to_csv,
    to_xlsx,
    with_bad_rows,
)
from tests.support import xptt as run_xptt


async def xptt(database_url: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    code, out, err = await run_xptt({"DATABASE_URL": database_url, **(env or {})}, *args)
    return code, out + err


async def test_import_list_and_verify_from_the_command_line(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await seed_directory(sessions)
    mixed, clean = tmp_path / "can-bo-loi.xlsx", tmp_path / "can-bo.csv"
    mixed.write_bytes(to_xlsx(with_bad_rows()))
    clean.write_bytes(to_csv(good_rows()))
    importing = ["officials", "import", "--province", PROVINCE, "--as", ADMIN]
    before = await snapshot(sessions)

    code, out = await xptt(database_url, *importing, str(mixed))
    assert code == 0, out
    assert "chạy thử — chưa ghi gì" in out and "tạo mới" in out and "từ chối" in out
    assert "Không có đơn vị mã “99999”" in out and "Email “khong-phai-email@” không hợp lệ" in out
    assert "Chủ tịch UBND cấp xã" in out  # roles as people read them, never their codes
    assert "commune_chairman" not in out

    code, out = await xptt(database_url, *importing, str(mixed), "--apply")
    assert code == 1, out
    assert "không ghi gì: có dòng bị từ chối" in out
    assert await snapshot(sessions) == before

    code, out = await xptt(database_url, *importing, str(clean), "--apply")
    assert code == 0, out
    assert "đã ghi vào danh bạ" in out and f"Số dòng nhật ký đã ghi: {len(good_rows()) + 320}" in out
    code, out = await xptt(database_url, *importing, str(clean), "--apply")
    assert code == 0 and "Không có gì thay đổi: danh bạ đã đúng như tệp." in out, out

    foreign = tmp_path / "can-bo-cot-la.csv"
    foreign.write_bytes(b"ma_can_bo,ho_ten,vai_tro,ghi_chu\n")
    code, out = await xptt(database_url, *importing, str(foreign), "--apply")  # the file as a whole is refused
    said = "Lỗi: file: Không đọc được tệp: có cột không nhận biết: ghi_chu; các cột dùng được:"
    assert code == 2 and said in out, out

    code, out = await xptt(database_url, *importing[:-1], AUDITOR, str(clean))
    assert code == 2 and "Bạn không có quyền thực hiện việc này." in out, out

    code, out = await xptt(database_url, "officials", "list", "--province", PROVINCE)
    assert code == 0, out
    assert f"hy-{UNITS[0]}-cb" in out and "toàn tỉnh" in out and "từ 01/07/2025" in out

    code, out = await xptt(database_url, "officials", "verify", "--province", PROVINCE)
    assert code == 0 and "chuỗi băm nguyên vẹn (641 dòng)" in out, out
    async with sessions() as session, session.begin():
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text("UPDATE directory_journal SET reason = 'sửa tay' WHERE seq = 17"))
    code, out = await xptt(database_url, "officials", "verify", "--province", PROVINCE)
    assert code == 1 and "HỎNG tại dòng số 17 (dòng bị sửa)" in out, out


async def test_a_leave_is_recorded_and_ended_from_the_command_line(
    database_url: str, sessions: async_sessionmaker[AsyncSession], temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    await seed_directory(sessions)
    sheet = tmp_path / "can-bo.csv"
    sheet.write_bytes(to_csv(good_rows()))
    code, out = await xptt(
        database_url, "officials", "import", str(sheet), "--province", PROVINCE, "--as", ADMIN, "--apply"
    )
    assert code == 0, out
    officer, deputy = f"demo-officer-{UNITS[0]}", f"hy-{UNITS[0]}-cb"
    first, last = today_vn(), today_vn() + timedelta(days=4)
    temporal = {"TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host}
    leave = ["officials", "leave", officer, "--province", PROVINCE, "--as", ADMIN, "--from", f"{first:%d/%m/%Y}"]
    leave += ["--until", last.isoformat()]
    code, out = await xptt(database_url, *leave, "--deputy", f"hy-{UNITS[0]}-hd", env=temporal)
    # the council's chair does not hold the officer's role
    assert code == 2 and "deputy_id: Người thay thế không giữ vai trò cần thay" in out, out
    code, out = await xptt(database_url, *leave, "--deputy", deputy, env=temporal)
    assert code == 0, out
    assert f"Đã ghi nghỉ phép #1: {officer} nghỉ từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}" in out, out
    assert "0 việc đang mở đã chuyển cho người làm thay; 0 việc chưa chuyển được." in out, out
    code, out = await xptt(
        database_url, "officials", "leave-end", officer, "1", "--as", ADMIN, "--until", last.isoformat()
    )
    assert code == 2 and "ends_on: Lần nghỉ phép này đã có ngày kết thúc không muộn hơn ngày yêu cầu." in out, out
    code, out = await xptt(database_url, "officials", "leave-end", officer, "1", "--as", ADMIN)
    assert code == 0 and "Đã huỷ nghỉ phép #1." in out, out  # begun today, ended the day before: called off

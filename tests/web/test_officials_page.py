"""The officials' page of a province (/web/officials): read-only, for its administrators and auditors; each official
with their roles by their Vietnamese names (English on request), the unit by name, the days each role holds
(dd/mm/yyyy, marked when not in force today), whether they are active and their leaves to come with the deputy;
linked from the board. Refused to a commune officer and for a province the official does not oversee."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.calendar import local_date
from domain.units import load_units
from services.access import principal_of
from services.officials import absences, importer, service
from services.officials.absences import AbsenceRequest
from tests.support import PROVINCE, Stack, running_stack
from tests.web.test_pages import sign_in


def dmy_day(days_ago: int) -> date:
    return local_date(datetime.now(UTC)) - timedelta(days=days_ago)


def dmy(days_ago: int) -> str:
    return f"{dmy_day(days_ago):%d/%m/%Y}"


async def fill_directory(stack: Stack) -> None:
    """Two officials imported by the demo administrator: one with a role over the stack's unit and a role that ended,
    one deactivated since."""
    unit = stack.unit_code
    rows = [
        "Mã cán bộ,Họ tên,Chức vụ,Email,Điện thoại,Vai trò,Mã đơn vị,Hiệu lực từ,Hiệu lực đến",
        f"hy-{unit}-cb,Bùi Thị Thu,Công chức Văn hóa - Xã hội,thu.bt@hungyen.example,0912 345 678,"
        f"Cán bộ văn hóa - xã hội,{unit},{dmy(400)},",
        f"hy-{unit}-cb,Bùi Thị Thu,Công chức Văn hóa - Xã hội,thu.bt@hungyen.example,0912 345 678,"
        f"council_chair,{unit},{dmy(400)},{dmy(30)}",
        "hy-tham-dinh,Đỗ Văn Khánh,Chuyên viên Sở Y tế,khanh.dv@hungyen.example,,appraiser,,,",
    ]
    now = datetime.now(UTC)
    async with stack.sessions() as session:
        admin = await principal_of(session, f"demo-admin-{PROVINCE}")
        assert admin is not None
        report = await importer.import_officials(
            session, admin, PROVINCE, "\n".join(rows).encode(), apply=True, now=now
        )
        assert report.applied, report.outcomes
        await service.deactivate_official(session, admin, "hy-tham-dinh", "chuyển công tác", now=now)
        leave = AbsenceRequest(
            province=PROVINCE, deputy_id=f"hy-{unit}-cb", starts_on=dmy_day(-3), ends_on=dmy_day(-7), reason="nghỉ phép"
        )
        await absences.record_absence(session, admin, f"demo-officer-{unit}", leave, now=now)


async def test_the_officials_page_lists_the_province_s_officials_for_its_administrators_and_auditors(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        await fill_directory(stack)
        unit = stack.unit_code
        unit_name = next(u.name for u in load_units(PROVINCE) if u.code == unit)
        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            assert (await web.get("/web/officials", params={"province": PROVINCE})).status_code == 303  # sign in first
            await sign_in(web, stack, "admin")
            board = await web.get("/web/board")
            assert (
                f'href="/web/officials?province={PROVINCE}"' in board.text and "Danh bạ cán bộ — Hưng Yên" in board.text
            )

            page = await web.get("/web/officials", params={"province": PROVINCE})
            assert page.status_code == 200, page.text[:800]
            html = page.text
            assert "Danh bạ cán bộ — Hưng Yên" in html
            assert "8 đang hoạt động / 9 cán bộ" in html  # the seven demo officials, Thu, and Khánh deactivated
            thu = html[html.index(f'id="official-hy-{unit}-cb"') :].split("</tbody>")[0]
            assert "Bùi Thị Thu" in thu and "0912345678" in thu and "thu.bt@hungyen.example" in thu
            assert "Công chức văn hóa - xã hội" in thu and "Chủ tịch Hội đồng đánh giá" in thu
            assert f'{unit_name} <span class="hint">({unit})</span>' in thu
            assert f"từ {dmy(400)}" in thu and f"đến {dmy(30)}" in thu
            assert thu.count("không có hiệu lực hôm nay") == 1  # the council chair's role has ended
            assert "đang hoạt động" in thu and 'data-active="yes"' in thu
            khanh = html[html.index('id="official-hy-tham-dinh"') :].split("</tbody>")[0]
            assert 'data-active="no"' in khanh and "ngừng hoạt động" in khanh
            assert "Cơ quan thẩm định" in khanh and "toàn tỉnh" in khanh and "không thời hạn" in khanh
            officer = html[html.index(f'id="official-demo-officer-{unit}"') :].split("</tbody>")[0]
            assert f"nghỉ phép {dmy(-3)}–{dmy(-7)}, người làm thay: Bùi Thị Thu" in officer, officer
            for code in ("commune_officer", "council_chair", "commune_chairman", "appraiser", "auditor", "admin"):
                assert f">{code}<" not in html and f"> {code}" not in html  # roles by their names, never codes
            assert "commune_officer" not in html and "council_chair" not in html
            assert 'method="post"' not in html.split("</header>", 1)[1]  # nothing to change here

            english = (await web.get("/web/officials", params={"province": PROVINCE, "lang": "en"})).text
            assert "Officials — Hưng Yên" in english and "inactive" in english
            assert "Commune culture and society officer" in english
            # without a province: the official's own
            assert "Danh bạ cán bộ — Hưng Yên" in (await web.get("/web/officials?lang=vi")).text
            # a province the official does not oversee
            assert (await web.get("/web/officials", params={"province": "01"})).status_code == 403

        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            await sign_in(web, stack, "auditor")
            page = await web.get("/web/officials", params={"province": PROVINCE})
            assert page.status_code == 200 and "Bùi Thị Thu" in page.text and "Giám sát viên" in page.text

        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            await sign_in(web, stack, "commune_officer")
            refused = await web.get("/web/officials", params={"province": PROVINCE})
            assert refused.status_code == 403 and "Bùi Thị Thu" not in refused.text
            assert (await web.get("/web/officials")).status_code == 403

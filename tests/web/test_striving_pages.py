"""A striving case on the pages: the case page says it strives and when self-assessment opens (dd/mm/yyyy), its
timeline says the stage's opening and the change of authority in the official's language with the roles' names, and
the board counts striving cases on a line of their own, never among what is stuck."""

from __future__ import annotations

import re
from html import unescape

import httpx

from tests.api.test_striving import striving_cases
from tests.support import Stack
from tests.web.test_pages import sign_in


def text_of(html: str) -> str:
    """The page's text as read: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def rows_of(html: str, table_id: str) -> list[str]:
    """The rows of a table as read."""
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    body = found.group(1) if found else ""
    return [text_of(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


async def page(web: httpx.AsyncClient, path: str) -> str:
    resp = await web.get(path)
    assert resp.status_code == 200, resp.text[:500]
    return resp.text


async def test_a_striving_case_reads_as_striving_on_its_page_and_on_the_board(
    stack: Stack, browser: httpx.AsyncClient
) -> None:
    cases = await striving_cases(stack)
    await sign_in(browser, stack, "admin")

    striving = await page(browser, f"/web/cases/{cases.striving}")
    assert 'data-standing="striving"' in striving
    said = text_of(striving)
    assert "Đang phấn đấu — tự đánh giá mở ngày 01/10/2027" in said
    assert "Hoàn thành bước Đăng ký" in said and "10/11/2026 09:30" in said
    assert "registration_completed" not in said and "commune_officer" not in said  # codes stay in attributes
    assert "(Công chức văn hóa - xã hội)" in said
    english = text_of(await page(browser, f"/web/cases/{cases.striving}?lang=en"))
    assert "Striving — self-assessment opens on 01/10/2027" in english
    assert "Registration completed" in english
    await page(browser, "/web/tasks?lang=vi")

    awaiting = text_of(await page(browser, f"/web/cases/{cases.awaiting}"))
    assert "Chờ mở đăng ký — mở ngày 01/11/2026" in awaiting and "Mở lượt xét công nhận" in awaiting
    for case_id in (cases.opened, cases.withdrawn, cases.moved):  # an open task, a closed case: nothing to wait for
        assert "data-standing" not in await page(browser, f"/web/cases/{case_id}")

    opened = text_of(await page(browser, f"/web/cases/{cases.opened}"))
    assert "Mở bước Tự đánh giá — Hạn: 01/11/2027" in opened and "01/10/2027 00:00" in opened
    assert "stage_opened" not in opened

    moved = text_of(await page(browser, f"/web/cases/{cases.moved}"))
    assert (
        "Chuyển thẩm quyền từ ngày 01/07/2025 — Phòng Lao động - Thương binh và Xã hội cấp huyện → Cơ quan thẩm định; "
        "Quy trình cấp huyện (đến 30/06/2025) → Quy trình chính quyền hai cấp (từ 01/07/2025)"
    ) in moved
    assert "district" not in moved and "authority_changed" not in moved
    moved_en = text_of(await page(browser, f"/web/cases/{cases.moved}?lang=en"))
    moved_by = "District labour and social affairs office → Appraising office"
    assert f"Authority changed as of 01/07/2025 — {moved_by}" in moved_en
    await page(browser, "/web/tasks?lang=vi")

    board = await page(browser, "/web/board")
    by_stage = re.search(r'<section aria-labelledby="by-stage">(.*?)</section>', board, re.S)
    assert by_stage is not None
    lines = [text_of(row) for row in re.findall(r"<tr data-line[^>]*>(.*?)</tr>", by_stage.group(1), re.S)]
    assert lines == ["Chờ mở đăng ký 1", "Đang phấn đấu 1", "Tự đánh giá 1", "Thẩm định hồ sơ 1"]
    stuck = rows_of(board, "stuck")
    assert len(stuck) == 2 and "Tự đánh giá" in stuck[1]  # the header, the overdue self-assessment
    assert f'href="/web/cases/{cases.opened}"' in board
    for case_id in (cases.striving, cases.awaiting, cases.withdrawn):
        assert case_id not in board
    english = await page(browser, "/web/board?lang=en")
    assert '<tr data-line="striving"><td>Striving</td><td class="num">1</td></tr>' in english

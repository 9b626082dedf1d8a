"""The pages on a phone (Chromium, 390 × 844, as a mobile browser with touch): the sign-in page, a commune officer's
tasks, the self-assessment form (filled and sent from the phone: the case moves on), the case page, the council
chair's form, an error page, and for the province's administrator the board, a bulk dry run, the round, the officials
and a case with a long timeline. No page scrolls sideways (nor is it zoomed out to fit); a wide table (class "stack",
or in a div of class "stack") reads as one card a row, each cell after its column's name (data-label); the layouts of
two columns take one; the round's chart stays legible. At a tablet's 768 px nothing scrolls sideways either, and at a
desktop's 1280 px the board keeps its tables, its two columns and its header on one line. A screenshot of each page
goes to $XPTT_ARTIFACTS/phone when XPTT_ARTIFACTS is set, else to pytest's tmp_path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CaseRow
from domain.rulesets import load_rule_set
from domain.stages import Stage
from tests.api.test_striving import striving_cases
from tests.builders import complete
from tests.support import PROVINCE, ROUND_ID, Stack, form_for
from tests.web.test_browser import ARGS, CHROMIUM, _require_chromium
from tests.web.test_officials_page import fill_directory

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

PHONE = {"width": 390, "height": 844}

# What a page measures: its width against the viewport's; in every table meant to stack at this width, a cell with
# something in it not shown as a block of its own, or a cell without its column's label; the words of a chart drawn
# too small to read (under 12 px tall); and, to tell what to fix, the first elements reaching past the right edge.
MEASURE = """() => {
  const STACKED = 'table.stack, .stack > table';
  const stacked = [];
  for (const table of document.querySelectorAll(STACKED)) {
    const name = table.id || table.className;
    for (const cell of table.querySelectorAll('tbody td')) {
      if (!cell.hasAttribute('data-label')) stacked.push(name + ': a cell without data-label');
      else if (cell.innerHTML.trim() && getComputedStyle(cell).display !== 'block')
        stacked.push(name + ': a cell shown as ' + getComputedStyle(cell).display);
    }
    const head = table.querySelector('thead');
    if (head && head.getBoundingClientRect().height > 1) stacked.push(name + ': its header row still shows');
  }
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 5).map(e => [e.tagName.toLowerCase(), e.id, e.getAttribute('class')].filter(Boolean).join(' '));
  const small = [...document.querySelectorAll('svg text')]
    .filter(e => e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height < 12).map(e => e.textContent);
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          tables: document.querySelectorAll(STACKED).length, stacked, small, wide};
}"""


def shots_dir(tmp_path: Path) -> Path:
    where = os.environ.get("XPTT_ARTIFACTS")
    shots = Path(where) / "phone" if where else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    return shots


class Phone:
    """Pages opened at the phone's viewport, each checked and photographed."""

    def __init__(self, browser: Browser, base: str, shots: Path) -> None:
        self.browser, self.base, self.shots = browser, base, shots

    async def page(self) -> Page:
        context = await self.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN")
        page = await context.new_page()
        page.set_default_timeout(60_000)  # a loaded 2-core machine renders slowly; a wrong page still fails
        return page

    async def signed_in(self, token: str) -> Page:
        page = await self.page()
        await page.goto(f"{self.base}/web/signin")
        await page.get_by_label("Mã truy cập (bearer token)").fill(token)
        async with page.expect_navigation():
            await page.get_by_role("button", name="Đăng nhập").tap()
        return page

    async def check(self, page: Page, name: str, path: str | None = None) -> dict[str, Any]:
        """Open `path` (else the page as it is), take its screenshot, and check it fits the phone; what it measured."""
        if path is not None:
            response = await page.goto(f"{self.base}{path}")
            assert response is not None and response.status < 500, (name, response and response.status)
        await page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        measured: dict[str, Any] = await page.evaluate(MEASURE)
        assert measured["inner"] == PHONE["width"], (name, measured)  # not zoomed out to fit something wider
        assert measured["scroll"] <= measured["inner"], (name, measured)  # no sideways scroll
        assert not measured["stacked"] and not measured["small"], (name, measured)
        return measured


async def _officer_sends_the_self_assessment(phone: Phone, stack: Stack, task_id: str) -> None:
    """The officer signs in on the phone, opens the task from the list, fills every score and a source, sends one
    score out of range and is refused next to it, fixes it and sends."""
    from playwright.async_api import expect

    page = await phone.page()
    await phone.check(page, "signin", "/web/signin")
    await page.get_by_label("Mã truy cập (bearer token)").fill(stack.tokens["commune_officer"])
    async with page.expect_navigation(url=f"{phone.base}/web/tasks"):
        await page.get_by_role("button", name="Đăng nhập").tap()
    assert (await phone.check(page, "tasks"))["tables"] == 1
    async with page.expect_navigation():
        await page.locator(f"a[href='/web/tasks/{task_id}']").tap()
    await phone.check(page, "task-empty")
    rule_set = load_rule_set("qd06-2019")
    for c in rule_set.criteria:  # each one's input, scrolled to as a thumb would
        score = page.locator(f"#score-{c.number}")
        await score.scroll_into_view_if_needed()
        await score.fill(str(c.max_points))
    await page.locator("#source-2").fill("Sổ hộ tịch 2027")
    await expect(page.locator("#verdict")).to_have_text("Dự kiến: đạt chuẩn")
    await expect(page.locator("#running-total")).to_have_text(str(rule_set.max_total))
    await phone.check(page, "task-filled")
    assert (
        await page.locator(".score-columns").evaluate(
            "grid => getComputedStyle(grid).gridTemplateColumns.split(' ').length"
        )
        == 1
    )  # the preview under the scores, not beside them
    first = rule_set.criteria[0]
    await page.locator(f"#score-{first.number}").fill(str(first.max_points + 5))
    async with page.expect_navigation():
        await page.locator("#send").tap()
    await expect(page.locator(f"#score-{first.number}-error")).to_be_visible()
    await phone.check(page, "task-refused")
    await page.locator(f"#score-{first.number}").fill(str(first.max_points))
    async with page.expect_navigation():
        await page.locator("#send").tap()
    await expect(page.get_by_role("status")).to_contain_text("Đã gửi")
    await expect(page.locator("#case-stage")).to_have_attribute("data-stage", "council_assessment")
    await phone.check(page, "case-after-sending")
    await phone.check(page, "error-board-refused", "/web/board")


async def _the_case_moved_on(sessions: async_sessionmaker[AsyncSession], case_id: str) -> None:
    async with sessions() as session:
        case = await session.get(CaseRow, case_id)
        assert case is not None and case.stage == "council_assessment"


async def _admin_pages(phone: Phone, stack: Stack, case_id: str, long_case: str) -> Page:
    admin = await phone.signed_in(stack.tokens["admin"])
    assert (await phone.check(admin, "board", "/web/board"))["tables"] >= 2
    await admin.get_by_label("Lý do (ghi vào nhật ký)").fill("Hội đồng họp muộn do bão")
    async with admin.expect_navigation():
        await admin.get_by_role("button", name="Đếm trước (chưa thay đổi gì)").tap()
    await phone.check(admin, "bulk-dry-run")
    await phone.check(admin, "round", f"/web/rounds/{ROUND_ID}?province={PROVINCE}")
    assert (await phone.check(admin, "officials", f"/web/officials?province={PROVINCE}"))["tables"] == 1
    await phone.check(admin, "case", f"/web/cases/{case_id}")
    await phone.check(admin, "case-long-timeline", f"/web/cases/{long_case}")
    await phone.check(admin, "board-english", "/web/board?lang=en")
    return admin


async def _wider_screens(page: Page, base: str, paths: list[str], shots: Path) -> None:
    """At a tablet's 768 px, none of `paths` scrolls sideways; at 1280 px the board's tables are tables, its two
    columns side by side, its header one line."""
    await page.set_viewport_size({"width": 768, "height": 1024})
    for path in paths:
        await page.goto(f"{base}{path}")
        widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (path, widths)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto(f"{base}/web/board?lang=vi")
    await page.screenshot(path=str(shots / "desktop-board.png"), full_page=True)
    cells = await page.evaluate(
        "[...document.querySelectorAll('table.stack td, .stack > table td')].map(td => getComputedStyle(td).display)"
    )
    assert cells and set(cells) == {"table-cell"}, cells
    columns = await page.locator(".board-columns").evaluate("g => getComputedStyle(g).gridTemplateColumns")
    assert len(columns.split(" ")) == 2, columns
    rows = await page.evaluate(
        "[...document.querySelectorAll('header > *')].map(e => e.getBoundingClientRect()).map(r => [r.top, r.bottom])"
    )
    assert max(top for top, _ in rows) < min(bottom for _, bottom in rows), rows  # one line


async def test_the_pages_fit_a_phone_and_an_officer_sends_a_task_from_one(
    stack: Stack, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=60_000)
    case_id = await stack.start_case()
    await complete(
        stack, await stack.open_task(case_id, "commune_officer"), "commune_officer", form_for(Stage.REGISTRATION)
    )
    task = await stack.open_task(case_id, "commune_officer")
    assert task["stage"] == "self_assessment"
    cases = await striving_cases(stack)  # an overdue task on the board, a case with a long timeline
    await fill_directory(stack)  # officials with several roles, a leave and a deputy
    base = str(stack.http.base_url).rstrip("/")

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            phone = Phone(browser, base, shots_dir(tmp_path))
            await _officer_sends_the_self_assessment(phone, stack, task["id"])
            await _the_case_moved_on(sessions, case_id)

            council = await stack.open_task(case_id, "council_chair")
            chair = await phone.signed_in(stack.tokens["council_chair"])
            await phone.check(chair, "task-council", f"/web/tasks/{council['id']}")
            await expect(chair.locator("#meeting_date")).to_be_visible()

            admin = await _admin_pages(phone, stack, case_id, cases.moved)
            tablet = [
                "/web/board",
                f"/web/officials?province={PROVINCE}",
                f"/web/rounds/{ROUND_ID}?province={PROVINCE}",
            ]
            await _wider_screens(admin, base, [*tablet, f"/web/cases/{cases.moved}"], phone.shots)
        finally:
            await browser.close()

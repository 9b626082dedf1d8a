"""In Chromium: when the round has closed, the province's administrator opens the report to the ministry, reads the
figures and the check code in Vietnamese, and submits it with the page's button; the page then says it was sent,
with the same check code, and offers no second submission. The ministry's official signs in, finds "Báo cáo toàn
quốc" in the menu, and sees the province submitted among the 34 with the national totals. Screenshots of both pages
go to var/screenshots/ministry-report.png and national-report.png."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities.round_store import RoundStore
from db.models_ministry import MinistryReportRow
from domain.round_report import report
from services.ministry import roles
from tests.support import PROVINCE, ROUND_ID, running_stack, token_for
from tests.vocabulary import visible_text
from tests.web.cases import close_case
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, _require_chromium


async def test_the_administrator_submits_from_the_page_and_the_ministry_sees_it(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        await close_case(stack, {})
        async with stack.sessions() as session:
            await roles.grant(session, "mp-ministry", full_name="Lê Văn Bộ", email=None, now=datetime.now(UTC))
        base = str(stack.http.base_url)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/web/signin")
            await page.fill("#token", stack.tokens["admin"])
            await page.click("button[type=submit]")
            await page.goto(f"{base}/web/rounds/{ROUND_ID}?province={PROVINCE}")
            await page.click("#ministry-link a")
            assert "Đang đánh giá" in await page.inner_text("#ministry-report")  # the round has not closed
            assert await page.locator("#submit-report").count() == 0
            await RoundStore(stack.sessions).record_round_report(
                report(ROUND_ID, PROVINCE, 104, [], target_share=0.8, now=datetime.now(UTC))
            )
            await page.reload()
            assert "Báo cáo gửi Bộ — Kỳ đánh giá năm 2027 — Hưng Yên" in await page.inner_text("h1")
            card = await page.inner_text("#ministry-report")
            assert "Chờ gửi báo cáo" in card and "31/01/2028" in card, card
            draft_hash = await page.inner_text("#hash")
            figures = await page.inner_text("#figures")
            assert "Được công nhận\t1" in figures, figures
            await page.click("#submit-report")
            sent = await page.inner_text("#ministry-report")
            assert "Đã gửi báo cáo" in sent and await page.inner_text("#hash") == draft_hash, sent
            assert await page.locator("#submit-report").count() == 0
            text = visible_text(await page.content())
            assert "submitted" not in text and "ministry_report" not in text, text
            await page.screenshot(path=str(SHOTS / "ministry-report.png"), full_page=True)

            await page.context.clear_cookies()
            await page.goto(f"{base}/web/signin")
            await page.fill("#token", token_for("mp-ministry"))
            await page.click("button[type=submit]")
            await page.click("text=Báo cáo toàn quốc")
            assert "Báo cáo toàn quốc — Kỳ đánh giá năm 2027" in await page.inner_text("h1")
            row = await page.inner_text(f"tr[data-province='{PROVINCE}']")
            assert "Hưng Yên" in row and "Đã gửi báo cáo" in row and "31/01/2028" in row, row
            totals = await page.inner_text("#totals")
            assert totals.startswith("1/34 tỉnh, thành phố đã gửi báo cáo: 1/"), totals
            assert await page.locator("tr[data-status='not_opened']").count() == 33
            await page.screenshot(path=str(SHOTS / "national-report.png"), full_page=True)
            await browser.close()
        async with stack.sessions() as session:
            row_ = await session.get(MinistryReportRow, (ROUND_ID, PROVINCE))
        assert row_ is not None and row_.snapshot_hash == draft_hash

"""In Debian's Chromium (headless, Playwright): a commune officer signs in with the OIDC provider (a small one served
over HTTP on 127.0.0.1), fills the self-assessment, is refused an out-of-range score next to its field in Vietnamese,
fixes it, submits, and the case advances; an administrator signs in with a token and extends a due date in bulk after
a dry run, then opens the round's page. Screenshots of the sign-in page, the inbox, the task form, the board, the dry
run and the round go to var/screenshots/. The pages run under their Content-Security-Policy: the browser reports no
violation of it (a style attribute set at the end shows that a violation would be reported)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import CaseRow, TaskRow
from domain.rulesets import load_rule_set
from domain.stages import Stage
from tests.builders import complete
from tests.support import PROVINCE, ROUND_ID, form_for
from tests.web.test_oidc import PROVIDER_NAME, oidc_stack

if TYPE_CHECKING:
    from playwright.async_api import Page

CSP = "Content Security Policy"  # in every message Chromium logs for a violation
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install -y chromium); "
            "run that as root (never `playwright install`)"
        )


def _violations(page: Page) -> list[str]:
    """The Content-Security-Policy violations the browser reports on `page` (its console), as they come."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if CSP in message.text else None)
    return seen


async def _no_violation_but_the_probe(page: Page, seen: list[str]) -> None:
    """Set a style attribute, which the policy forbids: once its violation is reported, every earlier one would have
    been too (a page's console is in order), so the probe must be the only one."""
    await page.evaluate("document.body.setAttribute('style', 'outline: 3px solid red')")
    for _ in range(200):
        if seen:
            break
        await asyncio.sleep(0.05)
    assert len(seen) == 1 and "style-src" in seen[0], seen


async def _task_due(sessions: async_sessionmaker[AsyncSession], task_id: str) -> datetime | None:
    async with sessions() as session:
        task = await session.get(TaskRow, task_id)
        assert task is not None
        return task.due_at


async def test_officer_fixes_a_refused_score_and_admin_extends_in_bulk_in_chromium(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright, expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    rule_set = load_rule_set("qd06-2019")
    first = rule_set.criteria[0]
    async with oidc_stack(temporal_env, database_url, sessions) as (stack, provider):
        case_id = await stack.start_case()
        reg = await stack.open_task(case_id, "commune_officer")
        await complete(stack, reg, "commune_officer", form_for(Stage.REGISTRATION))
        task = await stack.open_task(case_id, "commune_officer")
        assert task["stage"] == "self_assessment"
        base = str(stack.http.base_url).rstrip("/")

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            try:
                officer = await browser.new_page(viewport={"width": 1280, "height": 900})
                officer_violations = _violations(officer)
                officer.set_default_timeout(60_000)  # a loaded 2-core machine renders slowly; a wrong page still fails
                expect.set_options(timeout=60_000)
                await officer.goto(f"{base}/web/signin")
                await officer.screenshot(path=str(SHOTS / "signin.png"), full_page=True)
                async with officer.expect_navigation(url=f"{base}/web/tasks"):
                    await officer.get_by_role("link", name=f"Đăng nhập bằng {PROVIDER_NAME}").press("Enter")
                await expect(officer.get_by_role("heading", name="Việc của tôi (1)")).to_be_visible()
                assert len(provider.seen) == 1  # the code was exchanged at the provider's token endpoint
                assert await officer.get_by_role("link", name="Bảng điều hành").count() == 0  # not an overseer
                await expect(officer.get_by_text("Tự đánh giá").first).to_be_visible()
                await officer.screenshot(path=str(SHOTS / "inbox.png"), full_page=True)

                await officer.locator(f"a[href='/web/tasks/{task['id']}']").click()
                for c in rule_set.criteria:
                    await officer.locator(f"#score-{c.number}").fill(str(c.max_points))
                await officer.locator(f"#score-{first.number}").fill(str(first.max_points + 5))  # out of range
                await expect(officer.locator("#running-total")).to_have_text(str(rule_set.max_total + 5))
                await officer.screenshot(path=str(SHOTS / "task-form.png"), full_page=True)
                async with officer.expect_navigation():
                    await officer.locator("#send").press("Enter")  # the keyboard submits the form
                refusal = officer.locator(f"#score-{first.number}-error")
                await expect(refusal).to_be_visible()
                await expect(refusal).to_have_text(
                    f"{first.max_points + 5} điểm vượt quá mức tối đa {first.max_points} điểm của tiêu chí này"
                )
                await expect(officer.locator("#preview")).to_contain_text(f"vượt quá mức tối đa {first.max_points}")
                assert await officer.locator(f"#score-{first.number}").get_attribute("aria-invalid") == "true"
                await officer.screenshot(path=str(SHOTS / "task-refused.png"), full_page=True)
                async with sessions() as session:
                    assert (await session.get(CaseRow, case_id)).stage == "self_assessment"  # type: ignore[union-attr]

                fix = officer.locator(f"#score-{first.number}")
                await fix.focus()
                await officer.keyboard.press("Control+A")
                await officer.keyboard.type(str(first.max_points))  # by keyboard
                await expect(officer.locator("#verdict")).to_have_text("Dự kiến: đạt chuẩn")
                async with officer.expect_navigation():
                    await officer.locator("#send").press("Enter")
                await expect(officer.get_by_role("status")).to_contain_text("Đã gửi")
                await expect(officer.locator("#case-stage")).to_have_attribute("data-stage", "council_assessment")
                async with sessions() as session:
                    case = await session.get(CaseRow, case_id)
                    assert case is not None and case.stage == "council_assessment"

                council = await stack.open_task(case_id, "council_chair")
                due_before = await _task_due(sessions, council["id"])
                assert due_before is not None

                await _no_violation_but_the_probe(officer, officer_violations)

                admin = await browser.new_page(viewport={"width": 1280, "height": 1000})
                admin_violations = _violations(admin)
                admin.set_default_timeout(60_000)
                await admin.goto(f"{base}/web/signin")
                await admin.get_by_label("Mã truy cập (bearer token)").fill(stack.tokens["admin"])
                await admin.get_by_role("button", name="Đăng nhập").click()
                await admin.goto(f"{base}/web/board")
                await expect(admin.get_by_role("heading", name="Số lượt xét đang mở theo bước")).to_be_visible()
                await admin.get_by_label("Bước", exact=True).select_option("council_assessment")
                await admin.get_by_role("textbox", name="Mã đơn vị (để trống: tất cả)").fill(stack.unit_code)
                await admin.get_by_label("Thêm số ngày làm việc").fill("3")
                await admin.get_by_label("Lý do (ghi vào nhật ký)").fill("Hội đồng họp muộn do bão")
                await admin.screenshot(path=str(SHOTS / "board.png"), full_page=True)
                async with admin.expect_navigation():
                    await admin.get_by_role("button", name="Đếm trước (chưa thay đổi gì)").press("Enter")
                await expect(admin.locator("#matched")).to_have_text("1")
                await admin.screenshot(path=str(SHOTS / "bulk-dry-run.png"), full_page=True)
                assert await _task_due(sessions, council["id"]) == due_before  # the dry run changed nothing
                async with admin.expect_navigation():
                    await admin.get_by_role("button", name="Xác nhận gia hạn cho 1 lượt xét").press("Enter")
                await expect(admin.locator("#applied")).to_have_text("1")
                # the round's chart: inline SVG drawn with presentation attributes, which the policy leaves alone
                await admin.goto(f"{base}/web/rounds/{ROUND_ID}?province={PROVINCE}")
                bar = admin.locator("svg.chart-wide rect").first  # the bar's track (no target is set for 2027)
                await expect(bar).to_be_visible()
                assert await bar.evaluate("r => getComputedStyle(r).fill") == "rgb(238, 242, 246)"
                await admin.screenshot(path=str(SHOTS / "round.png"), full_page=True)
                await _no_violation_but_the_probe(admin, admin_violations)
            finally:
                await browser.close()

        deadline = asyncio.get_running_loop().time() + 10
        while (due := await _task_due(sessions, council["id"])) == due_before:
            assert asyncio.get_running_loop().time() < deadline, "the due date did not move"
            await asyncio.sleep(0.1)
        assert due is not None and due > due_before
        async with sessions() as session:
            tasks = (await session.execute(select(TaskRow).where(TaskRow.case_id == case_id))).scalars().all()
            assert sum(1 for t in tasks if t.status == "open") == 1

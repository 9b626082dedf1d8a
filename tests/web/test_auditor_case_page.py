"""In Chromium: the auditor opens a case closed as not recognised for a zero in criterion 3. The page names the unit
and its province, locality type and threshold; shows both score sheets criterion by criterion with the council's
change marked; the verdict's reason "tiêu chí 3 đạt 0 điểm"; the decision's number and who signed it; the timeline
with the notifications folded apart; that the journal verifies ("Nhật ký toàn vẹn"); and the replay and the export
the audit API offers, which both work from the page. The same page in English says it in English. A screenshot of
the page goes to var/screenshots/auditor-case.png, and of the two mails the commune officer got (the first task, the
decision with its reasons) to var/screenshots/mail-*.png."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models_notify import NotificationRow
from domain.rulesets import load_rule_set
from domain.stages import Role, Stage
from domain.units import load_units
from tests.support import PROVINCE, form_for, running_stack
from tests.web.cases import close_case, zero_in_3
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, _require_chromium

DECLINE = {"recognised": False, "decision_number": "QĐ-77/UBND", "reasons": ["Tiêu chí 3 không đạt"]}


async def test_the_auditor_works_from_the_page_of_a_case_not_recognised(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        forms = {
            Stage.COUNCIL_ASSESSMENT: form_for(Stage.COUNCIL_ASSESSMENT, scores=zero_in_3()),
            Stage.DECISION: form_for(Stage.DECISION, **DECLINE),
        }
        case = await close_case(stack, forms)
        unit_name = next(u.name for u in load_units(PROVINCE) if u.code == case.unit_code)
        criterion_3 = next(c for c in load_rule_set("qd06-2019").criteria if c.number == 3)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            await page.goto(f"{stack.http.base_url}/web/signin")
            await page.fill("#token", stack.tokens["auditor"])
            await page.click("button[type=submit]")
            await page.goto(f"{stack.http.base_url}/web/cases/{case.case_id}")
            summary = await page.inner_text("#case-summary")
            assert f"Xét công nhận: {unit_name}" in await page.inner_text("h1")
            for said in (unit_name, "Hưng Yên", "xã, phường, thị trấn khác", "Kỳ đánh giá năm 2027", "Đã kết thúc"):
                assert said in summary, (said, summary)
            assert "Không được công nhận" in summary
            verdict = await page.inner_text("#verdict")
            assert "tiêu chí 3 đạt 0 điểm" in verdict and "Chưa đạt mức công nhận" in verdict, verdict
            row = await page.inner_text("#score-3")
            assert criterion_3.name_vi in row and "Hội đồng điều chỉnh" in row, row
            assert await page.locator("#scores tr.changed").count() == 1  # criterion 3 only: full marks → 0
            decision = await page.inner_text("#decision")
            assert "QĐ-77/UBND" in decision and "Không công nhận" in decision, decision
            assert "Nhật ký toàn vẹn" in await page.inner_text("#audit")
            assert not await page.locator("#notices table").is_visible()  # folded until opened
            await page.screenshot(path=str(SHOTS / "auditor-case.png"), full_page=True)

            async with page.expect_download() as download:
                await page.click("#audit a")
            bundle = tmp_path / "bundle.json"
            await (await download.value).save_as(bundle)
            assert json.loads(bundle.read_text())["case"]["id"] == case.case_id
            await page.click("#audit button")
            assert "Chạy lại khớp" in await page.inner_text("#replay-result")

            await page.goto(f"{stack.http.base_url}/web/cases/{case.case_id}?lang=en")
            english = await page.inner_text("main")
            assert "criterion 3 scored 0" in english and "The journal verifies" in english, english

            # the two mails the commune officer got: the first task, and the decision with its reasons
            for kind, says in (("task_assigned", "Đăng ký phấn đấu"), ("decision_made", "tiêu chí 3 đạt 0 điểm")):
                mail = await _mail(sessions, case.case_id, kind, case.officials[Role.COMMUNE_OFFICER])
                assert says in mail.body and "/v1/" not in mail.body, mail.body
                assert "/web/" in (mail.link or ""), mail.link
                await page.set_content(_as_page(mail))
                await page.screenshot(path=str(SHOTS / f"mail-{kind}.png"), full_page=True)
            await browser.close()


async def _mail(sessions: async_sessionmaker[AsyncSession], case_id: str, kind: str, to: str) -> NotificationRow:
    async with sessions() as session:
        found = await session.scalar(
            select(NotificationRow)
            .where(NotificationRow.case_id == case_id, NotificationRow.kind == kind, NotificationRow.official_id == to)
            .order_by(NotificationRow.created_at)
            .limit(1)
        )
    assert found is not None, (case_id, kind, to)
    return found


def _as_page(mail: NotificationRow) -> str:
    """The mail as a mail reader shows a plain-text message: its subject, then its body."""
    return (
        '<html lang="vi"><body style="font:15px/1.5 sans-serif;max-width:760px;margin:24px">'
        f'<h3>{escape(mail.subject)}</h3><pre style="white-space:pre-wrap;font:inherit">{escape(mail.body)}</pre>'
        "</body></html>"
    )

"""The what-if through the API (multipart upload) and on the page in Chromium: the province's auditor runs the draft
over the seeded closed round and reads, in Vietnamese, the shares under both rule sets, the threshold search and the
units that flip with their reasons; the ministry reaches the page from the menu. A bad draft is refused naming the
field. A screenshot goes to var/screenshots/whatif.png."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from services.ministry import roles
from tests.api.helpers import problem
from tests.support import PROVINCE, ROUND_ID, running_stack, token_for
from tests.vocabulary import visible_text
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, _require_chromium
from tests.whatif.seeding import DRAFT, GAINED, LOST, MAPPING, row_counts, seed_closed_round


async def test_the_api_and_the_page_answer_the_what_if(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        codes = await seed_closed_round(stack.sessions)
        before = await row_counts(stack.sessions)
        files = {"draft": ("draft.yaml", DRAFT.read_bytes()), "mapping": ("mapping.yaml", MAPPING.read_bytes())}
        data = {"round_id": ROUND_ID, "province": PROVINCE}
        resp = await stack.http.post("/v1/rules/what-if", files=files, data=data, headers=stack.headers("auditor"))
        assert resp.status_code == 200, resp.text
        flips = {u["unit_code"]: u["flip"] for u in resp.json()["units"] if u["flipped"]}
        assert flips == {codes[k]: "lost" for k in LOST} | {codes[k]: "gained" for k in GAINED}
        bad = {"draft": ("draft.yaml", DRAFT.read_bytes().replace(b"max_total: 950", b"max_total: 900"))}
        refused = await stack.http.post("/v1/rules/what-if", files=bad, data=data, headers=stack.headers("admin"))
        assert problem(refused, 422, "draft_rule_set_invalid")["field"] == "draft"
        assert "max_total" in refused.json()["detail"]
        national = await stack.http.post(
            "/v1/rules/what-if", files=files, data={"round_id": ROUND_ID}, headers=stack.headers("admin")
        )
        assert problem(national, 403, "forbidden")["field"] == "province"  # the nation is the ministry's
        officer = await stack.http.post(
            "/v1/rules/what-if", files=files, data=data, headers=stack.headers("commune_officer")
        )
        assert officer.status_code == 403
        async with stack.sessions() as session:
            await roles.grant(session, "wi-ministry", full_name="Lê Văn Bộ", email=None, now=datetime.now(UTC))
        before = await row_counts(stack.sessions)

        base = str(stack.http.base_url)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{base}/web/signin")
            await page.fill("#token", stack.tokens["auditor"])
            await page.click("button[type=submit]")
            await page.click("nav >> text=Dự thảo tiêu chí")
            assert "Thử nghiệm dự thảo bộ tiêu chí" in await page.inner_text("h1")
            await page.set_input_files("#draft", str(DRAFT))
            await page.set_input_files("#mapping", str(MAPPING))
            await page.select_option("#province", PROVINCE)
            await page.click("#whatif-form button[type=submit]")
            shares = await page.inner_text(f"#shares tr[data-scope='{PROVINCE}']")
            assert "Hưng Yên" in shares and "4 (3.85 %)" in shares and "3 (2.88 %)" in shares, shares
            assert "chưa đạt chỉ tiêu" in shares and "KH 7/KH-UBND" in shares, shares
            ward = await page.inner_text("#search tr[data-locality='central-city-ward']")
            assert "910 điểm" in ward and "40 điểm" in ward, ward
            assert "Đơn vị thay đổi kết quả (5)" in await page.inner_text("main")
            lost = await page.inner_text(f"#flipped tr[data-unit='{codes['W920']}']")
            assert "đạt → chưa đạt chuẩn" in lost and "tổng điểm 870 thấp hơn mức đạt 950" in lost, lost
            gained = await page.inner_text(f"#flipped tr[data-unit='{codes['Z7']}']")
            assert "tiêu chí 7 đạt 0 điểm" in gained and "chưa đạt → đạt chuẩn" in gained, gained
            assert "Tiêu chí 7" in await page.inner_text("#wi_dropped")
            text = visible_text(await page.content())
            for raw in ("central-city-ward", "below_threshold", "gained", "qd06-2019", "None"):
                assert raw not in text, raw
            await page.screenshot(path=str(SHOTS / "whatif.png"), full_page=True)

            await page.set_input_files("#draft", str(DRAFT))
            await page.click("#whatif-form button[type=submit]")  # no mapping: the numbering does not fit
            assert "cần tệp đối chiếu tiêu chí" in await page.inner_text("#refused")

            await page.context.clear_cookies()
            await page.goto(f"{base}/web/signin")
            await page.fill("#token", token_for("wi-ministry"))
            await page.click("button[type=submit]")
            await page.goto(f"{base}/web/tasks")
            await page.click("nav >> text=Dự thảo tiêu chí")
            assert "Toàn quốc" in await page.inner_text("#province")
            await browser.close()
        assert await row_counts(stack.sessions) == before

"""The what-if through the API (multipart upload) and on the page in Chromium: the province's auditor runs the draft
over the seeded decided round and reads, in Vietnamese, the shares under both rule sets, the threshold search, the
units that flip with their reasons and the unit refused after the council; the ministry reaches the page from the
menu and reads the figures but no unit. A bad draft is refused naming the field; on the page, the refusal says what
is wrong in Vietnamese and the page passes the vocabulary check (tests/vocabulary.py). A screenshot goes to
var/screenshots/whatif.png."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from services.ministry import roles
from tests.api.helpers import problem
from tests.support import PROVINCE, ROUND_ID, Stack, running_stack, token_for
from tests.vocabulary import problems, visible_text
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, _require_chromium
from tests.web.test_vocabulary_pages import _data
from tests.whatif.seeding import DRAFT, GAINED, LOST, MAPPING, row_counts, seed_closed_round

BAD_DRAFT = DRAFT.read_bytes().replace(b"max_total: 950", b"max_total: 900")  # the criteria add up to 950


async def test_the_api_answers_the_what_if_and_refuses_what_is_wrong(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        codes = await seed_closed_round(stack.sessions)
        before = await row_counts(stack.sessions)
        files = {"draft": ("draft.yaml", DRAFT.read_bytes()), "mapping": ("mapping.yaml", MAPPING.read_bytes())}
        data = {"round_id": ROUND_ID, "province": PROVINCE}
        resp = await stack.http.post("/v1/rules/what-if", files=files, data=data, headers=stack.headers("auditor"))
        assert resp.status_code == 200, resp.text
        flips = {u["unit_code"]: u["flip"] for u in resp.json()["units"] if u["flipped"]}
        assert flips == {codes[k]: "lost" for k in LOST} | {codes[k]: "gained" for k in GAINED}
        assert resp.json()["units_listed"] is True
        bad = {"draft": ("draft.yaml", BAD_DRAFT)}
        refused = await stack.http.post("/v1/rules/what-if", files=bad, data=data, headers=stack.headers("admin"))
        body = problem(refused, 422, "draft_rule_set_invalid")
        assert (body["field"], body["where"], body["kind"]) == ("draft", "max_total", "field_problem")
        assert "max_total" in body["detail"]
        national = await stack.http.post(
            "/v1/rules/what-if", files=files, data={"round_id": ROUND_ID}, headers=stack.headers("admin")
        )
        assert problem(national, 403, "forbidden")["field"] == "province"  # the nation is the ministry's
        officer = await stack.http.post(
            "/v1/rules/what-if", files=files, data=data, headers=stack.headers("commune_officer")
        )
        assert officer.status_code == 403
        assert await row_counts(stack.sessions) == before


async def _signed_in(page: Any, base: str, token: str) -> None:
    await page.context.clear_cookies()
    await page.goto(f"{base}/web/signin")
    await page.fill("#token", token)
    await page.click("button[type=submit]")


async def _run(page: Any, province: str, *, draft: str | None = None, mapping: bool = True) -> None:
    await page.set_input_files("#draft", draft or str(DRAFT))
    if mapping:
        await page.set_input_files("#mapping", str(MAPPING))
    await page.select_option("#province", province)
    await page.click("#whatif-form button[type=submit]")


async def _the_auditor_reads_the_what_if(page: Any, codes: dict[str, str]) -> None:
    shares = await page.inner_text(f"#shares tr[data-scope='{PROVINCE}']")
    assert "Hưng Yên" in shares and "5 (4.81 %)" in shares and "3 (2.88 %)" in shares, shares
    assert "chưa đạt chỉ tiêu" in shares and "KH 7/KH-UBND" in shares, shares
    assert "1 lượt xét chưa có kết quả công nhận" in await page.inner_text("#undecided")
    ward = await page.inner_text("#search tr[data-locality='central-city-ward']")
    assert "910 điểm" in ward and "40 điểm" in ward, ward
    assert "Đơn vị thay đổi kết quả (6)" in await page.inner_text("main")
    lost = await page.inner_text(f"#flipped tr[data-unit='{codes['W920']}']")
    assert "đạt → chưa đạt chuẩn" in lost and "tổng điểm 870 thấp hơn mức đạt 950" in lost, lost
    gained = await page.inner_text(f"#flipped tr[data-unit='{codes['Z7']}']")
    assert "tiêu chí 7 đạt 0 điểm" in gained and "chưa đạt → đạt chuẩn" in gained, gained
    after = await page.inner_text(f"#after-council tr[data-unit='{codes['APR']}']")
    assert "Không được công nhận" in after, after
    assert await page.locator(f"#flipped tr[data-unit='{codes['APR']}']").count() == 0
    assert "Tiêu chí 7" in await page.inner_text("#wi_dropped")


async def _refused_pages_speak_vietnamese(page: Any, stack: Stack, tmp: Path) -> None:
    bad = tmp / "bad-draft.yaml"
    bad.write_bytes(BAD_DRAFT)
    data = await _data(stack.sessions, []) | {"max_total"}  # the field of the draft at fault, as the file names it
    await _run(page, PROVINCE, draft=str(bad))
    said = await page.inner_text("#refused")
    assert "Ở mục “max_total”: tổng điểm tối đa của các tiêu chí khác" in said, said
    assert problems(visible_text(await page.content()), "vi", data) == []
    await _run(page, PROVINCE, mapping=False)  # no mapping: the numbering does not fit
    said = await page.inner_text("#refused")
    assert "cần tệp đối chiếu tiêu chí" in said and "cùng số trong dự thảo: 13" in said, said
    assert problems(visible_text(await page.content()), "vi", data) == []


async def test_the_page_shows_the_what_if_and_its_refusals_in_vietnamese(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        codes = await seed_closed_round(stack.sessions)
        async with stack.sessions() as session:
            await roles.grant(session, "wi-ministry", full_name="Lê Văn Bộ", email=None, now=datetime.now(UTC))
        before = await row_counts(stack.sessions)
        base = str(stack.http.base_url)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await _signed_in(page, base, stack.tokens["auditor"])
            await page.click("nav >> text=Dự thảo tiêu chí")
            assert "Thử nghiệm dự thảo bộ tiêu chí" in await page.inner_text("h1")
            await _run(page, PROVINCE)
            await _the_auditor_reads_the_what_if(page, codes)
            text = visible_text(await page.content())
            for raw in ("central-city-ward", "below_threshold", "gained", "qd06-2019", "None"):
                assert raw not in text, raw
            await page.screenshot(path=str(SHOTS / "whatif.png"), full_page=True)
            await _refused_pages_speak_vietnamese(page, stack, tmp_path)

            await _signed_in(page, base, token_for("wi-ministry"))
            await page.goto(f"{base}/web/tasks")
            await page.click("nav >> text=Dự thảo tiêu chí")
            assert "Toàn quốc" in await page.inner_text("#province")
            await _run(page, "")
            assert "5 (4.81 %)" in await page.inner_text("#shares tr[data-scope='national']")
            assert "chỉ dành cho quản trị viên" in await page.inner_text("#units-hidden")
            assert await page.locator("#flipped, #after-council").count() == 0
            await browser.close()
        assert await row_counts(stack.sessions) == before

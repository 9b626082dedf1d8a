"""The three front doors over the seeded round (tests/stage_times/journal.py): the API with its refusals (another
province's admin 403, a commune officer 403, bad input 422 naming the field, an unknown round 404), the ministry's
national view without units; the page in Chromium (heatmap, legend, Vietnamese; screenshot to
var/screenshots/stage-times.png); and `xptt round stage-times` (tables in Vietnamese overall, by province and by
locality type, JSON, bad options); the ministry not shown groups of fewer than 3 cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

import glossary
from domain.calendar import local_date, working_days_between
from domain.stages import Role
from domain.units import load_units
from services.ministry import roles
from tests.api.helpers import add_official, problem
from tests.stage_times.journal import OTHER_PROVINCE, UNIT_A, UNIT_B, seed_round
from tests.support import HUMAN_PATH, PROVINCE, ROUND_ID, Stack, running_stack, token_for, xptt
from tests.vocabulary import problems, visible_text
from tests.web.cases import close_case
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, _require_chromium

URL = f"/v1/rounds/{ROUND_ID}/stage-times"
UNIT_NAMES = {u.code: u.name for u in load_units(PROVINCE) + load_units(OTHER_PROVINCE)}


def bearer(official: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(official)}"}


async def _officials(stack: Stack) -> dict[str, dict[str, str]]:
    """The ministry, an admin of the other province, an admin of both."""
    async with stack.sessions() as session:
        assert await roles.grant(session, "st-ministry", full_name="Lê Văn Bộ", email=None, now=datetime.now(UTC))
    await add_official(stack.sessions, "st-other-admin", Role.ADMIN, OTHER_PROVINCE, None)
    await add_official(stack.sessions, "st-both", Role.ADMIN, OTHER_PROVINCE, None)
    await add_official(stack.sessions, "st-both", Role.ADMIN, PROVINCE, None)
    return {name: bearer(f"st-{name}") for name in ("ministry", "other-admin", "both")}


async def _get(stack: Stack, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await stack.http.get(URL, params=params, headers=headers)


async def _api(stack: Stack, who: dict[str, dict[str, str]]) -> None:
    body = (await _get(stack, stack.headers("admin"), province=PROVINCE)).json()
    appraisal = next(f for f in body["overall"]["stages"] if f["stage"] == "appraisal")
    assert (appraisal["p50"], appraisal["p90"], appraisal["max"], appraisal["escalated_share"]) == (3, 3, 3, 1.0)
    assert (body["overall"]["returns_per_case"], body["overall"]["objections_per_case"]) == (1.0, 0.5)
    assert [(s["unit_code"], s["working_days"], s["slowest_stage"]) for s in body["slowest"]] == [
        (UNIT_A, 29, "appraisal"),
        (UNIT_B, 5, "registration"),
    ]
    assert (await _get(stack, stack.headers("auditor"), province=PROVINCE)).status_code == 200
    national = (await _get(stack, who["ministry"])).json()
    assert [p["key"] for p in national["by_province"]] == [OTHER_PROVINCE, PROVINCE]
    assert national["slowest"] == [] and national["units_listed"] is False
    # One or two cases a province: the ministry reads their numbers, no figure; the national group of 3 in full.
    assert [(p["cases"], p["suppressed"], p["returns_per_case"]) for p in national["by_province"]] == [
        (1, True, None),
        (2, True, None),
    ]
    assert all(f["suppressed"] and f["p90"] is None for p in national["by_province"] for f in p["stages"])
    assert national["overall"]["suppressed"] is False and national["overall"]["returns"] == 2
    both = (await _get(stack, who["both"])).json()
    assert [p["key"] for p in both["by_province"]] == [OTHER_PROVINCE, PROVINCE] and both["units_listed"]
    assert not any(g["suppressed"] for g in both["by_province"] + both["by_locality"])  # their own provinces

    problem(await _get(stack, who["other-admin"], province=PROVINCE), 403, "forbidden")
    problem(await _get(stack, stack.headers("commune_officer")), 403, "forbidden")
    bad_province = problem(await _get(stack, stack.headers("admin"), province="99"), 422, "invalid_request")
    assert bad_province["field"] == "province"
    bad_type = problem(await _get(stack, stack.headers("admin"), locality_type="ward"), 422, "invalid_request")
    assert bad_type["field"] == "locality_type" and "ward" in bad_type["detail"]
    unknown = await stack.http.get("/v1/rounds/qd06-2019:2029/stage-times", headers=stack.headers("admin"))
    problem(unknown, 404, "round_not_found")


async def _page(stack: Stack, who: dict[str, dict[str, str]]) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{stack.http.base_url}/web/signin")
        await page.fill("#token", token_for("st-both"))
        await page.click("button[type=submit]")
        await page.goto(f"{stack.http.base_url}/web/rounds/{ROUND_ID}/stage-times")
        assert "Thời gian theo bước" in await page.inner_text("h1")
        heatmap = await page.text_content("#heatmap") or ""
        for said in ("Hưng Yên", "Lai Châu", "Thẩm định hồ sơ", "Chú giải", "chưa có số liệu"):
            assert said in heatmap, (said, heatmap)
        titles = await page.locator("#heatmap g.cell title").all_text_contents()
        assert len(titles) == 2 * 8
        appraisal = next(x for x in titles if x.startswith("Thẩm định hồ sơ — Hưng Yên"))
        assert "trung vị 3, P90 3, tối đa 3 ngày làm việc" in appraisal and "chuyển cấp 100 %" in appraisal, appraisal
        assert "đúng hạn 66.67 %" in appraisal, appraisal
        assert await page.locator("#withheld").count() == 0  # the provinces' own admin sees every group
        slowest = await page.inner_text("#slowest")
        assert UNIT_NAMES[UNIT_A] in slowest and "Thẩm định hồ sơ" in slowest, slowest
        await page.screenshot(path=str(SHOTS / "stage-times.png"), full_page=True)
        html = await page.content()
        assert not problems(visible_text(html), "vi", await _data(stack))
        await browser.close()


async def _data(stack: Stack) -> set[str]:
    """What the pages show as data: the names of officials, units and provinces, and the language's own name."""
    async with stack.sessions() as session:
        names = await session.execute(
            text("SELECT full_name FROM officials UNION SELECT name FROM units UNION SELECT name FROM provinces")
        )
        return set(names.scalars()) | {"Tiếng Việt"}


async def _bad_page(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
        assert (await web.post("/web/signin", data={"token": stack.tokens["admin"]})).status_code == 303
        page = await web.get(f"/web/rounds/{ROUND_ID}/stage-times", params={"locality_type": "ward"})
        assert page.status_code == 422 and "Loại địa bàn: “ward” không phải loại địa bàn nào" in page.text
        english = await web.get(f"/web/rounds/{ROUND_ID}/stage-times", params={"province": PROVINCE, "lang": "en"})
        assert english.status_code == 200 and "Where the time goes" in english.text
        assert not problems(visible_text(english.text), "en", await _data(stack))
        page = await web.get(f"/web/rounds/{ROUND_ID}/stage-times", params={"province": OTHER_PROVINCE})
        assert page.status_code == 403
        round_page = await web.get(f"/web/rounds/{ROUND_ID}", params={"province": PROVINCE})
        assert f"/web/rounds/{ROUND_ID}/stage-times?province={PROVINCE}" in round_page.text
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
        assert (await web.post("/web/signin", data={"token": token_for("st-ministry")})).status_code == 303
        national = await web.get(f"/web/rounds/{ROUND_ID}/stage-times")
        assert national.status_code == 200 and "toàn quốc" in national.text and 'id="units-hidden"' in national.text
        assert 'id="slowest"' not in national.text
        # Both provinces' rows of the heatmap withheld (1 and 2 cases), said so under it.
        assert national.text.count(">&lt;3</text>") == 2 * 8 and 'id="withheld"' in national.text
        assert "Thẩm định hồ sơ — Hưng Yên: ít hơn 3 lượt xét" in national.text
        assert not problems(visible_text(national.text), "vi", await _data(stack))
        one = await web.get(f"/web/rounds/{ROUND_ID}/stage-times", params={"province": PROVINCE})
        assert one.status_code == 200 and one.text.count("ít hơn 3 lượt xét") >= 2, one.text  # stages, loops
        assert "Trả hồ sơ bổ sung và kiến nghị khi công khai: ít hơn 3 lượt xét" in one.text


def _line(out: str, *cells: str) -> bool:
    """Some line of a printed table holds these cells, in this order, and nothing else but borders and blanks."""
    return any(line.replace("│", " ").split() == " ".join(cells).split() for line in out.splitlines())


async def _cli(database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    code, out, err = await xptt(env, "round", "stage-times", "--round", ROUND_ID, "--province", PROVINCE)
    assert code == 0, err
    for said in ("Thời gian theo bước", "Hưng Yên", "Trung vị", "Thẩm định hồ sơ", UNIT_NAMES[UNIT_A], "Trả hồ sơ"):
        assert said in out, (said, out)
    for said in ("Các bước theo tỉnh", "Các bước theo loại địa bàn", "Trả hồ sơ và kiến nghị theo nhóm"):
        assert said in out, (said, out)
    mountain, other = (glossary.term("locality", x) for x in ("mountain-island-disadvantaged", "other"))
    # (group, stage, cases, p50, p90, max, open, escalated, on time): A and B's registration, 2 and 5 days.
    assert _line(out, "Hưng Yên", "Đăng ký phấn đấu", "2", "2", "5", "5", "0", "0 %", "50 %"), out
    assert _line(out, mountain, "Đăng ký phấn đấu", "1", "5", "5", "5", "0", "0 %", "0 %"), out
    assert _line(out, other, "Đăng ký phấn đấu", "1", "2", "2", "2", "0", "0 %", "100 %"), out
    # (group, cases, returns, per case, objections, per case), through the glossary's formatter.
    assert _line(out, "Hưng Yên", "2", "2", "1", "1", "0.5"), out
    assert _line(out, other, "1", "2", "2", "1", "1"), out
    assert "Trả hồ sơ bổ sung: 2 lần (1 mỗi lượt xét) · Kiến nghị khi công khai: 1 (0.5 mỗi lượt xét)" in out, out
    assert "appraisal" not in out and "mountain-island" not in out and "ít hơn" not in out
    code, out, err = await xptt(env, "round", "stage-times", "--round", ROUND_ID)
    assert code == 0, err
    assert _line(out, "Lai Châu", "ít hơn 3 lượt xét", "1", *["—"] * 6), out
    assert _line(out, "Hưng Yên", "ít hơn 3 lượt xét", "2", *["—"] * 6), out
    assert _line(out, "Hưng Yên", "2", "ít hơn 3 lượt xét"), out
    assert _line(out, "Tất cả", "3", "2", "0.67", "1", "0.33"), out  # the national group of 3: in full
    code, out, err = await xptt(env, "round", "stage-times", "--round", ROUND_ID, "--format", "json")
    assert code == 0, err
    national = json.loads(out)
    assert national["overall"]["cases"] == 3 and national["units_listed"] is False
    assert [p["suppressed"] for p in national["by_province"]] == [True, True]
    code, _, err = await xptt(env, "round", "stage-times", "--round", "qd06-2019:2029")
    assert code == 3 and "Không tìm thấy kỳ đánh giá này" in err, err
    code, _, err = await xptt(env, "round", "stage-times", "--round", ROUND_ID, "--locality-type", "ward")
    assert code == 2 and "--locality-type" in err and "không phải loại địa bàn" in err, err
    code, _, err = await xptt(env, "round", "stage-times", "--round", ROUND_ID, "--province", "99")
    assert code == 2 and "--province" in err and "99" in err, err
    code, _, err = await xptt(env, "round", "stage-times", "--round", ROUND_ID, "--format", "xml")
    assert code == 2 and "--format" in err, err


async def test_the_api_the_page_and_the_command_show_the_seeded_rounds_times(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        await seed_round(sessions)
        who = await _officials(stack)
        await _api(stack, who)
        await _bad_page(stack)
        await _page(stack, who)
    await _cli(database_url)


async def _recorded_days(sessions: async_sessionmaker[AsyncSession], case_id: str) -> dict[str, int]:
    """Working days of each stage the case left, from the times its journal recorded, as docs/stage-times.md defines
    a stay: from the stage's first row (its `stage_opened` row when it has one) to the next stage's first row. (The
    case runs now: it may cross midnight in Vietnam into a working day, and then a stage took 1 day, not 0.)"""
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT action, to_stage, occurred_at FROM audit_events WHERE case_id = :c ORDER BY seq"),
            {"c": case_id},
        )
        journal = rows.all()
    started: dict[str, datetime] = {}
    ended: dict[str, datetime] = {}
    at = None
    for action, stage, occurred_at in journal:
        if stage != at:
            if at is not None:
                ended[at] = occurred_at
            started[stage], at = occurred_at, stage
        elif action == "stage_opened":
            started[stage] = occurred_at
    return {s: working_days_between(local_date(started[s]), local_date(ended[s])) for s in ended}


async def test_a_case_driven_through_its_workflow_reads_as_one_ended_stay_per_stage(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The journal the real workflow writes (not rows made by the test) is read as the definitions say: each human
    stage one stay, ended by its completion before its due time; the commendation check a stay with no task."""
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        closed = await close_case(stack, {})
        body = (await _get(stack, stack.headers("admin"), province=PROVINCE)).json()
    days = await _recorded_days(sessions, closed.case_id)
    stages = {f["stage"]: f for f in body["overall"]["stages"]}
    for stage, _ in HUMAN_PATH:
        f = stages[stage.value]
        assert (f["cases"], f["stays"], f["open_stays"], f["on_time"], f["counted_for_on_time"]) == (1, 1, 0, 1, 1), f
        assert f["p50"] == f["p90"] == f["max"] == days[stage.value], (f, days)
        assert f["escalated_share"] == 0.0
    commendation = stages["commendation"]
    assert (commendation["stays"], commendation["open_stays"], commendation["counted_for_on_time"]) == (1, 0, 0)
    assert (body["overall"]["cases"], body["overall"]["returns"], body["overall"]["objections"]) == (1, 0, 0)

"""A province's round report against the province's own target, with its failures by criterion: cases closed with a
zero in criterion 3 (two units) and in criterion 5 (one), one 48 points short of its threshold, one recognised; the
administrator sets Hưng Yên's target for 2026–2030 (journalled), and the report — JSON, CSV, XLSX and the round's
page alike — compares with it (not a constant), counts the zeros per criterion, lists the units below their threshold
with their margin and the results by locality type. Bad targets (a share over 100 %, years out of order, a period
overlapping another) are refused naming the field, and change nothing."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import DirectoryEventRow
from db.models_history import UnitLineageRow
from domain.stages import Stage
from tests.api.helpers import problem
from tests.faults.abuse_support import seed_recognised_rounds
from tests.support import PROVINCE, ROUND_ID, form_for, running_stack
from tests.vocabulary import visible_text
from tests.web.cases import close_case

TARGET = {"province": PROVINCE, "first_year": 2026, "last_year": 2030, "share_percent": 90, "plan": "KH 12/KH-UBND"}


async def _former_districts(stack: Any, report: dict[str, Any]) -> dict[str, str | None]:
    """Each unit's former district as the lineage says (one district for all its predecessors, or none), checked
    against the report's rows and its counts by district."""
    async with stack.sessions() as session:
        lineage = (
            await session.execute(
                select(UnitLineageRow.unit_code, UnitLineageRow.former_district_name).where(
                    UnitLineageRow.province_code == PROVINCE
                )
            )
        ).all()
    names: dict[str, set[str | None]] = {}
    for unit, name in lineage:
        names.setdefault(unit, set()).add(name)
    expected = {
        r["unit_code"]: next(iter(names[r["unit_code"]])) if len(names.get(r["unit_code"], ())) == 1 else None
        for r in report["results"]
    }
    assert {r["unit_code"]: r["former_district"] for r in report["results"]} == expected
    assert any(expected.values()), expected  # the seeded lineage knows most units' former district
    counted: dict[str, int] = {}
    for d in expected.values():
        if d is not None:
            counted[d] = counted.get(d, 0) + 1
    assert {d["former_district"]: d["units"] for d in report["by_former_district"]} == counted
    return expected


def _failing(criterion: int, points: int = 0, also: dict[str, int] | None = None) -> dict[Stage, dict[str, Any]]:
    scores = {**form_for(Stage.COUNCIL_ASSESSMENT)["scores"], str(criterion): points, **(also or {})}
    decline = {"recognised": False, "reasons": ["Không đạt"]}
    return {
        Stage.COUNCIL_ASSESSMENT: form_for(Stage.COUNCIL_ASSESSMENT, scores=scores),
        Stage.DECISION: form_for(Stage.DECISION, **decline),
    }


async def test_the_report_compares_with_the_provinces_target_and_counts_failures_by_criterion(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        admin = stack.headers("admin")
        cases = [await close_case(stack, _failing(c)) for c in (3, 3, 5)] + [await close_case(stack, {})]
        short = await close_case(stack, _failing(6, 1, {"1": 1}))  # 1000 - 124 - 74 = 802 points, 48 short of 850
        await seed_recognised_rounds(stack.sessions, cases[3].unit_code, ["qd06-2019:2022", "qd06-2019:2024"])
        url = f"/v1/rounds/{ROUND_ID}/report"

        before = (await stack.http.get(url, params={"province": PROVINCE}, headers=admin)).json()
        assert before["target"] is None and before["meets_target"] is None  # no plan covers 2027 yet: no 0.8

        for bad, field in (
            ({"share_percent": 120}, "share_percent"),
            ({"share_percent": 0}, "share_percent"),
            ({"first_year": 2031}, "last_year"),
            ({"province": "01"}, None),  # not theirs
        ):
            resp = await stack.http.put("/v1/targets", json=TARGET | bad, headers=admin)
            assert resp.status_code in (403, 422), resp.text
            if field:
                assert problem(resp, 422)["field"] == field, resp.text
        assert (await stack.http.get("/v1/targets", params={"province": PROVINCE}, headers=admin)).json() == []

        set_ = await stack.http.put("/v1/targets", json=TARGET, headers=admin)
        assert set_.status_code == 200 and set_.json()["share"] == 0.9, set_.text
        overlap = await stack.http.put("/v1/targets", json=TARGET | {"first_year": 2028}, headers=admin)
        assert problem(overlap, 409)["field"] == "first_year"
        auditor = await stack.http.get("/v1/targets", params={"province": PROVINCE}, headers=stack.headers("auditor"))
        assert [(t["first_year"], t["last_year"], t["share"]) for t in auditor.json()] == [(2026, 2030, 0.9)]
        async with stack.sessions() as session:
            journalled = await session.scalar(select(DirectoryEventRow).where(DirectoryEventRow.action == "target_set"))
        assert journalled is not None and journalled.after["share"] == 0.9 and journalled.before == {}

        report = (await stack.http.get(url, params={"province": PROVINCE}, headers=admin)).json()
        units = report["units"]
        assert report["target"] == {"share": 0.9, "plan": "KH 12/KH-UBND", "first_year": 2026, "last_year": 2030}
        assert report["meets_target"] is False
        assert [(z["criterion"], z["units"]) for z in report["zero_by_criterion"]] == [(3, 2), (5, 1)]
        failed = {c.unit_code for c in cases[:3]}
        below = [(b["unit_code"], b["total"], b["threshold"], b["margin"]) for b in report["below_threshold"]]
        assert below == [(short.unit_code, 802, 850, 48)]  # the zeros bar the others, whose totals pass
        assert report["by_locality"] == [{"locality_type": "other", "assessed": 5, "recognised": 1}]
        zeros = {r["unit_code"]: r["zero_criteria"] for r in report["results"] if r["zero_criteria"]}
        assert set(zeros) == failed and sorted(zeros.values()) == ["3", "3", "5"]

        sheet = await stack.http.get(url, params={"province": PROVINCE, "format": "csv"}, headers=admin)
        rows = list(csv.DictReader(io.StringIO(sheet.text)))
        assert {r["unit_code"]: r["zero_criteria"] for r in rows if r["zero_criteria"]} == zeros
        districts = await _former_districts(stack, report)
        assert {r["unit_code"]: r["former_district"] for r in rows} == {u: d or "" for u, d in districts.items()}

        book = await stack.http.get(url, params={"province": PROVINCE, "format": "xlsx"}, headers=admin)
        assert book.status_code == 200, book.text
        sheets = load_workbook(io.BytesIO(book.content))
        assert sheets.sheetnames == ["Tổng hợp", "Đơn vị", "Đơn vị có tiêu chí đạt 0 điểm", "Theo huyện cũ"]
        by_district = list(sheets["Theo huyện cũ"].iter_rows(values_only=True))
        assert by_district[0] == ("Huyện cũ", "Số lượt xét", "Đã chấm điểm", "Đạt chuẩn")
        assert [tuple(d.values()) for d in report["by_former_district"]] == by_district[1:]
        summary = {row[0]: row[1] for row in sheets["Tổng hợp"].iter_rows(values_only=True)}
        assert summary["Chỉ tiêu"] == "chỉ tiêu 90% (KH 12/KH-UBND, 2026–2030)", summary
        assert summary["Kỳ đánh giá"] == "kỳ đánh giá năm 2027" and summary["Tỉnh"] == "Hưng Yên"
        unit_rows = list(sheets["Đơn vị"].iter_rows(values_only=True))
        assert unit_rows[0][:3] == ("Mã đơn vị", "Đơn vị", "Loại đơn vị")
        assert {r[0]: r[7] for r in unit_rows[1:] if r[7]} == zeros and {r[4] for r in unit_rows[1:]} == {
            "Được công nhận",
            "Không được công nhận",
        }
        assert [r[::2] for r in sheets["Đơn vị có tiêu chí đạt 0 điểm"].iter_rows(min_row=2, values_only=True)] == [
            (3, 2),
            (5, 1),
        ]

        async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
            assert (await web.post("/web/signin", data={"token": stack.tokens["admin"]})).status_code == 303
            html = (await web.get(f"/web/rounds/{ROUND_ID}?province={PROVINCE}")).text
            page = visible_text(html)
            board = visible_text((await web.get(f"/web/board?province={PROVINCE}")).text).replace(" :", ":")
        if os.environ.get("XPTT_DUMP"):  # the page and the workbook, to look at
            Path(os.environ["XPTT_DUMP"], "round-report.html").write_text(html)
            Path(os.environ["XPTT_DUMP"], "round-report.xlsx").write_bytes(book.content)
        assert "chỉ tiêu 90% (KH 12/KH-UBND, 2026–2030)" in page, page
        first = report["by_former_district"][0]
        # in the page's body, not its <title>
        assert html.index('<table id="by-district">') > html.index("<main") > html.index("</title>")
        assert (
            "Theo huyện cũ (trước ngày 01/07/2025) Huyện cũ Số lượt xét Đã chấm điểm Đạt chuẩn "
            f"{first['former_district']}" in page
        )
        # the chart by year: 2022 and 2024 (one unit recognised each), 2027 against its 90 % target
        bars = re.findall(r'<g data-year="(\d+)" data-share="([\d.]+)"(?: data-target="([\d.]+)")?>', html)
        one = f"{1 / units:.4f}"
        assert bars == [("2022", one, ""), ("2024", one, ""), ("2027", one, "0.9000")], bars
        assert "Trẻ em bị xâm hại 2" in page and "Trẻ em bị tai nạn, thương tích 1" in page, page
        # the board's round line against the same target: 1 of the province's units recognised, below 90 %
        share = f"{round(100 / units, 2):g} %"
        assert f"Kỳ đánh giá năm 2027 · Hưng Yên: 1/{units} đơn vị được công nhận ({share}) · chỉ tiêu 90 %" in board, (
            board
        )

"""Past rounds and merged units, end to end: Hưng Yên's administrator imports the recognitions of the 2019, 2022 and
2024 rounds for communes that existed before 1 July 2025 (by code, or by name and district), then the 2027 round runs
on a real worker and Temporal. A unit merged from communes all recognised in 2022 and 2024 (not all in 2019) gets its
commendation task (3 in a row); one whose predecessor was not recognised in 2024 does not, and the reason — in the
journal, the mail and on the case page, in Vietnamese — names that commune. A file with an unknown unit, a year no
rule set assessed in and a date that does not exist is refused row by row (file, row, field, reason) and writes
nothing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.models import DirectoryEventRow
from db.models_history import PastRecognitionRow
from db.models_notify import NotificationRow
from domain.stages import Role, Stage
from services.history.lineage import predecessors_of
from tests.faults.abuse_support import HUMAN_STAGES, ROLE_OF_STAGE, seed_unit_officials
from tests.support import PROVINCE, Stack, form_for, fresh_unit, running_stack, token_for
from tests.vocabulary import visible_text
from tests.web.cases import task_or_closed

URL = f"/v1/provinces/{PROVINCE}/past-rounds"
DATES = {"2019": "25/12/2019", "2022": "20/12/2022", "2024": "18/12/2024"}


async def merged_unit(stack: Stack) -> tuple[str, list[Any]]:
    """A fresh unit of the province merged from three or more former communes, with its predecessors."""
    while True:
        unit = fresh_unit()
        async with stack.sessions() as session:
            found = await predecessors_of(session, unit)
        if len(found) >= 3 and not any(p.divided for p in found):
            return unit, found


def csv_of(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    lines = ["Mã đơn vị,Tên đơn vị,Tên huyện,Năm,Số quyết định,Ngày quyết định"]
    lines += [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def rows_for(predecessors: list[Any], years: list[str], *, by_name: bool = False) -> list[tuple[str, ...]]:
    return [
        ("", p.name, p.district_name or "", y, f"{i}/QĐ-UBND", DATES[y])
        if by_name
        else (p.code, "", "", y, f"{i}/QĐ-UBND", DATES[y])
        for y in years
        for i, p in enumerate(predecessors, start=1)
    ]


async def counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as session:
        past = await session.scalar(select(func.count()).select_from(PastRecognitionRow))
        journal = await session.scalar(select(func.count()).select_from(DirectoryEventRow))
    return int(past or 0), int(journal or 0)


async def upload(stack: Stack, data: bytes, *, apply: bool) -> Any:
    return await stack.http.post(
        URL,
        params={"apply": str(apply).lower()},
        files={"file": ("ky-truoc.csv", data, "text/csv")},
        headers=stack.headers("admin"),
    )


async def decide(stack: Stack, unit: str) -> tuple[str, str | None]:
    """The unit's 2027 case driven to a recognition: (case id, the open commendation task or None once closed)."""
    officials = await seed_unit_officials(stack.sessions, unit)
    tokens = {role: token_for(oid) for role, oid in officials.items()}
    case_id = await stack.start_case(unit)
    for stage in HUMAN_STAGES[: HUMAN_STAGES.index(Stage.COMMENDATION)]:
        task_id = await task_or_closed(stack, case_id, stage)
        assert task_id is not None, f"{unit}: closed before {stage}"
        resp = await stack.http.post(
            f"/v1/tasks/{task_id}/complete",
            json=form_for(stage),
            headers={"Authorization": f"Bearer {tokens[ROLE_OF_STAGE[stage]]}"},
        )
        assert resp.status_code == 200, f"{stage}: {resp.text}"
    return case_id, await task_or_closed(stack, case_id, Stage.COMMENDATION)


async def streak_of(stack: Stack, case_id: str, action: str) -> dict[str, Any]:
    case = (await stack.http.get(f"/v1/cases/{case_id}", headers=stack.headers("admin"))).json()
    row = next(r for r in case["journal"] if r["action"] == action)
    return dict(row["payload"]["streak"])


async def told_in_vietnamese(stack: Stack, whole_case: str, whole_missing: Any, broken_case: str, missing: Any) -> None:
    """The commendation mail says which predecessors counted and which one ended the streak; the case page of the
    unit not commended names the commune missing in 2024, by name, never by code."""
    async with stack.sessions() as session:
        mails = list(
            await session.scalars(
                select(NotificationRow.body).where(
                    NotificationRow.case_id == whole_case,
                    NotificationRow.kind == "commendation_due",
                    NotificationRow.locale == "vi",
                )
            )
        )
    assert mails and all("Năm 2024: tính theo các đơn vị trước sáp nhập" in m for m in mails), mails
    assert all(whole_missing.name in m and "Chuỗi dừng ở năm 2019" in m for m in mails)

    admin_token = token_for(next(o.id for o in stack.officials if o.role == Role.ADMIN))
    async with httpx.AsyncClient(base_url=stack.http.base_url, timeout=30) as web:
        signed = await web.post("/web/signin", data={"token": admin_token})
        assert signed.status_code == 303
        page = await web.get(f"/web/cases/{broken_case}")
    text = visible_text(page.text)
    assert "Chuỗi dừng ở năm 2024" in text and missing.name in text, text[:2000]
    assert missing.code not in text  # people read names, not codes


async def test_bad_rows_are_refused_with_file_row_field_and_reason_and_nothing_is_written(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        _, preds = await merged_unit(stack)
        good = rows_for(preds[:1], ["2022"])
        bad = csv_of(
            [
                *good,
                ("99999", "", "", "2022", "9/QĐ-UBND", "20/12/2022"),
                (preds[1].code, "", "", "2020", "9/QĐ-UBND", "20/12/2020"),
                (preds[2].code, "", "", "2024", "9/QĐ-UBND", "31/02/2025"),
            ]
        )
        before = await counts(sessions)
        resp = await upload(stack, bad, apply=True)
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["code"] == "import_refused" and body["field"] == "file"
        report = body["report"]
        assert report["file_name"] == "ky-truoc.csv" and report["applied"] is False
        refused = {o["row"]: (o["field"], o["code"]) for o in report["outcomes"] if o["outcome"] == "refuse"}
        assert refused == {
            3: ("ma_don_vi", "unknown_unit"),
            4: ("nam", "year_outside_rule_sets"),
            5: ("ngay_quyet_dinh", "bad_date"),
        }
        reasons = {o["row"]: o["detail"] for o in report["outcomes"]}
        assert "99999" in reasons[3] and "2020" in reasons[4] and "31/02/2025" in reasons[5]
        assert [o["outcome"] for o in report["outcomes"] if o["row"] == 2] == ["create"]
        assert await counts(sessions) == before  # nothing written, not even the good row

        dry = await upload(stack, csv_of(good), apply=False)
        assert dry.status_code == 200 and dry.json()["created"] == 1 and dry.json()["applied"] is False
        assert await counts(sessions) == before

        auditor = await stack.http.post(
            URL,
            params={"apply": "true"},
            files={"file": ("x.csv", csv_of(good), "text/csv")},
            headers=stack.headers("auditor"),
        )
        assert auditor.status_code == 403
        assert await counts(sessions) == before


async def test_a_merged_unit_is_commended_when_every_predecessor_was_recognised_and_not_when_one_was_missing(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with running_stack(temporal_env.client, database_url, sessions) as stack:
        whole, whole_preds = await merged_unit(stack)
        broken, broken_preds = await merged_unit(stack)
        missing = broken_preds[-1]
        rows = [
            *rows_for(whole_preds[1:], ["2019"]),  # 2019 would make 4 in a row: no level is due at 4
            *rows_for(whole_preds, ["2022", "2024"]),
            *rows_for(broken_preds, ["2019", "2022"], by_name=True),
            *rows_for(broken_preds[:-1], ["2024"], by_name=True),
        ]
        data = csv_of(rows)
        before = await counts(sessions)

        applied = await upload(stack, data, apply=True)
        assert applied.status_code == 200, applied.text
        report = applied.json()
        assert (report["applied"], report["created"], report["refused"]) == (True, len(rows), 0)
        assert report["journal_rows"] == len(rows)
        assert await counts(sessions) == (before[0] + len(rows), before[1] + len(rows))
        again = (await upload(stack, data, apply=True)).json()
        assert (again["unchanged"], again["created"], again["journal_rows"]) == (len(rows), 0, 0)
        assert await counts(sessions) == (before[0] + len(rows), before[1] + len(rows))

        listed = await stack.http.get(URL, params={"year": 2024}, headers=stack.headers("auditor"))
        assert listed.status_code == 200
        assert len(listed.json()) == len(whole_preds) + len(broken_preds) - 1
        assert {r["unit_code"] for r in listed.json()} >= {p.code for p in whole_preds}
        lineage = (await stack.http.get(f"/v1/units/{broken}/lineage", headers=stack.headers("admin"))).json()
        assert sorted(p["code"] for p in lineage["predecessors"]) == sorted(p.code for p in broken_preds)
        assert lineage["policy"] == "all"

        whole_case, whole_task = await decide(stack, whole)
        assert whole_task is not None  # 2022, 2024 through its predecessors, 2027 its own: 3 in a row
        streak = await streak_of(stack, whole_case, "commendation_due")
        assert streak["length"] == 3
        assert [r["round_id"] for r in streak["rounds"]] == ["qd06-2019:2027", "qd06-2019:2024", "qd06-2019:2022"]
        assert {p["code"] for p in streak["rounds"][1]["counted"]} == {p.code for p in whole_preds}
        assert streak["broken_by"]["round_id"] == "qd06-2019:2019"
        assert [p["code"] for p in streak["broken_by"]["missing"]] == [whole_preds[0].code]

        broken_case, broken_task = await decide(stack, broken)
        assert broken_task is None  # closed: its 2024 round does not count
        streak = await streak_of(stack, broken_case, "commendation_checked")
        assert streak["length"] == 1
        assert streak["broken_by"]["round_id"] == "qd06-2019:2024"
        assert [p["code"] for p in streak["broken_by"]["missing"]] == [missing.code]

        await told_in_vietnamese(stack, whole_case, whole_preds[0], broken_case, missing)

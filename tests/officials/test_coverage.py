"""Who holds the roles the procedure needs: every unit × every role its case needs at its stage (the open task's role;
the commune roles of a round for a unit with no open task), who holds it today, the gaps (`xptt officials coverage`
exits 1 on one); and an open task whose role no active official holds over its unit is on the administrators' board
as "no one holds this role" (`no_holder`), counted by `xptt stuck`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from db.models import CaseRow, TaskRow
from domain.case import case_id_for
from domain.rounds import parse_round
from services.board import service as board_service
from services.errors import Refusal
from services.officials import coverage, service
from services.officials.importer import import_officials
from services.officials.schemas import EndRoleRequest
from services.rounds.opening import ensure_round
from tests.builders import case_row
from tests.officials.support import (
    ADMIN,
    AUDITOR,
    FIRST_UNIT,
    NOW,
    OFFICER,
    OTHER_ADMIN,
    PROVINCE,
    TODAY,
    UNITS,
    good_rows,
    principal,
    seed_directory,
    to_csv,
)
from tests.officials.test_cli import xptt
from tests.support import ROUND_ID

Sessions = async_sessionmaker[AsyncSession]
APPRAISED, CHAIRED, LATE = UNITS[1], UNITS[2], UNITS[3]


async def open_case(sessions: Sessions, unit: str, stage: str, role: str | None, *, due: datetime) -> str:
    """A case of the unit at `stage`, straight in the read model, with an open task for `role` (None: no task)."""
    case_id = case_id_for(ROUND_ID, unit)
    times: dict[str, Any] = {"opened_at": NOW - timedelta(days=3), "updated_at": NOW - timedelta(days=1)}
    async with sessions() as session, session.begin():
        await ensure_round(session, parse_round(ROUND_ID), "two-tier")
        await session.execute(insert(CaseRow).values(**case_row(unit, stage=stage, status="open", last_seq=2, **times)))
        if role is not None:
            task: dict[str, Any] = {"id": f"{case_id}/1", "case_id": case_id, "unit_code": unit, "stage": stage}
            await session.execute(
                insert(TaskRow).values(
                    **task, role=role, province_code=PROVINCE, status="open", created_at=times["updated_at"], due_at=due
                )
            )
    return case_id


async def cases(sessions: Sessions) -> dict[str, str]:
    """The officer's unit self-assessing (held by its demo officer), a unit at appraisal (the province's appraiser),
    one whose council has no chair (a gap), and one overdue at registration with no officer (listed as overdue)."""
    soon = NOW + timedelta(days=5)
    return {
        "first": await open_case(sessions, FIRST_UNIT, "self_assessment", "commune_officer", due=soon),
        "appraised": await open_case(sessions, APPRAISED, "appraisal", "appraiser", due=soon),
        "chaired": await open_case(sessions, CHAIRED, "council_review", "council_chair", due=soon),
        "late": await open_case(sessions, LATE, "registration", "commune_officer", due=NOW - timedelta(days=1)),
        "striving": await open_case(sessions, UNITS[4], "self_assessment", None, due=soon),
    }


async def test_coverage_names_who_holds_each_needed_role_and_the_gaps(sessions: Sessions) -> None:
    await seed_directory(sessions)
    await cases(sessions)
    async with sessions() as session:
        out = await coverage.coverage(session, await principal(sessions, AUDITOR), PROVINCE, now=NOW)
    assert (out.province, out.day, out.units) == (PROVINCE, TODAY, len(UNITS))
    by_unit: dict[str, list[coverage.CoverageLine]] = {}
    for line in out.lines:
        by_unit.setdefault(line.unit_code, []).append(line)
    first, appraised, chaired = by_unit[FIRST_UNIT], by_unit[APPRAISED], by_unit[CHAIRED]
    assert [(x.stage, x.role, [h.id for h in x.holders]) for x in first] == [
        ("self_assessment", "commune_officer", [OFFICER])
    ]
    assert [(x.stage, x.role, [h.id for h in x.holders]) for x in appraised] == [
        ("appraisal", "appraiser", [f"demo-appraiser-{PROVINCE}"])
    ]
    assert [(x.role_name, x.holders) for x in chaired] == [("Chủ tịch Hội đồng đánh giá", [])]
    # a striving case (no task yet) and a unit with no case need the commune roles of a round
    striving, idle = by_unit[UNITS[4]], by_unit[UNITS[-1]]
    assert (
        [x.role for x in striving] == [x.role for x in idle] == ["commune_officer", "council_chair", "commune_chairman"]
    )
    assert {x.stage for x in striving} == {"self_assessment"} and {x.stage for x in idle} == {None}
    assert out.needed == 4 + 3 * (len(UNITS) - 4) and out.covered == 2
    assert len(out.gaps) == out.needed - 2 and all(not g.holders for g in out.gaps)

    # a role that has ended, or an official deactivated, holds nothing
    admin = await principal(sessions, ADMIN)
    async with sessions() as session:
        officer = await service.get_official(session, admin, OFFICER, now=NOW)
        ended = EndRoleRequest(valid_until=TODAY - timedelta(days=1), reason="chuyển công tác")
        await service.end_role(session, admin, OFFICER, officer.roles[0].id, ended, now=NOW)
        await service.deactivate_official(session, admin, f"demo-appraiser-{PROVINCE}", "nghỉ hưu", now=NOW)
        after = await coverage.coverage(session, admin, PROVINCE, now=NOW)
    assert after.covered == 0 and len(after.gaps) == after.needed


@pytest.mark.parametrize("who", [OFFICER, OTHER_ADMIN])
async def test_coverage_is_for_the_provinces_administrators_and_auditors(sessions: Sessions, who: str) -> None:
    await seed_directory(sessions)
    async with sessions() as session:
        with pytest.raises(Refusal) as refused:
            await coverage.coverage(session, await principal(sessions, who), PROVINCE, now=NOW)
    assert refused.value.status == 403


async def test_the_board_lists_tasks_no_one_holds(sessions: Sessions) -> None:
    await seed_directory(sessions)
    ids = await cases(sessions)
    admin = await principal(sessions, ADMIN)
    nobody = cast(Client, None)  # failing=False: Temporal is not asked
    async with sessions() as session:
        board = await board_service.board(session, nobody, admin, province=PROVINCE, failing=False, now=NOW)
    reasons = {(i.reason, i.case_id) for i in board.items}
    assert reasons == {("no_holder", ids["chaired"]), ("overdue", ids["late"])}
    unheld = next(i for i in board.items if i.reason == "no_holder")
    assert (unheld.unit_code, unheld.stage, unheld.detail) == (CHAIRED, "council_review", "Chủ tịch Hội đồng đánh giá")
    assert board.totals["no_holder"] == 1 and board.totals["overdue"] == 1
    group = next(g for g in board.groups if g.unit_code == CHAIRED)
    assert (group.no_holder, group.overdue) == (1, 0)

    # the appraiser leaves: the appraisal task is no one's now
    async with sessions() as session:
        await service.deactivate_official(session, admin, f"demo-appraiser-{PROVINCE}", "nghỉ hưu", now=NOW)
        board = await board_service.board(session, nobody, admin, province=PROVINCE, failing=False, now=NOW)
    assert {i.case_id for i in board.items if i.reason == "no_holder"} == {ids["chaired"], ids["appraised"]}


async def test_coverage_and_stuck_from_the_command_line(
    database_url: str, sessions: Sessions, temporal_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_directory(sessions)
    code, out = await xptt(database_url, "officials", "coverage", "--province", PROVINCE)
    assert code == 1, out
    assert f"{len(UNITS)} đơn vị: {3 * (len(UNITS) - 1)}/{3 * len(UNITS)} vai trò chưa có người" in out
    assert "Chủ tịch Hội đồng đánh giá" in out and "chưa có lượt xét" in out
    assert "council_chair" not in out and f"({FIRST_UNIT})" not in out  # its three roles are held

    await cases(sessions)
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    code, out = await xptt(database_url, "stuck", "--province", PROVINCE, "--no-failing")
    assert code == 1, out
    assert "Không ai đảm nhận vai trò này" in out and "no_holder" not in out and case_id_for(ROUND_ID, CHAIRED) in out


async def test_coverage_exits_0_once_every_needed_role_is_held(database_url: str, sessions: Sessions) -> None:
    """The province's spreadsheet gives every unit its three commune roles: nothing is missing."""
    await seed_directory(sessions)
    async with sessions() as session:
        report = await import_officials(
            session, await principal(sessions, ADMIN), PROVINCE, to_csv(good_rows()), apply=True, now=NOW
        )
    assert report.applied
    code, out = await xptt(database_url, "officials", "coverage", "--province", PROVINCE)
    assert code == 0, out
    assert f"{len(UNITS)} đơn vị: 0/{3 * len(UNITS)} vai trò chưa có người" in out

"""Cases on their round's calendar, on the time-skipping server: a 2027 case registers in November 2026, strives
with no task until self-assessment opens on 1 October 2027 and is decided in December 2027; a case that crosses
the end of the district profile moves to the provincial authorities with one journal row, and its history replays."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from contracts import CompleteTaskInput, ExtendDueInput, StartCaseInput
from db.models import AuditEventRow, CaseRow
from domain.calendar import TZ, local_date
from domain.calendar_overrides import case_calendar
from domain.round_calendar import AuthorityChange
from domain.rounds import parse_round
from domain.stages import Role, Stage
from services.rounds.opening import ensure_round
from tests.builders import case_fields, stack_worker
from tests.support import PROVINCE, form_for, isolated_unit, seed_reference
from tests.workflows.test_deadlines import Case
from workflows.case import RecognitionCaseWorkflow
from workflows.registry import WORKFLOWS, workflow_runner

COMMUNE_PATH = [
    (Stage.SELF_ASSESSMENT, Role.COMMUNE_OFFICER),
    (Stage.COUNCIL_ASSESSMENT, Role.COUNCIL_CHAIR),
    (Stage.PUBLIC_POSTING, Role.COMMUNE_OFFICER),
    (Stage.DOSSIER_SUBMISSION, Role.COMMUNE_OFFICER),
]


@pytest.fixture
async def start(time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Any]:
    await seed_reference(sessions)
    task_queue = f"calendar-{uuid.uuid4()}"
    started: list[WorkflowHandle[Any, Any]] = []

    async def _start(inp: StartCaseInput) -> Case:
        handle = await time_env.client.start_workflow(
            RecognitionCaseWorkflow.run, inp, id=inp.case_id, task_queue=task_queue
        )
        started.append(handle)
        return Case(time_env, handle, inp.unit_code, sessions)

    async with stack_worker(time_env.client, task_queue, sessions):
        yield _start
        for handle in started:
            with contextlib.suppress(Exception):
                await handle.terminate("test over")


def case_input(round_id: str, profile_id: str, **calendar: Any) -> StartCaseInput:
    unit = isolated_unit()
    fields = case_fields(unit, round_id=round_id, case_id=f"{round_id}-{unit}-{uuid.uuid4().hex[:6]}")
    year = int(round_id.split(":")[1])
    cal = case_calendar(fields["rule_set_id"], year, PROVINCE)
    return StartCaseInput(**(fields | {"profile_id": profile_id}), calendar=cal.model_copy(update=calendar))


async def until(case: Case, check: Any) -> Any:
    for _ in range(200):
        status = await case.status()
        if check(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"case {case.handle.id} never reached the state awaited: {status}")


async def sleep_until(env: WorkflowEnvironment, moment: datetime) -> None:
    now = await env.get_current_time()
    if moment > now:
        await env.sleep(moment - now)


async def journal(case: Case) -> list[tuple[str, dict[str, Any], datetime]]:
    async with case.sessions() as session:
        rows = await session.execute(
            select(AuditEventRow.action, AuditEventRow.payload, AuditEventRow.occurred_at)
            .where(AuditEventRow.case_id == case.handle.id)
            .order_by(AuditEventRow.seq)
        )
        return [(a, d or {}, t) for a, d, t in rows.all()]


async def test_a_2027_case_registers_in_november_2026_strives_until_1_october_and_is_decided_in_december(
    start: Any, time_env: WorkflowEnvironment
) -> None:
    now = await time_env.get_current_time()
    assert date(2024, 11, 1) <= local_date(now) < date(2027, 9, 1), "the test starts within the 2027 period"
    case = await start(case_input("qd06-2019:2027", "two-tier"))
    await until(case, lambda s: s.open_task is not None)
    await case.complete(Stage.REGISTRATION, Role.COMMUNE_OFFICER)

    striving = await until(case, lambda s: s.stage == Stage.SELF_ASSESSMENT)
    assert striving.open_task is None and striving.waiting_until == datetime(2027, 10, 1, tzinfo=TZ)
    async with case.sessions() as session:
        row = await session.get(CaseRow, case.handle.id)
        assert row is not None and row.waiting_until == datetime(2027, 10, 1, tzinfo=TZ)

    await sleep_until(time_env, datetime(2027, 9, 30, 12, tzinfo=TZ))
    assert (await case.status()).open_task is None  # still striving the day before
    await sleep_until(time_env, datetime(2027, 10, 1, 0, 30, tzinfo=TZ))
    opened = await until(case, lambda s: s.open_task is not None)
    assert opened.stage == Stage.SELF_ASSESSMENT
    (opening,) = [(d, t) for a, d, t in await journal(case) if a == "stage_opened"]
    assert local_date(opening[1]) == date(2027, 10, 1) and opening[0]["window"]["opens"] == "2027-10-01"

    # Every stage done on its last due day (15:00 of it, before the office closes).
    done: dict[Stage, date] = {}
    for stage, role in [*COMMUNE_PATH, (Stage.APPRAISAL, Role.APPRAISER), (Stage.DECISION, Role.CHAIRMAN)]:
        status = await until(case, lambda s, stage=stage: s.stage == stage and s.open_task is not None)
        await sleep_until(time_env, status.open_task.due_at - timedelta(hours=2))
        await case.complete(stage, role)
        done[stage] = local_date(await time_env.get_current_time())
    assert done[Stage.DOSSIER_SUBMISSION] == date(2027, 11, 15)
    assert date(2027, 12, 1) <= done[Stage.DECISION] <= date(2027, 12, 31)
    assert [a for a, _, _ in await journal(case)][:3] == ["case_opened", "registration_completed", "stage_opened"]
    await replays(case, "XPTT_RECORD_STRIVING_HISTORY")


async def replays(case: Case, record_to: str) -> None:
    """The case's recorded history replays on this code (and is written to $`record_to` when set, to refresh
    tests/histories)."""
    await case.handle.terminate("test over")
    history = await case.handle.fetch_history()
    if os.environ.get(record_to):
        Path(os.environ[record_to]).write_text(history.to_json())
    replayer = Replayer(
        workflows=list(WORKFLOWS), data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_a_case_at_appraisal_when_the_district_profile_ends_moves_to_the_provincial_office(
    start: Any, time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The 2024 round's calendar with its change of authority (1 July 2025) a few days ahead of the server's clock:
    # the time-skipping server starts at today's date and cannot go back to 2025.
    now = await time_env.get_current_time()
    handover = local_date(now) + timedelta(days=5)
    change = AuthorityChange(on=handover, from_profile="district", to_profile="two-tier")
    async with sessions() as session, session.begin():
        await ensure_round(session, parse_round("qd06-2019:2024"), "district")
    case = await start(case_input("qd06-2019:2024", "district", authority_changes=(change,)))
    await until(case, lambda s: s.open_task is not None)
    for stage, role in [(Stage.REGISTRATION, Role.COMMUNE_OFFICER), *COMMUNE_PATH]:
        await until(case, lambda s, stage=stage: s.stage == stage and s.open_task is not None)
        await case.complete(stage, role)
    at_appraisal = await until(case, lambda s: s.stage == Stage.APPRAISAL and s.open_task is not None)
    assert at_appraisal.open_task.role == Role.DISTRICT_APPRAISER
    await case.update(
        RecognitionCaseWorkflow.extend_due,
        ExtendDueInput(
            task_id=at_appraisal.open_task.task_id,
            new_due_at=datetime.combine(handover + timedelta(days=20), datetime.min.time(), tzinfo=TZ),
            reason="chờ bàn giao",
            actor=case.actor(Role.ADMIN),
        ),
    )  # the district office does not act before it is abolished
    due = (await case.status()).open_task.due_at

    await sleep_until(time_env, change.at() + timedelta(minutes=5))
    moved = await until(case, lambda s: s.open_task is not None and s.open_task.role == Role.APPRAISER)
    assert moved.open_task.due_at == due and moved.open_task.task_id != at_appraisal.open_task.task_id
    rows = [(a, d) for a, d, _ in await journal(case) if a == "authority_changed"]
    assert len(rows) == 1
    assert {k: rows[0][1][k] for k in ("from_role", "to_role", "from_profile", "to_profile")} == {
        "from_role": "district_appraiser",
        "to_role": "appraiser",
        "from_profile": "district",
        "to_profile": "two-tier",
    }
    with pytest.raises(WorkflowUpdateFailedError):  # the abolished district office can no longer act
        await case.update(
            RecognitionCaseWorkflow.complete_task,
            CompleteTaskInput(
                task_id=moved.open_task.task_id,
                actor=case.actor(Role.DISTRICT_APPRAISER),
                payload=form_for(Stage.APPRAISAL),
            ),
        )
    await case.complete(Stage.APPRAISAL, Role.APPRAISER)
    decision = await until(case, lambda s: s.stage == Stage.DECISION and s.open_task is not None)
    assert decision.open_task.role == Role.CHAIRMAN  # the provincial chairman, under the two-tier profile
    async with sessions() as session:
        row = await session.get(CaseRow, case.handle.id)
        assert row is not None and row.profile_id == "two-tier"

    await replays(case, "XPTT_RECORD_AUTHORITY_HISTORY")

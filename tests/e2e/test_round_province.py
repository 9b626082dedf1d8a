"""A round for a whole real province (Lai Châu, 38 units) on the Temporal dev server: opened by its
AssessmentRoundWorkflow, every case driven to an end, then the report it records."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from audit.service import verify_case
from contracts import Actor, CompleteTaskInput, OpenRoundInput
from db.models import OfficialRow, RoleAssignmentRow, RoundReportRow, TaskRow
from domain.access import RoleScope
from infra.clock import today_vn
from tests.builders import seed_province, stack_worker
from tests.support import HUMAN_PATH, ROUND_ID, execute_signed, form_for
from workflows.case import RecognitionCaseWorkflow
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

PROVINCE = "12"
PATH = HUMAN_PATH


async def _drive(env: WorkflowEnvironment, case_id: str, unit: str, *, register: bool) -> None:
    handle = env.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
    for stage, role in PATH if register else PATH[:1]:
        for _ in range(400):
            status = await handle.query(RecognitionCaseWorkflow.status)
            if status.open_task is not None and status.stage == stage:
                break
            await asyncio.sleep(0.05)
        scope = RoleScope(role=role, province_code=PROVINCE, unit_code=unit)
        payload = form_for(stage) if register else {"registered": False, "note": "Chưa đủ điều kiện"}
        actor = Actor(official_id=f"o-{role.value}", scopes=[scope])
        inp = CompleteTaskInput(task_id=status.open_task.task_id, actor=actor, payload=payload)
        await execute_signed(handle, RecognitionCaseWorkflow.complete_task, inp)


async def test_a_real_province_runs_its_round_to_the_report(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    units = await seed_province(sessions, PROVINCE)
    # The officials who act (the journal's verification checks that they exist and hold their roles); inactive, so
    # that nobody is notified.
    async with sessions() as session, session.begin():
        for role in {role for _, role in PATH}:
            session.add(OfficialRow(id=f"o-{role.value}", full_name=f"o-{role.value}", active=False))
            session.add(RoleAssignmentRow(official_id=f"o-{role.value}", role=role.value, province_code=PROVINCE))
    queue = f"province-{uuid.uuid4()}"
    client = temporal_env.client
    async with stack_worker(client, queue, sessions):
        handle = await client.start_workflow(
            AssessmentRoundWorkflow.run,
            OpenRoundInput(round_id=ROUND_ID, province_code=PROVINCE, target_share=0.5, rehearsal_opens_on=today_vn()),
            id=f"{round_workflow_id(ROUND_ID, PROVINCE)}-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
        )
        for _ in range(400):
            if not await handle.query(AssessmentRoundWorkflow.opening):
                break
            await asyncio.sleep(0.05)
        cases = await handle.query(AssessmentRoundWorkflow.started_cases)
        assert len(cases) == len(units) == 38
        by_unit = {c.rsplit("-", 1)[1]: c for c in cases}
        # The round recorded each opening in bulk; the case workflow holds the very task the inbox shows.
        async with sessions() as session:
            inbox = {
                t.case_id: (t.id, t.due_at)
                for t in (await session.execute(select(TaskRow).where(TaskRow.case_id.in_(cases)))).scalars()
            }
        for case_id in cases[:5]:
            status = await client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id).query(
                RecognitionCaseWorkflow.status
            )
            assert status.open_task is not None
            assert inbox[case_id] == (status.open_task.task_id, status.open_task.due_at)
        assert len(inbox) == 38
        gate = asyncio.Semaphore(10)

        async def drive(i: int, unit: str) -> None:
            async with gate:
                await _drive(temporal_env, by_unit[unit], unit, register=i % 2 == 0)

        await asyncio.gather(*(drive(i, u) for i, u in enumerate(units)))
        report = await asyncio.wait_for(handle.result(), timeout=120)
        # Each case archives its history as it closes; the round opened them in bulk, so their first journal row
        # is witnessed by the case's start (its `opened_at`) and must agree with it.
        await asyncio.gather(*(asyncio.wait_for(client.get_workflow_handle(c).result(), 60) for c in cases))
    verified = [await verify_case(sessions, c) for c in cases]
    assert [v.summary() for v in verified if not v.ok] == []
    assert all(v.rows >= 2 and v.histories_checked >= 1 for v in verified)
    assert (report.units, report.recognised, report.not_registered, report.still_open) == (38, 19, 19, 0)
    assert (report.registered, report.submitted) == (19, 19)
    assert report.recognised_share == 0.5 and report.meets_target
    async with sessions() as session:
        stored = await session.get(RoundReportRow, (ROUND_ID, PROVINCE))
        assert stored is not None and stored.report["recognised"] == 19

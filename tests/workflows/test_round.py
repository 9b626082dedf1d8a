"""AssessmentRoundWorkflow on the time-skipping server: it opens one case per unit of a province, follows their
progress, and when every case has closed writes the report with outcomes by reason and the share recognised."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.archive import HistoryArchive
from activities.case_store import CaseStore
from activities.round_store import RoundStore
from contracts import (
    Actor,
    ArchiveHistoryInput,
    ArchiveHistoryResult,
    CompleteTaskInput,
    OpenRoundInput,
    ScheduledRoundsInput,
)
from db.models import CaseRow, RoundReportRow
from domain.access import RoleScope
from domain.case import case_id_for
from domain.round_report import RoundReport
from domain.stages import Role, Stage
from domain.units import load_units
from infra.clock import today_vn
from services.round_schedule import round_schedule
from tests.builders import build_worker, seed_province, stack_worker
from tests.support import HUMAN_PATH, ROUND_ID, execute_signed, form_for
from workflows.case import RecognitionCaseWorkflow
from workflows.case_changes import BASELINE
from workflows.registry import case_activities, round_activities
from workflows.round import AssessmentRoundWorkflow, round_workflow_id
from workflows.round_opener import ScheduledRoundOpeningWorkflow

PROVINCE = "12"  # Lai Châu, 38 units
PATH = HUMAN_PATH[:-1]  # up to the decision


async def _complete(env: WorkflowEnvironment, case_id: str, unit: str, stage: Stage, role: Role, **kw: Any) -> None:
    handle = env.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
    for _ in range(100):
        status = await handle.query(RecognitionCaseWorkflow.status)
        if status.open_task is not None and status.stage == stage:
            break
        await asyncio.sleep(0.05)
    actor = Actor(official_id=f"o-{role.value}", scopes=[RoleScope(role=role, province_code=PROVINCE, unit_code=unit)])
    inp = CompleteTaskInput(task_id=status.open_task.task_id, actor=actor, payload=form_for(stage, **kw))
    now = await env.get_current_time()  # the time-skipping server's: the case checks the assertion against it
    await execute_signed(handle, RecognitionCaseWorkflow.complete_task, inp, at=now)


async def _opened_round(
    env: WorkflowEnvironment, task_queue: str, **inputs: Any
) -> WorkflowHandle[AssessmentRoundWorkflow, RoundReport]:
    """The province's round started as a rehearsal (self-assessment opens today), once it has started its cases."""
    handle = await env.client.start_workflow(
        AssessmentRoundWorkflow.run,
        OpenRoundInput(round_id=ROUND_ID, province_code=PROVINCE, rehearsal_opens_on=today_vn(), **inputs),
        id=round_workflow_id(ROUND_ID, PROVINCE),
        task_queue=task_queue,
    )
    for _ in range(200):
        if not await handle.query(AssessmentRoundWorkflow.opening):
            break
        await asyncio.sleep(0.05)
    return handle


async def test_a_round_opens_every_unit_follows_progress_and_reports_when_all_cases_close(
    time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    units = await seed_province(sessions, PROVINCE)
    task_queue = f"round-{uuid.uuid4()}"
    async with stack_worker(time_env.client, task_queue, sessions):
        handle = await _opened_round(time_env, task_queue, concurrency=5, target_share=0.05)
        assert sorted(await handle.query(AssessmentRoundWorkflow.started_cases)) == sorted(
            case_id_for(ROUND_ID, u) for u in units
        )
        # two units go to recognition, one declines, one is refused; the rest never register
        recognised, declined, refused = units[:2], units[2], units[3]
        for unit in [*recognised, refused]:
            for stage, role in PATH:
                await _complete(time_env, case_id_for(ROUND_ID, unit), unit, stage, role)
        for unit in recognised:
            await _complete(time_env, case_id_for(ROUND_ID, unit), unit, Stage.DECISION, Role.CHAIRMAN)
        await _complete(
            time_env,
            case_id_for(ROUND_ID, refused),
            refused,
            Stage.DECISION,
            Role.CHAIRMAN,
            recognised=False,
            reasons=["Số liệu tiêu chí 3 chưa xác minh"],
        )
        await _complete(
            time_env,
            case_id_for(ROUND_ID, declined),
            declined,
            Stage.REGISTRATION,
            Role.COMMUNE_OFFICER,
            registered=False,
        )
        for _ in range(100):
            progress = await handle.query(AssessmentRoundWorkflow.progress)
            if progress.closed >= 4:
                break
            await asyncio.sleep(0.05)
        assert (progress.units, progress.started, progress.open) == (len(units), len(units), len(units) - 4)
        # its cases tell it nothing on the way: where open cases stand is the read model's to say
        assert (progress.by_stage, progress.overdue, progress.escalated, progress.on_hold) == (None, None, None, None)
        assert progress.by_outcome == {"recognised": 2, "not_recognised": 1, "not_registered": 1}

        result = await handle.result()  # the clock runs until the silent units' deadlines close their cases
        if os.environ.get("XPTT_RECORD_ROUND_HISTORY"):  # refresh the replay fixture of a round
            history = await handle.fetch_history()
            Path(os.environ["XPTT_RECORD_ROUND_HISTORY"]).write_text(history.to_json())
        for variable, unit in (
            ("XPTT_RECORD_ROUND_CASE_HISTORY", declined),
            ("XPTT_RECORD_RECOGNISED_CASE", recognised[0]),
        ):
            if os.environ.get(variable):  # and of cases the round opened
                case_history = await time_env.client.get_workflow_handle(case_id_for(ROUND_ID, unit)).fetch_history()
                Path(os.environ[variable]).write_text(case_history.to_json())
        # The round heard every case's end from the case's result: no case signalled it on the way.
        signalled = [
            e
            for e in (await handle.fetch_history()).events
            if e.HasField("workflow_execution_signaled_event_attributes")
        ]
        assert signalled == []
        case_events = (
            await time_env.client.get_workflow_handle(case_id_for(ROUND_ID, recognised[0])).fetch_history()
        ).events
        assert not any(e.HasField("signal_external_workflow_execution_initiated_event_attributes") for e in case_events)
        # A case run to its decision, commendation check and archive asks for four changes of the case's baseline:
        # its history records the baseline's one marker, and one TemporalChangeVersion upsert, not one per change.
        markers = [
            e.marker_recorded_event_attributes for e in case_events if e.HasField("marker_recorded_event_attributes")
        ]
        patches = [json.loads(m.details["patch-data"].payloads[0].data)["id"] for m in markers]
        assert patches == [BASELINE]
        versions = [
            e
            for e in case_events
            if "TemporalChangeVersion"
            in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        ]
        assert len(versions) == 1
    assert (result.units, result.registered, result.submitted) == (len(units), 3, 3)
    assert (result.recognised, result.not_recognised, result.not_registered) == (2, 1, len(units) - 3)
    assert result.not_recognised_by_reason == {"refused_by_decision": 1}
    assert result.recognised_share == round(2 / len(units), 4)
    assert result.meets_target is True
    async with sessions() as session:
        stored = await session.get(RoundReportRow, (ROUND_ID, PROVINCE))
        assert stored is not None and stored.report["recognised"] == 2
        closed = await session.scalar(
            select(func.count())
            .select_from(CaseRow)
            .where(CaseRow.province_code == PROVINCE, CaseRow.status == "closed")
        )
        assert closed == len(units)


async def test_a_round_closing_with_cases_open_counts_who_registered_and_filed_from_the_journal(
    time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Its cases told it nothing on the way: at `closes_at` the report's registered and submitted come from the
    journal, for the cases still open."""
    units = await seed_province(sessions, PROVINCE)
    task_queue = f"round-{uuid.uuid4()}"
    async with stack_worker(time_env.client, task_queue, sessions):
        closes_at = await time_env.get_current_time() + timedelta(days=2)
        handle = await _opened_round(time_env, task_queue, concurrency=10, closes_at=closes_at)
        filed, registered = units[0], units[1]
        for stage, role in PATH[: [s for s, _ in PATH].index(Stage.DOSSIER_SUBMISSION) + 1]:
            await _complete(time_env, case_id_for(ROUND_ID, filed), filed, stage, role)
        await _complete(
            time_env, case_id_for(ROUND_ID, registered), registered, Stage.REGISTRATION, Role.COMMUNE_OFFICER
        )
        result = await handle.result()
    assert (result.units, result.still_open, result.registered, result.submitted) == (len(units), len(units), 2, 1)


async def test_a_case_workflow_terminated_after_its_close_counts_as_closed_from_the_read_model(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A case declines, and its workflow is terminated while it archives its history: it never gives its result,
    so the round reads where it stands from PostgreSQL (closed, not registered). On the real server: the
    time-skipping one does not tell a parent that its child was terminated."""
    units = await seed_province(sessions, PROVINCE)
    declined = units[0]
    case_id = case_id_for(ROUND_ID, declined)
    archive = HistoryArchive(temporal_env.client, sessions)
    archiving, released = asyncio.Event(), asyncio.Event()

    @activity.defn(name="archive_history")
    async def archive_history(inp: ArchiveHistoryInput) -> ArchiveHistoryResult:
        if inp.case_id == case_id:
            archiving.set()
            await released.wait()  # the workflow is terminated meanwhile
        return await archive.archive_history(inp)

    task_queue = f"round-{uuid.uuid4()}"
    activities = [*case_activities(CaseStore(sessions)), *round_activities(RoundStore(sessions)), archive_history]
    async with build_worker(temporal_env.client, task_queue, activities):
        handle = await _opened_round(temporal_env, task_queue, concurrency=10)
        await _complete(temporal_env, case_id, declined, Stage.REGISTRATION, Role.COMMUNE_OFFICER, registered=False)
        await asyncio.wait_for(archiving.wait(), 30)
        await temporal_env.client.get_workflow_handle(case_id).terminate("stopped by hand while archiving")
        released.set()
        for _ in range(300):
            progress = await handle.query(AssessmentRoundWorkflow.progress)
            if progress.closed:
                break
            await asyncio.sleep(0.1)
        await handle.terminate("the test ends; its other cases stay open")
    assert (progress.closed, progress.open, progress.by_outcome) == (1, len(units) - 1, {"not_registered": 1})


async def test_the_scheduled_opening_opens_the_round_whose_period_starts_and_nothing_in_other_years(
    time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await seed_province(sessions, PROVINCE)
    task_queue = f"opening-{uuid.uuid4()}"
    async with stack_worker(time_env.client, task_queue, sessions):
        # 1 November 2026: QĐ 06/2019 assesses in years 2 and 4 of a five-year plan (2027, 2029); the 2027 period
        # started on 1 November 2024 and the 2029 one starts on 1 November 2027: nothing opens in 2026.
        now = await time_env.get_current_time()
        await time_env.sleep(
            datetime(2026, 11, 1, 1, 0, tzinfo=UTC) - now if now < datetime(2026, 11, 1, tzinfo=UTC) else timedelta(0)
        )
        quiet = await time_env.client.execute_workflow(
            ScheduledRoundOpeningWorkflow.run,
            ScheduledRoundsInput(),
            id=f"opening-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        assert (quiet.round_id, quiet.started) == (None, [])
        now = await time_env.get_current_time()
        await time_env.sleep(datetime(2027, 11, 1, 1, 0, tzinfo=UTC) - now)
        opened = await time_env.client.execute_workflow(
            ScheduledRoundOpeningWorkflow.run,
            ScheduledRoundsInput(),
            id=f"opening-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        assert opened.round_id == "qd06-2019:2029"  # its period starts the day after the 2027 period ends
        assert opened.started == [round_workflow_id("qd06-2019:2029", PROVINCE)]
        again = await time_env.client.execute_workflow(
            ScheduledRoundOpeningWorkflow.run,
            ScheduledRoundsInput(),
            id=f"opening-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        assert again.started == []  # the round of this province runs already
        round_handle = time_env.client.get_workflow_handle_for(
            AssessmentRoundWorkflow.run, round_workflow_id("qd06-2019:2029", PROVINCE)
        )
        for _ in range(200):
            if not await round_handle.query(AssessmentRoundWorkflow.opening):
                break
            await asyncio.sleep(0.05)
        started = await round_handle.query(AssessmentRoundWorkflow.started_cases)
        assert len(started) == len(load_units(PROVINCE))
        # Registration at the start of the period: each unit's task is due by the end of January 2028.
        first = await time_env.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, started[0]).query(
            RecognitionCaseWorkflow.status
        )
        assert first.stage == Stage.REGISTRATION and first.open_task is not None
        assert date(2027, 11, 1) < first.open_task.due_at.date() <= date(2028, 1, 31)
        await round_handle.terminate("test over")
        for case_id in await round_handle.query(AssessmentRoundWorkflow.started_cases):
            await time_env.client.get_workflow_handle(case_id).terminate("test over")


def test_the_round_schedule_fires_on_the_day_periods_start() -> None:
    schedule = round_schedule("q", today=date(2026, 11, 25))
    (cal,) = schedule.spec.calendars
    assert ([r.start for r in cal.month], [r.start for r in cal.day_of_month]) == ([11], [1])
    assert schedule.spec.time_zone_name == "Asia/Ho_Chi_Minh"

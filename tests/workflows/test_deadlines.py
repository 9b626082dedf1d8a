"""Deadlines that act, on the time-skipping server: reminders, escalation rungs, final policies, and the
administrators' actions that move, pause or end them. Weeks pass in milliseconds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from contracts import (
    Acting,
    Actor,
    CompleteTaskInput,
    ExtendDueInput,
    HoldInput,
    ReassignInput,
    ReleaseInput,
    WithdrawInput,
)
from db.models import AuditEventRow, CaseRow, TaskRow
from domain import calendar
from domain.access import RoleScope
from domain.procedure import load_profile
from domain.rounds import parse_round, previous_round
from domain.stages import Role, Stage
from services.rounds.opening import ensure_round
from tests.builders import case_row, stack_worker, start_input
from tests.support import HUMAN_PATH, PROVINCE, ROUND_ID, execute_signed, form_for, isolated_unit, seed_reference
from workflows.case import RecognitionCaseWorkflow


class Case:
    def __init__(self, env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], unit: str, sessions: Any) -> None:
        self.env, self.handle, self.unit, self.sessions = env, handle, unit, sessions

    def actor(self, role: Role, *, unit_scoped: bool = False) -> Actor:
        scope = RoleScope(role=role, province_code=PROVINCE, unit_code=self.unit if unit_scoped else None)
        return Actor(official_id=f"o-{role.value}", scopes=[scope])

    async def status(self) -> Any:
        return await self.handle.query(RecognitionCaseWorkflow.status)

    async def update(self, update: Any, inp: Acting) -> Any:
        """Send the Update with `inp` vouched for at the server's time (the time-skipping clock runs ahead)."""
        now = await self.env.get_current_time()
        return await execute_signed(self.handle, update, inp, at=now)

    async def complete(self, stage: Stage, role: Role, **overrides: Any) -> Any:
        status = await self.status()
        assert status.stage == stage, status
        unit_scoped = role in (Role.COMMUNE_OFFICER, Role.COUNCIL_CHAIR)
        return await self.update(
            RecognitionCaseWorkflow.complete_task,
            CompleteTaskInput(
                task_id=status.open_task.task_id,
                actor=self.actor(role, unit_scoped=unit_scoped),
                payload=form_for(stage, **overrides),
            ),
        )

    async def journal(self) -> list[str]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(AuditEventRow.action).where(AuditEventRow.case_id == self.handle.id).order_by(AuditEventRow.seq)
            )
            return list(rows.scalars())

    async def tasks(self) -> list[TaskRow]:
        async with self.sessions() as session:
            rows = await session.execute(select(TaskRow).where(TaskRow.case_id == self.handle.id).order_by(TaskRow.id))
            return list(rows.scalars())


@pytest.fixture
async def start(time_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Any]:
    await seed_reference(sessions)  # no officials: deadlines are the subject here, not their notifications
    task_queue = f"deadlines-{uuid.uuid4()}"
    started: list[WorkflowHandle[Any, Any]] = []

    async def _start(unit: str | None = None, round_id: str = ROUND_ID) -> Case:
        unit = unit or isolated_unit()
        inp = start_input(unit, round_id=round_id, case_id=f"{round_id}-{unit}-{uuid.uuid4().hex[:6]}")
        handle = await time_env.client.start_workflow(
            RecognitionCaseWorkflow.run, inp, id=inp.case_id, task_queue=task_queue
        )
        case = Case(time_env, handle, unit, sessions)
        started.append(handle)
        for _ in range(100):  # until the first task is recorded
            if (await case.status()).open_task is not None:
                return case
            await asyncio.sleep(0.05)
        raise AssertionError(f"case {inp.case_id} opened no task")

    async with stack_worker(time_env.client, task_queue, sessions):
        yield _start
        # A case left running would wake later with no worker to serve it, and the server cannot skip time
        # while its task waits: end what this test started.
        for handle in started:
            with contextlib.suppress(Exception):
                await handle.terminate("test over")


async def _drive_to(case: Case, stage: Stage) -> None:
    for s, role in HUMAN_PATH:
        if s == stage:
            return
        await case.complete(s, role)


async def test_a_unit_that_never_registers_is_reminded_escalated_then_closed_not_registered(start: Any) -> None:
    case = await start()
    result = await case.handle.result()  # the time-skipping server runs the clock to the end
    assert result.outcome == "not_registered"
    if os.environ.get("XPTT_RECORD_DEADLINE_HISTORY"):  # refresh the replay fixture of a case its deadlines closed
        history = await case.handle.fetch_history()
        Path(os.environ["XPTT_RECORD_DEADLINE_HISTORY"]).write_text(history.to_json())
    assert await case.journal() == [
        "case_opened",
        "task_reminded",
        "task_escalated",  # commune chairman
        "task_escalated",  # appraising office
        "deadline_closed",
    ]
    (task,) = await case.tasks()
    assert (task.status, task.escalation_level, task.escalated_to) == ("cancelled", 2, "appraiser")


async def test_an_authority_that_never_decides_is_never_auto_approved_and_is_flagged_stuck(start: Any) -> None:
    case = await start()
    await _drive_to(case, Stage.DECISION)
    await case.env.sleep(timedelta(days=120))
    status = await case.status()
    assert (status.stage, status.status, status.outcome, status.problem) == (Stage.DECISION, "open", None, "stuck")
    assert status.open_task.escalated_to == Role.ADMIN
    journal = await case.journal()
    assert journal[-3:] == ["task_reminded", "task_escalated", "task_stuck"]
    async with case.sessions() as session:
        row = await session.get(CaseRow, case.handle.id)
        assert row is not None and (row.status, row.problem) == ("open", "stuck")
    # the chairman can still decide; the flag clears
    await case.complete(Stage.DECISION, Role.CHAIRMAN)
    assert (await case.status()).problem is None


async def test_moving_a_due_date_rearms_the_wait(start: Any) -> None:
    case = await start()
    first = (await case.status()).open_task
    new_due = first.due_at + timedelta(days=90)
    await case.update(
        RecognitionCaseWorkflow.extend_due,
        ExtendDueInput(task_id=first.task_id, new_due_at=new_due, actor=case.actor(Role.ADMIN), reason="lũ lụt"),
    )
    await case.env.sleep(first.due_at - first.due_at.replace(year=first.due_at.year) + timedelta(days=40))
    status = await case.status()
    assert status.status == "open" and status.open_task.escalation_level == 0  # the old due time passed quietly
    assert status.open_task.due_at == new_due
    result = await case.handle.result()
    assert result.outcome == "not_registered"
    journal = await case.journal()
    assert journal[:2] == ["case_opened", "due_extended"]
    assert journal.count("task_escalated") == 2


async def test_a_hold_pauses_deadlines_and_release_moves_them_by_the_time_held(start: Any) -> None:
    case = await start()
    before = (await case.status()).open_task
    await case.update(RecognitionCaseWorkflow.hold, HoldInput(actor=case.actor(Role.ADMIN), reason="thanh tra"))
    refused = await _refusal(
        case.update(
            RecognitionCaseWorkflow.complete_task,
            CompleteTaskInput(
                task_id=before.task_id,
                actor=case.actor(Role.COMMUNE_OFFICER, unit_scoped=True),
                payload=form_for(Stage.REGISTRATION),
            ),
        )
    )
    assert refused.type == "case_on_hold"
    await case.env.sleep(timedelta(days=200))
    status = await case.status()
    assert (status.status, status.on_hold, status.open_task.escalation_level) == ("open", True, 0)
    await case.update(RecognitionCaseWorkflow.release, ReleaseInput(actor=case.actor(Role.ADMIN), reason="xong"))
    after = (await case.status()).open_task
    assert after.due_at - before.due_at >= timedelta(days=200)
    assert (await case.journal()) == ["case_opened", "case_held", "case_released"]


async def test_withdrawal_closes_the_case_and_cancels_its_task(start: Any) -> None:
    case = await start()
    await case.update(
        RecognitionCaseWorkflow.withdraw, WithdrawInput(actor=case.actor(Role.ADMIN), reason="sáp nhập đơn vị")
    )
    assert (await case.handle.result()).outcome == "withdrawn"
    (task,) = await case.tasks()
    assert task.status == "cancelled"


async def test_admin_actions_need_an_administrator_of_the_province(start: Any) -> None:
    case = await start()
    outsider = Actor(official_id="x", scopes=[RoleScope(role=Role.ADMIN, province_code="01")])
    refused = await _refusal(case.update(RecognitionCaseWorkflow.hold, HoldInput(actor=outsider, reason="r")))
    assert refused.type == "forbidden"
    chairman = case.actor(Role.CHAIRMAN)
    refused = await _refusal(case.update(RecognitionCaseWorkflow.withdraw, WithdrawInput(actor=chairman, reason="r")))
    assert refused.type == "forbidden"
    task = (await case.status()).open_task
    past = task.due_at - timedelta(days=400)
    refused = await _refusal(
        case.update(
            RecognitionCaseWorkflow.extend_due,
            ExtendDueInput(task_id=task.task_id, new_due_at=past, actor=case.actor(Role.ADMIN), reason="r"),
        )
    )
    assert (refused.type, refused.details[0]) == ("invalid_payload", "new_due_at")
    assert await case.journal() == ["case_opened"]


async def test_objections_send_the_case_back_to_the_council_which_must_answer_each(start: Any) -> None:
    case = await start()
    await _drive_to(case, Stage.PUBLIC_POSTING)
    await case.complete(
        Stage.PUBLIC_POSTING, Role.COMMUNE_OFFICER, objections=[{"id": "KN-1", "text": "Số liệu tiêu chí 5 chưa đúng"}]
    )
    assert (await case.status()).stage == Stage.COUNCIL_ASSESSMENT
    refused = await _refusal(case.complete(Stage.COUNCIL_ASSESSMENT, Role.COUNCIL_CHAIR))
    assert (refused.type, refused.details[0]) == ("invalid_payload", "objection_answers")
    await case.complete(
        Stage.COUNCIL_ASSESSMENT,
        Role.COUNCIL_CHAIR,
        objection_answers=[{"objection_id": "KN-1", "answer": "Đã rà soát, giữ nguyên"}],
    )
    await case.complete(Stage.PUBLIC_POSTING, Role.COMMUNE_OFFICER)
    assert (await case.status()).stage == Stage.DOSSIER_SUBMISSION


async def test_returns_are_bounded_then_a_refusal_in_writing_closes_the_case(start: Any) -> None:
    case = await start()
    await _drive_to(case, Stage.APPRAISAL)
    for _ in range(2):
        await case.complete(Stage.APPRAISAL, Role.APPRAISER, outcome="return", missing=["Biên bản họp hội đồng"])
        await case.complete(Stage.DOSSIER_SUBMISSION, Role.COMMUNE_OFFICER)
    refused = await _refusal(case.complete(Stage.APPRAISAL, Role.APPRAISER, outcome="return", missing=["x"]))
    assert (refused.type, refused.details[0]) == ("invalid_payload", "outcome")
    await case.complete(Stage.APPRAISAL, Role.APPRAISER, outcome="refuse", findings="Số liệu không xác minh được")
    assert (await case.handle.result()).outcome == "not_recognised"


async def _refusal(awaitable: Any) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await awaitable
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def _journal_times(case: Case) -> list[tuple[str, datetime]]:
    async with case.sessions() as session:
        rows = await session.execute(
            select(AuditEventRow.action, AuditEventRow.occurred_at)
            .where(AuditEventRow.case_id == case.handle.id)
            .order_by(AuditEventRow.seq)
        )
        return [(a, t) for a, t in rows.all()]


async def test_the_ladder_climbs_at_working_day_times_and_skips_tet(start: Any, time_env: WorkflowEnvironment) -> None:
    # Open the case on 2027-01-25, so that its 20 working days span Tết 2027 (4–10 February).
    now = await time_env.get_current_time()
    await time_env.sleep(datetime(2027, 1, 25, 2, 0, tzinfo=UTC) - now)
    case = await start()
    task = (await case.status()).open_task
    opened = (await _journal_times(case))[0][1]
    spec = load_profile("two-tier").stage(Stage.REGISTRATION)
    due = calendar.due_at(opened, spec.working_days)
    assert task.due_at == due
    weekdays_only = opened.date() + timedelta(days=28)  # 20 weekdays, as if there were no holidays
    assert due.date() > weekdays_only  # the seven days of Tết are not counted
    assert not any(calendar.is_working_day(date(2027, 2, d)) for d in range(4, 11))

    assert (await case.handle.result()).outcome == "not_registered"
    rung1 = calendar.due_at(due, spec.escalation[0].grace_working_days)
    rung2 = calendar.due_at(rung1, spec.escalation[1].grace_working_days)
    expected = [
        ("case_opened", opened),
        ("task_reminded", calendar.reminder_at(due, spec.reminder_working_days_before)),
        ("task_escalated", due),
        ("task_escalated", rung1),
        ("deadline_closed", rung2),
    ]
    actual = await _journal_times(case)
    assert [a for a, _ in actual] == [a for a, _ in expected]
    for (action, at), (_, want) in zip(actual, expected, strict=True):
        assert abs(at - want) < timedelta(seconds=2), (action, at, want)


async def test_reassignment_gives_the_task_to_one_official(start: Any) -> None:
    case = await start()
    task = (await case.status()).open_task
    await case.update(
        RecognitionCaseWorkflow.reassign,
        ReassignInput(task_id=task.task_id, official_id="o-stand-in", actor=case.actor(Role.ADMIN), reason="nghỉ phép"),
    )
    other = case.actor(Role.COMMUNE_OFFICER, unit_scoped=True)  # holds the role, but is not the assignee
    refused = await _refusal(
        case.update(
            RecognitionCaseWorkflow.complete_task,
            CompleteTaskInput(task_id=task.task_id, actor=other, payload=form_for(Stage.REGISTRATION)),
        )
    )
    assert refused.type == "forbidden" and "o-stand-in" in refused.message
    (row,) = await case.tasks()
    assert row.assignee_id == "o-stand-in"
    stand_in = other.model_copy(update={"official_id": "o-stand-in"})
    await case.update(
        RecognitionCaseWorkflow.complete_task,
        CompleteTaskInput(task_id=task.task_id, actor=stand_in, payload=form_for(Stage.REGISTRATION)),
    )
    assert (await case.status()).stage == Stage.SELF_ASSESSMENT


async def test_a_fifth_consecutive_recognition_raises_a_provincial_commendation_task(
    start: Any, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unit = isolated_unit()
    earlier: list[str] = []
    rnd = previous_round(parse_round(ROUND_ID))
    while rnd is not None and len(earlier) < 4:
        earlier.append(rnd.id)
        rnd = previous_round(rnd)
    async with sessions() as session, session.begin():
        for rid in earlier:
            await ensure_round(session, parse_round(rid), "district")
            session.add(_closed_case(rid, unit))
    case = await start(unit)
    await _drive_to(case, Stage.DECISION)
    await case.complete(Stage.DECISION, Role.CHAIRMAN)
    for _ in range(100):
        status = await case.status()
        if status.open_task is not None and status.stage == Stage.COMMENDATION:
            break
        await asyncio.sleep(0.05)
    assert status.open_task.role == Role.PROVINCIAL_CHAIRMAN
    refused = await _refusal(case.complete(Stage.COMMENDATION, Role.CHAIRMAN))
    assert refused.type == "forbidden"
    await case.complete(Stage.COMMENDATION, Role.PROVINCIAL_CHAIRMAN)
    assert (await case.handle.result()).outcome == "recognised"
    assert (await case.journal())[-2:] == ["commendation_due", "commendation_completed"]
    # The four earlier rounds came with the recognition's recording: no activity of its own loaded them.
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in (await case.handle.fetch_history()).events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert "record_transition" in scheduled and "load_recognition_history" not in scheduled


def _closed_case(round_id: str, unit: str) -> CaseRow:
    """The unit's case of an earlier round, recognised under the district procedure."""
    at = datetime(2020, 1, 1, tzinfo=UTC)
    closed = {"stage": "closed", "status": "closed", "outcome": "recognised", "verdict": None, "run_id": None}
    times = {"opened_at": at, "updated_at": at, "closed_at": at}
    return CaseRow(**case_row(unit, round_id=round_id, profile_id="district", last_seq=9, **closed, **times))


async def test_refused_admin_updates_leave_no_event_in_the_history(start: Any) -> None:
    case = await start()
    task = (await case.status()).open_task
    admin_actor = case.actor(Role.ADMIN)
    attempts = [
        (RecognitionCaseWorkflow.release, ReleaseInput(actor=admin_actor, reason="not on hold")),
        (
            RecognitionCaseWorkflow.reassign,
            ReassignInput(task_id="nope", official_id="o", actor=admin_actor, reason="r"),
        ),
        (
            RecognitionCaseWorkflow.extend_due,
            ExtendDueInput(
                task_id=task.task_id, new_due_at=task.due_at - timedelta(days=365), actor=admin_actor, reason="r"
            ),
        ),
        (RecognitionCaseWorkflow.hold, HoldInput(actor=case.actor(Role.AUDITOR), reason="r")),
    ]
    codes = [(await _refusal(case.update(update, inp))).type for update, inp in attempts]
    assert codes == ["not_on_hold", "task_not_open", "invalid_payload", "forbidden"]
    events = [e async for e in case.handle.fetch_history_events()]
    assert not [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]

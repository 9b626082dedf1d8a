"""The case workflow's own guard: its validator refuses bad updates even when they bypass the API, and two
racing completions of one task have one effect."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.case_store import CaseStore
from contracts import Actor, CompleteTaskInput, RecordTransitionInput, RecordTransitionResult
from db.models import AuditEventRow, TaskRow
from domain.access import RoleScope
from domain.stages import Role, Stage
from tests.builders import case_at_registration, start_input
from tests.support import PROVINCE, ROUND_ID, execute_signed, form_for, isolated_unit, seed_reference, sign
from worker import build_worker
from workflows.case import RecognitionCaseWorkflow


def _actor(role: Role, unit: str | None) -> Actor:
    return Actor(official_id=f"o-{role.value}", scopes=[RoleScope(role=role, province_code=PROVINCE, unit_code=unit)])


async def _refusal(handle, inp: CompleteTaskInput) -> ApplicationError:  # type: ignore[no-untyped-def]
    """The case's refusal of `inp`, sent with a valid assertion: what refuses it is the case's own rule."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await execute_signed(handle, RecognitionCaseWorkflow.complete_task, inp)
    assert isinstance(info.value.cause, ApplicationError)
    return info.value.cause


async def test_validator_refuses_wrong_role_other_unit_wrong_task_and_bad_form_before_recording(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, task):
        handle = temporal_env.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
        good = form_for(Stage.REGISTRATION)

        wrong_role = await _refusal(
            handle, CompleteTaskInput(task_id=task["id"], actor=_actor(Role.CHAIRMAN, None), payload=good)
        )
        assert wrong_role.type == "forbidden"
        other_unit = await _refusal(
            handle, CompleteTaskInput(task_id=task["id"], actor=_actor(Role.COMMUNE_OFFICER, "99999"), payload=good)
        )
        assert other_unit.type == "forbidden"
        wrong_task = await _refusal(
            handle,
            CompleteTaskInput(
                task_id=case_id + "-t07", actor=_actor(Role.COMMUNE_OFFICER, stack.unit_code), payload=good
            ),
        )
        assert wrong_task.type == "task_not_open"
        bad_form = await _refusal(
            handle,
            CompleteTaskInput(
                task_id=task["id"], actor=_actor(Role.COMMUNE_OFFICER, stack.unit_code), payload={"registered": 3}
            ),
        )
        assert (bad_form.type, bad_form.details[0]) == ("invalid_payload", "registered")

        # Refused in the validator: the history holds no accepted update and no activity beyond the opening.
        events = [e async for e in handle.fetch_history_events()]
        accepted = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED]
        scheduled = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
        assert (len(accepted), len(scheduled)) == (0, 1)
        status = await handle.query(RecognitionCaseWorkflow.status)
        assert status.stage == Stage.REGISTRATION


async def test_two_racing_completions_of_one_task_have_one_effect(
    temporal_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with case_at_registration(temporal_env, database_url, sessions) as (stack, case_id, task):
        handle = temporal_env.client.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
        inp = CompleteTaskInput(
            task_id=task["id"],
            actor=_actor(Role.COMMUNE_OFFICER, stack.unit_code),
            payload=form_for(Stage.REGISTRATION),
        )
        results = await asyncio.gather(
            *(execute_signed(handle, RecognitionCaseWorkflow.complete_task, inp) for _ in range(2)),
            return_exceptions=True,
        )
        ok = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
        assert (len(ok), len(refused)) == (1, 1)
        assert isinstance(refused[0].cause, ApplicationError) and refused[0].cause.type == "task_not_open"

        # The same update id sent again (a client retry) is the same update: no second effect.
        retry_id = str(uuid.uuid4())
        nxt = await stack.open_task(case_id, "commune_officer")
        second = CompleteTaskInput(
            task_id=nxt["id"],
            actor=_actor(Role.COMMUNE_OFFICER, stack.unit_code),
            payload=form_for(Stage.SELF_ASSESSMENT),
        )
        second = sign(second, case_id, update_id=retry_id)
        first_result = await handle.execute_update(RecognitionCaseWorkflow.complete_task, second, id=retry_id)
        again = await handle.execute_update(RecognitionCaseWorkflow.complete_task, second, id=retry_id)
        assert again == first_result
        async with sessions() as session:
            journal = await session.scalar(
                select(func.count()).select_from(AuditEventRow).where(AuditEventRow.case_id == case_id)
            )
        assert journal == 3  # opened, registered, self-assessed


async def test_a_task_completed_the_moment_it_reaches_the_inbox_is_taken(
    temporal_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The inbox shows a new task once its transition commits, before the workflow hears back from the recording:
    an official who acts at once is not refused."""
    await seed_reference(sessions)
    unit = isolated_unit()
    store = CaseStore(sessions)
    recorded = asyncio.Event()

    @activity.defn(name="record_transition")
    async def record_then_linger(inp: RecordTransitionInput) -> RecordTransitionResult:
        result = await store.record_transition(inp)
        if inp.transition.seq == 1:
            recorded.set()
            await asyncio.sleep(3)  # the first task is in the inbox; the workflow does not know it yet
        return result

    queue = f"linger-{uuid.uuid4()}"
    case_id = f"{ROUND_ID}-{unit}-{uuid.uuid4().hex[:6]}"
    async with build_worker(temporal_env.client, queue, [record_then_linger, store.load_recognition_history]):
        handle = await temporal_env.client.start_workflow(
            RecognitionCaseWorkflow.run,
            start_input(unit, case_id=case_id),
            id=case_id,
            task_queue=queue,
        )
        await asyncio.wait_for(recorded.wait(), 30)
        async with sessions() as session:
            row = await session.get(TaskRow, f"{case_id}-t01")
        assert row is not None and row.status == "open"
        result = await execute_signed(
            handle,
            RecognitionCaseWorkflow.complete_task,
            CompleteTaskInput(
                task_id=row.id, actor=_actor(Role.COMMUNE_OFFICER, unit), payload=form_for(Stage.REGISTRATION)
            ),
        )
        assert result.stage == Stage.SELF_ASSESSMENT
        await handle.terminate("test over")

"""Officials' tasks: the inbox and completing a task (a Temporal Update, validated by the case workflow)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query
from pydantic import BaseModel
from sqlalchemy import and_, false, or_, select
from sqlalchemy.sql.elements import ColumnElement
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Principal, PrincipalDep, SessionDep, TemporalDep
from api.problems import Problem
from db.models import TaskRow, UnitRow
from domain.access import RoleScope, may_act, may_read
from domain.stages import Role
from workflows.case import RecognitionCaseWorkflow
from workflows.inputs import Actor, CompleteTaskInput, CompleteTaskResult

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

# How each refusal of the case workflow's validator maps to HTTP.
UPDATE_REFUSALS = {"forbidden": 403, "task_not_open": 409, "invalid_payload": 422, "not_started": 409}


class TaskOut(BaseModel):
    id: str
    case_id: str
    stage: str
    role: str
    unit_code: str
    unit_name: str
    province_code: str
    status: str
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None


def scope_filter(scopes: tuple[RoleScope, ...], *, acting: bool) -> ColumnElement[bool]:
    """Tasks the official may act on (`acting`) or read, as one SQL condition."""
    clauses = []
    for s in scopes:
        parts = [TaskRow.province_code == s.province_code]
        if s.unit_code is not None:
            parts.append(TaskRow.unit_code == s.unit_code)
        if acting:
            parts.append(TaskRow.role == s.role.value)
        clauses.append(and_(*parts))
    return or_(*clauses) if clauses else false()


def _out(task: TaskRow, unit_name: str) -> TaskOut:
    return TaskOut(
        id=task.id,
        case_id=task.case_id,
        stage=task.stage,
        role=task.role,
        unit_code=task.unit_code,
        unit_name=unit_name,
        province_code=task.province_code,
        status=task.status,
        created_at=task.created_at,
        due_at=task.due_at,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
    )


@router.get("", response_model=list[TaskOut])
async def list_tasks(
    principal: PrincipalDep,
    session: SessionDep,
    mine: Annotated[bool, Query(description="only tasks I can act on (my roles, my units)")] = True,
    status: Annotated[str, Query(pattern="^(open|completed|cancelled|any)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[TaskOut]:
    stmt = (
        select(TaskRow, UnitRow.name)
        .join(UnitRow, UnitRow.code == TaskRow.unit_code)
        .where(scope_filter(principal.scopes, acting=mine))
        .order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.id)
        .limit(limit)
    )
    if status != "any":
        stmt = stmt.where(TaskRow.status == status)
    rows = (await session.execute(stmt)).all()
    return [_out(task, name) for task, name in rows]


async def _load_task(session: SessionDep, principal: Principal, task_id: str) -> TaskRow:
    task = await session.get(TaskRow, task_id)
    if task is None or not may_read(principal.scopes, task.unit_code, task.province_code):
        raise Problem(404, "task_not_found", f"no task {task_id} in your units")
    return task


@router.get("/{task_id}", response_model=TaskOut)
async def get_task(task_id: str, principal: PrincipalDep, session: SessionDep) -> TaskOut:
    task = await _load_task(session, principal, task_id)
    unit = await session.get(UnitRow, task.unit_code)
    return _out(task, unit.name if unit else task.unit_code)


@router.post("/{task_id}/complete", response_model=CompleteTaskResult)
async def complete_task(
    task_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    payload: Annotated[dict[str, Any], Body(description="the form of the task's stage")],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CompleteTaskResult:
    task = await _load_task(session, principal, task_id)
    session.expunge(task)
    await session.rollback()  # release the connection before waiting on Temporal
    if task.status != "open":
        raise Problem(409, "task_not_open", f"task {task_id} is {task.status}")
    if not may_act(principal.scopes, Role(task.role), task.unit_code, task.province_code):
        raise Problem(403, "forbidden", f"completing this task takes role {task.role} for unit {task.unit_code}")
    handle = temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, task.case_id)
    update = CompleteTaskInput(
        task_id=task_id, actor=Actor(official_id=principal.official_id, scopes=list(principal.scopes)), payload=payload
    )
    try:
        return await handle.execute_update(
            RecognitionCaseWorkflow.complete_task,
            update,
            id=f"{task_id}:{idempotency_key}" if idempotency_key else f"{task_id}:{uuid.uuid4()}",
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in UPDATE_REFUSALS:
            field = cause.details[0] if cause.details else None
            extra = {"field": field} if field else {}
            detail = f"{field}: {cause.message}" if field else cause.message
            raise Problem(UPDATE_REFUSALS[cause.type], cause.type, detail, **extra) from None
        raise Problem(502, "update_failed", str(cause or exc)) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Problem(409, "case_not_running", f"the case of task {task_id} is not running") from None
        raise Problem(503, "temporal_unavailable", exc.message) from None

"""Officials' tasks: the inbox (filters, due-time order, keyset pages), one task with the form it expects, and
completing a task (a Temporal Update, validated by the case workflow)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import DateTime, Row, Select, and_, cast, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.sql.elements import ColumnElement
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api import cursor as cursors
from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.forms import FormSpec, form_spec
from api.problems import problems
from db.models import CaseRow, TaskRow, UnitRow
from domain.stages import Stage
from services.access import Principal, actionable, readable, require_complete, require_read
from services.errors import Refusal
from services.fields import ID_PATTERN, ROUND_PATTERN, UNIT_PATTERN, Instant
from services.updates import update_refusal
from workflows.case import RecognitionCaseWorkflow
from workflows.inputs import Actor, CompleteTaskInput, CompleteTaskResult

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

TaskStatus = Literal["open", "completed", "cancelled", "any"]
Sort = Literal["due", "-due"]


class TaskOut(BaseModel):
    id: str
    case_id: str
    round_id: str
    stage: str
    role: str
    unit_code: str
    unit_name: str
    province_code: str
    status: str
    assignee_id: str | None
    escalation_level: int = Field(description="rungs of the escalation ladder climbed (0: with its own role)")
    escalated_to: str | None
    overdue: bool
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None


def task_out(task: TaskRow | Row[*tuple[Any, ...]], unit_name: str, round_id: str, *, now: datetime) -> TaskOut:
    return TaskOut(
        id=task.id,
        case_id=task.case_id,
        round_id=round_id,
        stage=task.stage,
        role=task.role,
        unit_code=task.unit_code,
        unit_name=unit_name,
        province_code=task.province_code,
        status=task.status,
        assignee_id=task.assignee_id,
        escalation_level=task.escalation_level or 0,
        escalated_to=task.escalated_to,
        overdue=task.status == "open" and task.due_at is not None and task.due_at < now,
        created_at=task.created_at,
        due_at=task.due_at,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
    )


# A missing due time sorts as the latest (NULLS LAST ascending, NULLS FIRST descending): as 'infinity'.
_LATEST = cast(literal_column("'infinity'"), DateTime(timezone=True))


def _after(c: cursors.Cursor, *, descending: bool) -> ColumnElement[bool]:
    """Rows after the cursor in (due_at, id) order, a missing due time counting as the latest.

    One row comparison rather than an OR of ranges: PostgreSQL then reads the index in due-time order and stops
    after the page, where an OR made it collect every matching row of the scope (a bitmap) and sort them."""
    due, tid = TaskRow.due_at, TaskRow.id
    key = _LATEST if c.key is None else literal(c.key, DateTime(timezone=True))
    if not descending:
        if c.key is None:
            return and_(due.is_(None), tid > c.id)
        return tuple_(func.coalesce(due, _LATEST), tid) > tuple_(key, literal(c.id))
    if c.key is None:
        return tuple_(func.coalesce(due, _LATEST), tid) < tuple_(key, literal(c.id))
    return tuple_(due, tid) < tuple_(key, literal(c.id))


# What an inbox row shows, read as plain rows: no ORM object per task, and not the completion's payload.
INBOX_COLUMNS = (
    TaskRow.id,
    TaskRow.case_id,
    TaskRow.stage,
    TaskRow.role,
    TaskRow.unit_code,
    TaskRow.province_code,
    TaskRow.status,
    TaskRow.assignee_id,
    TaskRow.escalation_level,
    TaskRow.escalated_to,
    TaskRow.created_at,
    TaskRow.due_at,
    TaskRow.completed_at,
    TaskRow.completed_by,
)


def inbox_statement(
    principal: Principal,
    *,
    now: datetime,
    mine: bool = True,
    status: TaskStatus = "open",
    stage: list[Stage] | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    escalated_to_me: bool = False,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    unit: str | None = None,
    round: str | None = None,
    sort: Sort = "due",
    after: cursors.Cursor | None = None,
) -> Select[*tuple[Any, ...]]:
    """The inbox query (without its LIMIT): the official's tasks under the filters, in (due time, id) order, after
    the cursor's row when given."""
    descending = sort == "-due"
    stmt = (
        select(*INBOX_COLUMNS, UnitRow.name.label("unit_name"), CaseRow.round_id)
        .join(UnitRow, UnitRow.code == TaskRow.unit_code)
        .join(CaseRow, CaseRow.id == TaskRow.case_id)
        .where(readable(principal, TaskRow.unit_code, TaskRow.province_code))
    )
    if escalated_to_me:
        stmt = stmt.where(actionable(principal, TaskRow.unit_code, TaskRow.province_code, TaskRow.escalated_to))
    elif mine:
        stmt = stmt.where(
            actionable(principal, TaskRow.unit_code, TaskRow.province_code, TaskRow.role),
            or_(TaskRow.assignee_id.is_(None), TaskRow.assignee_id == principal.official_id),
        )
    if status != "any":
        stmt = stmt.where(TaskRow.status == status)
    if stage:
        stmt = stmt.where(TaskRow.stage.in_([s.value for s in stage]))
    if overdue is True:
        stmt = stmt.where(TaskRow.status == "open", TaskRow.due_at < now)
    elif overdue is False:
        stmt = stmt.where(or_(TaskRow.status != "open", TaskRow.due_at.is_(None), TaskRow.due_at >= now))
    if escalated is not None:
        stmt = stmt.where(TaskRow.escalation_level > 0 if escalated else TaskRow.escalation_level == 0)
    if due_before is not None:
        stmt = stmt.where(TaskRow.due_at < due_before)
    if due_after is not None:
        stmt = stmt.where(TaskRow.due_at >= due_after)
    if unit is not None:
        stmt = stmt.where(TaskRow.unit_code == unit)
    if round is not None:
        stmt = stmt.where(CaseRow.round_id == round)
    if after is not None:
        stmt = stmt.where(_after(after, descending=descending))
    if descending:
        stmt = stmt.order_by(TaskRow.due_at.desc().nulls_first(), TaskRow.id.desc())
    else:
        stmt = stmt.order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.id.asc())
    return stmt


NEXT_CURSOR = "X-Next-Cursor"


def _link(query: dict[str, Any]) -> str:
    """The inbox URL of the same query (parameters left at their defaults omitted)."""
    pairs = {
        k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in query.items() if v not in (None, [])
    }
    return f"{router.prefix}?{urlencode(pairs, doseq=True)}"


TaskId = Annotated[str, Path(pattern=ID_PATTERN, description="e.g. qd06-2019:2027-11953-t01")]


@router.get(
    "",
    response_model=list[TaskOut],
    summary="My tasks (the inbox)",
    responses={
        200: {
            "description": "A page of tasks, by due time; the next page's cursor is in X-Next-Cursor (and Link)",
            "headers": {
                NEXT_CURSOR: {
                    "description": "pass as `cursor` for the next page; absent on the last page",
                    "schema": {"type": "string"},
                },
                "Link": {"description": 'the next page, rel="next"', "schema": {"type": "string"}},
            },
        },
        **problems(),
    },
)
async def list_tasks(
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    mine: Annotated[
        bool,
        Query(
            description="only tasks I can act on (my roles in my units, assigned to me or nobody); "
            "false: every task in my scope"
        ),
    ] = True,
    status: Annotated[TaskStatus, Query()] = "open",
    stage: Annotated[list[Stage] | None, Query(description="one or more stages")] = None,
    overdue: Annotated[
        bool | None, Query(description="true: open tasks past their due time; false: the others")
    ] = None,
    escalated: Annotated[bool | None, Query(description="true: tasks that climbed their escalation ladder")] = None,
    escalated_to_me: Annotated[
        bool,
        Query(
            description="instead of `mine`: tasks whose escalation ladder reached one of my roles in my units (to "
            "chase; the task's own role still completes them)"
        ),
    ] = False,
    due_before: Annotated[Instant | None, Query(description="due strictly before this time")] = None,
    due_after: Annotated[Instant | None, Query(description="due at or after this time")] = None,
    unit: Annotated[str | None, Query(pattern=UNIT_PATTERN, description="a unit code")] = None,
    round: Annotated[str | None, Query(pattern=ROUND_PATTERN, description="a round id, e.g. qd06-2019:2027")] = None,
    sort: Annotated[
        Sort, Query(description="due: soonest first; -due: latest first (no due time counts as latest)")
    ] = "due",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000, description="X-Next-Cursor of the previous page")] = None,
) -> list[TaskOut]:
    now = datetime.now(UTC)
    after = cursors.decode(cursor, sort=sort) if cursor is not None else None
    stmt = inbox_statement(
        principal,
        now=now,
        mine=mine,
        status=status,
        stage=stage,
        overdue=overdue,
        escalated=escalated,
        escalated_to_me=escalated_to_me,
        due_before=due_before,
        due_after=due_after,
        unit=unit,
        round=round,
        sort=sort,
        after=after,
    )
    rows = (await session.execute(stmt.limit(limit + 1))).all()
    page = [task_out(row, row.unit_name, row.round_id, now=now) for row in rows[:limit]]
    if len(rows) > limit:
        last = page[-1]
        token = cursors.encode(cursors.Cursor(sort=sort, key=last.due_at, id=last.id))
        response.headers[NEXT_CURSOR] = token
        query = {
            "mine": mine,
            "escalated_to_me": escalated_to_me,
            "status": status,
            "stage": [s.value for s in stage or []],
            "overdue": overdue,
            "escalated": escalated,
            "due_before": due_before.isoformat() if due_before else None,
            "due_after": due_after.isoformat() if due_after else None,
            "unit": unit,
            "round": round,
            "sort": sort,
            "limit": limit,
            "cursor": token,
        }
        response.headers["Link"] = f'<{_link(query)}>; rel="next"'
    return page


class CaseContext(BaseModel):
    id: str
    round_id: str
    unit_code: str
    unit_name: str
    province_code: str
    locality_type: str
    rule_set_id: str
    profile_id: str
    stage: str
    status: str
    on_hold: bool
    outcome: str | None
    opened_at: datetime


class TaskDetailOut(TaskOut):
    case: CaseContext
    form: FormSpec | None = Field(description="what completing the task takes; null when the task is not open")
    may_complete: bool = Field(description="whether the caller holds what completing this task takes")


async def _load(session: SessionDep, task_id: str) -> tuple[TaskRow, CaseRow, str] | None:
    row = (
        await session.execute(
            select(TaskRow, CaseRow, UnitRow.name)
            .join(CaseRow, CaseRow.id == TaskRow.case_id)
            .join(UnitRow, UnitRow.code == TaskRow.unit_code)
            .where(TaskRow.id == task_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


@router.get(
    "/{task_id}",
    response_model=TaskDetailOut,
    summary="One task, its case and the form it expects",
    responses=problems(404),
)
async def get_task(task_id: TaskId, principal: PrincipalDep, session: SessionDep) -> TaskDetailOut:
    found = await _load(session, task_id)
    if found is None:
        raise Refusal(404, "task_not_found", f"no task {task_id} in your units")
    task, case, unit_name = found
    require_read(principal, task.unit_code, task.province_code, what=f"task {task_id}", code="task_not_found")
    try:
        require_complete(principal, task.role, task.unit_code, task.province_code, task_id=task.id)
        may_complete = task.status == "open" and task.assignee_id in (None, principal.official_id)
    except Refusal:
        may_complete = False
    base = task_out(task, unit_name, case.round_id, now=datetime.now(UTC))
    return TaskDetailOut(
        **base.model_dump(),
        case=CaseContext(
            id=case.id,
            round_id=case.round_id,
            unit_code=case.unit_code,
            unit_name=unit_name,
            province_code=case.province_code,
            locality_type=case.locality_type,
            rule_set_id=case.rule_set_id,
            profile_id=case.profile_id,
            stage=case.stage,
            status=case.status,
            on_hold=bool(case.on_hold),
            outcome=case.outcome,
            opened_at=case.opened_at,
        ),
        form=await form_spec(session, task, case) if task.status == "open" else None,
        may_complete=may_complete,
    )


@router.post(
    "/{task_id}/complete",
    response_model=CompleteTaskResult,
    summary="Complete a task with its stage's form",
    responses=problems(403, 404, 409, 502, 503),
)
async def complete_task(
    task_id: TaskId,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    payload: Annotated[dict[str, Any], Body(description="the form of the task's stage (see GET /v1/tasks/{id})")],
    idempotency_key: Annotated[
        str | None, Header(max_length=200, description="a retry with the same key is the same update")
    ] = None,
) -> CompleteTaskResult:
    found = await _load(session, task_id)
    session.expunge_all()  # keep the rows readable after the rollback
    await session.rollback()  # release the connection before waiting on Temporal
    if found is None:
        raise Refusal(404, "task_not_found", f"no task {task_id} in your units")
    task, _, _ = found
    require_read(principal, task.unit_code, task.province_code, what=f"task {task_id}", code="task_not_found")
    require_complete(principal, task.role, task.unit_code, task.province_code, task_id=task_id)
    update_id = f"{task_id}:{idempotency_key}" if idempotency_key else f"{task_id}:{uuid.uuid4()}"
    # A retry of the update that completed the task goes to the case again, which answers it with the same result.
    retry = idempotency_key is not None and task.status == "completed" and task.update_id == update_id
    if task.status != "open" and not retry:
        raise Refusal(409, "task_not_open", f"task {task_id} is {task.status}")
    if task.assignee_id is not None and task.assignee_id != principal.official_id:
        raise Refusal(403, "forbidden", f"task {task_id} is assigned to official {task.assignee_id}")
    handle = temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, task.case_id)
    update = CompleteTaskInput(
        task_id=task_id, actor=Actor(official_id=principal.official_id, scopes=list(principal.scopes)), payload=payload
    )
    try:
        return await handle.execute_update(RecognitionCaseWorkflow.complete_task, update, id=update_id)
    except (WorkflowUpdateFailedError, RPCError) as exc:
        raise await update_refusal(exc, handle, case_id=task.case_id) from None

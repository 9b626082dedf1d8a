"""Officials' tasks: a page of the inbox, one task with its case and the form it expects, and completing a task (a
Temporal Update the case workflow validates)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from contracts import CompleteTaskInput, CompleteTaskResult
from db.models import CaseRow, TaskRow
from db.readonly import ReadOnly, Rows, dialect_of, fetch_sql
from services import idempotency
from services.access import Principal, require_complete, require_read, signed
from services.cases.schemas import from_row
from services.errors import Refusal
from services.inbox import cursor as cursors
from services.inbox.compiled import inbox_sql
from services.inbox.forms import form_spec
from services.inbox.queries import task_with_case
from services.inbox.schemas import CaseContext, InboxPage, InboxQuery, TaskDetailOut, TaskOut, task_out
from services.updates import UPDATE_ERRORS, update_refusal
from workflows.case import RecognitionCaseWorkflow


async def list_tasks(session: AsyncSession, principal: Principal, query: InboxQuery, *, now: datetime) -> InboxPage:
    """A page of the official's tasks under the query's filters, in due-time order, from the query's cursor on."""
    rows = await _page_rows(session, principal, query, now=now)
    items = [TaskOut.model_validate(dict(row)) for row in rows[: query.limit]]
    if len(rows) <= query.limit:
        return InboxPage(items=items)
    last = cursors.Cursor(sort=query.sort, key=items[-1].due_at, id=items[-1].id)
    return InboxPage(items=items, next_cursor=cursors.encode(last))


async def list_tasks_json(
    db: ReadOnly | AsyncSession, principal: Principal, query: InboxQuery, *, now: datetime
) -> tuple[bytes, str | None]:
    """`list_tasks` as the API answers it: the page's items as JSON, byte for byte what `list[TaskOut]` serialises
    to, without building and validating a model per task (a row holds TaskOut's fields in their order), and the
    next page's cursor."""
    rows = await _page_rows(db, principal, query, now=now)
    items = [dict(row) for row in rows[: query.limit]]
    body = to_json(items)
    if len(rows) <= query.limit:
        return body, None
    last = cursors.Cursor(sort=query.sort, key=items[-1]["due_at"], id=items[-1]["id"])
    return body, cursors.encode(last)


async def _page_rows(db: ReadOnly | AsyncSession, principal: Principal, query: InboxQuery, *, now: datetime) -> Rows:
    """The page's rows and one more (there is a next page when it is there): the inbox SQL (`inbox_statement`),
    compiled once per shape (`compiled.inbox_sql`)."""
    after = cursors.decode(query.cursor, sort=query.sort) if query.cursor is not None else None
    filters = query.model_dump(exclude={"limit", "cursor"})
    sql, args = inbox_sql(dialect_of(db), principal, now=now, after=after, limit=query.limit + 1, **filters)
    return await fetch_sql(db, sql, args)


def _readable(
    principal: Principal, task_id: str, found: tuple[TaskRow, CaseRow, str] | None
) -> tuple[TaskRow, CaseRow, str]:
    """The task found, when the official's scope covers its unit; absent otherwise."""
    if found is None:
        raise Refusal(404, "task_not_found", f"no task {task_id} in your units")
    task = found[0]
    require_read(principal, task.unit_code, task.province_code, what=f"task {task_id}", code="task_not_found")
    return found


def _may_complete(principal: Principal, task: TaskRow) -> bool:
    try:
        require_complete(principal, task.role, task.unit_code, task.province_code, task_id=task.id)
    except Refusal:
        return False
    return task.status == "open" and task.assignee_id in (None, principal.official_id)


async def get_task(session: AsyncSession, principal: Principal, task_id: str, *, now: datetime) -> TaskDetailOut:
    """The task, its case, and the form completing it takes (none once it is not open)."""
    task, case, unit_name = _readable(principal, task_id, await task_with_case(session, task_id))
    return TaskDetailOut(
        **task_out(task, unit_name, case.round_id, now=now).model_dump(),
        case=from_row(CaseContext, case, unit_name=unit_name),
        form=await form_spec(session, task, case) if task.status == "open" else None,
        may_complete=_may_complete(principal, task),
    )


async def complete_task(
    session: AsyncSession,
    temporal: Client,
    principal: Principal,
    task_id: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
) -> CompleteTaskResult:
    """Send the task's form to its case; the same idempotency key with the same form sends the same update again
    (and with another form is refused)."""
    found = await task_with_case(session, task_id)
    session.expunge_all()  # keep the rows readable after the rollback
    await session.rollback()  # release the connection before waiting on Temporal
    task, _, _ = _readable(principal, task_id, found)
    require_complete(principal, task.role, task.unit_code, task.province_code, task_id=task_id)
    if idempotency_key is not None:  # one key, one body: another body under the key is refused (422)
        route = f"POST /v1/tasks/{task_id}/complete"
        await idempotency.claim(
            session, key=idempotency_key, official_id=principal.official_id, route=route, body=payload
        )
    update_id = f"{task_id}:{idempotency_key}" if idempotency_key else f"{task_id}:{uuid.uuid4()}"
    # A retry of the update that completed the task goes to the case again, which answers it with the same result.
    retry = idempotency_key is not None and task.status == "completed" and task.update_id == update_id
    if task.status != "open" and not retry:
        raise Refusal(409, "task_not_open", f"task {task_id} is {task.status}")
    if task.assignee_id is not None and task.assignee_id != principal.official_id:
        raise Refusal(403, "forbidden", f"task {task_id} is assigned to official {task.assignee_id}")
    handle = temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, task.case_id)
    update = signed(principal, task.case_id, CompleteTaskInput, update_id=update_id, task_id=task_id, payload=payload)
    try:
        return await handle.execute_update(RecognitionCaseWorkflow.complete_task, update, id=update_id)
    except UPDATE_ERRORS as exc:
        raise await update_refusal(exc, handle, case_id=task.case_id) from None

"""Officials' tasks over HTTP: the inbox (keyset pages: X-Next-Cursor and Link), one task, completing one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, Path, Query, Response

from api.deps import PrincipalDep, ReadDep, ReadPrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from contracts import CompleteTaskResult
from services.fields import ID_PATTERN
from services.inbox import service as inbox
from services.inbox.schemas import InboxQuery, TaskDetailOut, TaskOut

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

NEXT_CURSOR = "X-Next-Cursor"
TaskId = Annotated[str, Path(pattern=ID_PATTERN, description="e.g. qd06-2019:2027-11953-t01")]
PAGE = {
    "description": "A page of tasks, by due time; the next page's cursor is in X-Next-Cursor (and Link)",
    "headers": {
        NEXT_CURSOR: {
            "description": "pass as `cursor` for the next page; absent on the last page",
            "schema": {"type": "string"},
        },
        "Link": {"description": 'the next page, rel="next"', "schema": {"type": "string"}},
    },
}


def _next_page(query: InboxQuery, cursor: str) -> str:
    """The inbox URL of the same query from the cursor on (parameters left at their defaults omitted)."""
    params: dict[str, Any] = {
        "mine": query.mine,
        "escalated_to_me": query.escalated_to_me,
        "status": query.status,
        "stage": [s.value for s in query.stage or []],
        "overdue": query.overdue,
        "escalated": query.escalated,
        "due_before": query.due_before.isoformat() if query.due_before else None,
        "due_after": query.due_after.isoformat() if query.due_after else None,
        "unit": query.unit,
        "round": query.round,
        "sort": query.sort,
        "limit": query.limit,
        "cursor": cursor,
    }
    pairs = {
        k: ("true" if v else "false") if isinstance(v, bool) else v for k, v in params.items() if v not in (None, [])
    }
    return f"{router.prefix}?{urlencode(pairs, doseq=True)}"


@router.get("", response_model=list[TaskOut], summary="My tasks (the inbox)", responses={200: PAGE, **problems()})
async def list_tasks(principal: ReadPrincipalDep, db: ReadDep, query: Annotated[InboxQuery, Query()]) -> Response:
    """The page as `list[TaskOut]` serialises it, written by the service (`list_tasks_json`): a page of 50 tasks is
    not validated twice more on its way out. It only reads (`ReadDep`)."""
    body, next_cursor = await inbox.list_tasks_json(db, principal, query, now=datetime.now(UTC))
    response = Response(body, media_type="application/json")
    if next_cursor is not None:
        response.headers[NEXT_CURSOR] = next_cursor
        response.headers["Link"] = f'<{_next_page(query, next_cursor)}>; rel="next"'
    return response


@router.get(
    "/{task_id}",
    response_model=TaskDetailOut,
    summary="One task, its case and the form it expects",
    responses=problems(404),
)
async def get_task(task_id: TaskId, principal: PrincipalDep, session: SessionDep) -> TaskDetailOut:
    return await inbox.get_task(session, principal, task_id, now=datetime.now(UTC))


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
    return await inbox.complete_task(session, temporal, principal, task_id, payload, idempotency_key)

"""The administrators' stuck-approvals board: what is overdue, escalated, on hold, undelivered or failing, grouped and
counted by unit and stage, with the time each has spent in its stage.

Overdue, escalated and held come from the read model (one SQL query each); failed notifications from the outbox;
cases whose activities keep failing from Temporal (the running cases of the province, described for pending
activities whose attempt has reached `min_attempts`): the read model cannot know what never reached it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from db.models import CaseRow, TaskRow, UnitRow
from db.models_notify import NotificationRow
from services.access import require_oversight
from services.errors import Refusal
from services.fields import PROVINCE_PATTERN
from workflows.case import STAGE, UNIT_CODE

router = APIRouter(prefix="/v1/board", tags=["administrators"])

Reason = Literal["overdue", "escalated", "stuck", "on_hold", "failed_notification", "failing_activity"]


class StuckItem(BaseModel):
    reason: Reason
    case_id: str
    task_id: str | None
    unit_code: str
    unit_name: str
    stage: str
    since: datetime | None = Field(description="when the case entered its stage (or the failing run started)")
    seconds_in_stage: int | None
    due_at: datetime | None
    escalation_level: int | None
    detail: str | None = Field(description="e.g. the failing activity and its last error")


class BoardGroup(BaseModel):
    unit_code: str
    unit_name: str
    stage: str
    overdue: int
    escalated: int
    stuck: int
    on_hold: int
    failed_notifications: int
    failing_activities: int
    max_seconds_in_stage: int | None


class BoardOut(BaseModel):
    generated_at: datetime
    provinces: list[str]
    totals: dict[Reason, int]
    groups: list[BoardGroup] = Field(description="one per (unit, stage) with anything stuck, most stuck first")
    items: list[StuckItem] = Field(description="the stuck things themselves, longest in stage first (up to `limit`)")


@router.get(
    "",
    response_model=BoardOut,
    summary="Stuck approvals: overdue, escalated, on hold, failed notifications, failing activities",
    responses=problems(403, 503),
)
async def board(
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    province: Annotated[
        str | None, Query(pattern=PROVINCE_PATTERN, description="one of your provinces (default: all)")
    ] = None,
    min_attempts: Annotated[
        int, Query(ge=2, le=1000, description="an activity counts as failing from this attempt")
    ] = 3,
    failing: Annotated[bool, Query(description="ask Temporal for failing activities (describes running cases)")] = True,
    limit: Annotated[int, Query(ge=0, le=1000, description="items returned (counts cover everything)")] = 200,
) -> BoardOut:
    provinces = sorted(require_oversight(principal, province))
    now = datetime.now(UTC)
    items: list[StuckItem] = []

    tasks = (
        await session.execute(
            select(TaskRow, UnitRow.name)
            .join(UnitRow, UnitRow.code == TaskRow.unit_code)
            .where(
                TaskRow.province_code.in_(provinces),
                TaskRow.status == "open",
                (TaskRow.due_at < now) | (TaskRow.escalation_level > 0) | TaskRow.stuck,
            )
        )
    ).all()
    for task, unit_name in tasks:
        reason: Reason = "stuck" if task.stuck else "escalated" if task.escalation_level else "overdue"
        items.append(
            StuckItem(
                reason=reason,
                case_id=task.case_id,
                task_id=task.id,
                unit_code=task.unit_code,
                unit_name=unit_name,
                stage=task.stage,
                since=task.created_at,
                seconds_in_stage=int((now - task.created_at).total_seconds()),
                due_at=task.due_at,
                escalation_level=task.escalation_level,
                detail=f"escalated to {task.escalated_to}" if task.escalated_to else None,
            )
        )

    held = (
        await session.execute(
            select(CaseRow, UnitRow.name, func.max(TaskRow.created_at))
            .join(UnitRow, UnitRow.code == CaseRow.unit_code)
            .outerjoin(TaskRow, (TaskRow.case_id == CaseRow.id) & (TaskRow.status == "open"))
            .where(CaseRow.province_code.in_(provinces), CaseRow.status == "open", CaseRow.on_hold)
            .group_by(CaseRow.id, UnitRow.name)
        )
    ).all()
    for case, unit_name, since in held:
        items.append(
            _case_item(
                "on_hold",
                case.id,
                case.unit_code,
                unit_name,
                case.stage,
                since or case.updated_at,
                now,
                detail=case.problem,
            )
        )

    failed = (
        await session.execute(
            select(NotificationRow, CaseRow.stage, UnitRow.name)
            .outerjoin(CaseRow, CaseRow.id == NotificationRow.case_id)
            .outerjoin(UnitRow, UnitRow.code == NotificationRow.unit_code)
            .where(NotificationRow.province_code.in_(provinces), NotificationRow.status == "failed")
        )
    ).all()
    for note, stage, unit_name in failed:
        items.append(
            StuckItem(
                reason="failed_notification",
                case_id=note.case_id or "",
                task_id=note.task_id,
                unit_code=note.unit_code or "",
                unit_name=unit_name or note.unit_code or "",
                stage=stage or "",
                since=note.failed_at or note.created_at,
                seconds_in_stage=None,
                due_at=None,
                escalation_level=None,
                detail=f"{note.kind} to {note.official_id} by {note.channel}: {note.last_error or 'failed'}",
            )
        )

    if failing:
        names = dict(
            (
                await session.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.province_code.in_(provinces)))
            ).all()
        )
        await session.rollback()  # release the connection while Temporal answers
        items += await failing_cases(temporal, provinces, min_attempts=min_attempts, now=now, unit_names=names)

    return _assemble(now, provinces, items, limit)


def _case_item(
    reason: Reason,
    case_id: str,
    unit: str,
    unit_name: str,
    stage: str,
    since: datetime | None,
    now: datetime,
    *,
    detail: str | None = None,
) -> StuckItem:
    return StuckItem(
        reason=reason,
        case_id=case_id,
        task_id=None,
        unit_code=unit,
        unit_name=unit_name,
        stage=stage,
        since=since,
        seconds_in_stage=int((now - since).total_seconds()) if since else None,
        due_at=None,
        escalation_level=None,
        detail=detail,
    )


COLUMN: dict[Reason, str] = {
    "overdue": "overdue",
    "escalated": "escalated",
    "stuck": "stuck",
    "on_hold": "on_hold",
    "failed_notification": "failed_notifications",
    "failing_activity": "failing_activities",
}


def _assemble(now: datetime, provinces: list[str], items: list[StuckItem], limit: int) -> BoardOut:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMN.values(), 0))
    names: dict[str, str] = {}
    oldest: dict[tuple[str, str], int] = {}
    totals: dict[Reason, int] = dict.fromkeys(COLUMN, 0)
    for item in items:
        key = (item.unit_code, item.stage)
        counts[key][COLUMN[item.reason]] += 1
        totals[item.reason] += 1
        names[item.unit_code] = item.unit_name
        if item.seconds_in_stage is not None:
            oldest[key] = max(oldest.get(key, 0), item.seconds_in_stage)
    groups = [
        BoardGroup(
            unit_code=unit, unit_name=names[unit], stage=stage, max_seconds_in_stage=oldest.get((unit, stage)), **c
        )
        for (unit, stage), c in counts.items()
    ]
    groups.sort(key=lambda g: (-sum(counts[(g.unit_code, g.stage)].values()), g.unit_code, g.stage))
    items.sort(key=lambda i: (-(i.seconds_in_stage or 0), i.case_id, i.reason))
    return BoardOut(generated_at=now, provinces=provinces, totals=totals, groups=groups, items=items[:limit])


FAILING_SCAN_LIMIT = 5000
DESCRIBE_CONCURRENCY = 16


async def failing_cases(
    client: Client, provinces: list[str], *, min_attempts: int, now: datetime, unit_names: dict[str, str]
) -> list[StuckItem]:
    """Running cases of the provinces with a pending activity at attempt `min_attempts` or later."""
    quoted = ", ".join(f"'{p}'" for p in provinces if p.isdigit())
    query = f"WorkflowType = 'RecognitionCaseWorkflow' AND ExecutionStatus = 'Running' AND ProvinceCode IN ({quoted})"
    gate = asyncio.Semaphore(DESCRIBE_CONCURRENCY)
    found: list[StuckItem] = []

    async def inspect(workflow_id: str, run_id: str | None) -> None:
        async with gate:
            try:
                desc = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
            except RPCError:
                return  # closed or gone since it was listed
        unit = desc.typed_search_attributes.get(UNIT_CODE) or ""
        stage = desc.typed_search_attributes.get(STAGE) or ""
        since = desc.start_time
        failures = [
            f"{p.activity_type.name} attempt {p.attempt}: "
            + (p.last_failure.message if p.HasField("last_failure") else "no error recorded")
            for p in desc.raw_description.pending_activities
            if p.attempt >= min_attempts
        ]
        raw = desc.raw_description
        if raw.HasField("pending_workflow_task") and raw.pending_workflow_task.attempt >= min_attempts:
            failures.append(f"workflow task attempt {raw.pending_workflow_task.attempt}")
        for detail in failures:
            found.append(
                StuckItem(
                    reason="failing_activity",
                    case_id=workflow_id,
                    task_id=None,
                    unit_code=unit,
                    unit_name=unit_names.get(unit, unit),
                    stage=stage,
                    since=since,
                    seconds_in_stage=int((now - since).total_seconds()) if since else None,
                    due_at=None,
                    escalation_level=None,
                    detail=detail,
                )
            )

    try:
        listed = [(w.id, w.run_id) async for w in client.list_workflows(query, limit=FAILING_SCAN_LIMIT)]
    except RPCError as exc:
        raise Refusal(503, "temporal_unavailable", f"Temporal cannot list the running cases: {exc.message}") from None
    await asyncio.gather(*(inspect(wid, rid) for wid, rid in listed))
    return found

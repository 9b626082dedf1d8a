"""Bulk actions by filter, the engine: which open cases a filter matches, and walking every match in batches.

`dry_run` counts the matches and samples them, changing nothing. Otherwise each match is acted on — not one page:
the matches are read in batches in case-id order (keyset, so a case changed by the action is neither skipped nor
met twice), each batch acted on concurrently, and every item's outcome counted (applied, refused by code, failed).
The action itself (a case's Update or signal) is the route's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from db.models import CaseRow, TaskRow, UnitRow
from domain.stages import Stage
from services.access import Principal, require_admin
from services.fields import Id, Instant, ProvinceCode, RoundId, UnitCode
from services.updates import refusal

log = structlog.get_logger(__name__)

SAMPLE = 20
REFUSALS_SHOWN = 50
CONCURRENCY = 20


class BulkFilter(BaseModel):
    """Which open cases: every condition given must hold. Task conditions apply to the case's open task."""

    model_config = ConfigDict(extra="forbid")

    province: ProvinceCode | None = Field(default=None, description="one of your provinces (default: all of them)")
    units: list[UnitCode] | None = Field(default=None, max_length=5000)
    stages: list[Stage] | None = None
    round: RoundId | None = None
    case_ids: list[Id] | None = Field(default=None, max_length=5000)
    overdue: bool | None = None
    escalated: bool | None = None
    on_hold: bool | None = None
    due_before: Instant | None = None
    due_after: Instant | None = None


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: BulkFilter = Field(default_factory=BulkFilter)
    dry_run: bool = Field(default=True, description="count and sample only; false acts on every match")
    reason: str = Field(min_length=1, max_length=2000, description="journalled with each change")
    batch_size: int = Field(default=100, ge=1, le=500)


class BulkItem(BaseModel):
    case_id: str
    task_id: str | None
    role: str | None = Field(description="the role the open task takes")
    unit_code: str
    unit_name: str
    province_code: str
    stage: str
    on_hold: bool
    due_at: datetime | None
    escalation_level: int | None


class BulkRefusal(BaseModel):
    case_id: str
    code: str
    detail: str


class BulkResult(BaseModel):
    action: str
    dry_run: bool
    operation_id: str = Field(description="the Idempotency-Key, or one made up for this request")
    matched: int = Field(description="cases the filter matched")
    sample: list[BulkItem] = Field(description=f"the first {SAMPLE} matches")
    applied: int = Field(description="cases changed (0 on a dry run)")
    refused: dict[str, int] = Field(description="cases the API or the case refused, by code")
    failed: int = Field(description="cases Temporal could not be reached for")
    batches: int
    refusals: list[BulkRefusal] = Field(description=f"the first {REFUSALS_SHOWN} refusals and failures")


Action = Literal["extend_due", "reassign", "remind", "hold", "release"]
NEEDS_TASK = {"extend_due", "reassign", "remind"}


def _matches(provinces: set[str], f: BulkFilter, action: Action, now: datetime) -> Select[CaseRow, str, TaskRow]:
    stmt = (
        select(CaseRow, UnitRow.name, TaskRow)
        .join(UnitRow, UnitRow.code == CaseRow.unit_code)
        .outerjoin(TaskRow, and_(TaskRow.case_id == CaseRow.id, TaskRow.status == "open"))
        .where(CaseRow.status == "open", CaseRow.province_code.in_(sorted(provinces)))
    )
    if action in NEEDS_TASK:
        stmt = stmt.where(TaskRow.id.is_not(None))
    if action == "hold":
        stmt = stmt.where(CaseRow.on_hold.is_(False))  # a held case is not held again
    if action == "release":
        stmt = stmt.where(CaseRow.on_hold.is_(True))
    if f.units:
        stmt = stmt.where(CaseRow.unit_code.in_(f.units))
    if f.stages:
        stmt = stmt.where(CaseRow.stage.in_([s.value for s in f.stages]))
    if f.round is not None:
        stmt = stmt.where(CaseRow.round_id == f.round)
    if f.case_ids:
        stmt = stmt.where(CaseRow.id.in_(f.case_ids))
    if f.on_hold is not None:
        stmt = stmt.where(CaseRow.on_hold.is_(f.on_hold))
    if f.overdue is True:
        stmt = stmt.where(TaskRow.due_at < now)
    elif f.overdue is False:
        stmt = stmt.where(or_(TaskRow.due_at.is_(None), TaskRow.due_at >= now))
    if f.escalated is not None:
        stmt = stmt.where(TaskRow.escalation_level > 0 if f.escalated else TaskRow.escalation_level == 0)
    if f.due_before is not None:
        stmt = stmt.where(TaskRow.due_at < f.due_before)
    if f.due_after is not None:
        stmt = stmt.where(TaskRow.due_at >= f.due_after)
    return stmt


def _item(case: CaseRow, unit_name: str, task: TaskRow | None) -> BulkItem:
    return BulkItem(
        case_id=case.id,
        task_id=task.id if task else None,
        role=task.role if task else None,
        unit_code=case.unit_code,
        unit_name=unit_name,
        province_code=case.province_code,
        stage=case.stage,
        on_hold=bool(case.on_hold),
        due_at=task.due_at if task else None,
        escalation_level=task.escalation_level if task else None,
    )


class _Outcomes:
    def __init__(self) -> None:
        self.applied = 0
        self.refused: Counter[str] = Counter()
        self.failed = 0
        self.shown: list[BulkRefusal] = []

    def refuse(self, case_id: str, code: str, detail: str, *, failure: bool = False) -> None:
        if failure:
            self.failed += 1
        else:
            self.refused[code] += 1
        if len(self.shown) < REFUSALS_SHOWN:
            self.shown.append(BulkRefusal(case_id=case_id, code=code, detail=detail))


Precheck = Callable[[BulkItem], tuple[str, str] | None]


async def run_bulk(
    *,
    action: Action,
    req: BulkRequest,
    principal: Principal,
    session: AsyncSession,
    idempotency_key: str | None,
    act: Callable[[BulkItem, str], Awaitable[None]],
    precheck: Precheck | None = None,
) -> BulkResult:
    """Act on every case the request's filter matches in the admin's provinces; `act(item, update_id)` raises
    WorkflowUpdateFailedError or RPCError to refuse."""
    provinces = require_admin(principal, req.filter.province)
    now = datetime.now().astimezone()
    stmt = _matches(provinces, req.filter, action, now)
    operation_id = idempotency_key or str(uuid.uuid4())
    outcomes = _Outcomes()
    matched = 0
    batches = 0
    sample: list[BulkItem] = []
    last: str | None = None
    gate = asyncio.Semaphore(CONCURRENCY)
    while True:
        page = stmt.order_by(CaseRow.id).limit(req.batch_size)
        if last is not None:
            page = page.where(CaseRow.id > last)
        items = [_item(c, n, t) for c, n, t in (await session.execute(page)).all()]
        await session.rollback()  # hold no connection while Temporal works
        if not items:
            break
        batches += 1
        matched += len(items)
        last = items[-1].case_id
        sample += items[: SAMPLE - len(sample)]
        checked = [(i, precheck(i) if precheck else None) for i in items]
        if req.dry_run:
            for item, why in checked:
                if why is not None:
                    outcomes.refuse(item.case_id, why[0], why[1])
            continue

        async def one(item: BulkItem, why: tuple[str, str] | None) -> None:
            if why is not None:
                outcomes.refuse(item.case_id, why[0], why[1])
                return
            async with gate:
                try:
                    await act(item, f"bulk-{operation_id}-{action}-{item.case_id}")
                except (WorkflowUpdateFailedError, RPCError) as exc:
                    problem = refusal(exc, case_id=item.case_id)
                    outcomes.refuse(item.case_id, problem.code, problem.detail, failure=problem.status >= 500)
                    return
            outcomes.applied += 1

        await asyncio.gather(*(one(i, why) for i, why in checked))
    if not req.dry_run:
        log.info(
            "bulk_applied",
            action=action,
            operation_id=operation_id,
            matched=matched,
            applied=outcomes.applied,
            refused=dict(outcomes.refused),
            failed=outcomes.failed,
            official_id=principal.official_id,
        )
    return BulkResult(
        action=action,
        dry_run=req.dry_run,
        operation_id=operation_id,
        matched=matched,
        sample=sample,
        applied=outcomes.applied,
        refused=dict(outcomes.refused),
        failed=outcomes.failed,
        batches=batches,
        refusals=outcomes.shown,
    )

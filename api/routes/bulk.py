"""Administrators' bulk actions by filter: extend due dates, reassign, remind, hold, release.

Each takes a filter over the open cases of the admin's provinces. `dry_run: true` answers how many cases match and a
sample, changing nothing. Otherwise every match is acted on — not one page: the matches are walked in batches in
case-id order (keyset), each case through its workflow's validated Update (the workflow journals each change with
the admin as actor), and the answer counts the outcome of every item. A retry with the same `Idempotency-Key`
sends the same update ids, so cases already done are not changed twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal, Self

import structlog
from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.inputs import ID_PATTERN, Id, Instant, ProvinceCode, RoundId, UnitCode
from api.policy import Principal, require_admin
from api.problems import Problem, problems
from api.updates import refusal
from db.models import CaseRow, OfficialRow, RoleAssignmentRow, TaskRow, UnitRow
from domain.access import RoleScope, may_act
from domain.calendar import due_at
from domain.stages import Role, Stage
from workflows.inputs import (
    Actor,
    CaseStatus,
    ExtendDueInput,
    HoldInput,
    NudgeInput,
    ReassignInput,
    ReleaseInput,
)

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1/bulk", tags=["administrators"])

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


class _Bulk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: BulkFilter = Field(default_factory=BulkFilter)
    dry_run: bool = Field(default=True, description="count and sample only; false acts on every match")
    reason: str = Field(min_length=1, max_length=2000, description="journalled with each change")
    batch_size: int = Field(default=100, ge=1, le=500)


class ExtendDueRequest(_Bulk):
    new_due_at: Instant | None = Field(default=None, description="the new due time of every matched task")
    add_working_days: int | None = Field(
        default=None, ge=1, le=120, description="or: move each due time this many working days later"
    )

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.new_due_at is None) == (self.add_working_days is None):
            raise ValueError("give exactly one of new_due_at and add_working_days")
        return self


class ReassignRequest(_Bulk):
    official_id: str = Field(
        pattern=ID_PATTERN, description="who takes the tasks; must hold each task's role over its unit"
    )


class RemindRequest(_Bulk):
    reason: str = Field(default="reminder requested by an administrator", min_length=1, max_length=2000)


class HoldRequest(_Bulk):
    pass


class ReleaseRequest(_Bulk):
    pass


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


async def _run(
    *,
    action: Action,
    req: _Bulk,
    principal: Principal,
    session: AsyncSession,
    temporal: Client,
    idempotency_key: str | None,
    precheck: Any = None,
) -> BulkResult:
    provinces = require_admin(principal, req.filter.province)
    now = datetime.now().astimezone()
    stmt = _matches(provinces, req.filter, action, now)
    operation_id = idempotency_key or str(uuid.uuid4())
    outcomes = _Outcomes()
    actor = Actor(official_id=principal.official_id, scopes=list(principal.scopes))
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
                await _apply(
                    action, item, req, actor, temporal, f"bulk-{operation_id}-{action}-{item.case_id}", outcomes
                )

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


async def _apply(
    action: Action, item: BulkItem, req: _Bulk, actor: Actor, temporal: Client, update_id: str, out: _Outcomes
) -> None:
    handle = temporal.get_workflow_handle(item.case_id)
    task_id = item.task_id or ""
    try:
        if action == "remind":
            await handle.signal("nudge", NudgeInput(actor=actor, task_id=task_id))
        else:
            update: Any
            if isinstance(req, ExtendDueRequest):
                new_due = req.new_due_at or due_at(item.due_at, req.add_working_days or 0)  # type: ignore[arg-type]
                update = ExtendDueInput(actor=actor, reason=req.reason, task_id=task_id, new_due_at=new_due)
            elif isinstance(req, ReassignRequest):
                update = ReassignInput(actor=actor, reason=req.reason, task_id=task_id, official_id=req.official_id)
            elif isinstance(req, HoldRequest):
                update = HoldInput(actor=actor, reason=req.reason)
            else:
                update = ReleaseInput(actor=actor, reason=req.reason)
            await handle.execute_update(action, update, id=update_id, result_type=CaseStatus)
    except (WorkflowUpdateFailedError, RPCError) as exc:
        problem = refusal(exc, case_id=item.case_id)
        out.refuse(item.case_id, problem.code, problem.detail, failure=problem.status >= 500)
        return
    out.applied += 1


RESPONSES = problems(403)
KEY = Annotated[str | None, Header(max_length=200, description="a retry with the same key sends the same updates")]


@router.post(
    "/extend-due",
    response_model=BulkResult,
    summary="Move the due time of every matched open task",
    responses=RESPONSES,
)
async def extend_due(
    req: ExtendDueRequest,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: KEY = None,
) -> BulkResult:
    if req.new_due_at is not None and req.new_due_at <= datetime.now().astimezone():
        raise Problem(422, "invalid_request", "new_due_at: must be in the future", field="new_due_at")

    def precheck(item: BulkItem) -> tuple[str, str] | None:
        if req.add_working_days is not None and item.due_at is None:
            return "no_due_time", f"task {item.task_id} has no due time to move"
        return None

    return await _run(
        action="extend_due",
        req=req,
        principal=principal,
        session=session,
        temporal=temporal,
        idempotency_key=idempotency_key,
        precheck=precheck,
    )


@router.post(
    "/reassign",
    response_model=BulkResult,
    summary="Give every matched open task to one official",
    responses=problems(403),
)
async def reassign(
    req: ReassignRequest,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: KEY = None,
) -> BulkResult:
    require_admin(principal, req.filter.province)
    official = await session.get(OfficialRow, req.official_id)
    if official is None or not official.active:
        raise Problem(422, "invalid_request", f"official_id: no active official {req.official_id}", field="official_id")
    rows = (
        await session.execute(select(RoleAssignmentRow).where(RoleAssignmentRow.official_id == req.official_id))
    ).scalars()
    scopes = [RoleScope(role=Role(r.role), province_code=r.province_code, unit_code=r.unit_code) for r in rows]

    def precheck(item: BulkItem) -> tuple[str, str] | None:
        if item.role and not may_act(scopes, Role(item.role), item.unit_code, item.province_code):
            return (
                "assignee_lacks_role",
                f"official {req.official_id} does not hold role {item.role} for unit {item.unit_code}",
            )
        return None

    return await _run(
        action="reassign",
        req=req,
        principal=principal,
        session=session,
        temporal=temporal,
        idempotency_key=idempotency_key,
        precheck=precheck,
    )


@router.post(
    "/remind",
    response_model=BulkResult,
    summary="Send the assignee of every matched open task a reminder",
    responses=RESPONSES,
)
async def remind(
    req: RemindRequest,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: KEY = None,
) -> BulkResult:
    return await _run(
        action="remind",
        req=req,
        principal=principal,
        session=session,
        temporal=temporal,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/hold", response_model=BulkResult, summary="Put every matched case on hold (deadlines pause)", responses=RESPONSES
)
async def hold(
    req: HoldRequest,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: KEY = None,
) -> BulkResult:
    return await _run(
        action="hold", req=req, principal=principal, session=session, temporal=temporal, idempotency_key=idempotency_key
    )


@router.post("/release", response_model=BulkResult, summary="Release every matched case on hold", responses=RESPONSES)
async def release(
    req: ReleaseRequest,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: KEY = None,
) -> BulkResult:
    return await _run(
        action="release",
        req=req,
        principal=principal,
        session=session,
        temporal=temporal,
        idempotency_key=idempotency_key,
    )

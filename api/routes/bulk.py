"""Administrators' bulk actions by filter: extend due dates, reassign, remind, hold, release.

Each takes a filter over the open cases of the admin's provinces (see api/bulk.py). `dry_run: true`, the default,
answers how many cases match and a sample. Otherwise every match is acted on, in batches, each case through its
workflow's validated Update (or the `nudge` signal), which journals the change with the admin as actor. A retry with
the same `Idempotency-Key` sends the same update ids, so cases already done are not changed twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, Header
from pydantic import Field, model_validator
from sqlalchemy import select

from api.bulk import BulkItem, BulkRequest, BulkResult, run_bulk
from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from db.models import OfficialRow, RoleAssignmentRow
from domain.access import RoleScope, may_act
from domain.calendar import due_at
from domain.stages import Role
from services.access import require_admin
from services.errors import Refusal
from services.fields import ID_PATTERN, Instant
from workflows.case import RecognitionCaseWorkflow
from workflows.inputs import Actor, ExtendDueInput, HoldInput, NudgeInput, ReassignInput, ReleaseInput

router = APIRouter(prefix="/v1/bulk", tags=["administrators"])


class ExtendDueRequest(BulkRequest):
    new_due_at: Instant | None = Field(default=None, description="the new due time of every matched task")
    add_working_days: int | None = Field(
        default=None, ge=1, le=120, description="or: move each due time this many working days later"
    )

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.new_due_at is None) == (self.add_working_days is None):
            raise ValueError("give exactly one of new_due_at and add_working_days")
        return self


class ReassignRequest(BulkRequest):
    official_id: str = Field(
        pattern=ID_PATTERN, description="who takes the tasks; must hold each task's role over its unit"
    )


class RemindRequest(BulkRequest):
    reason: str = Field(default="reminder requested by an administrator", min_length=1, max_length=2000)


class HoldRequest(BulkRequest):
    pass


class ReleaseRequest(BulkRequest):
    pass


RESPONSES = problems(403)
KEY = Annotated[str | None, Header(max_length=200, description="a retry with the same key sends the same updates")]


def _actor(principal: PrincipalDep) -> Actor:
    return Actor(official_id=principal.official_id, scopes=list(principal.scopes))


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
        raise Refusal(422, "invalid_request", "new_due_at: must be in the future", field="new_due_at")
    actor = _actor(principal)

    def precheck(item: BulkItem) -> tuple[str, str] | None:
        if req.add_working_days is not None and item.due_at is None:
            return "no_due_time", f"task {item.task_id} has no due time to move"
        return None

    async def act(item: BulkItem, update_id: str) -> None:
        new_due = req.new_due_at
        if new_due is None:
            assert item.due_at is not None and req.add_working_days is not None  # the precheck saw to it
            new_due = due_at(item.due_at, req.add_working_days)
        update = ExtendDueInput(actor=actor, reason=req.reason, task_id=item.task_id or "", new_due_at=new_due)
        await temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, item.case_id).execute_update(
            RecognitionCaseWorkflow.extend_due, update, id=update_id
        )

    return await run_bulk(
        action="extend_due",
        req=req,
        principal=principal,
        session=session,
        idempotency_key=idempotency_key,
        act=act,
        precheck=precheck,
    )


@router.post(
    "/reassign", response_model=BulkResult, summary="Give every matched open task to one official", responses=RESPONSES
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
        raise Refusal(422, "invalid_request", f"official_id: no active official {req.official_id}", field="official_id")
    rows = (
        await session.execute(select(RoleAssignmentRow).where(RoleAssignmentRow.official_id == req.official_id))
    ).scalars()
    scopes = [RoleScope(role=Role(r.role), province_code=r.province_code, unit_code=r.unit_code) for r in rows]
    actor = _actor(principal)

    def precheck(item: BulkItem) -> tuple[str, str] | None:
        if item.role and not may_act(scopes, Role(item.role), item.unit_code, item.province_code):
            return (
                "assignee_lacks_role",
                f"official {req.official_id} does not hold role {item.role} for unit {item.unit_code}",
            )
        return None

    async def act(item: BulkItem, update_id: str) -> None:
        update = ReassignInput(actor=actor, reason=req.reason, task_id=item.task_id or "", official_id=req.official_id)
        await temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, item.case_id).execute_update(
            RecognitionCaseWorkflow.reassign, update, id=update_id
        )

    return await run_bulk(
        action="reassign",
        req=req,
        principal=principal,
        session=session,
        idempotency_key=idempotency_key,
        act=act,
        precheck=precheck,
    )


@router.post(
    "/remind",
    response_model=BulkResult,
    summary="Send whoever holds each matched open task a reminder now",
    responses=RESPONSES,
)
async def remind(
    req: RemindRequest,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: KEY = None,
) -> BulkResult:
    actor = _actor(principal)

    async def act(item: BulkItem, update_id: str) -> None:
        await temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, item.case_id).signal(
            RecognitionCaseWorkflow.nudge, NudgeInput(actor=actor, task_id=item.task_id or "")
        )

    return await run_bulk(
        action="remind", req=req, principal=principal, session=session, idempotency_key=idempotency_key, act=act
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
    actor = _actor(principal)

    async def act(item: BulkItem, update_id: str) -> None:
        await temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, item.case_id).execute_update(
            RecognitionCaseWorkflow.hold, HoldInput(actor=actor, reason=req.reason), id=update_id
        )

    return await run_bulk(
        action="hold", req=req, principal=principal, session=session, idempotency_key=idempotency_key, act=act
    )


@router.post("/release", response_model=BulkResult, summary="Release every matched case on hold", responses=RESPONSES)
async def release(
    req: ReleaseRequest,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: KEY = None,
) -> BulkResult:
    actor = _actor(principal)

    async def act(item: BulkItem, update_id: str) -> None:
        await temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, item.case_id).execute_update(
            RecognitionCaseWorkflow.release, ReleaseInput(actor=actor, reason=req.reason), id=update_id
        )

    return await run_bulk(
        action="release", req=req, principal=principal, session=session, idempotency_key=idempotency_key, act=act
    )

"""A case as the read model holds it (stage, outcome, verdict, scores, tasks, journal) and its timeline.

The export of a case (an offline-verifiable bundle) is the audit routes' (`/v1/audit/cases/{id}/export`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from api.timeline import TimelineEvent, timeline_of
from db.models import AuditEventRow, CaseRow, CriterionScoreRow, TaskRow, UnitRow
from services.access import Principal, require_admin, require_read
from services.errors import Refusal
from services.fields import ID_PATTERN
from services.updates import update_refusal
from workflows.case import RecognitionCaseWorkflow
from workflows.inputs import Actor, CaseStatus, WithdrawInput

router = APIRouter(prefix="/v1/cases", tags=["cases"])
CaseId = Annotated[str, Path(pattern=ID_PATTERN, description="<round id>-<unit code>, e.g. qd06-2019:2027-11953")]


class ScoreOut(BaseModel):
    kind: str
    criterion: int
    points: int
    source: str | None


class CaseTaskOut(BaseModel):
    id: str
    stage: str
    role: str
    status: str
    assignee_id: str | None
    escalation_level: int
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None


class AuditOut(BaseModel):
    seq: int
    action: str
    actor_id: str | None
    actor_role: str | None
    from_stage: str | None
    to_stage: str
    task_id: str | None
    reason: str | None
    payload: dict[str, Any]
    occurred_at: datetime


class CaseOut(BaseModel):
    id: str
    unit_code: str
    unit_name: str
    province_code: str
    round_id: str
    rule_set_id: str
    profile_id: str
    locality_type: str
    stage: str
    status: str
    on_hold: bool
    problem: str | None
    outcome: str | None
    verdict: dict[str, Any] | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    scores: list[ScoreOut]
    tasks: list[CaseTaskOut]
    journal: list[AuditOut]


async def _case(session: AsyncSession, principal: Principal, case_id: str) -> CaseRow:
    case = await session.get(CaseRow, case_id)
    if case is None:
        raise Refusal(404, "case_not_found", f"no case {case_id} in your units")
    require_read(principal, case.unit_code, case.province_code, what=f"case {case_id}", code="case_not_found")
    return case


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    summary="A case: stage, verdict, scores, tasks, journal",
    responses=problems(404),
)
async def get_case(case_id: CaseId, principal: PrincipalDep, session: SessionDep) -> CaseOut:
    case = await _case(session, principal, case_id)
    return await _case_out(session, case)


async def _case_out(session: AsyncSession, case: CaseRow) -> CaseOut:
    case_id = case.id
    unit = await session.get(UnitRow, case.unit_code)
    scores = (
        await session.execute(
            select(CriterionScoreRow)
            .where(CriterionScoreRow.case_id == case_id)
            .order_by(CriterionScoreRow.kind, CriterionScoreRow.criterion)
        )
    ).scalars()
    tasks = (
        await session.execute(
            select(TaskRow).where(TaskRow.case_id == case_id).order_by(TaskRow.created_at, TaskRow.id)
        )
    ).scalars()
    journal = (
        await session.execute(select(AuditEventRow).where(AuditEventRow.case_id == case_id).order_by(AuditEventRow.seq))
    ).scalars()
    return CaseOut(
        id=case.id,
        unit_code=case.unit_code,
        unit_name=unit.name if unit else case.unit_code,
        province_code=case.province_code,
        round_id=case.round_id,
        rule_set_id=case.rule_set_id,
        profile_id=case.profile_id,
        locality_type=case.locality_type,
        stage=case.stage,
        status=case.status,
        on_hold=bool(case.on_hold),
        problem=case.problem,
        outcome=case.outcome,
        verdict=case.verdict,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        scores=[ScoreOut(kind=s.kind, criterion=s.criterion, points=s.points, source=s.source) for s in scores],
        tasks=[
            CaseTaskOut(
                id=t.id,
                stage=t.stage,
                role=t.role,
                status=t.status,
                assignee_id=t.assignee_id,
                escalation_level=t.escalation_level or 0,
                created_at=t.created_at,
                due_at=t.due_at,
                completed_at=t.completed_at,
                completed_by=t.completed_by,
            )
            for t in tasks
        ],
        journal=[
            AuditOut(
                seq=a.seq,
                action=a.action,
                actor_id=a.actor_id,
                actor_role=a.actor_role,
                from_stage=a.from_stage,
                to_stage=a.to_stage,
                task_id=a.task_id,
                reason=a.reason,
                payload=a.payload,
                occurred_at=a.occurred_at,
            )
            for a in journal
        ],
    )


class TimelineOut(BaseModel):
    case_id: str
    unit_code: str
    round_id: str
    rule_set_id: str
    events: list[TimelineEvent]
    links: dict[str, str] = Field(
        description="the audit routes of the case (auditors and admins): the chain's verification and the offline "
        "export bundle"
    )


@router.get(
    "/{case_id}/timeline",
    response_model=TimelineOut,
    summary="A case's timeline: transitions, decisions with their payloads, escalations, notifications",
    responses=problems(404),
)
async def get_timeline(case_id: CaseId, principal: PrincipalDep, session: SessionDep) -> TimelineOut:
    case = await _case(session, principal, case_id)
    return TimelineOut(
        case_id=case.id,
        unit_code=case.unit_code,
        round_id=case.round_id,
        rule_set_id=case.rule_set_id,
        events=await timeline_of(session, case),
        links={
            "verify": f"/v1/audit/cases/{quote(case.id, safe='')}/verify",
            "export": f"/v1/audit/cases/{quote(case.id, safe='')}/export",
        },
    )


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="journalled with the withdrawal")


@router.post(
    "/{case_id}/withdraw",
    response_model=CaseStatus,
    summary="Withdraw a case from its round, with a reason (admins of the province); it closes as withdrawn",
    responses=problems(403, 404, 409, 502, 503),
)
async def withdraw(
    case_id: CaseId, req: WithdrawRequest, principal: PrincipalDep, session: SessionDep, temporal: TemporalDep
) -> CaseStatus:
    case = await _case(session, principal, case_id)
    require_admin(principal, case.province_code)
    status = case.status
    await session.rollback()
    if status != "open":
        raise Refusal(409, "case_closed", f"case {case_id} is {status}")
    update = WithdrawInput(
        actor=Actor(official_id=principal.official_id, scopes=list(principal.scopes)), reason=req.reason
    )
    handle = temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
    try:
        return await handle.execute_update(RecognitionCaseWorkflow.withdraw, update, id=f"withdraw-{case_id}")
    except (WorkflowUpdateFailedError, RPCError) as exc:
        raise await update_refusal(exc, handle, case_id=case_id) from None

"""A case as the read model holds it: stage, outcome, verdict, scores, tasks and its journal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import PrincipalDep, SessionDep
from api.problems import Problem
from db.models import AuditEventRow, CaseRow, CriterionScoreRow, TaskRow, UnitRow
from domain.access import may_read

router = APIRouter(prefix="/v1/cases", tags=["cases"])


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
    outcome: str | None
    verdict: dict[str, Any] | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    scores: list[ScoreOut]
    tasks: list[CaseTaskOut]
    journal: list[AuditOut]


@router.get("/{case_id}", response_model=CaseOut)
async def get_case(case_id: str, principal: PrincipalDep, session: SessionDep) -> CaseOut:
    case = await session.get(CaseRow, case_id)
    if case is None or not may_read(principal.scopes, case.unit_code, case.province_code):
        raise Problem(404, "case_not_found", f"no case {case_id} in your units")
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

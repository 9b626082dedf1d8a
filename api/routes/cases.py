"""Cases over HTTP: one case, its timeline, withdrawing it. The export of a case (an offline-verifiable bundle) is
the audit routes' (`/v1/audit/cases/{id}/export`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from contracts import CaseStatus
from services.cases import service as cases
from services.cases.schemas import CaseOut, TimelineOut, WithdrawRequest
from services.fields import ID_PATTERN

router = APIRouter(prefix="/v1/cases", tags=["cases"])
CaseId = Annotated[str, Path(pattern=ID_PATTERN, description="<round id>-<unit code>, e.g. qd06-2019:2027-11953")]


@router.get(
    "/{case_id}",
    response_model=CaseOut,
    summary="A case: stage, verdict, scores, tasks, journal",
    responses=problems(404),
)
async def get_case(case_id: CaseId, principal: PrincipalDep, session: SessionDep) -> CaseOut:
    return await cases.get_case(session, principal, case_id)


@router.get(
    "/{case_id}/timeline",
    response_model=TimelineOut,
    summary="A case's timeline: transitions, decisions with their payloads, escalations, notifications",
    responses=problems(404),
)
async def get_timeline(case_id: CaseId, principal: PrincipalDep, session: SessionDep) -> TimelineOut:
    return await cases.get_timeline(session, principal, case_id)


@router.post(
    "/{case_id}/withdraw",
    response_model=CaseStatus,
    summary="Withdraw a case from its round, with a reason (admins of the province); it closes as withdrawn",
    responses=problems(403, 404, 409, 502, 503),
)
async def withdraw(
    case_id: CaseId, req: WithdrawRequest, principal: PrincipalDep, session: SessionDep, temporal: TemporalDep
) -> CaseStatus:
    return await cases.withdraw(session, temporal, principal, case_id, req.reason)

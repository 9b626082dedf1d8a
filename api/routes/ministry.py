"""The report to the ministry (services/ministry): a province's report task, its submission and verification, and
the national report the ministry reads across provinces."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from api.deps import PrincipalDep, SessionDep
from api.problems import problems
from api.routes.rounds import PROVINCE_Q, RoundPath
from services.ministry import service as ministry
from services.ministry.schemas import MinistryReportOut, NationalOut, SubmitIn, VerificationOut

router = APIRouter(tags=["ministry report"])


@router.get(
    "/v1/rounds/{round_id}/ministry-report",
    response_model=MinistryReportOut,
    summary="A province's report to the ministry: status, due day; the draft and its hash, or the frozen snapshot",
    responses=problems(403, 404),
)
async def report_of(
    round_id: RoundPath, principal: PrincipalDep, session: SessionDep, province: str = PROVINCE_Q
) -> MinistryReportOut:
    return await ministry.report_of(session, principal, round_id, province, now=datetime.now(UTC))


@router.post(
    "/v1/rounds/{round_id}/ministry-report",
    response_model=MinistryReportOut,
    summary="Submit the province's report as reviewed (`reviewed_hash` = the draft_hash read): final",
    description="Refused with 409 `report_not_open` before the round closes, `report_already_submitted` once "
    "submitted, `report_changed` (field `reviewed_hash`) when the draft changed since it was read.",
    responses=problems(403, 404, 409, 422),
)
async def submit(round_id: RoundPath, req: SubmitIn, principal: PrincipalDep, session: SessionDep) -> MinistryReportOut:
    return await ministry.submit(session, principal, round_id, req, now=datetime.now(UTC))


@router.get(
    "/v1/rounds/{round_id}/ministry-report/verify",
    response_model=VerificationOut,
    summary="Recompute the submitted snapshot's hash and compare it with the stored one and the journal's",
    responses=problems(403, 404),
)
async def verify(
    round_id: RoundPath, principal: PrincipalDep, session: SessionDep, province: str = PROVINCE_Q
) -> VerificationOut:
    return await ministry.verify(session, principal, round_id, province)


@router.get(
    "/v1/national/rounds/{round_id}",
    response_model=NationalOut,
    summary="The national report of a round (the ministry): each province's status and the totals submitted",
    responses=problems(403, 404),
)
async def national(round_id: RoundPath, principal: PrincipalDep, session: SessionDep) -> NationalOut:
    return await ministry.national(session, principal, round_id, now=datetime.now(UTC))

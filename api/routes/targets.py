"""Targets per province and plan period (services/targets.py): read by the province's administrators and auditors,
set by its administrators."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SessionDep
from api.problems import problems
from services import targets
from services.fields import PROVINCE_PATTERN
from services.targets import TargetIn, TargetOut

router = APIRouter(prefix="/v1/targets", tags=["targets"])


@router.get("", response_model=list[TargetOut], summary="A province's targets, by plan period", responses=problems(403))
async def list_(
    principal: PrincipalDep,
    session: SessionDep,
    province: Annotated[str, Query(pattern=PROVINCE_PATTERN, description="the province's two-digit code")],
) -> list[TargetOut]:
    return await targets.list_targets(session, principal, province)


@router.put(
    "",
    response_model=TargetOut,
    summary="Set a province's target for a plan period (the same first year again changes it)",
    description="`share_percent` in (0, 100]; journalled in the province's directory journal (`target_set`).",
    responses=problems(403, 409),
)
async def set_(req: TargetIn, principal: PrincipalDep, session: SessionDep) -> TargetOut:
    return await targets.set_target(session, principal, req, now=datetime.now(UTC))

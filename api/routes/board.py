"""The administrators' stuck-approvals board (services/board): what is overdue, escalated, on hold, undelivered or
failing, grouped and counted by unit and stage; and the open cases by stage, the striving ones (registered, no task
until self-assessment opens) on a line of their own, never as stuck."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from services.board import service
from services.board.schemas import BoardOut
from services.fields import PROVINCE_PATTERN

router = APIRouter(prefix="/v1/board", tags=["administrators"])


@router.get(
    "",
    response_model=BoardOut,
    summary="Stuck approvals: overdue, escalated, on hold, failed notifications, failing activities; open cases by "
    "stage (striving apart)",
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
    failing: Annotated[
        bool,
        Query(description="list cases whose activities (as the worker records them) or workflow tasks keep failing"),
    ] = True,
    limit: Annotated[int, Query(ge=0, le=1000, description="items returned (counts cover everything)")] = 200,
) -> BoardOut:
    return await service.board(
        session,
        temporal,
        principal,
        province=province,
        min_attempts=min_attempts,
        failing=failing,
        limit=limit,
        now=datetime.now(UTC),
    )

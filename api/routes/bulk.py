"""Administrators' bulk actions by filter (services/bulk): one route per action of its table, at
/v1/bulk/<action>, taking the action's own request model.

`dry_run: true`, the default, answers how many cases match and a sample; otherwise every match is acted on. A filter
naming nothing but the province acts only with `all: true` (else 422 `empty_filter`, field `filter`). A retry with
the same `Idempotency-Key` sends the same update ids, so cases already done are not changed twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from services.bulk import service as bulk
from services.bulk.schemas import BulkRequest, BulkResult

router = APIRouter(prefix="/v1/bulk", tags=["administrators"])

KEY = Annotated[str | None, Header(max_length=200, description="a retry with the same key sends the same updates")]


def _route(action: bulk.BulkAction[Any]) -> Callable[..., Awaitable[BulkResult]]:
    async def route(
        req: BulkRequest,
        principal: PrincipalDep,
        session: SessionDep,
        temporal: TemporalDep,
        idempotency_key: KEY = None,
    ) -> BulkResult:
        return await bulk.run(
            session, temporal, principal, action.name, req, idempotency_key=idempotency_key, now=datetime.now(UTC)
        )

    route.__annotations__["req"] = action.request  # the body is the action's own request model
    return route


for _action in bulk.ACTIONS.values():
    router.add_api_route(
        "/" + _action.name.replace("_", "-"),
        _route(_action),
        methods=["POST"],
        name=_action.name,
        response_model=BulkResult,
        summary=_action.summary,
        responses=problems(403),
    )

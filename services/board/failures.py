"""The board's cases that keep failing, found without describing any workflow:

- activities: the `activity_failures` rows the worker's interceptor keeps (activities/attempts.py), one query with the
  case's row and the unit's for what the activity's input did not carry. An attempt counts as Temporal's pending one
  does: the failed attempt + 1. A row not refreshed for `STALE_AFTER` is left out: a failing activity is retried at
  least every minute or so (the case's retry policy), so such a row belongs to a workflow that was terminated or
  reset, or to a worker that stopped (its pending activity is then not failing, only waiting);
- workflow tasks: one list call to Temporal for the running cases of the provinces that Temporal itself flags in its
  `TemporalReportedProblems` search attribute (set after two workflow tasks in a row failed or timed out: the server's
  dynamic config, infra/embedded.py and deploy/temporal/dynamicconfig.yaml; `min_attempts` does not apply to them).
  A server that does not know the attribute refuses the query: then none are listed, and a warning is logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from db.models import CaseRow, UnitRow
from db.models_attempts import ActivityFailureRow
from services.board.schemas import StuckItem
from services.errors import Refusal
from workflows.case import STAGE, UNIT_CODE

log = structlog.get_logger(__name__)

CASE_WORKFLOW = "RecognitionCaseWorkflow"
STALE_AFTER = timedelta(hours=1)
PROBLEMS_LISTED = 1000
REPORTED_PROBLEMS = SearchAttributeKey.for_keyword_list("TemporalReportedProblems")


@dataclass(frozen=True)
class Problem:
    """A running case whose workflow tasks keep failing, as Temporal lists it."""

    case_id: str
    unit_code: str
    stage: str
    since: datetime | None
    detail: str


def failing_item(
    case_id: str, unit_code: str, unit_name: str, stage: str, since: datetime | None, now: datetime, detail: str
) -> StuckItem:
    return StuckItem(
        reason="failing_activity",
        case_id=case_id,
        unit_code=unit_code,
        unit_name=unit_name,
        stage=stage,
        since=since,
        seconds_in_stage=int((now - since).total_seconds()) if since else None,
        task_id=None,
        due_at=None,
        escalation_level=None,
        detail=detail,
    )


async def failing_activities(
    session: AsyncSession, provinces: list[str], *, min_attempts: int, now: datetime
) -> list[StuckItem]:
    """Cases of the provinces with an activity whose pending attempt is `min_attempts` or later, detailed as
    `<activity type> attempt N: <error>`; since the case opened (else since its first failure)."""
    f = ActivityFailureRow
    unit = func.coalesce(f.unit_code, CaseRow.unit_code)
    rows = await session.execute(
        select(
            f.workflow_id,
            unit,
            UnitRow.name,
            func.coalesce(CaseRow.stage, f.stage),
            func.coalesce(CaseRow.opened_at, f.first_failed_at),
            f.activity_type,
            f.failed_attempt + 1,  # the attempt Temporal has pending
            f.last_error,
        )
        .select_from(f)
        .outerjoin(CaseRow, CaseRow.id == f.case_id)
        .outerjoin(UnitRow, UnitRow.code == unit)
        .where(
            f.workflow_type == CASE_WORKFLOW,
            f.failed_attempt + 1 >= min_attempts,
            f.last_failed_at >= now - STALE_AFTER,
            func.coalesce(f.province_code, CaseRow.province_code, UnitRow.province_code).in_(provinces),
        )
    )
    return [
        failing_item(case_id, code or "", name or code or "", stage or "", since, now, f"{kind} attempt {n}: {error}")
        for case_id, code, name, stage, since, kind, n, error in rows.all()
    ]


def problem_detail(values: Sequence[str]) -> str:
    """`workflow task failed: WorkflowWorkerUnhandledFailure` from the attribute's `category=…`, `cause=…`."""
    found = dict(v.split("=", 1) for v in values if "=" in v)
    what = "timed out" if "TimedOut" in found.get("category", "") else "failed"
    cause = found.get("cause", "").removeprefix("WorkflowTaskFailedCause")
    return f"workflow task {what}" + (f": {cause}" if cause else "")


async def reported_problems(client: Client, provinces: list[str]) -> list[Problem]:
    """The running cases of the provinces Temporal flags for workflow tasks that keep failing: one list call."""
    quoted = ", ".join(f"'{p}'" for p in provinces if p.isdigit())
    if not quoted:
        return []
    query = (
        f"WorkflowType = '{CASE_WORKFLOW}' AND ExecutionStatus = 'Running' AND ProvinceCode IN ({quoted}) "
        "AND TemporalReportedProblems IS NOT NULL"
    )
    try:
        listed = [w async for w in client.list_workflows(query, limit=PROBLEMS_LISTED)]
    except RPCError as exc:
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            log.warning("reported_problems_unsupported", error=exc.message)
            return []
        raise Refusal(503, "temporal_unavailable", f"Temporal cannot list the running cases: {exc.message}") from None
    return [
        Problem(
            case_id=w.id,
            unit_code=w.typed_search_attributes.get(UNIT_CODE) or "",
            stage=w.typed_search_attributes.get(STAGE) or "",
            since=w.start_time,
            detail=problem_detail(w.typed_search_attributes.get(REPORTED_PROBLEMS) or []),
        )
        for w in listed
    ]


async def problem_items(session: AsyncSession, problems: list[Problem], now: datetime) -> list[StuckItem]:
    """The board's items of `problems`, with their units' names (one query, only when there are any)."""
    if not problems:
        return []
    codes = {p.unit_code for p in problems}
    names = dict((await session.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.code.in_(codes)))).all())
    return [
        failing_item(p.case_id, p.unit_code, names.get(p.unit_code, p.unit_code), p.stage, p.since, now, p.detail)
        for p in problems
    ]

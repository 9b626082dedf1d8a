"""Assessment rounds of a province: open one (its AssessmentRoundWorkflow starts one case per unit), follow its
progress, read its report (JSON or CSV).

Progress and the report are counted from the read model (the cases of the round in the province), so they answer
for every round however it was opened; with them come the round workflow's own progress (its query) and, once the
round has closed, the report it recorded (with the share recognised against the province's target).
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import PrincipalDep, SessionDep, TemporalDep
from api.problems import problems
from api.round_reports import CSV_COLUMNS, ReportOut, milestones, round_report
from db.models import CaseRow, RoundReportRow, RoundRow, TaskRow, UnitRow
from domain.errors import DomainError
from domain.round_report import RoundProgress, RoundReport
from domain.rounds import parse_round
from infra.settings import Settings
from services.access import require_admin, require_oversight
from services.errors import Refusal
from services.fields import PROVINCE_PATTERN, ROUND_PATTERN
from services.rounds import open_round
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

router = APIRouter(prefix="/v1/rounds", tags=["rounds"])

PROVINCE_Q = Query(pattern=PROVINCE_PATTERN, description="the province's two-digit code")
RoundPath = Annotated[str, Path(pattern=ROUND_PATTERN, description="e.g. qd06-2019:2027")]


class OpenRoundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_share: float | None = Field(
        default=None, ge=0, le=1, description="share of units the province means to see recognised (default 0.8)"
    )

    round_id: str = Field(pattern=ROUND_PATTERN, description="<rule set id>:<assessment year>, e.g. qd06-2019:2027")
    province: str = Field(pattern=PROVINCE_PATTERN)


class OpenRoundOut(BaseModel):
    round_id: str
    province: str
    opening: bool = Field(description="true: the round workflow is still starting cases (answered 202)")
    cases: int = Field(description="cases started so far, one per unit of the province")


OPEN_WAIT_SECONDS = 60.0  # a province opens in seconds; past this the answer is 202 and the opening goes on


@router.post(
    "",
    response_model=OpenRoundOut,
    summary="Open a round for a province: its round workflow starts one case per unit (idempotent)",
    responses={
        202: {"model": OpenRoundOut, "description": "still opening: follow the progress route"},
        **problems(403, 503),
    },
)
async def open_(
    req: OpenRoundRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> OpenRoundOut:
    require_admin(principal, req.province)
    try:
        parse_round(req.round_id)
    except DomainError as exc:
        raise Refusal(422, "invalid_request", f"round_id: {exc}", field="round_id") from None
    await session.rollback()
    settings: Settings = request.app.state.settings
    opening = asyncio.ensure_future(
        open_round(
            temporal,
            request.app.state.sessions,
            round_id=req.round_id,
            province_code=req.province,
            task_queue=settings.task_queue,
            target_share=req.target_share,
        )
    )
    try:
        opened = await asyncio.wait_for(asyncio.shield(opening), OPEN_WAIT_SECONDS)
    except TimeoutError:
        opening.cancel()  # only the waiting: the round workflow goes on opening
        response.status_code = 202
        handle = temporal.get_workflow_handle_for(
            AssessmentRoundWorkflow.run, round_workflow_id(req.round_id, req.province)
        )
        try:
            started = len(await handle.query(AssessmentRoundWorkflow.started_cases))
        except (RPCError, WorkflowQueryFailedError):
            started = 0  # its first task has not run yet
        return OpenRoundOut(round_id=req.round_id, province=req.province, opening=True, cases=started)
    except RPCError as exc:
        raise Refusal(503, "temporal_unavailable", exc.message) from None
    return OpenRoundOut(round_id=opened.round_id, province=req.province, opening=False, cases=len(opened.cases))


class ProgressOut(BaseModel):
    round_id: str
    province: str
    units: int = Field(description="units of the province")
    cases: int
    open: int
    closed: int
    by_stage: dict[str, int]
    by_outcome: dict[str, int]
    overdue: int
    escalated: int
    on_hold: int
    generated_at: datetime
    workflow: RoundProgress | None = Field(
        description="the round workflow's own count, from the milestones each case signals it (registered, submitted, "
        "escalated, stuck, on hold, closed; a case's stage as of its last milestone; null: no round workflow)"
    )


async def _round(session: AsyncSession, round_id: str) -> RoundRow:
    rnd = await session.get(RoundRow, round_id)
    if rnd is None:
        raise Refusal(404, "round_not_found", f"no round {round_id} has been opened")
    return rnd


async def _cases(session: AsyncSession, round_id: str, province: str) -> list[tuple[CaseRow, str, TaskRow | None]]:
    rows = await session.execute(
        select(CaseRow, UnitRow.name, TaskRow)
        .join(UnitRow, UnitRow.code == CaseRow.unit_code)
        .outerjoin(TaskRow, (TaskRow.case_id == CaseRow.id) & (TaskRow.status == "open"))
        .where(CaseRow.round_id == round_id, CaseRow.province_code == province)
        .order_by(CaseRow.unit_code)
    )
    return [(c, n, t) for c, n, t in rows.all()]


@router.get(
    "/{round_id}/progress",
    response_model=ProgressOut,
    summary="Where the cases of a round stand in a province",
    responses=problems(403, 404),
)
async def progress(
    round_id: RoundPath,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    province: Annotated[str, PROVINCE_Q],
) -> ProgressOut:
    require_oversight(principal, province)
    await _round(session, round_id)
    now = datetime.now(UTC)
    rows = await _cases(session, round_id, province)
    units = len((await session.execute(select(UnitRow.code).where(UnitRow.province_code == province))).all())
    by_stage: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for case, _, _ in rows:
        by_stage[case.stage] = by_stage.get(case.stage, 0) + 1
        if case.outcome:
            by_outcome[case.outcome] = by_outcome.get(case.outcome, 0) + 1
    counted = ProgressOut(
        round_id=round_id,
        province=province,
        units=units,
        cases=len(rows),
        open=sum(1 for c, _, _ in rows if c.status == "open"),
        closed=sum(1 for c, _, _ in rows if c.status == "closed"),
        by_stage=by_stage,
        by_outcome=by_outcome,
        overdue=sum(1 for _, _, t in rows if t is not None and t.due_at is not None and t.due_at < now),
        escalated=sum(1 for _, _, t in rows if t is not None and t.escalation_level),
        on_hold=sum(1 for c, _, _ in rows if c.on_hold),
        generated_at=now,
        workflow=None,
    )
    counted.workflow = await _workflow_progress(session, temporal, round_id, province)  # after the rows are read
    return counted


async def _workflow_progress(
    session: AsyncSession, temporal: Client, round_id: str, province: str
) -> RoundProgress | None:
    await session.rollback()  # hold no connection while Temporal answers
    handle = temporal.get_workflow_handle_for(AssessmentRoundWorkflow.run, round_workflow_id(round_id, province))
    try:
        return await handle.query(AssessmentRoundWorkflow.progress)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None  # opened before rounds had a workflow, or by hand case by case
        raise Refusal(503, "temporal_unavailable", exc.message) from None
    except WorkflowQueryFailedError:
        return None  # not started running yet


@router.get(
    "/{round_id}/report",
    response_model=ReportOut,
    summary="The round's report for a province: counts, share recognised, one row per unit (JSON or CSV)",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "JSON, or CSV (one row per unit) with format=csv",
        },
        **problems(403, 404),
    },
)
async def report(
    round_id: RoundPath,
    principal: PrincipalDep,
    session: SessionDep,
    province: Annotated[str, PROVINCE_Q],
    format: Annotated[Literal["json", "csv"], Query(description="json (default) or csv")] = "json",
) -> ReportOut | Response:
    require_oversight(principal, province)
    rnd = await _round(session, round_id)
    units = len((await session.execute(select(UnitRow.code).where(UnitRow.province_code == province))).all())
    rows = await _cases(session, round_id, province)
    out = round_report(round_id, province, rnd.rule_set_id, units, rows, await milestones(session, round_id, province))
    recorded = await session.get(RoundReportRow, (round_id, province))
    if recorded is not None:
        out.recorded = RoundReport.model_validate(recorded.report)
    if format == "json":
        return out
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for r in out.results:
        writer.writerow(r.model_dump())
    filename = f"report-{round_id.replace(':', '-')}-{province}.csv"
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""Assessment rounds of a province for the officials who run and oversee them: open one (its AssessmentRoundWorkflow
starts one case per unit), follow its progress, read its report.

A round opens as live cases only while it lies ahead (`live_round`: domain.rounds.check_opening); the API, the
`xptt round open` command and the Schedule's opening (which opens the round assessed today) agree on it. Opened by
hand as a rehearsal (`rehearsal_opens_on`, `check_rehearsal`), its calendar is moved so that self-assessment opens on
that day, within a year of today.

Progress and the report are counted from the read model (the cases of the round in the province), so they answer
for every round however it was opened. Progress counts the cases that wait, with no task, for their stage to open:
the units striving before self-assessment, the cases of a round opened before its period. With them come the round
workflow's own progress (its query) and, once the round has closed, the report it recorded (with the share
recognised against the province's target).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from db.models import RoundRow
from domain.calendar import local_date
from domain.errors import DomainError
from domain.round_report import RoundProgress, RoundReport
from domain.rounds import Round, check_opening, parse_round
from domain.stages import Stage
from services.access import Principal, require_admin, require_oversight
from services.errors import Refusal
from services.rounds import queries
from services.rounds.opening import open_round
from services.rounds.queries import CaseRows
from services.rounds.report import build_report
from services.rounds.schemas import OpenRoundOut, OpenRoundRequest, ProgressOut, ReportOut, ReportTarget
from services.targets import target_in_force
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

# How far from today a rehearsal may move the round's assessment window: a rehearsal is held in the present.
REHEARSAL_REACH = timedelta(days=366)


def live_round(round_id: str, *, today: date, ahead: int) -> Round:
    """The round `round_id` names, when it may open as live cases on `today` (the rule set in force, the current
    assessment or one of the next `ahead`); Refusal 422 naming `round_id` otherwise."""
    try:
        rnd = parse_round(round_id)
        check_opening(rnd, today, ahead=ahead)
    except DomainError as exc:
        raise Refusal(422, "invalid_request", f"round_id: {exc}", field="round_id") from None
    return rnd


def check_rehearsal(day: date, *, today: date) -> None:
    """A rehearsal moves the round's calendar so that its self-assessment opens on `day`, which lies in the present:
    within a year of `today`. ValueError with the reason otherwise."""
    if abs(day - today) > REHEARSAL_REACH:
        raise ValueError(
            f"{day} is more than a year from today ({today}): a rehearsal opens the round's assessment in the present"
        )


async def open_(
    session: AsyncSession,
    temporal: Client,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    req: OpenRoundRequest,
    *,
    task_queue: str,
    wait: float | None,
    now: datetime,
    ahead: int,
) -> OpenRoundOut:
    """Open the round for the province (idempotent) and wait up to `wait` seconds (None: until it has opened); past
    that the answer says it is still opening, with the cases started so far, and the opening goes on. Only a round
    that lies ahead on `now` opens (`live_round`)."""
    require_admin(principal, req.province)
    live_round(req.round_id, today=local_date(now), ahead=ahead)
    if req.rehearsal_opens_on is not None:
        try:
            check_rehearsal(req.rehearsal_opens_on, today=local_date(now))
        except ValueError as exc:
            raise Refusal(422, "invalid_request", f"rehearsal_opens_on: {exc}", field="rehearsal_opens_on") from None
    await session.rollback()  # hold no connection while the round opens
    opening = asyncio.ensure_future(
        open_round(
            temporal,
            sessions,
            round_id=req.round_id,
            province_code=req.province,
            task_queue=task_queue,
            target_share=req.target_share,
            rehearsal_opens_on=req.rehearsal_opens_on,
        )
    )
    try:
        opened = await asyncio.wait_for(asyncio.shield(opening), wait)
    except TimeoutError:
        opening.cancel()  # only the waiting: the round workflow goes on opening
        started = await _started_cases(temporal, req.round_id, req.province)
        return OpenRoundOut(round_id=req.round_id, province=req.province, opening=True, cases=started)
    except RPCError as exc:
        raise Refusal(503, "temporal_unavailable", exc.message) from None
    return OpenRoundOut(round_id=opened.round_id, province=req.province, opening=False, cases=len(opened.cases))


def _round_workflow(
    temporal: Client, round_id: str, province: str
) -> WorkflowHandle[AssessmentRoundWorkflow, RoundReport]:
    """The province's round workflow (typed by hand: mypy infers `get_workflow_handle_for` of this workflow's run
    differently depending on the order it checks the modules in)."""
    return temporal.get_workflow_handle(round_workflow_id(round_id, province))


async def _started_cases(temporal: Client, round_id: str, province: str) -> int:
    handle = _round_workflow(temporal, round_id, province)
    try:
        return len(await handle.query(AssessmentRoundWorkflow.started_cases))
    except (RPCError, WorkflowQueryFailedError):
        return 0  # its first task has not run yet


async def _round(session: AsyncSession, round_id: str) -> RoundRow:
    rnd = await queries.round_row(session, round_id)
    if rnd is None:
        raise Refusal(404, "round_not_found", f"no round {round_id} has been opened", round_id=round_id)
    return rnd


async def progress(
    session: AsyncSession, temporal: Client, principal: Principal, round_id: str, province: str, *, now: datetime
) -> ProgressOut:
    """Where the cases of the round stand in the province, with the round workflow's own count."""
    require_oversight(principal, province)
    await _round(session, round_id)
    rows = await queries.round_cases(session, round_id, province)
    units = await queries.unit_count(session, province)
    counted = ProgressOut(
        round_id=round_id,
        province=province,
        units=units,
        cases=len(rows),
        open=sum(1 for c, _, _ in rows if c.status == "open"),
        closed=sum(1 for c, _, _ in rows if c.status == "closed"),
        by_stage=dict(Counter(c.stage for c, _, _ in rows)),
        by_outcome=dict(Counter(c.outcome for c, _, _ in rows if c.outcome)),
        overdue=sum(1 for _, _, t in rows if t is not None and t.due_at is not None and t.due_at < now),
        escalated=sum(1 for _, _, t in rows if t is not None and t.escalation_level),
        on_hold=sum(1 for c, _, _ in rows if c.on_hold),
        striving=_waiting(rows, Stage.SELF_ASSESSMENT),
        waiting_registration=_waiting(rows, Stage.REGISTRATION),
        generated_at=now,
        workflow=None,
    )
    counted.workflow = await _workflow_progress(session, temporal, round_id, province)  # after the rows are read
    return counted


def _waiting(rows: CaseRows, stage: Stage) -> int:
    """Open cases at `stage` with no task, waiting for its window to open (`cases.waiting_until`): at self-assessment
    the units registered and striving, at registration the cases of a round opened before its period starts."""
    return sum(
        1
        for c, _, t in rows
        if c.status == "open" and c.stage == stage.value and c.waiting_until is not None and t is None
    )


async def _workflow_progress(
    session: AsyncSession, temporal: Client, round_id: str, province: str
) -> RoundProgress | None:
    await session.rollback()  # hold no connection while Temporal answers
    handle = _round_workflow(temporal, round_id, province)
    try:
        return await handle.query(AssessmentRoundWorkflow.progress)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None  # opened before rounds had a workflow, or by hand case by case
        raise Refusal(503, "temporal_unavailable", exc.message) from None
    except WorkflowQueryFailedError:
        return None  # not started running yet


async def report(
    session: AsyncSession, principal: Principal, round_id: str, province: str, *, now: datetime
) -> ReportOut:
    """The round's report for the province: counts, share recognised, one row per unit; and, once the round has
    closed, the report its workflow recorded."""
    require_oversight(principal, province)
    rnd = await _round(session, round_id)
    units = await queries.unit_count(session, province)
    rows = await queries.round_cases(session, round_id, province)
    reached = await queries.milestones(session, round_id, province)
    found = await target_in_force(session, province, rnd.year)
    target = ReportTarget(**found.model_dump(include={"share", "plan", "first_year", "last_year"})) if found else None
    districts = await queries.former_districts(session, province)
    out = build_report(
        round_id, province, rnd.rule_set_id, units, rows, reached, now=now, target=target, districts=districts
    )
    out.recorded = await queries.recorded_report(session, round_id, province)
    return out

"""Cases: reading one with its scores, tasks and journal, its timeline, and withdrawing it from its round (a Temporal
Update the case workflow validates). The export of a case (an offline-verifiable bundle) is the audit's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from contracts import CaseStatus, WithdrawInput
from db.models import CaseRow, TaskRow
from services.access import Principal, require_admin, require_read, signed
from services.cases import queries
from services.cases.schemas import (
    WAITING_STANDINGS,
    AuditOut,
    CaseOut,
    CaseTaskOut,
    ScoreOut,
    Standing,
    TimelineOut,
    from_row,
)
from services.cases.timeline import timeline_of
from services.errors import Refusal
from services.updates import UPDATE_ERRORS, update_refusal
from workflows.case import RecognitionCaseWorkflow


async def readable_case(session: AsyncSession, principal: Principal, case_id: str) -> CaseRow:
    """The case, when the official's scope covers its unit; absent otherwise."""
    case = await queries.case_row(session, case_id)
    if case is None:
        raise Refusal(404, "case_not_found", f"no case {case_id} in your units")
    require_read(principal, case.unit_code, case.province_code, what=f"case {case_id}", code="case_not_found")
    return case


def waiting_of(case: CaseRow, tasks: Sequence[TaskRow]) -> datetime | None:
    """When the task of the case's stage opens, for an open case with no open task that waits for it (a closed case
    may keep the day it waited for in its row: it waits for nothing)."""
    if case.status != "open" or any(t.status == "open" for t in tasks):
        return None
    return case.waiting_until


async def get_case(session: AsyncSession, principal: Principal, case_id: str) -> CaseOut:
    case = await readable_case(session, principal, case_id)
    tasks = await queries.tasks_of(session, case.id)
    waiting = waiting_of(case, tasks)
    standing: Standing | None = WAITING_STANDINGS.get(case.stage) if waiting else None
    return from_row(
        CaseOut,
        case,
        unit_name=await queries.unit_name(session, case),
        waiting_until=waiting,
        standing=standing,
        scores=[from_row(ScoreOut, s) for s in await queries.scores_of(session, case.id)],
        tasks=[from_row(CaseTaskOut, t) for t in tasks],
        journal=[from_row(AuditOut, a) for a in await queries.journal_of(session, case.id)],
    )


async def get_timeline(session: AsyncSession, principal: Principal, case_id: str) -> TimelineOut:
    case = await readable_case(session, principal, case_id)
    quoted = quote(case.id, safe="")
    return TimelineOut(
        case_id=case.id,
        unit_code=case.unit_code,
        round_id=case.round_id,
        rule_set_id=case.rule_set_id,
        events=await timeline_of(session, case),
        links={"verify": f"/v1/audit/cases/{quoted}/verify", "export": f"/v1/audit/cases/{quoted}/export"},
    )


async def withdraw(
    session: AsyncSession, temporal: Client, principal: Principal, case_id: str, reason: str
) -> CaseStatus:
    """Withdraw an open case from its round (admins of its province); it closes as withdrawn."""
    case = await readable_case(session, principal, case_id)
    require_admin(principal, case.province_code)
    status = case.status
    await session.rollback()  # release the connection before waiting on Temporal
    if status != "open":
        raise Refusal(409, "case_closed", f"case {case_id} is {status}")
    update_id = f"withdraw-{case_id}"
    update = signed(principal, case_id, WithdrawInput, update_id=update_id, reason=reason)
    handle = temporal.get_workflow_handle_for(RecognitionCaseWorkflow.run, case_id)
    try:
        return await handle.execute_update(RecognitionCaseWorkflow.withdraw, update, id=update_id)
    except UPDATE_ERRORS as exc:
        raise await update_refusal(exc, handle, case_id=case_id) from None

"""Open an assessment round for a province: record the round, then start one case workflow per unit.

Starting is idempotent: a case's workflow id is its case id, and a start for a case that already runs
attaches to it instead of failing, so an interrupted opening can simply be run again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from contracts import OpenRoundInput, StartCaseInput
from db.models import RoundRow
from domain.procedure import profile_in_force
from domain.rounds import Round, parse_round
from workflows.case import RecognitionCaseWorkflow, case_search_attributes
from workflows.round import AssessmentRoundWorkflow, round_workflow_id

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class OpenedRound:
    round_id: str
    profile_id: str
    province_code: str
    cases: list[str]


async def ensure_round(session: AsyncSession, rnd: Round, profile_id: str) -> None:
    await session.execute(
        insert(RoundRow)
        .values(
            id=rnd.id,
            rule_set_id=rnd.rule_set_id,
            profile_id=profile_id,
            year=rnd.year,
            period_start=rnd.period_start,
            period_end=rnd.period_end,
        )
        .on_conflict_do_nothing(index_elements=[RoundRow.id])
    )


async def start_case(client: Client, inp: StartCaseInput, *, task_queue: str) -> None:
    """Start the case's workflow, or attach to it when it already runs (idempotent by case id)."""
    # A case that ran to its end already is not started again: a round is opened once per unit.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            RecognitionCaseWorkflow.run,
            inp,
            id=inp.case_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=case_search_attributes(inp),
        )


async def open_round(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    *,
    round_id: str,
    province_code: str,
    task_queue: str,
    concurrency: int = 20,
    target_share: float | None = None,
    progress: Callable[[int], None] | None = None,
    rehearsal_opens_on: date | None = None,
) -> OpenedRound:
    """Start the province's AssessmentRoundWorkflow (or find it running) and wait until it has opened its cases;
    `progress` hears of each case started. With `rehearsal_opens_on`, a rehearsal: the round's calendar moved so that
    its assessment window opens that day (docs/rounds.md)."""
    rnd = parse_round(round_id)
    handle = await client.start_workflow(
        AssessmentRoundWorkflow.run,
        OpenRoundInput(
            round_id=rnd.id,
            province_code=province_code,
            concurrency=concurrency,
            target_share=target_share,
            rehearsal_opens_on=rehearsal_opens_on,
        ),
        id=round_workflow_id(rnd.id, province_code),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    seen = 0
    started: list[str] = []
    while True:
        try:
            opening = await handle.query(AssessmentRoundWorkflow.opening)
            started = await handle.query(AssessmentRoundWorkflow.started_cases)
        except (WorkflowQueryFailedError, RPCError):
            # Not answering yet (its first task has not run, or a busy worker let the query time out), or closed.
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                break  # the round ran to its end already
            await asyncio.sleep(0.2)
            continue
        if progress is not None and len(started) > seen:
            progress(len(started) - seen)
        seen = max(seen, len(started))
        if not opening:
            break
        await asyncio.sleep(0.2)
    async with sessions() as session:
        profile_id = await session.scalar(select(RoundRow.profile_id).where(RoundRow.id == rnd.id))
    log.info("round_opened", round_id=rnd.id, province_code=province_code, cases=seen)
    return OpenedRound(
        round_id=rnd.id,
        profile_id=profile_id or profile_in_force(rnd.assessment_start).id,
        province_code=province_code,
        cases=started,
    )

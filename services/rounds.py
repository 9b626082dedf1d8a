"""Open an assessment round for a province: record the round, then start one case workflow per unit.

Starting is idempotent: a case's workflow id is its case id, and a start for a case that already runs
attaches to it instead of failing, so an interrupted opening can simply be run again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from db.models import RoundRow, UnitRow
from domain.case import case_id_for
from domain.procedure import profile_in_force
from domain.rounds import Round, parse_round
from domain.stages import LocalityType
from workflows.case import RecognitionCaseWorkflow, case_search_attributes
from workflows.inputs import StartCaseInput

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
    progress: Callable[[int], None] | None = None,
) -> OpenedRound:
    rnd = parse_round(round_id)
    profile = profile_in_force(rnd.assessment_start)
    async with sessions() as session, session.begin():
        await ensure_round(session, rnd, profile.id)
        stored = await session.scalar(select(RoundRow.profile_id).where(RoundRow.id == rnd.id))
        units = (
            await session.execute(
                select(UnitRow.code, UnitRow.locality_type)
                .where(UnitRow.province_code == province_code)
                .order_by(UnitRow.code)
            )
        ).all()
    profile_id = stored or profile.id
    gate = asyncio.Semaphore(concurrency)

    async def start(unit_code: str, locality_type: str) -> str:
        inp = StartCaseInput(
            case_id=case_id_for(rnd.id, unit_code),
            unit_code=unit_code,
            province_code=province_code,
            round_id=rnd.id,
            rule_set_id=rnd.rule_set_id,
            profile_id=profile_id,
            locality_type=LocalityType(locality_type),
        )
        async with gate:
            await start_case(client, inp, task_queue=task_queue)
        if progress is not None:
            progress(1)
        return inp.case_id

    cases = await asyncio.gather(*(start(code, lt) for code, lt in units))
    log.info("round_opened", round_id=rnd.id, province_code=province_code, cases=len(cases))
    return OpenedRound(round_id=rnd.id, profile_id=profile_id, province_code=province_code, cases=list(cases))

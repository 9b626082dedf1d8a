"""Reconcile PostgreSQL with Temporal after the database lost recent writes (a restore from a backup).

Temporal holds what each case recorded: the inputs of its completed `record_transition` activities (and the opening
its round recorded). For every case workflow in scope (running ones, and closed ones whose rows do not say closed
with their history archived) the rows are compared with those recordings (services/reconcile/compare.py); with
`apply`, what the database lacks is recorded again through the activities' own code, in seq order, one transaction
per case, and its news delivered once (services/reconcile/apply.py); then the cases are compared again.

Nothing here decides anything new: no journal row of its own, no transition the workflows did not record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from db.models import RoundRow, UnitRow
from domain.errors import RoundError
from domain.rounds import parse_round
from domain.units import load_provinces
from services.errors import Refusal
from services.reconcile import apply as repair
from services.reconcile.compare import CaseRows, gap_of, rows_of, settled_closed
from services.reconcile.history import CaseRecord, RoundRecord, case_record, round_record
from services.reconcile.schemas import CaseGap, ReconcileReport, RoundGap

log = structlog.get_logger(__name__)

CASE_WORKFLOW = "RecognitionCaseWorkflow"
FETCH_CONCURRENCY = 8  # histories fetched at once
ROWS_BATCH = 500  # cases whose rows are read per round of queries
Progress = Callable[[str, int, int], None]  # (phase, done, total)
T = TypeVar("T")


@dataclass(frozen=True)
class Listed:
    workflow_id: str
    run_id: str
    running: bool
    completed: bool


async def check_options(
    client: Client, sessions: async_sessionmaker[AsyncSession], province: str | None, round_id: str | None
) -> None:
    """A province among the 34, a round that is a round and that this system knows (its row, or a case of it)."""
    if province is not None and province not in {p.code for p in load_provinces()}:
        raise Refusal(422, "unknown_province", f"--province: unknown province {province!r}", field="province")
    if round_id is None:
        return
    try:
        parse_round(round_id)
    except RoundError as exc:
        raise Refusal(422, "invalid_round", f"--round: {exc}", field="round") from None
    async with sessions() as session:
        known = await session.scalar(select(RoundRow.id).where(RoundRow.id == round_id))
    if known is None and (await client.count_workflows(_query(None, round_id))).count == 0:
        raise Refusal(422, "unknown_round", f"--round: no round {round_id!r} was opened here", field="round")


def _query(province: str | None, round_id: str | None) -> str:
    parts = [f"WorkflowType = '{CASE_WORKFLOW}'"]
    if province is not None:
        parts.append(f"ProvinceCode = '{province}'")
    if round_id is not None:
        parts.append("RoundId = '{}'".format(round_id.replace("'", "")))
    return " AND ".join(parts)


async def list_cases(client: Client, province: str | None, round_id: str | None) -> list[Listed]:
    """Every case workflow of the scope in visibility, running or closed (the latest run of each)."""
    seen: dict[str, Listed] = {}
    async for w in client.list_workflows(_query(province, round_id)):
        if w.id in seen:
            continue  # listed newest first
        running = w.status == WorkflowExecutionStatus.RUNNING
        seen[w.id] = Listed(w.id, w.run_id, running, w.status == WorkflowExecutionStatus.COMPLETED)
    return sorted(seen.values(), key=lambda w: w.workflow_id)


async def _rows(sessions: async_sessionmaker[AsyncSession], ids: Sequence[str]) -> dict[str, CaseRows]:
    out: dict[str, CaseRows] = {}
    for start in range(0, len(ids), ROWS_BATCH):
        async with sessions() as session:
            out |= await rows_of(session, ids[start : start + ROWS_BATCH])
    return out


async def _gathered(
    items: Sequence[T], work: Callable[[T], Awaitable[CaseRecord]], progress: Progress | None, every: int
) -> list[CaseRecord]:
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)
    done = 0

    async def one(item: T) -> CaseRecord:
        nonlocal done
        async with gate:
            record = await work(item)
        done += 1
        if progress is not None and (done % every == 0 or done == len(items)):
            progress("check", done, len(items))
        return record

    return list(await asyncio.gather(*(one(i) for i in items)))


async def compare(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    listed: Sequence[Listed],
    *,
    progress: Progress | None = None,
    every: int = 50,
) -> tuple[dict[str, CaseRecord], list[CaseGap]]:
    """Each case's recordings against its rows: the records read and the gaps found, in case order."""
    rows = await _rows(sessions, [w.workflow_id for w in listed])
    todo = [w for w in listed if w.running or not settled_closed(rows.get(w.workflow_id), w.run_id)]
    if progress is not None and len(todo) < len(listed):
        progress("settled", len(listed) - len(todo), len(listed))
    records = await _gathered(todo, lambda w: case_record(client, w.workflow_id, w.run_id), progress, every)
    by_id = {r.workflow_id: r for r in records}
    gaps = []
    for w in todo:
        gap = gap_of(by_id[w.workflow_id], rows.get(w.workflow_id), running=w.running, completed=w.completed)
        if gap is not None:
            gaps.append(gap)
    return by_id, gaps


async def _round_gaps(
    client: Client, sessions: async_sessionmaker[AsyncSession], parents: set[tuple[str, str]]
) -> list[tuple[RoundGap, RoundRecord]]:
    """The rounds that started the cases, against their own rows (a round past Temporal's retention is skipped)."""
    out: list[tuple[RoundGap, RoundRecord]] = []
    for workflow_id, run_id in sorted(parents):
        try:
            record = await round_record(client, workflow_id, run_id)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            continue
        async with sessions() as session:
            gap = await repair.round_gap(session, record)
        if gap is not None:
            out.append((gap, record))
    return out


async def reconcile(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    *,
    task_queue: str,
    province: str | None = None,
    round_id: str | None = None,
    apply: bool = False,
    progress: Progress | None = None,
    every: int = 50,
) -> ReconcileReport:
    """Compare every case of the scope with its workflow; with `apply`, record again what the database lacks and
    compare those cases again. Bad options are refused (Refusal, naming the option) before anything is read."""
    began = time.monotonic()
    await check_options(client, sessions, province, round_id)
    listed = await list_cases(client, province, round_id)
    records, gaps = await compare(client, sessions, listed, progress=progress, every=every)
    rounds = await _round_gaps(client, sessions, {r.parent for r in records.values() if r.parent})
    lacking = len(gaps)
    figures = {
        "province": province,
        "round_id": round_id,
        "applied": apply,
        "checked": len(listed),
        "running": sum(w.running for w in listed),
        "lacking": lacking,
        "in_flight": sum(bool(r.in_flight) for r in records.values()),
    }
    if apply and (gaps or rounds):
        repaired_rounds = [await _repair_round(client, sessions, g, r, task_queue) for g, r in rounds]
        repaired = await _repair_cases(client, sessions, records, gaps, task_queue, progress)
        again = [w for w in listed if w.workflow_id in {g.case_id for g in gaps}]
        _, still = await compare(client, sessions, again)
        figures |= {
            "rerecorded_cases": sum(bool(g.rerecorded_seqs) for g in repaired),
            "rerecorded_transitions": sum(len(g.rerecorded_seqs) for g in repaired),
            "remaining": len(still),
        }
        rounds_out, gaps = repaired_rounds, repaired
    else:
        rounds_out = [g for g, _ in rounds]
    gaps = await _named(sessions, gaps)
    report = ReconcileReport(**figures, seconds=round(time.monotonic() - began, 3), rounds=rounds_out, cases=gaps)
    log.info(
        "reconcile_done",
        province=province,
        round_id=round_id,
        applied=apply,
        checked=report.checked,
        lacking=report.lacking,
        rerecorded=report.rerecorded_transitions,
        remaining=report.remaining,
        seconds=report.seconds,
    )
    return report


async def _named(sessions: async_sessionmaker[AsyncSession], gaps: list[CaseGap]) -> list[CaseGap]:
    """The gaps with their units' names, for the tables."""
    if not gaps:
        return gaps
    async with sessions() as session:
        names = dict(
            (
                await session.execute(
                    select(UnitRow.code, UnitRow.name).where(UnitRow.code.in_({g.unit_code for g in gaps}))
                )
            ).all()
        )
    return [g.model_copy(update={"unit_name": names.get(g.unit_code)}) for g in gaps]


async def _repair_round(
    client: Client, sessions: async_sessionmaker[AsyncSession], gap: RoundGap, record: RoundRecord, task_queue: str
) -> RoundGap:
    outbox = await repair.rerecord_round(sessions, record, gap)
    started, settled = await repair.deliver_once(client, sessions, outbox, task_queue=task_queue)
    return gap.model_copy(
        update={"rerecorded": True, "notifications_dispatched": started, "notifications_settled": settled}
    )


async def _repair_cases(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    records: dict[str, CaseRecord],
    gaps: Sequence[CaseGap],
    task_queue: str,
    progress: Progress | None,
) -> list[CaseGap]:
    """Each repairable case in its own transaction, then its news and its archived history."""
    out: list[CaseGap] = []
    for i, gap in enumerate(gaps, 1):
        record = records[gap.case_id]
        changes: dict[str, object] = {}
        if gap.repairable and gap.missing_seqs:
            outbox = await repair.rerecord_case(sessions, record, gap)
            started, settled = await repair.deliver_once(client, sessions, outbox, task_queue=task_queue)
            changes = {
                "rerecorded_seqs": gap.missing_seqs,
                "notifications_dispatched": started,
                "notifications_settled": settled,
            }
        if gap.repairable and gap.history_unarchived:
            changes["history_archived"] = await repair.archive_again(client, sessions, record)
        out.append(gap.model_copy(update=changes))
        if progress is not None:
            progress("apply", i, len(gaps))
    return out

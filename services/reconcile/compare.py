"""The rows PostgreSQL holds for a batch of cases, and how they stand against what the cases' workflows recorded.

The journal of a case is a chain appended in seq order, so its highest seq says which transitions the database has:
every recorded transition above it is lacking (the rows of one transition are written in one transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow, CaseRow, TaskRow
from db.models_audit import WorkflowHistoryRow
from services.reconcile.history import CaseRecord
from services.reconcile.schemas import CaseGap


@dataclass(frozen=True)
class CaseRows:
    """One case in PostgreSQL: its row (None when absent), the head of its journal, its open tasks, and the runs
    whose history is archived."""

    last_seq: int | None = None
    stage: str | None = None
    status: str | None = None
    journal_seq: int | None = None
    open_tasks: tuple[str, ...] = ()
    archived_runs: frozenset[str] = frozenset()


async def rows_of(session: AsyncSession, case_ids: Sequence[str]) -> dict[str, CaseRows]:
    """The rows of the cases, four queries for the whole batch; a case with no row at all is absent."""
    ids = list(case_ids)
    if not ids:
        return {}
    cases = {
        r.id: r
        for r in (
            await session.execute(
                select(CaseRow.id, CaseRow.last_seq, CaseRow.stage, CaseRow.status).where(CaseRow.id.in_(ids))
            )
        ).all()
    }
    heads = dict(
        (
            await session.execute(
                select(AuditEventRow.case_id, func.max(AuditEventRow.seq))
                .where(AuditEventRow.case_id.in_(ids))
                .group_by(AuditEventRow.case_id)
            )
        ).all()
    )
    tasks: dict[str, list[str]] = {}
    for case_id, task_id in await session.execute(
        select(TaskRow.case_id, TaskRow.id)
        .where(TaskRow.case_id.in_(ids), TaskRow.status == "open")
        .order_by(TaskRow.id)
    ):
        tasks.setdefault(case_id, []).append(task_id)
    runs: dict[str, set[str]] = {}
    for case_id, run_id in await session.execute(
        select(WorkflowHistoryRow.case_id, WorkflowHistoryRow.run_id).where(WorkflowHistoryRow.case_id.in_(ids))
    ):
        runs.setdefault(case_id, set()).add(run_id)
    out: dict[str, CaseRows] = {}
    for case_id in set(cases) | set(heads):
        row = cases.get(case_id)
        out[case_id] = CaseRows(
            last_seq=row.last_seq if row else None,
            stage=row.stage if row else None,
            status=row.status if row else None,
            journal_seq=heads.get(case_id),
            open_tasks=tuple(tasks.get(case_id, ())),
            archived_runs=frozenset(runs.get(case_id, ())),
        )
    return out


def settled_closed(rows: CaseRows | None, run_id: str) -> bool:
    """A closed case whose rows say closed and whose history is archived: nothing to compare (its closing was its
    last transition, and a journal is only ever appended in order)."""
    return rows is not None and rows.status == "closed" and run_id in rows.archived_runs


def gap_of(record: CaseRecord, rows: CaseRows | None, *, running: bool, completed: bool) -> CaseGap | None:
    """How the case's rows fall short of its workflow's recordings; None when they agree. `completed`: the run
    completed (a completed case archives its history as its last step)."""
    last = record.last
    if last is None:  # nothing recorded yet (a case whose opening is still being recorded)
        return None
    rows = rows or CaseRows()
    head = rows.journal_seq or 0
    missing = [t for t in record.transitions if t.transition.seq > head]
    wf_task = record.open_task()
    db_task = rows.open_tasks[0] if len(rows.open_tasks) == 1 else None
    unarchived = completed and not running and record.run_id not in rows.archived_runs
    agrees = (
        not missing
        and rows.last_seq == last.case.last_seq
        and rows.stage == last.case.stage.value
        and rows.status == last.case.status
        and rows.open_tasks == ((wf_task,) if wf_task else ())
    )
    if agrees and not unarchived:
        return None
    note = None
    repairable = True
    if head > last.transition.seq:
        repairable, note = False, f"the journal holds seq {head}, beyond the workflow's last ({last.transition.seq})"
    elif not missing and not agrees:
        repairable, note = False, "the rows differ from the last transition the journal holds"
    case = last.case
    return CaseGap(
        case_id=case.case_id,
        unit_code=case.unit_code,
        province_code=case.province_code,
        round_id=case.round_id,
        running=running,
        db_seq=rows.last_seq,
        wf_seq=case.last_seq,
        missing_seqs=[t.transition.seq for t in missing],
        missing_stages=[t.transition.to_stage.value for t in missing],
        db_stage=rows.stage,
        wf_stage=case.stage.value,
        db_status=rows.status,
        wf_status=case.status,
        db_open_task=db_task if db_task else (", ".join(rows.open_tasks) or None),
        wf_open_task=wf_task,
        history_unarchived=unarchived,
        repairable=repairable,
        note=note,
    )

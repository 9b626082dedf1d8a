"""Projection of the case into PostgreSQL: one activity = one transaction = safe to run twice.

Every write is keyed by a business key (case id, (case id, seq), task id, (case id, kind, criterion)), so a retried
activity finds its rows in place and changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import structlog
from sqlalchemy import Executable, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from audit.journal import AuditEntry, append_audit_event, append_first_audit_events
from contracts import (
    NewTask,
    RecognitionHistory,
    RecognitionHistoryInput,
    RecordTransitionInput,
    RecordTransitionResult,
)
from db.models import CaseRow, CriterionScoreRow, TaskRow
from domain.case import ScoreSheet
from domain.stages import Stage
from notify.outbox import enqueue_for_transition, enqueue_for_transitions
from services.history.basis import recognition_history

log = structlog.get_logger(__name__)

# The statements every transition runs, built once: executed with each transition's values as parameters, they
# are compiled once per worker, where a statement built per call is walked for its cache key every time.
_CASES = cast(Table, CaseRow.__table__)
_TASKS = cast(Table, TaskRow.__table__)


# What a transition writes of the case row (`_case_values`): the first transition inserts every one, a later one
# moves all but these two.
CASE_KEPT = ("id", "opened_at")
CASE_MOVED = (
    *("unit_code", "province_code", "round_id", "rule_set_id", "profile_id", "locality_type", "stage", "status"),
    *("outcome", "verdict", "run_id", "last_seq", "on_hold", "problem", "waiting_until", "updated_at", "closed_at"),
)


def _case_upsert() -> Executable:
    """The case row: inserted, or moved by a newer transition only. A late retry of an older one leaves it as it is;
    either way the row is locked to the end of the transaction (PostgreSQL locks the conflicting row even when the
    WHERE is false), which is the lock the journal's append needs."""
    stmt = insert(_CASES)
    return stmt.on_conflict_do_update(
        index_elements=[_CASES.c.id],
        set_={name: stmt.excluded[name] for name in CASE_MOVED},
        where=_CASES.c.last_seq < stmt.excluded.last_seq,
    )


CASE_UPSERT = _case_upsert()
NEW_TASK = insert(_TASKS).on_conflict_do_nothing(index_elements=[_TASKS.c.id])
TASK_COMPLETED = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("task"), _TASKS.c.status == "open")
    .values(
        status="completed",
        completed_at=bindparam("at"),
        completed_by=bindparam("by"),
        completion=bindparam("form", type_=_TASKS.c.completion.type),
        update_id=bindparam("update"),
    )
)


class CaseStore:
    """Activities that write the case, its tasks and its journal."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    @activity.defn(name="record_transition")
    async def record_transition(self, inp: RecordTransitionInput) -> RecordTransitionResult:
        history = None
        async with self._sessions() as session, session.begin():
            outbox_ids = await _apply_transition(session, inp)
            if recognised_now(inp):  # what the commendation check reads next, in the same transaction
                history = await _recognition_history(session, inp.case.unit_code, inp.case.round_id)
        log.info(
            "transition_recorded",
            case_id=inp.case.case_id,
            seq=inp.transition.seq,
            action=inp.transition.action,
            to_stage=inp.transition.to_stage.value,
        )
        return RecordTransitionResult(outbox_ids=tuple(outbox_ids), recognition_history=history)

    @activity.defn(name="load_recognition_history")
    async def load_recognition_history(self, inp: RecognitionHistoryInput) -> RecognitionHistory:
        """The unit's rounds before this one (for cases whose recognition was recorded before `record_transition`
        returned them)."""
        async with self._sessions() as session:
            return await _recognition_history(session, inp.unit_code, inp.round_id)


def recognised_now(inp: RecordTransitionInput) -> bool:
    """The transition recognises the unit: the case moves into the commendation stage, whose check comes next."""
    tr = inp.transition
    return tr.to_stage == Stage.COMMENDATION and tr.from_stage != Stage.COMMENDATION


async def _recognition_history(session: AsyncSession, unit_code: str, round_id: str) -> RecognitionHistory:
    """The unit's rounds before this one: its closed cases, and the past rounds imported for it or its
    predecessors under the merger policy (services/history/basis.py), each with its basis."""
    bases = await recognition_history(session, unit_code, round_id)
    return RecognitionHistory(rounds=[b.result() for b in bases], basis=tuple(bases))


def _case_values(inp: RecordTransitionInput) -> dict[str, Any]:
    """The case row's values after the transition: exactly CASE_KEPT and CASE_MOVED."""
    case, tr = inp.case, inp.transition
    return {
        "id": case.case_id,
        "unit_code": case.unit_code,
        "province_code": case.province_code,
        "round_id": case.round_id,
        "rule_set_id": case.rule_set_id,
        "profile_id": case.profile_id,
        "locality_type": case.locality_type.value,
        "stage": case.stage.value,
        "status": case.status,
        "outcome": case.outcome.value if case.outcome else None,
        "verdict": case.verdict,
        "run_id": inp.run_id,
        "last_seq": case.last_seq,
        "on_hold": case.on_hold,
        "problem": case.problem,
        "waiting_until": case.waiting_until,
        "opened_at": tr.occurred_at,
        "updated_at": tr.occurred_at,
        "closed_at": tr.occurred_at if case.status == "closed" else None,
    }


def _audit_entry(inp: RecordTransitionInput) -> AuditEntry:
    case, tr = inp.case, inp.transition
    return AuditEntry(
        case_id=case.case_id,
        seq=tr.seq,
        action=tr.action,
        actor_id=inp.actor_id,
        actor_role=inp.actor_role.value if inp.actor_role else None,
        unit_code=case.unit_code,
        from_stage=tr.from_stage.value if tr.from_stage else None,
        to_stage=tr.to_stage.value,
        task_id=inp.completed_task.task_id if inp.completed_task else None,
        payload=tr.details,
        reason=tr.reason,
        rule_set_id=case.rule_set_id,
        workflow_id=inp.workflow_id,
        run_id=inp.run_id,
        update_id=inp.update_id,
        occurred_at=tr.occurred_at,
    )


def _new_task_values(inp: RecordTransitionInput, task: NewTask) -> dict[str, Any]:
    return {
        "id": task.task_id,
        "case_id": inp.case.case_id,
        "stage": task.stage.value,
        "role": task.role.value,
        "unit_code": inp.case.unit_code,
        "province_code": inp.case.province_code,
        "status": "open",
        "created_at": inp.transition.occurred_at,
        "due_at": task.due_at,
    }


async def record_openings(session: AsyncSession, openings: Sequence[RecordTransitionInput]) -> dict[str, list[str]]:
    """Many cases' first transitions in the caller's transaction, a statement per table instead of per case;
    a case already recorded keeps its rows (each insert is keyed and does nothing twice). A case that waits for
    its registration window (a round opened before its period starts) has no task yet. Returns each case's
    outbox ids to dispatch."""
    if not openings:
        return {}
    if any(o.transition.seq != 1 for o in openings):
        raise ValueError("record_openings takes only first transitions (seq 1)")
    await session.execute(
        insert(CaseRow).values([_case_values(o) for o in openings]).on_conflict_do_nothing(index_elements=[CaseRow.id])
    )
    await append_first_audit_events(session, [_audit_entry(o) for o in openings])
    tasks = [_new_task_values(o, o.new_task) for o in openings if o.new_task is not None]
    if tasks:
        await session.execute(insert(TaskRow).values(tasks).on_conflict_do_nothing(index_elements=[TaskRow.id]))
    outbox = await enqueue_for_transitions(session, openings)
    return {o.case.case_id: ids for o, ids in zip(openings, outbox, strict=True)}


async def apply_transition(session: AsyncSession, inp: RecordTransitionInput) -> list[str]:
    """One transition in the caller's transaction, as `record_transition` records it (the same keyed writes: the
    case row, its journal row, its tasks and scores, its news); returns the outbox ids to dispatch. A transition the
    database lost is recorded again through it (services/reconcile/)."""
    return await _apply_transition(session, inp)


async def _apply_transition(session: AsyncSession, inp: RecordTransitionInput) -> list[str]:
    await session.execute(CASE_UPSERT, _case_values(inp))
    await append_audit_event(session, _audit_entry(inp), case_locked=True)
    await _apply_task_changes(session, inp)
    if inp.transition.score_sheet is not None:
        await _record_scores(session, inp.case.case_id, inp.transition.score_sheet)
    if inp.new_task is not None:
        await session.execute(NEW_TASK, _new_task_values(inp, inp.new_task))
    # The news of this transition goes into the outbox in the same transaction (notify/outbox.py).
    return await enqueue_for_transition(session, inp)


async def _apply_task_changes(session: AsyncSession, inp: RecordTransitionInput) -> None:
    """The open task the transition completed, cancelled or changed (due date, escalation, holder)."""
    case, tr = inp.case, inp.transition
    if inp.completed_task is not None:
        done = inp.completed_task
        await session.execute(
            TASK_COMPLETED,
            {
                "task": done.task_id,
                "at": tr.occurred_at,
                "by": done.completed_by,
                "form": done.completion,
                "update": inp.update_id,
            },
        )
    if inp.cancelled_task_id is not None:
        await session.execute(
            update(TaskRow)
            .where(TaskRow.id == inp.cancelled_task_id, TaskRow.status == "open")
            .values(status="cancelled", completed_at=tr.occurred_at)
        )
    if inp.task_update is not None:
        change = inp.task_update
        # Guarded by the case's sequence: a late retry of an older transition cannot undo a newer one.
        await session.execute(
            update(TaskRow)
            .where(
                TaskRow.id == change.task_id,
                TaskRow.status == "open",
                select(CaseRow.last_seq).where(CaseRow.id == case.case_id).scalar_subquery() == case.last_seq,
            )
            .values(
                due_at=change.due_at,
                escalation_level=change.escalation_level,
                escalated_to=change.escalated_to.value if change.escalated_to else None,
                assignee_id=change.assignee_id,
                stuck=change.stuck,
            )
        )


async def _record_scores(session: AsyncSession, case_id: str, sheet: ScoreSheet) -> None:
    """One row per criterion of a score sheet; scoring the same sheet again overwrites its points."""
    rows = [
        {
            "case_id": case_id,
            "kind": sheet.kind,
            "criterion": criterion,
            "points": points,
            "source": sheet.sources.get(criterion),
        }
        for criterion, points in sorted(sheet.scores.items())
    ]
    stmt = insert(CriterionScoreRow).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[CriterionScoreRow.case_id, CriterionScoreRow.kind, CriterionScoreRow.criterion],
            set_={"points": stmt.excluded.points, "source": stmt.excluded.source},
        )
    )

"""Deadlines that act: a reminder before the due time, one escalation rung at each step, the final policy at the end.

`next_deadline(task)` says what happens next and when; `deadline_passed(...)` applies it. A case on hold has none.
Authorities are never auto-approved: their final policy leaves the case open and flags it stuck. (A task's deadlines
are set when it opens: domain/tasks.py.)
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.case import CaseState, Transition
from domain.procedure import FinalPolicy, StageSpec
from domain.stages import Outcome, Stage
from domain.tasks import OpenTask


class DeadlineKind(StrEnum):
    REMIND = "remind"
    ESCALATE = "escalate"
    FINAL = "final"


FINAL_OUTCOMES = {
    FinalPolicy.CLOSE_NOT_REGISTERED: Outcome.NOT_REGISTERED,
    FinalPolicy.CLOSE_NOT_SUBMITTED: Outcome.NOT_SUBMITTED,
}


def next_deadline(task: OpenTask | None, *, on_hold: bool) -> tuple[datetime, DeadlineKind] | None:
    """The next thing a deadline will do to the task, and when; None when nothing will (on hold, or stuck)."""
    if task is None or on_hold or task.final_applied:
        return None
    if not task.reminded and task.reminder_at is not None and task.reminder_at < task.due_at:
        return task.reminder_at, DeadlineKind.REMIND
    level = task.escalation_level
    if level < len(task.ladder):
        return (task.due_at if level == 0 else task.ladder[level - 1].ends_at), DeadlineKind.ESCALATE
    return task.final_at, DeadlineKind.FINAL


def deadline_passed(
    state: CaseState, kind: DeadlineKind, spec: StageSpec, *, now: datetime
) -> tuple[CaseState, Transition]:
    """Apply the deadline `kind` to the open task of `state`."""
    task = state.task
    if task is None or state.status != "open":
        raise ValueError("no open task to act on")
    seq = state.seq + 1
    details: dict[str, Any] = {"task_id": task.task_id, "due_at": task.due_at.isoformat()}
    if kind is DeadlineKind.REMIND:
        return _task_changed(state, task.model_copy(update={"reminded": True}), "task_reminded", now, details)
    if kind is DeadlineKind.ESCALATE:
        new_task = task.model_copy(update={"escalation_level": task.escalation_level + 1})
        details |= {"level": new_task.escalation_level, "to_role": str(new_task.escalated_to)}
        reason = f"not done by {task.due_at.isoformat()}; escalated to {new_task.escalated_to}"
        return _task_changed(state, new_task, "task_escalated", now, details, reason)
    policy = spec.final_policy
    details["final_policy"] = policy.value
    outcome = FINAL_OUTCOMES.get(policy)
    if outcome is not None:
        new = state.model_copy(
            update={"seq": seq, "task": None, "stage": Stage.CLOSED, "status": "closed", "outcome": outcome}
        )
        return new, Transition(
            seq=seq,
            action="deadline_closed",
            from_stage=state.stage,
            to_stage=Stage.CLOSED,
            occurred_at=now,
            outcome=outcome,
            details=details,
            cancelled_task_id=task.task_id,
            reason=f"the ladder of {state.stage.value} ended without action: {outcome.value}",
        )
    reason = f"{state.stage.value} is never decided by default: the case stays open and is flagged stuck"
    stuck = state.model_copy(update={"problem": "stuck"})
    return _task_changed(stuck, task.model_copy(update={"final_applied": True}), "task_stuck", now, details, reason)


def _task_changed(
    state: CaseState, task: OpenTask, action: str, now: datetime, details: dict[str, Any], reason: str | None = None
) -> tuple[CaseState, Transition]:
    """The case stays at its stage; its open task changes (reminded, climbed a rung, flagged stuck)."""
    new = state.model_copy(update={"seq": state.seq + 1, "task": task})
    transition = Transition(
        seq=new.seq,
        action=action,
        from_stage=state.stage,
        to_stage=state.stage,
        occurred_at=now,
        details=details,
        task_update=task,
        reason=reason,
    )
    return new, transition

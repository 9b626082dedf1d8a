"""Administrators' actions on a running case: move a due date, reassign, hold and release, withdraw, nudge.

Each is checked first (`AdminActionError` with a stable code says why not) and then applied, returning the new
state and the transition to journal. A due time moves at most `DUE_HORIZON_DAYS` after now (`check_due_horizon`,
which the API and the bulk actions apply before they send a move to the case).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.case import CaseState, Transition
from domain.errors import DomainError
from domain.procedure import ProcedureProfile
from domain.stages import Outcome, Stage
from domain.tasks import schedule

# Default horizon of a moved due time, in days after now (XPTT_DUE_HORIZON_DAYS). Source: none prescribes one; the
# assessment stages of a round run from October to December of its year (DOMAIN.md "The calendar"), so a move of more
# than about six months carries a task past its round's season: that is a new round, not a later due date.
DUE_HORIZON_DAYS = 180


class AdminActionError(DomainError):
    """A refused action; `code` is one of: case_closed, task_not_open, already_on_hold, not_on_hold, invalid_payload."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[misc]
        self.field = field


def check_open(state: CaseState, task_id: str | None = None) -> None:
    if state.status != "open":
        raise AdminActionError("case_closed", f"case {state.case_id} is closed ({state.outcome})")
    if task_id is not None and (state.task is None or state.task.task_id != task_id):
        current = state.task.task_id if state.task else "none"
        raise AdminActionError("task_not_open", f"task {task_id} is not the open task of this case ({current})")


def _transition(state: CaseState, action: str, *, now: datetime, reason: str, **kw: Any) -> Transition:
    return Transition(
        seq=state.seq + 1,
        action=action,
        from_stage=state.stage,
        to_stage=kw.pop("to_stage", state.stage),
        occurred_at=now,
        reason=reason,
        **kw,
    )


def check_due_horizon(new_due: datetime, *, now: datetime, horizon: timedelta | None = None) -> None:
    """Refuse a new due time that has no time zone, is not in the future, or falls more than `horizon` (default
    DUE_HORIZON_DAYS) after now."""
    if new_due.tzinfo is None:
        raise AdminActionError("invalid_payload", "give the new due time with its time zone", "new_due_at")
    if new_due <= now:
        raise AdminActionError("invalid_payload", f"{new_due.isoformat()} is not in the future", "new_due_at")
    limit = timedelta(days=DUE_HORIZON_DAYS) if horizon is None else horizon
    if new_due - now > limit:
        raise AdminActionError(
            "invalid_payload",
            f"{new_due.isoformat()} is more than {limit.days} days after now; a due time moves at most that far",
            "new_due_at",
        )


def extend_due(
    state: CaseState,
    task_id: str,
    new_due: datetime,
    profile: ProcedureProfile,
    *,
    reason: str,
    now: datetime,
    horizon: timedelta | None = None,
) -> tuple[CaseState, Transition]:
    """A new due time for the open task; its reminder and ladder are set again from it. With `horizon`, the new
    due time must also fall within it (`check_due_horizon`); the case workflow passes none, so that a move it
    accepted before the horizon existed replays as it ran."""
    check_open(state, task_id)
    assert state.task is not None
    if new_due.tzinfo is None:
        raise AdminActionError("invalid_payload", "give the new due time with its time zone", "new_due_at")
    if new_due <= now:
        raise AdminActionError("invalid_payload", f"{new_due.isoformat()} is not in the future", "new_due_at")
    if horizon is not None:
        check_due_horizon(new_due, now=now, horizon=horizon)
    try:
        task = schedule(state.task, profile.stage(state.stage), new_due)
    except (OverflowError, ValueError):  # its reminder or ladder falls outside the calendar (year 9999 and beyond)
        raise AdminActionError(
            "invalid_payload", f"{new_due.isoformat()} is too far in the future to schedule", "new_due_at"
        ) from None
    new = state.model_copy(update={"seq": state.seq + 1, "task": task, "problem": None})
    details = {"task_id": task_id, "old_due_at": state.task.due_at.isoformat(), "new_due_at": new_due.isoformat()}
    return new, _transition(state, "due_extended", now=now, reason=reason, details=details, task_update=task)


def reassign(
    state: CaseState, task_id: str, official_id: str, *, reason: str, now: datetime
) -> tuple[CaseState, Transition]:
    """Give the open task to one official (the API checks they hold the task's role over the unit)."""
    check_open(state, task_id)
    assert state.task is not None
    task = state.task.model_copy(update={"assignee_id": official_id})
    new = state.model_copy(update={"seq": state.seq + 1, "task": task})
    details = {"task_id": task_id, "from": state.task.assignee_id, "to": official_id}
    return new, _transition(state, "task_reassigned", now=now, reason=reason, details=details, task_update=task)


def hold(state: CaseState, *, reason: str, now: datetime) -> tuple[CaseState, Transition]:
    check_open(state)
    if state.on_hold:
        raise AdminActionError("already_on_hold", f"case {state.case_id} is already on hold")
    new = state.model_copy(update={"seq": state.seq + 1, "on_hold": True, "held_at": now})
    return new, _transition(state, "case_held", now=now, reason=reason, task_update=state.task)


def release(state: CaseState, *, reason: str, now: datetime) -> tuple[CaseState, Transition]:
    """End a hold: every deadline of the open task moves by the time spent on hold."""
    check_open(state)
    if not state.on_hold or state.held_at is None:
        raise AdminActionError("not_on_hold", f"case {state.case_id} is not on hold")
    held_for = now - state.held_at
    task = state.task.shifted(held_for) if state.task else None
    new = state.model_copy(update={"seq": state.seq + 1, "on_hold": False, "held_at": None, "task": task})
    details = {"held_seconds": int(held_for.total_seconds())}
    return new, _transition(state, "case_released", now=now, reason=reason, details=details, task_update=task)


def withdraw(state: CaseState, *, reason: str, now: datetime) -> tuple[CaseState, Transition]:
    check_open(state)
    update = {
        "seq": state.seq + 1,
        "status": "closed",
        "stage": Stage.CLOSED,
        "outcome": Outcome.WITHDRAWN,
        "task": None,
        "on_hold": False,
        "held_at": None,
    }
    new = state.model_copy(update=update)
    return new, _transition(
        state,
        "case_withdrawn",
        now=now,
        reason=reason,
        to_stage=Stage.CLOSED,
        outcome=Outcome.WITHDRAWN,
        cancelled_task_id=state.task.task_id if state.task else None,
    )


def nudge(state: CaseState, task_id: str, *, reason: str, now: datetime) -> tuple[CaseState, Transition]:
    """A reminder sent now, at an administrator's request."""
    check_open(state, task_id)
    new = state.model_copy(update={"seq": state.seq + 1})
    return new, _transition(state, "task_nudged", now=now, reason=reason, details={"task_id": task_id})

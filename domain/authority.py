"""A change of authority in the middle of a case: the profile a case runs under ends (the district profile ends on
30 June 2025, when districts are abolished) and its successor's roles act from the next day.

The open task moves to the successor's role for its stage, as a new task with the same due time (a task that had
climbed its ladder stays as high on the successor's ladder, which is laid out again from the same due time); the
journal row names both profiles and both roles, and the new task's holders are told as of any new task. A case with
no open task (waiting for a stage to open) only changes profile: its next stage opens under the successor. Pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.case import CaseState, Transition
from domain.errors import ProcedureError
from domain.procedure import ProcedureProfile
from domain.round_calendar import AuthorityChange
from domain.tasks import schedule


def _successor_level(state: CaseState, successor: ProcedureProfile) -> dict[str, Any]:
    """The commendation level of the same count in the successor profile (its authority then acts), if it has one."""
    if state.commendation is None:
        return {}
    try:
        return {"commendation": successor.commendation_level(state.commendation.consecutive)}
    except ProcedureError:
        return {}


def authority_changed(
    state: CaseState, change: AuthorityChange, successor: ProcedureProfile, *, now: datetime
) -> tuple[CaseState, Transition]:
    """The case moves from `change.from_profile` to `successor` (= `change.to_profile`)."""
    if state.status != "open" or state.profile_id != change.from_profile or successor.id != change.to_profile:
        raise ValueError(f"case {state.case_id} does not run under {change.from_profile}")
    new = state.model_copy(
        update={"seq": state.seq + 1, "profile_id": successor.id} | _successor_level(state, successor)
    )
    details: dict[str, Any] = {
        "from_profile": change.from_profile,
        "to_profile": change.to_profile,
        "on": change.on.isoformat(),
    }
    old = state.task
    if old is None:
        return new, _transition(new, now, details)
    role = new.acting_role(successor)
    details |= {"task_id": old.task_id, "from_role": old.role.value, "to_role": role.value}
    if role == old.role:
        return new, _transition(new, now, details)
    moved = schedule(
        old.model_copy(
            update={"task_id": new.task_id(state.task_no + 1), "role": role, "assignee_id": None, "started_at": now}
        ),
        successor.stage(state.stage),
        old.due_at,
    )
    moved = moved.model_copy(
        update={
            "escalation_level": min(old.escalation_level, len(moved.ladder)),
            "reminded": old.reminded,
            "final_applied": old.final_applied,
        }
    )
    new = new.model_copy(update={"task": moved, "task_no": state.task_no + 1})
    details["new_task_id"] = moved.task_id
    return new, _transition(new, now, details, cancelled=old.task_id)


def _transition(new: CaseState, now: datetime, details: dict[str, Any], cancelled: str | None = None) -> Transition:
    return Transition(
        seq=new.seq,
        action="authority_changed",
        from_stage=new.stage,
        to_stage=new.stage,
        occurred_at=now,
        details=details,
        reason=f"{details['from_profile']} → {details['to_profile']} ({details['on']})",
        cancelled_task_id=cancelled,
        new_task=new.task if cancelled else None,
    )

"""Payloads that cross the Temporal boundary: one frozen pydantic model per workflow input, update and result.

New fields get defaults, so histories recorded by older code still load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.access import RoleScope
from domain.round_report import CaseStanding
from domain.stages import LocalityType, Outcome, Role, Stage


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True)


class StartCaseInput(_Payload):
    case_id: str
    unit_code: str
    province_code: str
    round_id: str
    rule_set_id: str
    profile_id: str
    locality_type: LocalityType
    # Set when the round recorded the opening in bulk (activities/round_store.py record_cases_opened): the case
    # takes the state that opening gives and sends the first task's news; None: the case records its own opening.
    opened_at: datetime | None = None
    outbox_ids: tuple[str, ...] = ()


class Actor(_Payload):
    """The official acting, with the role assignments the API read for them from the database."""

    official_id: str = Field(min_length=1)
    scopes: list[RoleScope]


class CompleteTaskInput(_Payload):
    task_id: str
    actor: Actor
    payload: dict[str, Any]


class TaskView(_Payload):
    task_id: str
    stage: Stage
    role: Role
    due_at: datetime | None
    escalation_level: int = 0
    escalated_to: Role | None = None
    assignee_id: str | None = None


class CompleteTaskResult(_Payload):
    case_id: str
    completed_task_id: str
    stage: Stage
    status: str
    outcome: Outcome | None
    next_task: TaskView | None


class CaseStatus(_Payload):
    case_id: str
    stage: Stage
    status: str
    outcome: Outcome | None
    open_task: TaskView | None
    on_hold: bool = False
    problem: str | None = None


# Signalled by a case to the round that started it, after each transition.
CaseProgress = CaseStanding


class CaseResult(_Payload):
    case_id: str
    outcome: Outcome | None


# -- administrators' actions on a running case (validated Updates; the actor must be an admin of the province) --------
class AdminActionInput(_Payload):
    actor: Actor
    reason: str = Field(min_length=1, max_length=2000)


class ExtendDueInput(AdminActionInput):
    """Move the open task's due date; the deadline wait re-arms from the new time."""

    task_id: str
    new_due_at: datetime


class ReassignInput(AdminActionInput):
    """Give the open task to one named official (who must hold the task's role over the unit)."""

    task_id: str
    official_id: str = Field(min_length=1)


class HoldInput(AdminActionInput):
    """Put the case on hold: deadlines pause until release."""


class ReleaseInput(AdminActionInput):
    """Release a case on hold: the open task's due time moves by the time spent on hold."""


class WithdrawInput(AdminActionInput):
    """Withdraw the case from the round, with a reason; it closes as withdrawn."""


class NudgeInput(_Payload):
    """Signal: send the open task's assignee a reminder now (fire and forget)."""

    actor: Actor
    task_id: str


# -- rounds ------------------------------------------------------------------------------------------------------------
class OpenRoundInput(_Payload):
    round_id: str
    province_code: str
    target_share: float | None = Field(default=None, ge=0, le=1)  # None: domain.round_report.DEFAULT_TARGET_SHARE
    concurrency: int = Field(default=20, ge=1, le=500)  # case starts in flight at once
    closes_at: datetime | None = None  # None: when every case has closed


class ScheduledRoundsInput(_Payload):
    province_codes: list[str] = Field(default_factory=list)  # empty: every province with units
    concurrency: int = Field(default=20, ge=1, le=500)


class ScheduledRoundsResult(_Payload):
    round_id: str | None
    started: list[str]

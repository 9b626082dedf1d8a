"""What the inbox reads as: a task, a task with its case and form, and the inbox's filters and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Row

from db.models import TaskRow
from domain.attributes import from_row
from domain.stages import Stage
from services.fields import ROUND_PATTERN, UNIT_PATTERN, Instant
from services.inbox.forms import FormSpec

TaskStatus = Literal["open", "completed", "cancelled", "any"]
Sort = Literal["due", "-due"]


class TaskOut(BaseModel):
    id: str
    case_id: str
    round_id: str
    stage: str
    role: str
    unit_code: str
    unit_name: str
    province_code: str
    status: str
    assignee_id: str | None
    escalation_level: int = Field(description="rungs of the escalation ladder climbed (0: with its own role)")
    escalated_to: str | None
    overdue: bool
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None


def task_out(task: TaskRow | Row[*tuple[Any, ...]], unit_name: str, round_id: str, *, now: datetime) -> TaskOut:
    """A task row (mapped, or as the inbox selects it) as the inbox shows it; overdue: open and past its due time."""
    overdue = task.status == "open" and task.due_at is not None and task.due_at < now
    return from_row(TaskOut, task, unit_name=unit_name, round_id=round_id, overdue=overdue)


class CaseContext(BaseModel):
    id: str
    round_id: str
    unit_code: str
    unit_name: str
    province_code: str
    locality_type: str
    rule_set_id: str
    profile_id: str
    stage: str
    status: str
    on_hold: bool
    outcome: str | None
    opened_at: datetime


class TaskDetailOut(TaskOut):
    case: CaseContext
    form: FormSpec | None = Field(description="what completing the task takes; null when the task is not open")
    may_complete: bool = Field(description="whether the caller holds what completing this task takes")


class InboxQuery(BaseModel):
    """The inbox's filters, its order and its page: the query parameters of GET /v1/tasks."""

    mine: bool = Field(
        default=True,
        description="only tasks I can act on (my roles in my units, assigned to me or nobody); "
        "false: every task in my scope",
    )
    status: TaskStatus = "open"
    stage: list[Stage] | None = Field(default=None, description="one or more stages")
    overdue: bool | None = Field(default=None, description="true: open tasks past their due time; false: the others")
    escalated: bool | None = Field(default=None, description="true: tasks that climbed their escalation ladder")
    escalated_to_me: bool = Field(
        default=False,
        description="instead of `mine`: tasks whose escalation ladder reached one of my roles in my units (to "
        "chase; the task's own role still completes them)",
    )
    due_before: Instant | None = Field(default=None, description="due strictly before this time")
    due_after: Instant | None = Field(default=None, description="due at or after this time")
    unit: str | None = Field(default=None, pattern=UNIT_PATTERN, description="a unit code")
    round: str | None = Field(default=None, pattern=ROUND_PATTERN, description="a round id, e.g. qd06-2019:2027")
    sort: Sort = Field(
        default="due", description="due: soonest first; -due: latest first (no due time counts as latest)"
    )
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=1000, description="X-Next-Cursor of the previous page")


class InboxPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = Field(default=None, description="the cursor of the next page; none on the last page")

"""Payloads that cross the Temporal boundary: one frozen pydantic model per workflow input, update and result.

New fields get defaults, so histories recorded by older code still load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.access import RoleScope
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


class CaseResult(_Payload):
    case_id: str
    outcome: Outcome | None

"""What a case reads as: its detail (scores, tasks, journal), its timeline, and the withdrawal request."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.attributes import from_row as from_row  # also taken from here by the cases and inbox services
from domain.stages import Stage


class ScoreOut(BaseModel):
    kind: str
    criterion: int
    points: int
    source: str | None


class CaseTaskOut(BaseModel):
    id: str
    stage: str
    role: str
    status: str
    assignee_id: str | None
    escalation_level: int
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None


class AuditOut(BaseModel):
    seq: int
    action: str
    actor_id: str | None
    actor_role: str | None
    from_stage: str | None
    to_stage: str
    task_id: str | None
    reason: str | None
    payload: dict[str, Any]
    occurred_at: datetime


Standing = Literal["striving", "awaiting_registration"]

# A case with no open task whose stage opens on a later day (`waiting_until`), by the stage it waits at: registered
# and striving (đang phấn đấu) until self-assessment opens, or at registration before the round's period starts.
WAITING_STANDINGS: dict[str, Standing] = {
    Stage.SELF_ASSESSMENT.value: "striving",
    Stage.REGISTRATION.value: "awaiting_registration",
}


class CaseOut(BaseModel):
    id: str
    unit_code: str
    unit_name: str
    province_code: str
    round_id: str
    rule_set_id: str
    profile_id: str
    locality_type: str
    stage: str
    status: str
    on_hold: bool
    problem: str | None
    outcome: str | None
    verdict: dict[str, Any] | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    waiting_until: datetime | None = Field(
        description="when the task of the case's stage opens, while it has none yet (00:00 Asia/Ho_Chi_Minh): a "
        "registered unit strives until self-assessment opens (1 October by default); a round opened before its "
        "period waits for registration to open"
    )
    standing: Standing | None = Field(
        description="`striving`: registered, at self-assessment with no task until `waiting_until`; "
        "`awaiting_registration`: at registration with no task until `waiting_until`; null otherwise"
    )
    scores: list[ScoreOut]
    tasks: list[CaseTaskOut]
    journal: list[AuditOut]


EventKind = Literal["transition", "decision", "escalation", "reminder", "admin_action", "notification"]


class TimelineEvent(BaseModel):
    at: datetime
    kind: EventKind
    action: str = Field(description="the journal's action, or the notification's kind")
    seq: int | None = Field(description="the journal row's sequence in the case; null for notifications")
    actor_id: str | None
    actor_role: str | None
    from_stage: str | None
    to_stage: str | None
    task_id: str | None
    reason: str | None
    payload: dict[str, Any]


class TimelineOut(BaseModel):
    case_id: str
    unit_code: str
    round_id: str
    rule_set_id: str
    events: list[TimelineEvent]
    links: dict[str, str] = Field(
        description="the audit routes of the case (auditors and admins): the chain's verification and the offline "
        "export bundle"
    )


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="journalled with the withdrawal")

"""The stuck-approvals board: each stuck thing, the counts by unit and stage, and what the board page shows besides."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from notify.inbox import FailedNotification
from services.officials.coverage import CoverageLine

Reason = Literal["overdue", "escalated", "stuck", "on_hold", "failed_notification", "failing_activity", "no_holder"]


class StuckItem(BaseModel):
    reason: Reason
    case_id: str
    task_id: str | None
    unit_code: str
    unit_name: str
    stage: str
    since: datetime | None = Field(description="when the case entered its stage (or the failing run started)")
    seconds_in_stage: int | None
    due_at: datetime | None
    escalation_level: int | None
    detail: str | None = Field(description="e.g. the failing activity and its last error")


class BoardGroup(BaseModel):
    unit_code: str
    unit_name: str
    stage: str
    overdue: int
    escalated: int
    stuck: int
    on_hold: int
    failed_notifications: int
    failing_activities: int
    no_holder: int = Field(0, description="open tasks whose role no active official holds over the unit today")
    max_seconds_in_stage: int | None


class StageLine(BaseModel):
    line: str = Field(
        description="the stage, or `striving` (registered, at self-assessment with no task until it opens: not "
        "stuck) or `awaiting_registration` (at registration with no task until the period starts)"
    )
    stage: str
    cases: int


class BoardOut(BaseModel):
    generated_at: datetime
    provinces: list[str]
    totals: dict[Reason, int]
    open_by_stage: list[StageLine] = Field(
        description="open cases by stage in the order of the procedure, those waiting for their stage to open on "
        "lines of their own (never counted as stuck)"
    )
    groups: list[BoardGroup] = Field(description="one per (unit, stage) with anything stuck, most stuck first")
    items: list[StuckItem] = Field(description="the stuck things themselves, longest in stage first (up to `limit`)")


class FailedNotice(FailedNotification):
    """A notification the outbox gave up on, as the board page lists it: with its unit's name, and why as a code."""

    unit_name: str | None
    code: str = Field(description="why, as a stable code: invalid_address, smtp_recipient_refused, retries_exhausted…")


class RoundLine(BaseModel):
    """A province's round on the board: the share of its units recognised so far against its target for the year."""

    round_id: str
    province: str
    recognised: int
    units: int
    share: float | None = Field(description="recognised / units, a fraction")
    target: float | None = Field(description="the province's target in force for the round's year; null: none")


class BoardView(BaseModel):
    """The board page: the board (with the open cases by stage), the rounds of the provinces and their names."""

    board: BoardOut
    failed_notifications: list[FailedNotice] = Field(
        default_factory=list, description="notifications that failed, newest first (the page's own list)"
    )
    rounds: list[RoundLine] = Field(description="the provinces' rounds with cases, latest round first")
    province_names: dict[str, str]
    role_gaps: int = Field(0, description="unit × role lines the provinces need and no one holds today")
    first_role_gaps: list[CoverageLine] = Field(default_factory=list, description="the first of those lines")

"""What a bulk action takes (a filter over the open cases, the action's own fields) and what it answers (how many
matched, a sample, the outcome of each case counted)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.stages import Stage
from services.fields import ID_PATTERN, Id, Instant, ProvinceCode, RoundId, UnitCode

SAMPLE = 20
REFUSALS_SHOWN = 50

Action = Literal["extend_due", "reassign", "remind", "hold", "release"]


class BulkFilter(BaseModel):
    """Which open cases: every condition given must hold. Task conditions apply to the case's open task."""

    model_config = ConfigDict(extra="forbid")

    province: ProvinceCode | None = Field(default=None, description="one of your provinces (default: all of them)")
    units: list[UnitCode] | None = Field(default=None, max_length=5000)
    stages: list[Stage] | None = None
    round: RoundId | None = None
    case_ids: list[Id] | None = Field(default=None, max_length=5000)
    overdue: bool | None = None
    escalated: bool | None = None
    on_hold: bool | None = None
    due_before: Instant | None = None
    due_after: Instant | None = None

    def conditions(self) -> list[str]:
        """The conditions given besides the province. None: the filter matches every open case of the provinces."""
        return [name for name, value in self if name != "province" and value is not None and value != []]


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: BulkFilter = Field(default_factory=BulkFilter)
    dry_run: bool = Field(default=True, description="count and sample only; false acts on every match")
    all: bool = Field(
        default=False,
        description="needed to act (dry_run false) with a filter that names nothing but the province: it confirms "
        "every open case of the province (of all your provinces without one)",
    )
    reason: str = Field(min_length=1, max_length=2000, description="journalled with each change")
    batch_size: int = Field(default=100, ge=1, le=500)


class ExtendDueRequest(BulkRequest):
    new_due_at: Instant | None = Field(default=None, description="the new due time of every matched task")
    add_working_days: int | None = Field(
        default=None, ge=1, le=120, description="or: move each due time this many working days later"
    )

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.new_due_at is None) == (self.add_working_days is None):
            raise ValueError("give exactly one of new_due_at and add_working_days")
        return self


class ReassignRequest(BulkRequest):
    official_id: str = Field(
        pattern=ID_PATTERN, description="who takes the tasks; must hold each task's role over its unit"
    )


class RemindRequest(BulkRequest):
    reason: str = Field(default="reminder requested by an administrator", min_length=1, max_length=2000)


class HoldRequest(BulkRequest):
    pass


class ReleaseRequest(BulkRequest):
    pass


class BulkItem(BaseModel):
    case_id: str
    task_id: str | None
    role: str | None = Field(description="the role the open task takes")
    unit_code: str
    unit_name: str
    province_code: str
    stage: str
    on_hold: bool
    due_at: datetime | None
    escalation_level: int | None


class BulkRefusal(BaseModel):
    case_id: str
    code: str
    detail: str


class BulkResult(BaseModel):
    action: str
    dry_run: bool
    operation_id: str = Field(description="the Idempotency-Key, or one made up for this request")
    matched: int = Field(description="cases the filter matched")
    sample: list[BulkItem] = Field(description=f"the first {SAMPLE} matches")
    applied: int = Field(description="cases changed (0 on a dry run)")
    refused: dict[str, int] = Field(description="cases the API or the case refused, by code")
    failed: int = Field(description="cases Temporal could not be reached for")
    batches: int
    refusals: list[BulkRefusal] = Field(description=f"the first {REFUSALS_SHOWN} refusals and failures")

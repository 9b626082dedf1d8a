"""What the round front doors take and answer: an opening, where the cases of a round stand, its report."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from domain.round_report import RoundProgress, RoundReport
from services.fields import PROVINCE_PATTERN, ROUND_PATTERN

DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(value: object) -> date:
    """A day written YYYY-MM-DD (not a timestamp, not a moment); ValueError with the reason otherwise."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD, e.g. 2027-10-01")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a day of the calendar") from None


Day = Annotated[date, BeforeValidator(parse_day)]


class OpenRoundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_share: float | None = Field(
        default=None, ge=0, le=1, description="share of units the province means to see recognised (default 0.8)"
    )

    round_id: str = Field(pattern=ROUND_PATTERN, description="<rule set id>:<assessment year>, e.g. qd06-2019:2027")
    province: str = Field(pattern=PROVINCE_PATTERN)
    rehearsal_opens_on: Day | None = Field(
        default=None,
        description="a rehearsal: the round's calendar moved whole so that its self-assessment opens this day "
        "(YYYY-MM-DD, within a year of today in Vietnam); null: the calendar the law keeps",
    )


class OpenRoundOut(BaseModel):
    round_id: str
    province: str
    opening: bool = Field(description="true: the round workflow is still starting cases (answered 202)")
    cases: int = Field(description="cases started so far, one per unit of the province")


class ProgressOut(BaseModel):
    round_id: str
    province: str
    units: int = Field(description="units of the province")
    cases: int
    open: int
    closed: int
    by_stage: dict[str, int]
    by_outcome: dict[str, int]
    overdue: int
    escalated: int
    on_hold: int
    striving: int = Field(
        description="registered and striving (đang phấn đấu): stage self_assessment, no task, waiting for the "
        "self-assessment window to open"
    )
    waiting_registration: int = Field(
        description="opened before the period starts: stage registration, no task, waiting for registration to open"
    )
    generated_at: datetime
    workflow: RoundProgress | None = Field(
        description="the round workflow's own count: cases started, open, closed and their outcomes, as it heard "
        "them end; by stage, overdue, escalated, stuck and on hold only for rounds whose cases signal their "
        "milestones (rounds started before cases reported by their result; null otherwise: the counts above "
        "answer); null: no round workflow"
    )


class UnitResult(BaseModel):
    unit_code: str
    unit_name: str
    locality_type: str
    stage: str
    status: str
    outcome: str | None
    total: int | None = Field(description="the council's total score, when assessed")
    threshold: int | None
    zero_criteria: str = Field(default="", description='the criteria scored 0 that bar recognition, e.g. "3, 5"')
    former_district: str | None = Field(
        default=None, description="the district its predecessors lay in before 1 July 2025, when they lay in one"
    )


class CriterionZeros(BaseModel):
    criterion: int
    name: str = Field(description="the criterion's name (Vietnamese)")
    name_en: str = Field(default="", description="the criterion's name in English")
    units: int = Field(description="units whose council gave it 0 points, which bars recognition")


class UnitBelow(BaseModel):
    unit_code: str
    unit_name: str
    total: int
    threshold: int
    margin: int = Field(description="points missing to reach the threshold")


class LocalityResult(BaseModel):
    locality_type: str
    assessed: int
    recognised: int


class DistrictResult(BaseModel):
    former_district: str
    units: int = Field(description="the round's cases of units whose predecessors all lay in this former district")
    assessed: int
    recognised: int


class ReportTarget(BaseModel):
    share: float = Field(description="a fraction: 0.95 is 95 %")
    plan: str
    first_year: int
    last_year: int


class ReportOut(BaseModel):
    round_id: str
    province: str
    rule_set_id: str
    final: bool = Field(description="true when every case of the round is closed")
    units: int
    registered: int = Field(description="cases that registered (did not decline or miss registration)")
    assessed: int = Field(description="cases whose council approved scores")
    submitted: int = Field(description="cases whose dossier reached appraisal")
    recognised: int
    not_recognised: int
    not_registered: int
    not_submitted: int
    withdrawn: int
    recognised_share: float | None = Field(
        description="recognised / units of the province, a fraction (0–1) like every share here; shown as a percent"
    )
    target: ReportTarget | None = Field(
        default=None, description="the province's target in force for the round's year; null when no plan covers it"
    )
    meets_target: bool | None = Field(default=None, description="share recognised ≥ target; null without a target")
    zero_by_criterion: list[CriterionZeros] = Field(default_factory=list)
    below_threshold: list[UnitBelow] = Field(default_factory=list, description="largest margin first")
    by_locality: list[LocalityResult] = Field(default_factory=list)
    by_former_district: list[DistrictResult] = Field(
        default_factory=list,
        description="results by the district before 1 July 2025, for the units whose predecessors lay in one "
        "(services/history lineage); units formed across districts are left out",
    )
    results: list[UnitResult]
    generated_at: datetime
    recorded: RoundReport | None = Field(
        description="the report the round workflow recorded when the round closed, with the share recognised against "
        "the province's target (null while the round is open)"
    )

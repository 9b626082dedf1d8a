"""Where the time of a round goes: how long cases stay in each stage, how often they escalate, come back and finish on
time, by province and by locality type; and the units that took longest.

Pure: the stays come in (services/stage_times/queries.py reads them from the journal), the figures go out.

Definitions (docs/stage-times.md):
- A *stay* is one visit of a case to a stage: it starts when the stage's task opens (when the case enters the stage,
  or, for a case that waited with no task for the stage's calendar window, when the window opened) and ends when
  the case leaves the stage (its next stage's first journal row). A stage visited again (objections send the case
  back to the council, a returned dossier back to submission) is a new stay.
- *Time in stage* counts working days as the deadlines do (`domain.calendar.working_days_between`): the working
  days after the local day (Asia/Ho_Chi_Minh) the stay started, up to and including the local day it ended. A part
  day never counts on the day the stay starts and counts as a whole working day on the day it ends; a stay that
  starts and ends on the same day counts 0; weekends and public holidays count nothing. So a task completed on the
  day it fell due after an allowance of n working days took n working days. Holds are not taken out.
- Only ended stays count in the times (p50, p90, max); stays still open are counted apart (`open_stays`).
- *Percentiles* are nearest-rank: of n values sorted ascending v[1] <= ... <= v[n], the p-th percentile
  (0 < p <= 100) is v[ceil(p * n / 100)], the smallest value with at least p % of the values at or below it.
  No value: no percentile (None).
- A stay is *escalated* when its task climbed at least one rung of the ladder; the share of cases escalated at a
  stage is the cases with an escalated stay there over the cases with a stay there.
- *On time*: a stay that ended by the completion of its task (or by the deadline's final policy) at or before its
  task's due time (as it stood at the end: an extended due date counts as extended). Stays with no due time, still
  open, or ended otherwise (a withdrawal) are not counted either way; the rate is on time over counted (None: none).
- *Returns* are dossiers the appraising office sent back for completion; *objections* are residents' objections
  raised during public posting (each one counted); both are given per case of the group.
- *Withheld*: a reader who may not see single units' timings (the ministry, outside the provinces it oversees) is
  not shown a group of fewer than `SMALLEST_GROUP` cases (`withheld`): one or two cases are one unit's timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from math import ceil

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import local_date, working_days_between
from domain.procedure import MAIN_PATH
from domain.shares import share
from domain.stages import LocalityType, Stage

# The stages a case stays in with a task, in the procedure's order.
TIMED_STAGES: tuple[Stage, ...] = tuple(s for s in Stage if s is not Stage.CLOSED)
# The fewest cases a group shown to a reader who may not see single units' timings holds (module docstring).
SMALLEST_GROUP = 3


class StayEnd(StrEnum):
    """How a stay ended."""

    COMPLETED = "completed"  # its task was completed (a form, or the commendation check)
    DEADLINE = "deadline"  # the deadline's final policy closed the case
    OTHER = "other"  # withdrawn, or any other administrative end


class Stay(BaseModel):
    """One visit of a case to a stage."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    started_at: datetime
    ended_at: datetime | None = None  # None: still in the stage
    ended_by: StayEnd | None = None
    due_at: datetime | None = None  # the stage task's due time; None: no task
    escalated: bool = False

    def working_days(self) -> int | None:
        """Working days in the stage (module docstring); None while the stay is open."""
        if self.ended_at is None:
            return None
        return working_days_between(local_date(self.started_at), local_date(self.ended_at))

    def on_time(self) -> bool | None:
        """Ended at or before its due time; None when it does not count (no due time, open, or ended otherwise)."""
        if self.ended_at is None or self.due_at is None or self.ended_by not in (StayEnd.COMPLETED, StayEnd.DEADLINE):
            return None
        return self.ended_at <= self.due_at


class CaseStays(BaseModel):
    """A case of the round with its stays, in order, and how often it came back."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    unit_code: str
    province_code: str
    locality_type: LocalityType
    stays: tuple[Stay, ...] = ()
    returns: int = Field(default=0, ge=0)
    objections: int = Field(default=0, ge=0)

    def total_working_days(self) -> int:
        return sum(d for s in self.stays if (d := s.working_days()) is not None)

    def slowest_stage(self) -> tuple[Stage, int] | None:
        """The stage the case spent the most working days in (summing its stays there; a tie goes to the earlier
        stage of the procedure), with those days; None without an ended stay."""
        spent: dict[Stage, int] = {}
        for s in self.stays:
            days = s.working_days()
            if days is not None:
                spent[s.stage] = spent.get(s.stage, 0) + days
        if not spent:
            return None
        stage = min(spent, key=lambda st: (-spent[st], MAIN_PATH.index(st)))
        return stage, spent[stage]


def percentile(values: Iterable[int], p: int) -> int | None:
    """The nearest-rank p-th percentile (0 < p <= 100) of `values`: the value at rank ceil(p * n / 100) of the n
    values sorted ascending; None for no value. A p outside (0, 100] raises ValueError."""
    if not 0 < p <= 100:
        raise ValueError(f"a percentile is taken for 0 < p <= 100, got {p}")
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[ceil(p * len(ordered) / 100) - 1]


class StageFigures(BaseModel):
    """One stage in one group of cases. Withheld (`suppressed`): the number of cases only, every figure None."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    cases: int  # cases with a stay at the stage
    stays: int | None  # their stays, ended or not
    open_stays: int | None
    p50: int | None  # working days of the ended stays
    p90: int | None
    max: int | None
    escalated_cases: int | None
    escalated_share: float | None
    on_time: int | None
    counted_for_on_time: int | None
    on_time_rate: float | None
    suppressed: bool = False


class GroupFigures(BaseModel):
    """A group of cases (a province, a locality type, or all of them): each stage's figures, and the returns and
    objections per case. Withheld (`suppressed`): the number of cases only, every figure None."""

    model_config = ConfigDict(frozen=True)

    key: str  # the province's code, the locality type, or "all"
    cases: int
    returns: int | None
    objections: int | None
    returns_per_case: float | None
    objections_per_case: float | None
    stages: tuple[StageFigures, ...]
    suppressed: bool = False

    def stage(self, stage: Stage) -> StageFigures | None:
        return next((f for f in self.stages if f.stage == stage), None)


class SlowUnit(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: str
    unit_code: str
    province_code: str
    locality_type: LocalityType
    working_days: int  # over its ended stays
    slowest_stage: Stage | None
    slowest_stage_days: int


class StageTimes(BaseModel):
    model_config = ConfigDict(frozen=True)

    overall: GroupFigures
    by_province: tuple[GroupFigures, ...]
    by_locality: tuple[GroupFigures, ...]


def stage_figures(stage: Stage, cases: Sequence[CaseStays]) -> StageFigures:
    """The figures of `stage` over `cases` (module docstring)."""
    visited = [(c, [s for s in c.stays if s.stage == stage]) for c in cases]
    visited = [(c, stays) for c, stays in visited if stays]
    stays = [s for _, ss in visited for s in ss]
    days = [d for s in stays if (d := s.working_days()) is not None]
    judged = [ok for s in stays if (ok := s.on_time()) is not None]
    escalated = sum(1 for _, ss in visited if any(s.escalated for s in ss))
    return StageFigures(
        stage=stage,
        cases=len(visited),
        stays=len(stays),
        open_stays=len(stays) - len(days),
        p50=percentile(days, 50),
        p90=percentile(days, 90),
        max=max(days, default=None),
        escalated_cases=escalated,
        escalated_share=share(escalated, len(visited)),
        on_time=sum(judged),
        counted_for_on_time=len(judged),
        on_time_rate=share(sum(judged), len(judged)),
    )


def group_figures(key: str, cases: Sequence[CaseStays]) -> GroupFigures:
    """Every timed stage's figures over `cases`, and their returns and objections per case."""
    returns = sum(c.returns for c in cases)
    objections = sum(c.objections for c in cases)
    return GroupFigures(
        key=key,
        cases=len(cases),
        returns=returns,
        objections=objections,
        returns_per_case=share(returns, len(cases)),
        objections_per_case=share(objections, len(cases)),
        stages=tuple(stage_figures(stage, cases) for stage in TIMED_STAGES),
    )


def withheld(group: GroupFigures, smallest: int = SMALLEST_GROUP) -> GroupFigures:
    """`group` as a reader who may not see single units' timings reads it: unchanged from `smallest` cases up; with
    fewer, its number of cases and its stages' numbers of cases only, every other figure None, and `suppressed`."""
    if group.cases >= smallest:
        return group
    kept = ("key", "stage", "cases", "stages", "suppressed")
    hidden_stage = {name: None for name in StageFigures.model_fields if name not in kept} | {"suppressed": True}
    stages = tuple(f.model_copy(update=hidden_stage) for f in group.stages)
    hidden = {name: None for name in GroupFigures.model_fields if name not in kept}
    return group.model_copy(update=hidden | {"stages": stages, "suppressed": True})


def _grouped(cases: Sequence[CaseStays], key: Callable[[CaseStays], str]) -> tuple[GroupFigures, ...]:
    groups: dict[str, list[CaseStays]] = {}
    for c in cases:
        groups.setdefault(key(c), []).append(c)
    return tuple(group_figures(k, groups[k]) for k in sorted(groups))


def slowest_units(cases: Sequence[CaseStays], top: int) -> tuple[SlowUnit, ...]:
    """The `top` cases with the most working days in their ended stays (ties by unit code), with the stage each
    lost the most time in; cases with no working day spent are left out."""
    if top < 0:
        raise ValueError(f"the number of slowest units must be 0 or more, got {top}")
    ranked = sorted(
        (c for c in cases if c.total_working_days() > 0), key=lambda c: (-c.total_working_days(), c.unit_code)
    )
    out = []
    for c in ranked[:top]:
        slowest = c.slowest_stage()
        out.append(
            SlowUnit(
                case_id=c.case_id,
                unit_code=c.unit_code,
                province_code=c.province_code,
                locality_type=c.locality_type,
                working_days=c.total_working_days(),
                slowest_stage=slowest[0] if slowest else None,
                slowest_stage_days=slowest[1] if slowest else 0,
            )
        )
    return tuple(out)


def stage_times(cases: Sequence[CaseStays]) -> StageTimes:
    """The figures of a round's cases: overall, by province, by locality type (the slowest units: slowest_units,
    over the cases whose units the reader may see)."""
    return StageTimes(
        overall=group_figures("all", cases),
        by_province=_grouped(cases, lambda c: c.province_code),
        by_locality=_grouped(cases, lambda c: c.locality_type.value),
    )

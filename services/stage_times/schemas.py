"""What the stage-times service returns to the API, the page and the CLI."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.stage_times import GroupFigures, SlowUnit
from domain.stages import LocalityType


class SlowUnitOut(SlowUnit):
    unit_name: str


class StageTimesOut(BaseModel):
    """The figures of a round's cases: overall, by province and by locality type (each with one row per stage), and
    the slowest units. `units_listed` is false when the reader may see the figures but not the units (the ministry)."""

    model_config = ConfigDict(frozen=True)

    round_id: str
    province: str | None  # the filter asked for; None: every province the reader may read
    locality_type: LocalityType | None
    generated_at: datetime
    overall: GroupFigures
    by_province: tuple[GroupFigures, ...]
    by_locality: tuple[GroupFigures, ...]
    slowest: tuple[SlowUnitOut, ...]
    units_listed: bool

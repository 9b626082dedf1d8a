"""The calendar's data files: the defaults (domain/calendars/defaults.yaml) and what a date of a round is.

A date is `{day: "MM-DD"}` of the assessment year, or `of: period_start` for the first such day on or after the
period starts, with its source or `assumed: true` and a note. A date that falls on a day off moves to the next
working day (Civil Code 2015, Art. 148(5): a time limit whose last day is a weekend or holiday ends with the next
working day), unless it says `day_off: previous_working_day` (a closing date that must stay within its year).
Each stage says before which date it does not open, which date caps it, and how many working days are kept for it
before that date when stages share it. The computation is in domain/round_calendar.py.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from domain.calendar import add_working_days, subtract_working_days
from domain.datafiles import Basis, Frozen, MonthDay, field_problem, load_yaml_model
from domain.errors import DataFileError, DomainError
from domain.procedure import MAIN_PATH, ProcedureProfile
from domain.stages import Stage

CALENDARS_DIR = Path(__file__).parent / "calendars"
DEFAULTS_PATH = CALENDARS_DIR / "defaults.yaml"
CALENDAR_STAGES: tuple[Stage, ...] = tuple(s for s in MAIN_PATH if s is not Stage.CLOSED)


class CalendarFileError(DataFileError):
    """A calendar defaults or overrides file that cannot be loaded: names the file, the field and the reason."""

    code = "calendar_file_invalid"


class CalendarError(DomainError, ValueError):
    """A round's calendar that cannot be laid out (dates out of order for that round, or a bad completion day)."""

    code = "calendar_invalid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DayOff(StrEnum):
    NEXT = "next_working_day"  # Civil Code 2015, Art. 148(5): the time limit ends with the next working day
    PREVIOUS = "previous_working_day"  # a closing date that must stay within its year


class CalendarDate(Basis):
    """A day of the round, written `{day: "MM-DD", of: ..., day_off: ...}` with its source or `assumed` note.

    `of: assessment_year` is that day of the assessment year; `of: period_start` the first such day on or after the
    period starts (e.g. the first 31 January of the period)."""

    day: MonthDay
    of: Literal["assessment_year", "period_start"] = "assessment_year"
    day_off: DayOff = DayOff.NEXT

    def resolve(self, year: int, period_start: date) -> date:
        """The day in the round of assessment year `year` whose period starts on `period_start`."""
        if self.of == "assessment_year":
            return self.day.in_year(year)
        day = self.day.in_year(period_start.year)
        return day if day >= period_start else self.day.in_year(period_start.year + 1)

    def working_day(self, year: int, period_start: date) -> date:
        """The day, moved off a weekend or holiday as `day_off` says."""
        day = self.resolve(year, period_start)
        return add_working_days(day, 0) if self.day_off is DayOff.NEXT else subtract_working_days(day, 0)


class CalendarDates(Frozen):
    registration_due: CalendarDate
    self_assessment_opens: CalendarDate
    dossier_due: CalendarDate | None = Field(
        default=None, description="None: the profile's fixed_deadline of dossier_submission"
    )
    closes: CalendarDate


class StageCalendar(Basis):
    """Where a stage sits in the calendar; the basis fields speak for the placing and the reserve."""

    opens_on: Literal["period_start", "self_assessment_opens"] | None = Field(
        default=None, description="a date before which the stage does not open"
    )
    due_by: Literal["registration_due", "dossier_due", "closes"] | None = Field(
        default=None, description="the calendar date that caps the stage and those after it sharing the date"
    )
    reserve_working_days: int | None = Field(
        default=None, ge=0, description="working days kept for this stage before the shared date; default: allowance"
    )


class CalendarSettings(Frozen):
    """The calendar's defaults (domain/calendars/defaults.yaml), or the defaults with overrides applied."""

    minimum_working_days: int = Field(ge=0)
    minimum_working_days_basis: Basis
    dates: CalendarDates
    stages: dict[str, StageCalendar]

    @model_validator(mode="after")
    def _every_stage_once(self) -> Self:
        names = [s.value for s in CALENDAR_STAGES]
        for key in self.stages:
            if key not in names:
                raise field_problem(f"stages.{key}", f"no such stage; the stages are {', '.join(names)}")
        missing = [n for n in names if n not in self.stages]
        if missing:
            raise field_problem("stages", f"give every stage; missing: {', '.join(missing)}")
        return self

    def stage(self, stage: Stage) -> StageCalendar:
        return self.stages[stage.value]


@cache
def load_defaults(path: Path = DEFAULTS_PATH) -> CalendarSettings:
    """The calendar defaults file; a bad file raises CalendarFileError naming the file, the field and the reason."""
    return load_yaml_model(path, CalendarSettings, CalendarFileError)


def dossier_date(settings: CalendarSettings, profile: ProcedureProfile) -> CalendarDate:
    """The dossier date: the calendar's own when set, else the profile's fixed deadline of the dossier stage."""
    if settings.dates.dossier_due is not None:
        return settings.dates.dossier_due
    spec = profile.stage(Stage.DOSSIER_SUBMISSION)
    if spec.fixed_deadline is None:
        raise CalendarError("dates.dossier_due", f"profile {profile.id} has no dossier fixed_deadline; give one here")
    return CalendarDate(day=spec.fixed_deadline, source=f"profile {profile.id}: dossier_submission.fixed_deadline")


def reserve_working_days(settings: CalendarSettings, profile: ProcedureProfile, stage: Stage) -> int:
    """Working days kept for `stage` before the date it shares: its reserve, else its whole allowance; never less
    than the minimum a late stage gets (or its allowance when smaller), or the chain would overrun the date."""
    allowance, minimum = profile.stage(stage).working_days, settings.minimum_working_days
    reserve = settings.stage(stage).reserve_working_days
    if reserve is None:
        return allowance
    if reserve < min(minimum, allowance):
        raise CalendarError(
            f"stages.{stage}.reserve_working_days",
            f"{reserve} is less than the minimum allowance of {min(minimum, allowance)} working days",
        )
    return reserve

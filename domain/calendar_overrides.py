"""Overrides of the round calendar per province and per round (domain/calendars/overrides.yaml).

An entry names a province, a round or both, gives its basis, and replaces any of the calendar's dates, the reserve
of a stage, or the minimum allowance. Entries apply on the defaults from the least to the most specific: round
only, then province only, then province and round. `calendar_for` is the one call that picks them.

A bad file fails at load naming the file, the field and the reason: an unknown province or round, a stage that does
not exist, a province and round listed twice, a reserve below the minimum allowance, dates out of order (on the days
of the year), or dates that leave a stage no room on the working days of a round the entry applies to (the round it
names, else every canonical round to `_CHECK_YEARS` after the newest rule set; entries that meet on a round are
checked together).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache, reduce
from itertools import pairwise
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from domain.calendar_settings import (
    CALENDAR_STAGES,
    CALENDARS_DIR,
    CalendarDate,
    CalendarError,
    CalendarFileError,
    CalendarSettings,
    dossier_date,
    load_defaults,
    reserve_working_days,
)
from domain.datafiles import Basis, Frozen, field_problem, load_yaml_model
from domain.errors import RoundError
from domain.procedure import PROFILE_IDS, ProcedureProfile, load_profile, profile_in_force
from domain.round_calendar import CaseCalendar, RoundCalendar, authority_changes, round_calendar, stage_terms
from domain.rounds import Round, canonical_rounds, parse_round, round_id
from domain.rulesets import all_rule_sets
from domain.stages import Stage
from domain.units import load_provinces

OVERRIDES_PATH = CALENDARS_DIR / "overrides.yaml"
_CHECK_YEARS = 20  # how far past the newest rule set a province's standing overrides are checked at load
_ORDERED_DATES = ("self_assessment_opens", "dossier_due", "closes")  # days of the assessment year, in this order


class DateOverrides(Frozen):
    registration_due: CalendarDate | None = None
    self_assessment_opens: CalendarDate | None = None
    dossier_due: CalendarDate | None = None
    closes: CalendarDate | None = None

    def given(self) -> dict[str, CalendarDate]:
        named = {
            "registration_due": self.registration_due,
            "self_assessment_opens": self.self_assessment_opens,
            "dossier_due": self.dossier_due,
            "closes": self.closes,
        }
        return {name: value for name, value in named.items() if value is not None}


class StageOverride(Basis):
    reserve_working_days: int = Field(ge=0)


def check_province(code: str) -> str:
    """The code of a current province (two digits), else ValueError naming the known codes' count."""
    if code not in {p.code for p in load_provinces()}:
        raise ValueError(f"unknown province code {code!r} (the {len(load_provinces())} current provinces only)")
    return code


def order_problem(dates: Mapping[str, CalendarDate]) -> tuple[str, str] | None:
    """(date name, reason) when days of the assessment year are out of the calendar's order: self-assessment
    opens, dossier date, closing date."""
    present = [(n, dates[n]) for n in _ORDERED_DATES if n in dates and dates[n].of == "assessment_year"]
    for (before, a), (after, b) in pairwise(present):
        if (b.day.month, b.day.day) <= (a.day.month, a.day.day):
            return after, f"{b.day} is not after {before} ({a.day}): dates out of order"
    return None


class CalendarOverride(Basis):
    """One entry; the basis fields speak for the entry (and for `minimum_working_days`)."""

    province: str | None = Field(default=None, pattern=r"^\d{2}$")
    round: str | None = None
    minimum_working_days: int | None = Field(default=None, ge=0)
    dates: DateOverrides = Field(default_factory=DateOverrides)
    stages: dict[str, StageOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_known(self) -> Self:
        if self.province is None and self.round is None:
            raise field_problem("province", "name a province, a round, or both")
        if self.province is not None:
            try:
                check_province(self.province)
            except ValueError as exc:
                raise field_problem("province", str(exc)) from None
        if self.round is not None:
            try:
                parse_round(self.round)
            except RoundError as exc:
                raise field_problem("round", f"unknown round {self.round!r}: {exc.reason}") from None
        names = [s.value for s in CALENDAR_STAGES]
        for key in self.stages:
            if key not in names:
                raise field_problem(f"stages.{key}", f"no such stage; the stages are {', '.join(names)}")
        if not (self.dates.given() or self.stages or self.minimum_working_days is not None):
            raise field_problem("dates", "nothing to override: give dates, stages or minimum_working_days")
        problem = order_problem(self.dates.given())
        if problem is not None:
            raise field_problem(f"dates.{problem[0]}", problem[1])
        return self

    @property
    def label(self) -> str:
        parts = [f"province {self.province}" if self.province else "", f"round {self.round}" if self.round else ""]
        return ", ".join(p for p in parts if p)

    @property
    def specificity(self) -> int:
        return 0 if self.province is None else 1 if self.round is None else 2


class CalendarOverrides(Frozen):
    overrides: list[CalendarOverride] = Field(default_factory=list)

    @model_validator(mode="after")
    def _once_each(self) -> Self:
        seen: dict[tuple[str | None, str | None], int] = {}
        for i, entry in enumerate(self.overrides):
            key = (entry.province, entry.round)
            if key in seen:
                reason = f"{entry.label} is listed twice (first at overrides[{seen[key]}])"
                raise field_problem(f"overrides[{i}].province", reason)
            seen[key] = i
        return self

    def matching(self, round_: str, province: str | None) -> list[CalendarOverride]:
        """The entries that apply to the round in the province, least specific first."""
        hits = [
            e
            for e in self.overrides
            if (e.round is None or e.round == round_) and (e.province is None or e.province == province)
        ]
        return sorted(hits, key=lambda e: e.specificity)


def apply_override(settings: CalendarSettings, entry: CalendarOverride) -> CalendarSettings:
    """The settings with the entry's dates, stage reserves and minimum in place of theirs."""
    dates = settings.dates.model_copy(update=entry.dates.given())
    stages = dict(settings.stages)
    for name, change in entry.stages.items():
        basis = {"source": change.source, "assumed": change.assumed, "note": change.note}
        stages[name] = stages[name].model_copy(update={"reserve_working_days": change.reserve_working_days} | basis)
    update: dict[str, object] = {"dates": dates, "stages": stages}
    if entry.minimum_working_days is not None:
        update["minimum_working_days"] = entry.minimum_working_days
        update["minimum_working_days_basis"] = Basis(source=entry.source, assumed=entry.assumed, note=entry.note)
    return settings.model_copy(update=update)


def _check_entry(entry: CalendarOverride, defaults: CalendarSettings) -> None:
    """An entry on the defaults: dates in order on the days of the year for every profile, and room for every stage
    on the working days of each round it applies to (the round it names, else every canonical round up to
    `_CHECK_YEARS` after the newest rule set took effect)."""
    merged = apply_override(defaults, entry)
    for profile_id in PROFILE_IDS:
        dates = {"self_assessment_opens": merged.dates.self_assessment_opens, "closes": merged.dates.closes}
        profile = load_profile(profile_id)
        problem = order_problem(dates | {"dossier_due": dossier_date(merged, profile)})
        if problem is not None:
            raise CalendarError(f"dates.{problem[0]}", f"{problem[1]} (with the defaults, profile {profile_id})")
        for stage in CALENDAR_STAGES:
            reserve_working_days(merged, profile, stage)
    for round_ in [parse_round(entry.round)] if entry.round else _rounds_to_check():
        _check_round(round_, merged, round_.id)


def _check_round(round_: Round, settings: CalendarSettings, label: str) -> None:
    try:
        stage_terms(round_, settings, _profile(round_))
    except CalendarError as exc:
        raise CalendarError(exc.field, f"{exc.reason} ({label})") from None


@cache
def _rounds_to_check() -> tuple[Round, ...]:
    newest = max(r.in_force.from_.year for r in all_rule_sets())
    return tuple(canonical_rounds(min(r.in_force.from_.year for r in all_rule_sets()), newest + _CHECK_YEARS))


def _profile(round_: Round) -> ProcedureProfile:
    return load_profile(profile_in_force(round_.assessment_start).id)


def load_overrides_file(path: Path | str, defaults: CalendarSettings | None = None) -> CalendarOverrides:
    """Load and check an overrides file; any problem raises CalendarFileError naming the file, field and reason.
    Each entry is checked on the defaults, then entries that meet on a round (a round's, a province's, both) are
    checked together; a problem of theirs is put on the most specific one."""
    path = Path(path)
    overrides = load_yaml_model(path, CalendarOverrides, CalendarFileError)
    defaults = load_defaults() if defaults is None else defaults
    entries = overrides.overrides
    for i, entry in enumerate(entries):
        try:
            _check_entry(entry, defaults)
        except CalendarError as exc:
            raise CalendarFileError(path, f"overrides[{i}].{exc.field}", exc.reason) from None
    provinces: list[str | None] = [None, *sorted({e.province for e in entries if e.province})]
    for round_ in sorted({parse_round(e.round) for e in entries if e.round}, key=lambda r: r.id):
        for province in provinces:
            meeting = overrides.matching(round_.id, province)
            if len(meeting) < 2:
                continue
            label = f"{round_.id} with the overrides of {'; '.join(e.label for e in meeting)}"
            try:
                _check_round(round_, reduce(apply_override, meeting, defaults), label)
            except CalendarError as exc:
                blamed = entries.index(meeting[-1])
                raise CalendarFileError(path, f"overrides[{blamed}].{exc.field}", exc.reason) from None
    return overrides


@cache
def load_overrides() -> CalendarOverrides:
    """The shipped overrides file (cached)."""
    return load_overrides_file(OVERRIDES_PATH)


def calendar_for(
    rule_set_id: str,
    year: int,
    province: str | None = None,
    *,
    overrides: CalendarOverrides | None = None,
    defaults: CalendarSettings | None = None,
    opened_on: date | None = None,
    done_on: Mapping[Stage, date] | None = None,
) -> RoundCalendar:
    """The calendar of round `<rule_set_id>:<year>`, nationally or in one province, with the overrides that apply.
    A bad rule set or year raises RoundError, an unknown province ValueError, dates that leave no room
    CalendarError."""
    round_ = parse_round(round_id(rule_set_id, year))
    if province is not None:
        check_province(province)
    overrides = load_overrides() if overrides is None else overrides
    entries = overrides.matching(round_.id, province)
    return round_calendar(
        round_,
        province=province,
        settings=reduce(apply_override, entries, load_defaults() if defaults is None else defaults),
        overrides_applied=tuple(e.label for e in entries),
        opened_on=opened_on,
        done_on=done_on,
    )


def case_calendar(rule_set_id: str, year: int, province: str | None = None) -> CaseCalendar:
    """What each case of round `<rule_set_id>:<year>` in `province` carries from its start: the stages' terms with
    the overrides that apply, and the changes of authority after the round's profile (domain/round_calendar.py)."""
    cal = calendar_for(rule_set_id, year, province)
    return cal.for_cases(authority_changes(load_profile(cal.profile_id)))

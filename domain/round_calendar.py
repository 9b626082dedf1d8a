"""The calendar of an assessment round: when each stage opens and when it is due, as data.

A round's dates follow DOMAIN.md, "The calendar": a unit registers at the start of the period, strives through it,
and the assessment stages run in October–December of the assessment year. The calendar is computed from
- the rule set's rhythm (domain/rhythm.py): the period the round assesses;
- the procedure profile (domain/profiles/*.yaml): each stage's working-day allowance, and the dossier date
  (`fixed_deadline` of dossier_submission, default 15 November);
- the calendar defaults (domain/calendars/defaults.yaml, read by domain/calendar_settings.py): registration
  anchor, self-assessment opening, closing date, minimum allowance, and which date caps which stage;
- the overrides per province and per round (domain/calendars/overrides.yaml, see domain/calendar_overrides.py).

A stage opens when the stage before it is done, and not before its own opening date if it has one (registration:
the period's start; self-assessment: 1 October). It is due on the earlier of its working-day allowance from when it
opens and its anchor, but never earlier than the minimum allowance after it opens: a stage opened too late for its
anchor is given the minimum and marked `extended`; one whose anchor cuts its allowance is marked `shortened`.
Several stages share one calendar date (the dossier date caps self-assessment, council, posting and dossier): each
stage's anchor is that date less the working days reserved for the stages after it, so a chain of stages each done
on its last due day lands the dossier exactly on the dossier date.

An anchor that falls on a day off moves to the next working day (Civil Code 2015, Art. 148(5)), unless its data
says it closes on the working day before (the closing date: provinces decide by the end of the year).
Pure: no IO beyond the package's own data files, no clock (a late opening's day is a parameter). The overrides are
picked by `domain.calendar_overrides.calendar_for`, the one call the CLI (and the case wiring) uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import (
    OFFICE_CLOSING,
    TZ,
    add_working_days,
    subtract_working_days,
    working_days_between,
)
from domain.calendar_settings import (
    CALENDAR_STAGES,
    CalendarDate,
    CalendarError,
    CalendarSettings,
    dossier_date,
    load_defaults,
    reserve_working_days,
)
from domain.datafiles import describe_basis
from domain.procedure import ProcedureProfile, load_profile, profile_in_force
from domain.rounds import Round
from domain.stages import Stage


class Adjustment(StrEnum):
    NONE = "none"  # due after the stage's working-day allowance
    SHORTENED = "shortened"  # the calendar anchor came before the allowance ran out
    EXTENDED = "extended"  # opened too late for its anchor: given the minimum allowance, past the anchor


class StageTerms(BaseModel):
    """What fixes a stage's window in one round: not before when, capped by which anchor, how many working days."""

    model_config = ConfigDict(frozen=True)

    stage: Stage
    not_before: date | None
    anchor: date | None
    allowance_working_days: int


class StageWindow(BaseModel):
    model_config = ConfigDict(frozen=True)

    stage: Stage
    opens: date
    due: date
    anchor: date | None
    allowance_working_days: int
    working_days: int = Field(description="working days from the day after opening to the due day")
    adjustment: Adjustment

    def due_at(self, closing: time = OFFICE_CLOSING) -> datetime:
        """The office's closing time (Asia/Ho_Chi_Minh) on the due day, a working day."""
        return datetime.combine(self.due, closing, tzinfo=TZ)


def stage_window(terms: StageTerms, opens: date, minimum_working_days: int) -> StageWindow:
    """The window of a stage that opens on `opens`: the earlier of its allowance and its anchor, and at least the
    minimum allowance (or its whole allowance when that is smaller) after it opens."""
    by_count = add_working_days(opens, terms.allowance_working_days)
    floor = add_working_days(opens, min(minimum_working_days, terms.allowance_working_days))
    due = by_count if terms.anchor is None else max(min(by_count, terms.anchor), floor)
    if terms.anchor is not None and due > terms.anchor:
        adjustment = Adjustment.EXTENDED
    elif due < by_count:
        adjustment = Adjustment.SHORTENED
    else:
        adjustment = Adjustment.NONE
    return StageWindow(
        stage=terms.stage,
        opens=opens,
        due=due,
        anchor=terms.anchor,
        allowance_working_days=terms.allowance_working_days,
        working_days=working_days_between(opens, due),
        adjustment=adjustment,
    )


class RoundCalendar(BaseModel):
    """A round's calendar in one province (or nationally), every stage done on its last due day unless the
    completion days were given."""

    model_config = ConfigDict(frozen=True)

    round_id: str
    rule_set_id: str
    year: int
    profile_id: str
    province: str | None
    period_start: date
    period_end: date
    registration_due: date
    self_assessment_opens: date
    dossier_due: date
    decision_due: date
    closes: date = Field(description="the closing date: appraisal and decision are due by it")
    minimum_working_days: int
    terms: tuple[StageTerms, ...]
    stages: tuple[StageWindow, ...]
    bases: dict[str, str] = Field(description="where each date and the minimum come from")
    overrides_applied: tuple[str, ...] = ()

    def stage(self, stage: Stage) -> StageWindow:
        for window in self.stages:
            if window.stage == stage:
                return window
        raise KeyError(stage)

    def window(self, stage: Stage, opened_on: date) -> StageWindow:
        """The window of `stage` when it is ready to open on `opened_on` (not before its own opening date)."""
        window = self.for_cases().window(stage, opened_on)
        if window is None:
            raise KeyError(stage)
        return window

    def for_cases(self, changes: tuple[AuthorityChange, ...] = ()) -> CaseCalendar:
        """What a case of this round carries from its start: the stages' terms and the changes of authority."""
        return CaseCalendar(
            round_id=self.round_id,
            minimum_working_days=self.minimum_working_days,
            terms=self.terms,
            authority_changes=changes,
            overrides_applied=self.overrides_applied,
        )


class AuthorityChange(BaseModel):
    """From `on` (a day, Asia/Ho_Chi_Minh), the successor profile's roles act: the open task moves to them."""

    model_config = ConfigDict(frozen=True)

    on: date
    from_profile: str
    to_profile: str

    def at(self) -> datetime:
        return datetime.combine(self.on, time(0, 0), tzinfo=TZ)


class CaseCalendar(BaseModel):
    """The part of a round's calendar a case runs on, fixed when the case starts (it travels in the case's start
    input, so a later change of the calendar's data never moves a running case's dates)."""

    model_config = ConfigDict(frozen=True)

    round_id: str
    minimum_working_days: int
    terms: tuple[StageTerms, ...]
    authority_changes: tuple[AuthorityChange, ...] = ()
    overrides_applied: tuple[str, ...] = ()

    def window(self, stage: Stage, ready_on: date, *, again: bool = False) -> StageWindow | None:
        """The window of `stage` when the case is ready for it on `ready_on` (not before the stage's own opening
        date); None for a stage the calendar does not place. `again`: the stage is done over (objections, a
        returned dossier), so its anchor, met once, does not cap it: it gets its whole allowance."""
        for terms in self.terms:
            if terms.stage == stage:
                opens = max(ready_on, terms.not_before) if terms.not_before else ready_on
                if again:
                    terms = terms.model_copy(update={"anchor": None})
                return stage_window(terms, opens, self.minimum_working_days)
        return None

    def rehearsed(self, opens_on: date) -> CaseCalendar:
        """The same calendar moved whole, by weeks, so that self-assessment opens on `opens_on` or up to six days
        before it: a rehearsal round (the dev stack's demo round, tests) whose assessment window is in the present.
        Moving by weeks keeps each date's weekday; one that lands on a holiday moves to the next working day, and
        no anchor comes before the one of the stage before. No change of authority happens in a rehearsal."""
        first = next(t.not_before for t in self.terms if t.stage == Stage.SELF_ASSESSMENT)
        assert first is not None
        shift = timedelta(weeks=(opens_on - first).days // 7)
        terms: list[StageTerms] = []
        floor: date | None = None
        for t in self.terms:
            anchor = None
            if t.anchor is not None:
                anchor = add_working_days(t.anchor + shift, 0)  # itself, or the next working day
                anchor = max(anchor, floor) if floor else anchor
                floor = anchor
            not_before = t.not_before + shift if t.not_before else None
            terms.append(t.model_copy(update={"not_before": not_before, "anchor": anchor}))
        label = f"rehearsal: moved {shift.days:+d} days"
        return self.model_copy(
            update={
                "terms": tuple(terms),
                "authority_changes": (),
                "overrides_applied": (*self.overrides_applied, label),
            }
        )

    def change_after(self, profile_id: str) -> AuthorityChange | None:
        """The change of authority that ends `profile_id`, if the case's calendar has one."""
        return next((c for c in self.authority_changes if c.from_profile == profile_id), None)


def authority_changes(profile: ProcedureProfile) -> tuple[AuthorityChange, ...]:
    """The changes of authority from `profile` on: each profile that ends hands over, the day after it ends, to
    the profile in force that day (the district profile ends on 30 June 2025)."""
    changes: list[AuthorityChange] = []
    while profile.in_force_until is not None:
        on = profile.in_force_until + timedelta(days=1)
        successor = profile_in_force(on)
        changes.append(AuthorityChange(on=on, from_profile=profile.id, to_profile=successor.id))
        profile = successor
    return tuple(changes)


def _dates(settings: CalendarSettings, profile: ProcedureProfile) -> dict[str, CalendarDate]:
    return {
        "registration_due": settings.dates.registration_due,
        "self_assessment_opens": settings.dates.self_assessment_opens,
        "dossier_due": dossier_date(settings, profile),
        "closes": settings.dates.closes,
    }


def stage_terms(round_: Round, settings: CalendarSettings, profile: ProcedureProfile) -> tuple[StageTerms, ...]:
    """Each stage's opening date, anchor and allowance in this round; CalendarError when the dates leave a stage
    no room (naming the date to move)."""
    dates = _dates(settings, profile)
    year, start = round_.year, round_.period_start
    opening = {"period_start": start, "self_assessment_opens": dates["self_assessment_opens"].resolve(year, start)}
    terms: list[StageTerms] = []
    for i, stage in enumerate(CALENDAR_STAGES):
        placing, allowance = settings.stage(stage), profile.stage(stage).working_days
        anchor = None
        if placing.due_by is not None:
            later = [s for s in CALENDAR_STAGES[i + 1 :] if settings.stage(s).due_by == placing.due_by]
            reserve = sum(reserve_working_days(settings, profile, s) for s in later)
            anchor = subtract_working_days(dates[placing.due_by].working_day(year, start), reserve)
        not_before = opening[placing.opens_on] if placing.opens_on else None
        terms.append(StageTerms(stage=stage, not_before=not_before, anchor=anchor, allowance_working_days=allowance))
    _check_room(terms, settings)
    return tuple(terms)


def _check_room(terms: list[StageTerms], settings: CalendarSettings) -> None:
    """An opening date after every date before it; an anchor at least a late stage's minimum allowance after the
    date before it (its own opening, or the anchor of the stage before), so that a chain of stages each done on its
    last due day is never pushed past an anchor. The error names the date to move."""
    latest: tuple[date, str] | None = None
    for t in terms:
        placing = settings.stage(t.stage)
        if t.not_before is not None and placing.opens_on is not None:
            if latest is not None and t.not_before <= latest[0]:
                raise CalendarError(
                    f"dates.{placing.opens_on}",
                    f"{t.stage} opens on {t.not_before.isoformat()}, not after {latest[1]}: dates out of order",
                )
            latest = (t.not_before, f"the opening of {t.stage} ({t.not_before.isoformat()})")
        if t.anchor is not None and placing.due_by is not None:
            room = min(settings.minimum_working_days, t.allowance_working_days)
            if latest is not None and t.anchor < add_working_days(latest[0], room):
                raise CalendarError(
                    f"dates.{placing.due_by}",
                    f"{t.stage} would be due by {t.anchor.isoformat()}, less than {room} working days after "
                    f"{latest[1]}: dates out of order, or too little room for the stages that share the date",
                )
            latest = (t.anchor, f"the anchor of {t.stage} ({t.anchor.isoformat()})")


def lay_out(
    terms: tuple[StageTerms, ...],
    minimum_working_days: int,
    *,
    opened_on: date | None = None,
    done_on: Mapping[Stage, date] | None = None,
) -> tuple[StageWindow, ...]:
    """The windows of the stages in order: the first opens on `opened_on` (not before its own opening date), each
    next one when the one before is done (`done_on`, default its due day)."""
    done_on = done_on or {}
    windows: list[StageWindow] = []
    ready = opened_on
    for t in terms:
        opens = max(d for d in (ready, t.not_before) if d is not None) if (ready or t.not_before) else None
        if opens is None:
            raise CalendarError("opened_on", f"{t.stage} has no opening date; give the day the round opens")
        window = stage_window(t, opens, minimum_working_days)
        windows.append(window)
        ready = done_on.get(t.stage, window.due)
        if ready < opens:
            raise CalendarError(
                f"done_on.{t.stage}", f"done on {ready.isoformat()}, before it opened on {opens.isoformat()}"
            )
    return tuple(windows)


def round_calendar(
    round_: Round,
    *,
    province: str | None = None,
    profile: ProcedureProfile | None = None,
    settings: CalendarSettings | None = None,
    overrides_applied: tuple[str, ...] = (),
    opened_on: date | None = None,
    done_on: Mapping[Stage, date] | None = None,
) -> RoundCalendar:
    """The round's calendar from its rhythm, its profile (default: the one in force when its assessment opens) and
    the settings (default: the shipped defaults; see `calendar_for` for the overrides). With `opened_on` the first
    stage opens that day (a round opened late); with `done_on` the stages end on those days instead of their due
    days."""
    profile = load_profile(profile_in_force(round_.assessment_start).id) if profile is None else profile
    settings = load_defaults() if settings is None else settings
    terms = stage_terms(round_, settings, profile)
    windows = lay_out(terms, settings.minimum_working_days, opened_on=opened_on, done_on=done_on)
    by_stage = {w.stage: w for w in windows}
    dates = _dates(settings, profile)
    year, start = round_.year, round_.period_start
    bases = {name: describe_basis(d) for name, d in dates.items()}
    bases["minimum_working_days"] = describe_basis(settings.minimum_working_days_basis)
    return RoundCalendar(
        round_id=round_.id,
        rule_set_id=round_.rule_set_id,
        year=year,
        profile_id=profile.id,
        province=province,
        period_start=start,
        period_end=round_.period_end,
        registration_due=by_stage[Stage.REGISTRATION].due,
        self_assessment_opens=dates["self_assessment_opens"].resolve(year, start),
        dossier_due=by_stage[Stage.DOSSIER_SUBMISSION].due,
        decision_due=by_stage[Stage.DECISION].due,
        closes=dates["closes"].working_day(year, start),
        minimum_working_days=settings.minimum_working_days,
        terms=terms,
        stages=windows,
        bases=bases,
        overrides_applied=overrides_applied,
    )

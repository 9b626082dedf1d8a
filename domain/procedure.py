"""Procedure profiles: who acts at each stage, how long they have, who is asked next when they do not act.

Profiles are YAML data under domain/profiles/: `district` (before 1 July 2025) and `two-tier` (from 1 July 2025).
Deadlines count working days (domain.calendar). When a stage's due time passes, the task climbs the escalation ladder
one rung at a time, each rung having its grace in working days; when the last rung's grace passes, the stage's final
policy applies. Authorities are never auto-approved: their stages stay open, escalated and visible as stuck.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from domain.calendar import due_at, end_of_working_day, local_date
from domain.datafiles import Basis, Frozen, MonthDay, field_problem, load_yaml_model
from domain.errors import ProcedureError, ProfileFileError, UnknownProfileError
from domain.stages import Role, Stage

PROFILES_DIR = Path(__file__).parent / "profiles"
PROFILE_IDS = ("district", "two-tier")
MAIN_PATH: tuple[Stage, ...] = tuple(Stage)  # registration → ... → commendation → closed


class FinalPolicy(StrEnum):
    CLOSE_NOT_REGISTERED = "close_not_registered"  # the unit never registered: the case closes as not registered
    CLOSE_NOT_SUBMITTED = "close_not_submitted"  # the commune never produced its dossier: closes as not submitted
    STAY_OPEN_ESCALATED = "stay_open_escalated"  # an authority never acted: stays open at the top rung, stuck


class EscalationRung(Frozen):
    role: Role
    grace_working_days: int = Field(ge=0)


class StageSpec(Basis):
    """One stage; the basis fields speak for `working_days`."""

    stage: Stage
    role: Role
    working_days: int = Field(ge=0)
    reminder_working_days_before: int = Field(ge=0)
    fixed_deadline: MonthDay | None = Field(default=None, description="a calendar deadline that wins if earlier")
    escalation: list[EscalationRung] = Field(default_factory=list)
    final_policy: FinalPolicy
    loops_back_to: Stage | None = Field(default=None, description="where an objection or a return sends the case")

    @model_validator(mode="after")
    def _reminder_before_due(self) -> Self:
        if self.working_days and self.reminder_working_days_before >= self.working_days:
            raise field_problem("reminder_working_days_before", "must be less than working_days")
        return self


class CommendationLevel(Frozen):
    consecutive: int = Field(ge=2)
    authority_role: Role
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    repeats: bool = Field(default=True, description="due again at every multiple of `consecutive`")
    basis: Basis


class ProcedureProfile(Frozen):
    id: str
    title: str
    in_force_from: date | None = None
    in_force_until: date | None = None
    in_force_basis: Basis
    appraising_office: str = Field(min_length=1)
    deciding_authority: str = Field(min_length=1)
    roles_basis: Basis
    max_dossier_returns: int = Field(ge=0)
    max_dossier_returns_basis: Basis
    posting_working_days: int = Field(ge=0)
    posting_working_days_basis: Basis
    stages: list[StageSpec]
    commendations: list[CommendationLevel] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        order = [s.stage for s in self.stages]
        expected = [s for s in MAIN_PATH if s is not Stage.CLOSED]
        if order != expected:
            raise field_problem("stages", f"give one entry per stage in this order: {', '.join(expected)}")
        posting = self.stages[order.index(Stage.PUBLIC_POSTING)]
        if posting.working_days != self.posting_working_days:
            raise field_problem("stages", "public_posting working_days must equal posting_working_days")
        levels = [c.consecutive for c in self.commendations]
        if levels != sorted(set(levels)):
            raise field_problem("commendations", "levels must have distinct `consecutive`, in increasing order")
        return self

    def stage(self, stage: Stage) -> StageSpec:
        for spec in self.stages:
            if spec.stage == stage:
                return spec
        raise ProcedureError(f"stage {stage} has no task in profile {self.id}")

    def next_stage(self, stage: Stage) -> Stage:
        """The next stage on the main path; after commendation comes closed (skip commendation when none is due)."""
        if stage == Stage.CLOSED:
            raise ProcedureError("a closed case has no next stage")
        return MAIN_PATH[MAIN_PATH.index(Stage(stage)) + 1]

    def commendation_level(self, consecutive: int) -> CommendationLevel:
        for level in self.commendations:
            if level.consecutive == consecutive:
                return level
        raise ProcedureError(f"profile {self.id} has no commendation at {consecutive} consecutive recognitions")

    def covers(self, on: date) -> bool:
        starts = self.in_force_from is None or self.in_force_from <= on
        return starts and (self.in_force_until is None or on <= self.in_force_until)


def load_profile_file(path: Path | str) -> ProcedureProfile:
    return load_yaml_model(Path(path), ProcedureProfile, ProfileFileError)


@cache
def load_profile(profile_id: str) -> ProcedureProfile:
    if profile_id not in PROFILE_IDS:
        raise UnknownProfileError(profile_id, list(PROFILE_IDS))
    path = PROFILES_DIR / f"{profile_id}.yaml"
    profile = load_profile_file(path)
    if profile.id != profile_id:
        raise ProfileFileError(path, "id", f"file declares {profile.id!r}, expected {profile_id!r}")
    return profile


def profile_in_force(on: date) -> ProcedureProfile:
    """`district` before 1 July 2025, `two-tier` from that day (the dates live in the profile files)."""
    for profile_id in PROFILE_IDS:
        profile = load_profile(profile_id)
        if profile.covers(on):
            return profile
    raise ProcedureError(f"no procedure profile covers {on.isoformat()}")


def stage_due_at(spec: StageSpec, started_at: datetime, *, year: int) -> datetime:
    """Due time of a stage started at `started_at`: `working_days` after the start, or the stage's fixed calendar
    deadline in `year` (run to the end of the next working day if it falls on a day off) when that is earlier and
    not yet past on the day the stage starts."""
    by_count = due_at(started_at, spec.working_days)
    if spec.fixed_deadline is None:
        return by_count
    fixed_day = spec.fixed_deadline.in_year(year)
    if fixed_day < local_date(started_at):
        return by_count
    return min(by_count, end_of_working_day(fixed_day))


def escalation_due_times(spec: StageSpec, due: datetime) -> list[tuple[Role, datetime]]:
    """Each rung of the ladder with the time its grace ends: rung 1 takes over at `due`, rung 2 when rung 1's
    grace ends, and so on; the final policy applies when the last rung's grace ends."""
    ladder: list[tuple[Role, datetime]] = []
    at = due
    for rung in spec.escalation:
        at = due_at(at, rung.grace_working_days)
        ladder.append((rung.role, at))
    return ladder

"""The recognition case as a state machine: forms, deadlines and administrators' actions move it on.

Each function takes the state and returns the new state and the transition to record. Nothing here reads a clock:
times come in as parameters; ids are derived from the case id and counters, so a replay yields the same ones.
Deadlines (reminder, escalation rungs, final policy) act through domain/deadlines.py.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.calendar import TZ, local_date
from domain.forms import (
    AppraisalForm,
    CommendationForm,
    CouncilAssessmentForm,
    DecisionForm,
    DossierForm,
    Form,
    FormContext,
    PublicPostingForm,
    RegistrationForm,
    SelfAssessmentForm,
)
from domain.merger import StreakReason
from domain.procedure import MAIN_PATH, CommendationLevel, ProcedureProfile
from domain.round_calendar import CaseCalendar, StageWindow
from domain.rulesets import RuleSet
from domain.stages import LocalityType, Outcome, Role, Stage
from domain.tasks import OpenTask, first_task
from domain.verdict import Verdict, evaluate


class ScoreSheet(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["self", "council"]
    scores: dict[int, int]
    sources: dict[int, str] = Field(default_factory=dict)


class CaseIdentity(BaseModel):
    """What a case is, fixed when it starts: its unit, its round and the rules it is assessed under."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    unit_code: str
    province_code: str
    round_id: str
    rule_set_id: str
    profile_id: str
    locality_type: LocalityType

    def identity(self) -> dict[str, Any]:
        """These fields, to build another model of the same case from (a state from a start, a snapshot)."""
        return {name: getattr(self, name) for name in CaseIdentity.model_fields}


class CaseState(CaseIdentity):
    stage: Stage = Stage.REGISTRATION
    status: Literal["open", "closed"] = "open"
    outcome: Outcome | None = None
    seq: int = 0
    task_no: int = 0
    task: OpenTask | None = None
    self_scores: dict[int, int] | None = None
    council_scores: dict[int, int] | None = None
    verdict: Verdict | None = None
    open_objections: tuple[str, ...] = ()
    dossier_returns: int = 0
    dossier_submitted: bool = False
    on_hold: bool = False
    held_at: datetime | None = None
    problem: str | None = None  # "stuck": an authority let the whole ladder pass without acting
    commendation: CommendationLevel | None = None
    commendation_checked: bool = False
    # The current stage's task opens at this time (its calendar window opens later: registered and striving until
    # self-assessment opens on 1 October); no task until then.
    waiting_until: datetime | None = None

    def task_id(self, task_no: int | None = None) -> str:
        return f"{self.case_id}-t{self.task_no if task_no is None else task_no:02d}"

    def form_context(self, rule_set: RuleSet, profile: ProcedureProfile) -> FormContext:
        return FormContext(
            rule_set=rule_set,
            locality_type=self.locality_type,
            posting_working_days=profile.posting_working_days,
            open_objection_ids=self.open_objections,
            council_scores=self.council_scores,
            returns_so_far=self.dossier_returns,
            max_returns=profile.max_dossier_returns,
        )

    def acting_role(self, profile: ProcedureProfile) -> Role:
        """Who acts at the current stage: the profile's role, or the commendation level's authority."""
        if self.stage == Stage.COMMENDATION and self.commendation is not None:
            return self.commendation.authority_role
        return profile.stage(self.stage).role


class Transition(BaseModel):
    """What happened, for the projection and the audit journal."""

    model_config = ConfigDict(frozen=True)

    seq: int
    action: str
    from_stage: Stage | None
    to_stage: Stage
    occurred_at: datetime
    outcome: Outcome | None = None
    score_sheet: ScoreSheet | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    completed_task_id: str | None = None
    cancelled_task_id: str | None = None
    new_task: OpenTask | None = None
    task_update: OpenTask | None = None  # the open task as it stands after this transition (same id)


def case_id_for(round_id: str, unit_code: str) -> str:
    return f"{round_id}-{unit_code}"


def _window_note(window: StageWindow) -> dict[str, Any]:
    """What the journal keeps of a stage's calendar window: when it opened, when it is due, and why then."""
    return {
        "window": {
            "opens": window.opens.isoformat(),
            "due": window.due.isoformat(),
            "anchor": window.anchor.isoformat() if window.anchor else None,
            "adjustment": window.adjustment.value,
        }
    }


def _with_task(
    state: CaseState,
    profile: ProcedureProfile,
    now: datetime,
    year: int,
    calendar: CaseCalendar | None = None,
    *,
    again: bool = False,
) -> tuple[CaseState, dict[str, Any]]:
    """Open the task of the state's stage (task_no already advanced), due as the stage's calendar window says when
    the case has a calendar; when that window opens on a later day, no task yet: the case waits until it opens.
    Returns the state and what the journal keeps of the window."""
    window = calendar.window(state.stage, local_date(now), again=again) if calendar else None
    if window is not None and window.opens > local_date(now):
        opens_at = datetime.combine(window.opens, time(0, 0), tzinfo=TZ)
        return state.model_copy(update={"task": None, "waiting_until": opens_at}), {
            "waiting_until": opens_at.isoformat()
        }
    task = first_task(
        task_id=state.task_id(),
        stage=state.stage,
        role=state.acting_role(profile),
        spec=profile.stage(state.stage),
        started_at=now,
        year=year,
        due=window.due_at() if window else None,
    )
    note = _window_note(window) if window else {}
    return state.model_copy(update={"task": task, "waiting_until": None}), note


def open_case(
    state: CaseState, *, profile: ProcedureProfile, year: int, now: datetime, calendar: CaseCalendar | None = None
) -> tuple[CaseState, Transition]:
    """The case starts at registration with its first task (or waits for the registration window to open)."""
    start = state.model_copy(update={"stage": Stage.REGISTRATION, "seq": 1, "task_no": 1})
    new, note = _with_task(start, profile, now, year, calendar)
    return new, Transition(
        seq=1,
        action="case_opened",
        from_stage=None,
        to_stage=Stage.REGISTRATION,
        occurred_at=now,
        details=note,
        new_task=new.task,
    )


def stage_opened(
    state: CaseState, *, profile: ProcedureProfile, year: int, now: datetime, calendar: CaseCalendar | None
) -> tuple[CaseState, Transition]:
    """The day the stage the case waits for opens (self-assessment on 1 October): its task opens."""
    if state.waiting_until is None or state.task is not None or state.status != "open":
        raise ValueError(f"case {state.case_id} is not waiting for a stage to open")
    new, note = _with_task(state.model_copy(update={"seq": state.seq + 1}), profile, now, year, calendar)
    return new, Transition(
        seq=new.seq,
        action="stage_opened",
        from_stage=state.stage,
        to_stage=state.stage,
        occurred_at=now,
        details=note,
        new_task=new.task,
    )


def _next_stage(state: CaseState, form: Form) -> tuple[Stage, Outcome | None, str | None]:
    """Where the form takes the case, the outcome when it ends, and a reason when it loops or ends early."""
    match state.stage, form:
        case Stage.REGISTRATION, RegistrationForm(registered=False, note=note):
            return Stage.CLOSED, Outcome.NOT_REGISTERED, note or "the unit did not register"
        case Stage.REGISTRATION, RegistrationForm():
            return Stage.SELF_ASSESSMENT, None, None
        case Stage.SELF_ASSESSMENT, SelfAssessmentForm():
            return Stage.COUNCIL_ASSESSMENT, None, None
        case Stage.COUNCIL_ASSESSMENT, CouncilAssessmentForm():
            return Stage.PUBLIC_POSTING, None, None
        case Stage.PUBLIC_POSTING, PublicPostingForm(objections=objections) if objections:
            return Stage.COUNCIL_ASSESSMENT, None, f"{len(objections)} objection(s) from residents"
        case Stage.PUBLIC_POSTING, PublicPostingForm():
            return Stage.DOSSIER_SUBMISSION, None, None
        case Stage.DOSSIER_SUBMISSION, DossierForm():
            return Stage.APPRAISAL, None, None
        case Stage.APPRAISAL, AppraisalForm(outcome="accept"):
            return Stage.DECISION, None, None
        case Stage.APPRAISAL, AppraisalForm(outcome="return", missing=missing):
            return Stage.DOSSIER_SUBMISSION, None, "returned for completion: " + "; ".join(missing)
        case Stage.APPRAISAL, AppraisalForm(outcome="refuse", findings=findings):
            return Stage.CLOSED, Outcome.NOT_RECOGNISED, findings
        case Stage.DECISION, DecisionForm(recognised=True):
            return Stage.COMMENDATION, Outcome.RECOGNISED, None
        case Stage.DECISION, DecisionForm(reasons=reasons):
            return Stage.CLOSED, Outcome.NOT_RECOGNISED, "; ".join(reasons)
        case Stage.COMMENDATION, CommendationForm(awarded=awarded, reasons=reasons):
            return Stage.CLOSED, state.outcome, None if awarded else "; ".join(reasons)
    raise ValueError(f"a {type(form).__name__} does not complete stage {state.stage.value}")


def _form_effects(state: CaseState, form: Form, rule_set: RuleSet) -> tuple[dict[str, Any], ScoreSheet | None]:
    """What an accepted form changes in the case besides its stage, and the score sheet it carries (if any)."""
    update: dict[str, Any] = {}
    sheet: ScoreSheet | None = None
    match form:
        case SelfAssessmentForm(scores=scores, sources=sources):
            update["self_scores"] = dict(scores)
            sheet = ScoreSheet(kind="self", scores=dict(scores), sources=dict(sources))
        case CouncilAssessmentForm(scores=scores):
            update["council_scores"] = dict(scores)
            update["verdict"] = evaluate(rule_set, state.locality_type, scores)
            update["open_objections"] = ()
            sheet = ScoreSheet(kind="council", scores=dict(scores))
        case PublicPostingForm(objections=objections):
            update["open_objections"] = tuple(o.id for o in objections)
        case DossierForm():
            update["dossier_submitted"] = True
        case AppraisalForm(outcome="return"):
            update["dossier_returns"] = state.dossier_returns + 1
        case _:
            pass
    return update, sheet


def complete_stage(
    state: CaseState,
    form: Form,
    *,
    rule_set: RuleSet,
    profile: ProcedureProfile,
    year: int,
    now: datetime,
    calendar: CaseCalendar | None = None,
) -> tuple[CaseState, Transition]:
    """Apply an accepted form to the case at its current stage; the next stage's task opens."""
    if state.task is None:
        raise ValueError("the case has no open task")
    to_stage, outcome, reason = _next_stage(state, form)
    update: dict[str, Any] = {"stage": to_stage, "seq": state.seq + 1, "task": None, "problem": None}
    changes, sheet = _form_effects(state, form, rule_set)
    update |= changes
    if outcome is not None:
        update["outcome"] = outcome
    if to_stage == Stage.CLOSED:
        update["status"] = "closed"
    new = state.model_copy(update=update)
    note: dict[str, Any] = {}
    if to_stage not in (Stage.CLOSED, Stage.COMMENDATION):  # the commendation task opens after the streak check
        again = MAIN_PATH.index(to_stage) < MAIN_PATH.index(state.stage)  # objections, a returned dossier
        new, note = _with_task(
            new.model_copy(update={"task_no": state.task_no + 1}), profile, now, year, calendar, again=again
        )
    details = form.model_dump(mode="json") | note
    if new.verdict is not None and state.stage == Stage.COUNCIL_ASSESSMENT:
        details["verdict"] = new.verdict.model_dump(mode="json")
    transition = Transition(
        seq=new.seq,
        action=f"{state.stage.value}_completed",
        from_stage=state.stage,
        to_stage=to_stage,
        occurred_at=now,
        outcome=outcome,
        score_sheet=sheet,
        details=details,
        reason=reason,
        completed_task_id=state.task.task_id,
        new_task=new.task,
    )
    return new, transition


def commendation_checked(
    state: CaseState,
    level: CommendationLevel | None,
    *,
    profile: ProcedureProfile,
    year: int,
    now: datetime,
    calendar: CaseCalendar | None = None,
    streak: StreakReason | None = None,
) -> tuple[CaseState, Transition]:
    """After a recognition: a commendation task for the level's authority when the streak reaches a level,
    else the case closes. `streak`: why the streak is what it is (domain/merger.py), kept in the details."""
    if state.stage != Stage.COMMENDATION or state.commendation_checked:
        raise ValueError(f"no commendation check at stage {state.stage.value}")
    details: dict[str, Any] = {"commendation": None if level is None else level.model_dump(mode="json")}
    if streak is not None:
        details["streak"] = streak.model_dump(mode="json")
    if level is None:
        new = state.model_copy(
            update={"stage": Stage.CLOSED, "status": "closed", "seq": state.seq + 1, "commendation_checked": True}
        )
        return new, Transition(
            seq=new.seq,
            action="commendation_checked",
            from_stage=Stage.COMMENDATION,
            to_stage=Stage.CLOSED,
            occurred_at=now,
            outcome=state.outcome,
            details=details,
        )
    new = state.model_copy(
        update={"seq": state.seq + 1, "task_no": state.task_no + 1, "commendation": level, "commendation_checked": True}
    )
    new, note = _with_task(new, profile, now, year, calendar)
    return new, Transition(
        seq=new.seq,
        action="commendation_due",
        from_stage=Stage.COMMENDATION,
        to_stage=Stage.COMMENDATION,
        occurred_at=now,
        details=details | note,
        new_task=new.task,
    )

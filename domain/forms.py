"""What each human stage expects from its official, and the checks that refuse a bad submission.

A form is parsed from the JSON an official sends (unknown fields refused; scores, flags and days of the strict types of
domain/form_fields.py), then checked against the case: the days against the round's calendar and today
(domain/form_dates.py), the rule set pinned to the round, the locality type, the open objections. Every refusal names
the field and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.calendar import working_days_between
from domain.errors import DomainError, ScoreError
from domain.form_dates import FUTURE_TOLERANCE, date_problem, date_window
from domain.form_fields import CRITERION_KEYS_SCHEMA, CriterionKey, Day, Flag, Points
from domain.rulesets import RuleSet
from domain.stages import LocalityType, Stage
from domain.verdict import Verdict, check_scores, evaluate


class FormError(DomainError):
    """A submission that cannot be accepted: `field` says where, `reason` why."""

    code = "invalid_payload"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RegistrationForm(_Form):
    """Đăng ký phấn đấu: the unit commits to strive for the standard this round (or declines)."""

    registered: Flag
    note: str | None = Field(default=None, max_length=2000)


class SelfAssessmentForm(_Form):
    """Tự đánh giá: a score for every criterion of the pinned rule set, with the data source of each."""

    scores: dict[CriterionKey, Points] = Field(json_schema_extra=CRITERION_KEYS_SCHEMA)
    sources: dict[CriterionKey, str] = Field(default_factory=dict, json_schema_extra=CRITERION_KEYS_SCHEMA)


class ObjectionAnswer(_Form):
    objection_id: str = Field(min_length=1)
    answer: str = Field(min_length=1, max_length=4000)


class CouncilAssessmentForm(_Form):
    """Hội đồng đánh giá cấp xã: the scores the council approves and its signed minutes (biên bản họp)."""

    scores: dict[CriterionKey, Points] = Field(json_schema_extra=CRITERION_KEYS_SCHEMA)
    meeting_date: Day
    minutes_ref: str = Field(min_length=1, max_length=200)
    members: list[str] = Field(min_length=1)
    objection_answers: list[ObjectionAnswer] = Field(default_factory=list)


class Objection(_Form):
    id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)


class PublicPostingForm(_Form):
    """Niêm yết công khai: where and from when to when the result was posted, and what residents objected."""

    posted_from: Day
    posted_to: Day
    place: str = Field(min_length=1, max_length=500)
    objections: list[Objection] = Field(default_factory=list)


DossierKind = Literal["request_letter", "assessment_report", "data_explanation", "council_minutes"]
REQUIRED_DOSSIER: tuple[DossierKind, ...] = (
    "request_letter",  # công văn đề nghị
    "assessment_report",  # bản đánh giá kết quả thực hiện tiêu chuẩn
    "data_explanation",  # giải trình kết quả và nguồn số liệu
    "council_minutes",  # biên bản họp hội đồng
)


class DossierDocument(_Form):
    kind: DossierKind
    reference: str = Field(min_length=1, max_length=500)


class DossierForm(_Form):
    """Hồ sơ đề nghị công nhận: one set of the four documents."""

    documents: list[DossierDocument]


class AppraisalForm(_Form):
    """Thẩm định: accept the dossier, return it with what to complete, or refuse it in writing with reasons."""

    outcome: Literal["accept", "return", "refuse"]
    findings: str = Field(default="", max_length=8000)
    missing: list[str] = Field(default_factory=list)


class DecisionForm(_Form):
    """Quyết định công nhận (or not), with its number and date; a refusal carries its reasons."""

    recognised: Flag
    decision_number: str = Field(min_length=1, max_length=100)
    decision_date: Day
    reasons: list[str] = Field(default_factory=list)


class CommendationForm(_Form):
    """Khen thưởng: the authority's decision on the commendation the streak made due."""

    awarded: Flag
    decision_number: str = Field(default="", max_length=100)
    decision_date: Day | None = None
    reasons: list[str] = Field(default_factory=list)


Form = (
    RegistrationForm
    | SelfAssessmentForm
    | CouncilAssessmentForm
    | PublicPostingForm
    | DossierForm
    | AppraisalForm
    | DecisionForm
    | CommendationForm
)

FORMS: dict[Stage, type[_Form]] = {
    Stage.REGISTRATION: RegistrationForm,
    Stage.SELF_ASSESSMENT: SelfAssessmentForm,
    Stage.COUNCIL_ASSESSMENT: CouncilAssessmentForm,
    Stage.PUBLIC_POSTING: PublicPostingForm,
    Stage.DOSSIER_SUBMISSION: DossierForm,
    Stage.APPRAISAL: AppraisalForm,
    Stage.DECISION: DecisionForm,
    Stage.COMMENDATION: CommendationForm,
}


class FormContext(BaseModel):
    """What a form is checked against: the case as it stands."""

    model_config = ConfigDict(frozen=True)

    rule_set: RuleSet
    locality_type: LocalityType
    posting_working_days: int
    open_objection_ids: tuple[str, ...] = ()
    council_scores: dict[int, int] | None = None
    returns_so_far: int = 0
    max_returns: int = 2


def parse_form(
    stage: Stage,
    payload: Mapping[str, Any],
    ctx: FormContext,
    *,
    now: datetime | None = None,
    period_start: date | None = None,
    tolerance: timedelta = FUTURE_TOLERANCE,
    lax: bool = False,
) -> Form:
    """Parse and check the payload for `stage`; raise FormError naming the first bad field.

    With `now` and the round's `period_start`, every day the form names must fall from the period start to today
    (in Vietnam, plus `tolerance`). `lax` reads a form as forms were read before their types were strict (a case
    recorded then replays as it ran): scores, flags and days are coerced, days are not bounded."""
    model = FORMS.get(stage)
    if model is None:
        raise FormError("stage", f"stage {stage.value} takes no form")
    try:
        form = model.model_validate(dict(payload), context={"lax": lax})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FormError(_field_of(first["loc"]), first["msg"]) from None
    if now is not None and period_start is not None and not lax:
        problem = date_problem(form, date_window(period_start=period_start, now=now, tolerance=tolerance))
        if problem is not None:
            raise FormError(*problem)
    _check(form, ctx)
    return form  # type: ignore[return-value]


_SHOWN = 40  # characters of one part of a field's path a refusal repeats (a key may be thousands long)


def _field_of(loc: tuple[int | str, ...]) -> str:
    """The field a validation error names: `scores.01` for a bad key as for a bad value (pydantic adds `[key]`)."""
    parts = [str(p) for p in loc if p != "[key]"]
    return ".".join(p if len(p) <= _SHOWN else p[:_SHOWN] + "…" for p in parts) or "payload"


def _check_scores(field: str, scores: Mapping[int, int], rule_set: RuleSet) -> None:
    try:
        check_scores(rule_set, scores)
    except ScoreError as exc:
        raise FormError(f"{field}.{exc.criterion}", exc.reason) from None
    missing = [c.number for c in rule_set.criteria if c.number not in scores]
    if missing:
        raise FormError(field, f"no score for criterion {', '.join(map(str, missing))}: every criterion is scored")


def _check(form: _Form, ctx: FormContext) -> None:
    if isinstance(form, SelfAssessmentForm | CouncilAssessmentForm | PublicPostingForm):
        _check_assessment(form, ctx)
    else:
        _check_decision(form, ctx)


def _check_assessment(form: _Form, ctx: FormContext) -> None:
    """The commune's stages: its own scores, the council's, the public posting."""
    match form:
        case SelfAssessmentForm(scores=scores, sources=sources):
            _check_scores("scores", scores, ctx.rule_set)
            unknown = sorted(set(sources) - set(scores))
            if unknown:
                raise FormError(f"sources.{unknown[0]}", "a source for a criterion that has no score")
        case CouncilAssessmentForm(scores=scores, objection_answers=answers):
            _check_scores("scores", scores, ctx.rule_set)
            answered = {a.objection_id for a in answers}
            unanswered = [o for o in ctx.open_objection_ids if o not in answered]
            if unanswered:
                raise FormError("objection_answers", f"objection {unanswered[0]} is not answered")
            stray = sorted(answered - set(ctx.open_objection_ids))
            if stray:
                raise FormError("objection_answers", f"objection {stray[0]} is not open on this case")
        case PublicPostingForm(posted_from=start, posted_to=end, objections=objections):
            if end < start:
                raise FormError("posted_to", "ends before posted_from")
            days = working_days_between(start - timedelta(days=1), end)  # both ends included
            if days < ctx.posting_working_days:
                raise FormError(
                    "posted_to",
                    f"posted for {days} working days; the procedure requires {ctx.posting_working_days}",
                )
            ids = [o.id for o in objections]
            if len(ids) != len(set(ids)):
                raise FormError("objections", "objection ids repeat")
        case _:
            pass


def _check_decision(form: _Form, ctx: FormContext) -> None:
    """The dossier and what the authorities decide on it: appraisal, decision, commendation."""
    match form:
        case DossierForm(documents=documents):
            kinds = [d.kind for d in documents]
            absent = [k for k in REQUIRED_DOSSIER if k not in kinds]
            if absent:
                raise FormError("documents", f"the dossier lacks {', '.join(absent)}")
            if len(kinds) != len(set(kinds)):
                raise FormError("documents", "a document kind appears twice")
        case AppraisalForm(outcome="return", missing=missing):
            if not missing:
                raise FormError("missing", "a returned dossier says what to complete")
            if ctx.returns_so_far >= ctx.max_returns:
                raise FormError(
                    "outcome",
                    f"the dossier was returned {ctx.returns_so_far} times, the most allowed; accept it or refuse it",
                )
        case AppraisalForm(outcome="refuse", findings=findings):
            if not findings:
                raise FormError("findings", "a refusal states its reasons in writing")
        case DecisionForm(recognised=recognised, reasons=reasons):
            if recognised:
                verdict = council_verdict(ctx)
                if verdict is None or not verdict.recognised:
                    why = "; ".join(r.message for r in verdict.reasons) if verdict else "no approved scores"
                    raise FormError("recognised", f"the unit does not meet the standard: {why}")
            elif not reasons:
                raise FormError("reasons", "a decision not to recognise states its reasons")
        case CommendationForm(awarded=True, decision_number=number, decision_date=when):
            if not number:
                raise FormError("decision_number", "a commendation carries its decision number")
            if when is None:
                raise FormError("decision_date", "a commendation carries its decision date")
        case CommendationForm(awarded=False, reasons=reasons):
            if not reasons:
                raise FormError("reasons", "a commendation not given states its reasons")
        case _:
            pass


def council_verdict(ctx: FormContext) -> Verdict | None:
    if ctx.council_scores is None:
        return None
    return evaluate(ctx.rule_set, ctx.locality_type, ctx.council_scores)

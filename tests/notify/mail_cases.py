"""Every mail the system writes, as it writes them: a case of the 2027 round driven through the domain (forms,
deadlines, an administrator's actions, the commendation), each recorded transition turned into its events by
`events_for_transition` and rendered the way notify/outbox.py renders them; the round's own notices from
notify/rounds.py; a daily digest as notify/digest.py builds it. Text a person types is given per language (a
Vietnamese official types Vietnamese, an English one English), so each mail can be checked for its language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from contracts import RecordTransitionInput
from domain.admin import nudge, reassign, withdraw
from domain.authority import authority_changed
from domain.calendar_overrides import case_calendar
from domain.case import CaseState, Transition, case_id_for, commendation_checked, complete_stage, open_case
from domain.deadlines import DeadlineKind, deadline_passed
from domain.forms import (
    AppraisalForm,
    CommendationForm,
    CouncilAssessmentForm,
    DecisionForm,
    DossierForm,
    Form,
    Objection,
    PublicPostingForm,
    RegistrationForm,
    SelfAssessmentForm,
)
from domain.procedure import load_profile
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Role, Stage
from notify.digest import web_link
from notify.events import NotificationKind, OutboxEvent
from notify.rounds import round_closed, round_opened
from notify.templates import Rendered, render
from notify.transitions import RESULTS, events_for_transition

ROUND = "qd06-2019:2027"
UNIT = "11953"
PROVINCE = "33"
CASE = case_id_for(ROUND, UNIT)
PUBLIC = "https://xptt.example.gov.vn"
T0 = datetime(2027, 10, 1, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
RULES = load_rule_set("qd06-2019")
PROFILE = load_profile("two-tier")
FULL = {c.number: c.max_points for c in RULES.criteria}

# What people read that is theirs, not the system's: names, and what they typed.
NAMES = {
    "vi": {"unit_name": "Xã Tân Hưng", "recipient": "Nguyễn Thị Lan", "province_name": "Tỉnh Hưng Yên"},
    "en": {"unit_name": "Tan Hung Commune", "recipient": "Nguyen Thi Lan", "province_name": "Hung Yen Province"},
}
TYPED = {
    "vi": {
        "objection": "Số liệu trẻ em đến trường chưa đúng",
        "missing": "Biên bản họp hội đồng có chữ ký",
        "findings": "Số liệu tiêu chí 3 không có nguồn",
        "decision_number": "123/QĐ-UBND",
        "refusal": "Chưa bảo đảm an toàn cho trẻ em",
        "withdrawal": "UBND xã đề nghị rút do sáp nhập đơn vị",
        "nudge": "Đề nghị hoàn thành sớm",
        "reassign": "Cán bộ phụ trách nghỉ phép",
        "commendation_number": "45/QĐ-UBND",
        "not_awarded": "Chưa đủ điều kiện khen thưởng",
    },
    "en": {
        "objection": "School attendance data is wrong",
        "missing": "Signed council minutes",
        "findings": "Criterion 3 data has no source",
        "decision_number": "123/QD-UBND",
        "refusal": "Child safety is not ensured",
        "withdrawal": "The commune asked to withdraw after a merger",
        "nudge": "Please finish early",
        "reassign": "The officer in charge is on leave",
        "commendation_number": "45/QD-UBND",
        "not_awarded": "Conditions for a commendation are not met",
    },
}
VARIANT_KEYS = ("reason", "objections", "missing", "handed_over_from", "due_at", "stage")
OUTCOMES = RESULTS  # what a decision mail can say happened


@dataclass(frozen=True)
class Mail:
    name: str  # the kind, or decision_made:<result>
    event: OutboxEvent
    rendered: Rendered
    link: str | None


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def mail_of(event: OutboxEvent, lang: str) -> Rendered:
    """The mail of `event` in `lang`, its context completed as notify.outbox completes it."""
    context: dict[str, Any] = dict(event.context)
    if event.unit_code:
        context.setdefault("unit_name", NAMES[lang]["unit_name"])
    context.setdefault("unit_code", event.unit_code)
    context.setdefault("case_id", event.case_id)
    context.setdefault("task_id", event.task_id)
    if "province_name" in context:
        context["province_name"] = NAMES[lang]["province_name"]
    link = f"{PUBLIC}{event.link_path}" if event.link_path else None
    return render(event.kind.value, {**context, "recipient": NAMES[lang]["recipient"], "link": link}, locale=lang)


class Journey:
    """One case driven through the domain; every transition recorded as the case store records it."""

    def __init__(self, lang: str, round_id: str = ROUND, profile_id: str = "two-tier", start: datetime = T0) -> None:
        self.lang, self.typed = lang, TYPED[lang]
        self.profile, self.year, self.start = load_profile(profile_id), int(round_id[-4:]), start
        self.calendar = case_calendar(RULES.id, self.year, PROVINCE) if round_id != ROUND else None
        self.records: list[RecordTransitionInput] = []
        self.state = CaseState(
            case_id=case_id_for(round_id, UNIT),
            unit_code=UNIT,
            province_code=PROVINCE,
            round_id=round_id,
            rule_set_id=RULES.id,
            profile_id=profile_id,
            locality_type=LocalityType.OTHER,
        )
        self.day = 0.0
        self._apply(open_case(self.state, profile=self.profile, year=self.year, now=start, calendar=self.calendar))

    def _apply(self, step: tuple[CaseState, Transition], actor_role: Role | None = None) -> Transition:
        self.state, transition = step
        self.records.append(
            RecordTransitionInput.of(
                self.state, transition, workflow_id=self.state.case_id, run_id="run-1", actor_role=actor_role
            )
        )
        return transition

    def now(self) -> datetime:
        self.day += 1
        return self.start + timedelta(days=self.day)

    def complete(self, form: Form, actor_role: Role | None = None) -> Transition:
        step = complete_stage(
            self.state,
            form,
            rule_set=RULES,
            profile=self.profile,
            year=self.year,
            now=self.now(),
            calendar=self.calendar,
        )
        return self._apply(step, actor_role)

    def deadline(self, kind: DeadlineKind) -> Transition:
        return self._apply(deadline_passed(self.state, kind, self.profile.stage(self.state.stage), now=self.now()))

    def to_dossier(self, scores: dict[int, int] = FULL) -> None:
        """From registration to the dossier, the residents objecting once on the way."""
        self.complete(RegistrationForm(registered=True))
        self.complete(SelfAssessmentForm(scores=scores, sources={}))
        self.complete(self._council(scores))
        self.complete(self._posting([Objection(id="kn-1", text=self.typed["objection"])]))
        self.complete(self._council(scores))
        self.complete(self._posting([]))

    def to_appraisal(self, scores: dict[int, int] = FULL) -> None:
        """On to the appraising office, which returns the dossier once."""
        self.to_dossier(scores)
        self.complete(self._dossier())
        returned = AppraisalForm(outcome="return", findings=self.typed["findings"], missing=[self.typed["missing"]])
        self.complete(returned)
        self.complete(self._dossier())

    def _council(self, scores: dict[int, int]) -> CouncilAssessmentForm:
        return CouncilAssessmentForm(scores=scores, meeting_date=date(2027, 10, 5), minutes_ref="BB-01", members=["A"])

    def _posting(self, objections: list[Objection]) -> PublicPostingForm:
        return PublicPostingForm(
            posted_from=date(2027, 10, 6), posted_to=date(2027, 10, 20), place="UBND", objections=objections
        )

    def _dossier(self) -> DossierForm:
        kinds = ("request_letter", "assessment_report", "data_explanation", "council_minutes")
        return DossierForm.model_validate({"documents": [{"kind": k, "reference": "X-1"} for k in kinds]})

    def decide(self, recognised: bool) -> None:
        self.complete(AppraisalForm(outcome="accept"))
        reasons = [] if recognised else [self.typed["refusal"]]
        number = self.typed["decision_number"]
        self.complete(
            DecisionForm(
                recognised=recognised, decision_number=number, decision_date=date(2027, 11, 30), reasons=reasons
            )
        )

    def commend(self, awarded: bool) -> None:
        level = PROFILE.commendation_level(5)
        self._apply(commendation_checked(self.state, level, profile=PROFILE, year=2027, now=self.now()))
        form = (
            CommendationForm(
                awarded=True, decision_number=self.typed["commendation_number"], decision_date=date(2027, 12, 20)
            )
            if awarded
            else CommendationForm(awarded=False, reasons=[self.typed["not_awarded"]])
        )
        self.complete(form, actor_role=level.authority_role)

    def events(self) -> list[OutboxEvent]:
        return [e for record in self.records for e in events_for_transition(record)]


def journey(outcome: str, lang: str) -> Journey:
    """The case that ends in `outcome`, having met on its way every kind of news a case sends."""
    j = Journey(lang)
    if outcome == "not_registered":
        j.deadline(DeadlineKind.REMIND)
        j.deadline(DeadlineKind.ESCALATE)
        j.deadline(DeadlineKind.FINAL)
        return j
    task = j.state.task
    assert task is not None
    j._apply(nudge(j.state, task.task_id, reason=j.typed["nudge"], now=j.now()))
    j._apply(reassign(j.state, task.task_id, "o-9", reason=j.typed["reassign"], now=j.now()))
    if outcome == "withdrawn":
        j._apply(withdraw(j.state, reason=j.typed["withdrawal"], now=j.now()))
        return j
    if outcome == "not_submitted":
        j.to_dossier()
        j.deadline(DeadlineKind.FINAL)
        return j
    j.to_appraisal(FULL if outcome != "not_recognised" else FULL | {3: 0})
    if outcome == "refused_at_appraisal":
        j.complete(AppraisalForm(outcome="refuse", findings=j.typed["findings"]))
        return j
    j.decide(recognised=outcome != "not_recognised")
    if outcome.startswith("commendation_"):
        j.commend(awarded=outcome == "commendation_awarded")
    return j


def handover_events(lang: str) -> list[OutboxEvent]:
    """A 2024 case at appraisal when the district appraising office gave way to the province's on 1 July 2025."""
    j = Journey(lang, round_id="qd06-2019:2024", profile_id="district", start=datetime(2025, 6, 2, 2, tzinfo=UTC))
    j.to_dossier()
    j.complete(j._dossier())
    change = case_calendar(RULES.id, 2024, PROVINCE).change_after("district")
    assert change is not None
    handed = j._apply(authority_changed(j.state, change, PROFILE, now=change.at()))
    return events_for_transition(j.records[-1]) if handed.new_task else []


def old_commendation_events(lang: str) -> list[OutboxEvent]:
    """The older commendation check, recorded before it opened a task: its finding in `details`."""
    j = journey("recognised", lang)
    level = PROFILE.commendation_level(5).model_dump(mode="json")
    closed = j.state.model_copy(update={"stage": Stage.CLOSED, "status": "closed", "seq": j.state.seq + 1})
    found = Transition(
        seq=closed.seq,
        action="commendation_checked",
        from_stage=Stage.COMMENDATION,
        to_stage=Stage.CLOSED,
        occurred_at=j.now(),
        outcome=closed.outcome,
        details={"commendation": level},
    )
    return events_for_transition(RecordTransitionInput.of(closed, found, workflow_id=CASE, run_id="run-1"))


def round_events() -> list[OutboxEvent]:
    calendar = case_calendar("qd06-2019", 2027, PROVINCE)
    opened = round_opened(ROUND, PROVINCE, units=38, province_name="-", at=datetime(2027, 9, 20, 3, tzinfo=UTC),
                          calendar=calendar)  # fmt: skip
    closed = round_closed(
        ROUND,
        PROVINCE,
        registered=30,
        assessed=20,
        recognised=12,
        province_name="-",
        at=datetime(2027, 12, 31, tzinfo=UTC),
    )
    return [opened, closed]


def digest_context(lang: str, subjects: list[str]) -> dict[str, Any]:
    """A digest as notify.digest builds it, its items' links as stored (one from before mails named web pages)."""
    links = [f"{PUBLIC}/v1/tasks/{CASE}-t02", f"{PUBLIC}/web/cases/{CASE}"]
    items = [
        {"id": f"ntf_{i}", "subject": s, "link": web_link(links[i % 2]), "created_at": at(i / 24).isoformat()}
        for i, s in enumerate(subjects)
    ]
    return {
        "recipient": NAMES[lang]["recipient"],
        "link": f"{PUBLIC}/web/tasks",
        "day_start": datetime(2027, 10, 2, tzinfo=UTC).isoformat(),
        "cutoff": datetime(2027, 10, 2, 0, tzinfo=UTC).isoformat(),
        "items": items,
    }


@cache
def all_mails(lang: str) -> tuple[Mail, ...]:
    """Every mail of every kind and every outcome in `lang` (a kind met twice is kept once per distinct name)."""
    found: dict[str, Mail] = {}
    events = [e for outcome in OUTCOMES for e in journey(outcome, lang).events()]
    events += handover_events(lang) + old_commendation_events(lang) + round_events()
    for event in events:
        name = event.kind.value  # one mail per kind and per variant of it that says more
        if event.kind == NotificationKind.DECISION_MADE:
            name = f"decision_made:{event.context['result']}"
        name += "".join(f"+{key}" for key in VARIANT_KEYS if event.context.get(key))
        rendered = mail_of(event, lang)
        found.setdefault(name, Mail(name, event, rendered, f"{PUBLIC}{event.link_path}" if event.link_path else None))
    subjects = [m.rendered.subject for m in list(found.values())[:3]]
    digest = render(NotificationKind.DAILY_DIGEST.value, digest_context(lang, subjects), locale=lang)
    found["daily_digest"] = Mail("daily_digest", events[0], digest, f"{PUBLIC}/web/tasks")
    return tuple(found.values())

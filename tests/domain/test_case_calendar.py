"""A case on its round's calendar: registration at the period's start, striving with no task until self-assessment
opens, each task due by its window, and the change of authority when the district profile ends (domain/case.py,
domain/authority.py). Pure: the days are given."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from domain.authority import authority_changed
from domain.calendar import TZ, is_working_day, local_date
from domain.calendar_overrides import case_calendar
from domain.case import CaseState, case_id_for, complete_stage, open_case, stage_opened
from domain.forms import (
    AppraisalForm,
    CouncilAssessmentForm,
    DecisionForm,
    DossierForm,
    Form,
    PublicPostingForm,
    RegistrationForm,
    SelfAssessmentForm,
)
from domain.procedure import load_profile
from domain.round_calendar import AuthorityChange, CaseCalendar
from domain.rounds import round_starting_on
from domain.rulesets import load_rule_set
from domain.stages import LocalityType, Role, Stage
from tests.domain.helpers import full_marks

RULES = load_rule_set("qd06-2019")
SCORES = full_marks(RULES)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=TZ)


def new_case(round_id: str, profile_id: str) -> CaseState:
    return CaseState(
        case_id=case_id_for(round_id, "12345"),
        unit_code="12345",
        province_code="33",
        round_id=round_id,
        rule_set_id=round_id.split(":")[0],
        profile_id=profile_id,
        locality_type=LocalityType.OTHER,
    )


def form(stage: Stage, day: date) -> Form:
    """A form that takes the case on; its days are never checked here (domain/forms.py is)."""
    earlier = day - timedelta(days=20)
    match stage:
        case Stage.REGISTRATION:
            return RegistrationForm(registered=True)
        case Stage.SELF_ASSESSMENT:
            return SelfAssessmentForm(scores=SCORES, sources={})
        case Stage.COUNCIL_ASSESSMENT:
            return CouncilAssessmentForm(scores=SCORES, meeting_date=earlier, minutes_ref="BB-01", members=["A", "B"])
        case Stage.PUBLIC_POSTING:
            return PublicPostingForm(posted_from=earlier, posted_to=day, place="UBND xã", objections=[])
        case Stage.DOSSIER_SUBMISSION:
            return DossierForm.model_validate({"documents": [{"kind": k, "reference": "X-1"} for k in DOSSIER_KINDS]})
        case Stage.APPRAISAL:
            return AppraisalForm(outcome="accept", findings="đầy đủ")
        case Stage.DECISION:
            return DecisionForm(recognised=True, decision_number="QĐ-1", decision_date=day)
    raise AssertionError(stage)


DOSSIER_KINDS = ("request_letter", "assessment_report", "data_explanation", "council_minutes")


def step(state: CaseState, day: date, cal: CaseCalendar, profile_id: str | None = None) -> CaseState:
    profile = load_profile(profile_id or state.profile_id)
    new, _ = complete_stage(
        state, form(state.stage, day), rule_set=RULES, profile=profile, year=2027, now=at(day), calendar=cal
    )
    return new


def test_a_2027_case_registers_in_november_2026_and_strives_with_no_task_until_1_october_2027() -> None:
    cal = case_calendar("qd06-2019", 2027, "33")
    profile = load_profile("two-tier")
    state, opened = open_case(
        new_case("qd06-2019:2027", "two-tier"), profile=profile, year=2027, now=at(date(2026, 11, 30)), calendar=cal
    )
    assert state.task is not None and state.waiting_until is None
    # Opened by hand long after the registration anchor: the minimum allowance, and the journal says so.
    assert opened.details["window"]["adjustment"] == "extended"
    assert local_date(state.task.due_at) == date(2026, 12, 2)

    registered, done = complete_stage(
        state, form(Stage.REGISTRATION, date(2026, 12, 1)), rule_set=RULES, profile=profile, year=2027,
        now=at(date(2026, 12, 1)), calendar=cal,
    )  # fmt: skip
    assert registered.stage == Stage.SELF_ASSESSMENT and registered.task is None and done.new_task is None
    assert registered.waiting_until == datetime(2027, 10, 1, 0, 0, tzinfo=TZ)
    assert done.details["waiting_until"] == "2027-10-01T00:00:00+07:00"

    with pytest.raises(ValueError, match="not waiting"):
        stage_opened(state, profile=profile, year=2027, now=at(date(2027, 10, 1)), calendar=cal)
    opened_day = registered.waiting_until
    task_state, opening = stage_opened(registered, profile=profile, year=2027, now=opened_day, calendar=cal)
    assert opening.action == "stage_opened" and opening.new_task is not None
    assert task_state.task is not None and task_state.task.task_id == registered.task_id(2)
    assert task_state.task.role == Role.COMMUNE_OFFICER and task_state.waiting_until is None
    assert local_date(task_state.task.due_at) <= cal.terms[1].anchor  # type: ignore[operator]


def test_every_stage_done_on_its_last_due_day_files_the_dossier_by_15_november_and_decides_by_31_december() -> None:
    cal = case_calendar("qd06-2019", 2027, "33")
    profile = load_profile("two-tier")
    state, _ = open_case(
        new_case("qd06-2019:2027", "two-tier"), profile=profile, year=2027, now=at(date(2027, 10, 1)), calendar=cal
    )
    assert state.stage == Stage.REGISTRATION and state.task is not None
    state = step(state, local_date(state.task.due_at), cal)  # registered on 1 Oct: self-assessment opens at once
    dues: dict[Stage, date] = {}
    while state.stage != Stage.COMMENDATION:
        assert state.task is not None and state.waiting_until is None
        due = local_date(state.task.due_at)
        assert is_working_day(due), (state.stage, due)
        dues[state.stage] = due
        state = step(state, due, cal)
    assert dues[Stage.DOSSIER_SUBMISSION] == date(2027, 11, 15)
    assert dues[Stage.DECISION] <= date(2027, 12, 31)


def test_a_dossier_returned_after_the_dossier_date_gets_its_whole_allowance_again() -> None:
    cal = case_calendar("qd06-2019", 2027, "33")
    profile = load_profile("two-tier")
    state, _ = open_case(
        new_case("qd06-2019:2027", "two-tier"), profile=profile, year=2027, now=at(date(2027, 10, 1)), calendar=cal
    )
    while state.stage != Stage.APPRAISAL:
        state = step(state, date(2027, 10, 4), cal)
    returned, tr = complete_stage(
        state, AppraisalForm(outcome="return", findings="thiếu", missing=["biên bản"]), rule_set=RULES,
        profile=profile, year=2027, now=at(date(2027, 11, 22)), calendar=cal,
    )  # fmt: skip
    assert returned.stage == Stage.DOSSIER_SUBMISSION and returned.task is not None
    allowance = profile.stage(Stage.DOSSIER_SUBMISSION).working_days
    assert tr.details["window"]["anchor"] is None and tr.details["window"]["adjustment"] == "none"
    assert returned.task.due_at > at(date(2027, 11, 22)) + timedelta(days=allowance)


def test_a_2024_case_at_appraisal_on_1_july_2025_moves_to_the_provincial_office_with_its_deadline() -> None:
    cal = case_calendar("qd06-2019", 2024, "33")
    assert cal.authority_changes == (
        AuthorityChange(on=date(2025, 7, 1), from_profile="district", to_profile="two-tier"),
    )
    district = load_profile("district")
    state, _ = open_case(
        new_case("qd06-2019:2024", "district"), profile=district, year=2024, now=at(date(2025, 6, 2)), calendar=cal
    )
    while state.stage != Stage.APPRAISAL:
        state = step(state, date(2025, 6, 3), cal)
    assert state.task is not None and state.task.role == Role.DISTRICT_APPRAISER
    before = state.task

    change = cal.change_after("district")
    assert change is not None and change.at() == datetime(2025, 7, 1, 0, 0, tzinfo=TZ)
    moved, tr = authority_changed(state, change, load_profile("two-tier"), now=change.at())
    assert tr.action == "authority_changed" and tr.cancelled_task_id == before.task_id
    named = {k: tr.details[k] for k in ("from_profile", "to_profile", "from_role", "to_role")}
    assert named == {
        "from_profile": "district",
        "to_profile": "two-tier",
        "from_role": "district_appraiser",
        "to_role": "appraiser",
    }
    assert moved.profile_id == "two-tier" and moved.task is not None and tr.new_task == moved.task
    assert moved.task.role == Role.APPRAISER and moved.task.due_at == before.due_at
    assert moved.task.task_id != before.task_id and moved.task.started_at == change.at()

    decided = step(moved, date(2025, 7, 2), cal, "two-tier")
    assert decided.stage == Stage.DECISION and decided.task is not None
    assert decided.task.role == Role.CHAIRMAN  # the provincial chairman decides under the two-tier profile

    with pytest.raises(ValueError, match="does not run under"):
        authority_changed(moved, change, load_profile("two-tier"), now=change.at())


def test_a_striving_case_only_changes_profile_at_the_change_of_authority() -> None:
    cal = case_calendar("qd06-2019", 2024, "33")
    district = load_profile("district")
    state, _ = open_case(
        new_case("qd06-2019:2024", "district"), profile=district, year=2024, now=at(date(2023, 11, 6)), calendar=cal
    )
    state = step(state, date(2023, 11, 7), cal)
    assert state.waiting_until is not None and state.task is None
    change = cal.change_after("district")
    assert change is not None
    moved, tr = authority_changed(state, change, load_profile("two-tier"), now=change.at())
    assert moved.profile_id == "two-tier" and moved.task is None and tr.new_task is None
    assert moved.waiting_until == state.waiting_until and "to_role" not in tr.details


def test_a_case_without_a_calendar_keeps_the_profile_days() -> None:
    profile = load_profile("two-tier")
    state, tr = open_case(
        new_case("qd06-2019:2027", "two-tier"), profile=profile, year=2027, now=at(date(2026, 11, 30))
    )
    assert state.task is not None and "window" not in tr.details
    assert local_date(state.task.due_at) > date(2026, 12, 20)  # 20 working days


@pytest.mark.parametrize("today", [date(2026, 11, 30), date(2027, 2, 3), date(2026, 12, 31), date(2027, 4, 30)])
def test_a_rehearsal_moves_the_whole_calendar_by_weeks_so_the_assessment_opens_now(today: date) -> None:
    cal = case_calendar("qd06-2019", 2027, "33")
    moved = cal.rehearsed(today)
    opens = {t.stage: t.not_before for t in moved.terms}[Stage.SELF_ASSESSMENT]
    assert opens is not None and today - timedelta(days=6) <= opens <= today
    assert (opens - date(2027, 10, 1)).days % 7 == 0 and opens.weekday() == date(2027, 10, 1).weekday()
    anchors = [t.anchor for t in moved.terms if t.anchor is not None]
    assert anchors == sorted(anchors) and all(is_working_day(a) for a in anchors)
    assert moved.authority_changes == () and moved.overrides_applied[-1].startswith("rehearsal: moved -")
    window = moved.window(Stage.SELF_ASSESSMENT, today)
    assert window is not None and window.opens == today and window.due > today


# The day → the round whose period starts then (None: a day within a period).
PERIOD_STARTS = "2014-11-01 qd34-2014:2015, 2019-11-01 qd06-2019:2022, 2022-11-01 qd06-2019:2024, " + (
    "2024-11-01 qd06-2019:2027, 2027-11-01 qd06-2019:2029, 2025-11-01 -, 2026-11-01 -, 2027-11-02 -"
)


@pytest.mark.parametrize("entry", PERIOD_STARTS.split(", "))
def test_the_schedule_opens_the_round_whose_period_starts_that_day(entry: str) -> None:
    day, round_id = entry.split()
    found = round_starting_on(date.fromisoformat(day))
    assert (found.id if found else "-") == round_id

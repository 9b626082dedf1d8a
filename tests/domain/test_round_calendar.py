"""The round calendar: registration at the period's start, the assessment stages in October–December, the dossier
on the dossier date, the decision by the end of the year, nothing due on a day off, late stages given the minimum."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from fnmatch import fnmatch
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import add_working_days, is_working_day, working_days_between
from domain.calendar_overrides import OVERRIDES_PATH, CalendarOverrides, calendar_for, load_overrides_file
from domain.calendar_settings import CALENDAR_STAGES, CalendarError, load_defaults
from domain.procedure import load_profile
from domain.round_calendar import Adjustment, RoundCalendar
from domain.rounds import rounds_of
from domain.stages import Stage

NO_OVERRIDES = CalendarOverrides()
ROUNDS = [("qd34-2014", y) for y in range(2015, 2020)] + [("qd06-2019", y) for y in (2022, 2024, 2027, 2029)]
COMMUNE_STAGES = (Stage.SELF_ASSESSMENT, Stage.COUNCIL_ASSESSMENT, Stage.PUBLIC_POSTING, Stage.DOSSIER_SUBMISSION)


def _calendar(
    rule_set: str, year: int, *, opened_on: date | None = None, done_on: Mapping[Stage, date] | None = None
) -> RoundCalendar:
    return calendar_for(rule_set, year, overrides=NO_OVERRIDES, opened_on=opened_on, done_on=done_on)


def _dossier_date(year: int) -> date:
    """15 November, or the next working day when it is a day off (Civil Code 2015, Art. 148(5))."""
    return add_working_days(date(year, 11, 15), 0)


@pytest.mark.parametrize(("rule_set", "year"), ROUNDS, ids=[f"{r}:{y}" for r, y in ROUNDS])
def test_each_stage_done_on_its_last_due_day_lands_the_dossier_on_15_november_and_the_decision_in_the_year(
    rule_set: str, year: int
) -> None:
    cal = _calendar(rule_set, year)
    assert (cal.period_end, cal.self_assessment_opens) == (date(year, 10, 31), date(year, 10, 1))
    assert cal.dossier_due == _dossier_date(year)
    assert cal.dossier_due < cal.decision_due <= date(year, 12, 31)
    assert cal.decision_due <= cal.closes <= date(year, 12, 31)
    # registration in the first months of the period, by the first 31 January of the period at the latest
    assert cal.period_start < cal.registration_due <= cal.period_start + timedelta(days=92)
    assert cal.stage(Stage.REGISTRATION).opens == cal.period_start
    # the assessment stages run from 1 October, one after the other, each opening the day the one before is due
    assert cal.stage(Stage.SELF_ASSESSMENT).opens == date(year, 10, 1)
    for before, after in pairwise(CALENDAR_STAGES[1:]):
        assert cal.stage(after).opens == cal.stage(before).due
    assert all(w.due >= w.opens and w.adjustment is not Adjustment.EXTENDED for w in cal.stages)


@pytest.mark.parametrize(("rule_set", "year"), ROUNDS, ids=[f"{r}:{y}" for r, y in ROUNDS])
def test_nothing_is_due_on_a_weekend_a_holiday_or_in_tet(rule_set: str, year: int) -> None:
    cal = _calendar(rule_set, year)
    assert all(is_working_day(w.due) for w in cal.stages)
    assert all(is_working_day(d) for d in (cal.registration_due, cal.dossier_due, cal.decision_due, cal.closes))


def test_qd06_2027_opened_on_30_november_2026_registers_in_two_working_days_and_assesses_in_autumn_2027() -> None:
    cal = _calendar("qd06-2019", 2027, opened_on=date(2026, 11, 30))
    registration = cal.stage(Stage.REGISTRATION)
    assert (registration.opens, registration.due) == (date(2026, 11, 30), date(2026, 12, 2))
    assert registration.adjustment is Adjustment.EXTENDED and registration.anchor == date(2025, 2, 3)
    assert cal.stage(Stage.SELF_ASSESSMENT).opens == date(2027, 10, 1)
    assert cal.dossier_due == date(2027, 11, 15)
    assert cal.decision_due <= date(2027, 12, 31)


def test_the_profile_gives_the_dossier_date_and_the_posting_its_whole_working_days() -> None:
    cal = _calendar("qd06-2019", 2027)
    profile = load_profile(cal.profile_id)
    assert profile.stage(Stage.DOSSIER_SUBMISSION).fixed_deadline is not None
    assert str(profile.stage(Stage.DOSSIER_SUBMISSION).fixed_deadline) == "11-15"
    assert cal.stage(Stage.PUBLIC_POSTING).working_days == profile.posting_working_days
    assert cal.stage(Stage.DECISION).working_days == profile.stage(Stage.DECISION).working_days
    assert "profile two-tier" in cal.bases["dossier_due"] and cal.bases["minimum_working_days"].startswith("assumed")


def test_a_31_december_on_a_day_off_closes_on_the_working_day_before() -> None:
    assert not is_working_day(date(2022, 12, 31))
    assert _calendar("qd06-2019", 2022).closes == date(2022, 12, 30)


@pytest.mark.parametrize(
    ("stage", "opened_on"),
    [
        (Stage.REGISTRATION, date(2026, 11, 30)),  # two years into the 2027 round's period
        (Stage.DOSSIER_SUBMISSION, date(2027, 11, 20)),  # a Saturday, after the dossier date: a returned dossier
        (Stage.DECISION, date(2027, 12, 30)),  # the day before the closing date
        (Stage.COUNCIL_ASSESSMENT, date(2028, 2, 3)),  # the day before Tết 2028
    ],
)
def test_a_stage_opened_late_gets_the_minimum_allowance_past_its_anchor(stage: Stage, opened_on: date) -> None:
    cal = _calendar("qd06-2019", 2027)
    window = cal.window(stage, opened_on)
    assert window.due == add_working_days(opened_on, cal.minimum_working_days)
    assert window.working_days == cal.minimum_working_days == 2
    assert window.adjustment is Adjustment.EXTENDED and window.anchor is not None and window.due > window.anchor


def test_a_stage_opened_shortly_before_its_anchor_is_shortened_to_it() -> None:
    cal = _calendar("qd06-2019", 2027)
    window = cal.window(Stage.DOSSIER_SUBMISSION, date(2027, 11, 10))
    assert (window.due, window.adjustment, window.working_days) == (date(2027, 11, 15), Adjustment.SHORTENED, 3)


def test_a_stage_ready_before_its_opening_date_waits_for_it() -> None:
    window = _calendar("qd06-2019", 2027).window(Stage.SELF_ASSESSMENT, date(2025, 1, 10))
    assert window.opens == date(2027, 10, 1)


def test_the_minimum_allowance_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "overrides:\n"
        '  - round: "qd06-2019:2027"\n'
        "    minimum_working_days: 3\n"
        "    stages: {dossier_submission: {reserve_working_days: 3, assumed: true, note: test}}\n"
        "    assumed: true\n"
        "    note: test\n",
        encoding="utf-8",
    )
    cal = calendar_for("qd06-2019", 2027, overrides=load_overrides_file(path))
    window = cal.window(Stage.APPRAISAL, date(2027, 12, 29))
    assert window.due == add_working_days(date(2027, 12, 29), 3) and window.adjustment is Adjustment.EXTENDED
    assert cal.bases["minimum_working_days"] == "assumed: test"


def test_a_completion_day_before_the_stage_opened_is_refused() -> None:
    with pytest.raises(CalendarError, match=r"done_on\.council_assessment: done on 2027-10-01, before it opened"):
        _calendar("qd06-2019", 2027, done_on={Stage.COUNCIL_ASSESSMENT: date(2027, 10, 1)})


QD06_YEARS = [r.year for r in rounds_of("qd06-2019", 2019, 2045)]


@settings(max_examples=60, deadline=None)
@given(
    year=st.sampled_from(QD06_YEARS + list(range(2014, 2020))),
    fractions=st.lists(st.floats(min_value=0, max_value=1), min_size=len(CALENDAR_STAGES), max_size=8),
)
def test_stages_done_any_day_of_their_windows_are_never_due_on_a_day_off_nor_pushed_past_an_anchor(
    year: int, fractions: list[float]
) -> None:
    rule_set = "qd06-2019" if year in QD06_YEARS else "qd34-2014"
    nominal = _calendar(rule_set, year)
    done: dict[Stage, date] = {}
    cal = nominal
    for stage, fraction in zip(CALENDAR_STAGES, fractions, strict=True):
        window = cal.stage(stage)
        done[stage] = window.opens + timedelta(days=int((window.due - window.opens).days * fraction))
        cal = _calendar(rule_set, year, done_on=done)
    for w in cal.stages:
        assert is_working_day(w.due) and w.due >= w.opens
        assert w.adjustment is not Adjustment.EXTENDED
        assert w.anchor is None or w.due <= w.anchor
    assert cal.dossier_due <= nominal.dossier_due and cal.decision_due <= cal.closes <= date(year, 12, 31)


@settings(max_examples=80, deadline=None)
@given(
    opened_on=st.dates(min_value=date(2024, 11, 1), max_value=date(2028, 3, 31)),
    stage=st.sampled_from(CALENDAR_STAGES),
)
def test_a_window_opened_any_day_is_due_on_a_working_day_after_at_least_the_minimum(
    opened_on: date, stage: Stage
) -> None:
    cal = _calendar("qd06-2019", 2027)
    window = cal.window(stage, opened_on)
    assert is_working_day(window.due) and window.due >= window.opens >= opened_on
    assert window.working_days >= min(cal.minimum_working_days, window.allowance_working_days)
    assert working_days_between(window.opens, window.due) <= window.allowance_working_days
    if window.anchor is not None and window.due > window.anchor:
        assert window.adjustment is Adjustment.EXTENDED
        assert window.due == add_working_days(window.opens, cal.minimum_working_days)


def test_every_commune_stage_shares_the_dossier_date_and_every_date_has_a_basis() -> None:
    defaults = load_defaults()
    assert [s for s in CALENDAR_STAGES if defaults.stage(s).due_by == "dossier_due"] == list(COMMUNE_STAGES)
    assert defaults.dates.dossier_due is None  # the profile's fixed_deadline
    assert all(d.source or (d.assumed and d.note) for d in (defaults.dates.registration_due, defaults.dates.closes))


def test_the_shipped_overrides_file_loads_and_its_documented_example_is_valid(tmp_path: Path) -> None:
    load_overrides_file(OVERRIDES_PATH)
    lines = OVERRIDES_PATH.read_text(encoding="utf-8").splitlines()
    start = lines.index("# overrides:")
    example = [line.removeprefix("# ").removeprefix("#") for line in lines[start:] if line.startswith("#")]
    path = tmp_path / "example.yaml"
    path.write_text("\n".join(example) + "\n", encoding="utf-8")
    overrides = load_overrides_file(path)
    cal = calendar_for("qd06-2019", 2027, "01", overrides=overrides)
    assert cal.dossier_due == date(2027, 11, 10) and cal.stage(Stage.COUNCIL_ASSESSMENT).working_days == 4
    assert cal.overrides_applied == ("province 01, round qd06-2019:2027",)


def test_the_package_carries_the_calendar_files() -> None:
    root = Path(__file__).resolve().parents[2]
    globs = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    files = sorted((root / "domain" / "calendars").glob("*"))
    assert [f.name for f in files] == ["defaults.yaml", "overrides.yaml"]
    for f in files:
        assert any(fnmatch(str(f.relative_to(root / "domain")), g) for g in globs["domain"]), f

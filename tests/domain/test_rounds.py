"""Rounds: the periods and assessment dates each rule set's rhythm implies, and which rule set is in force."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest

from domain.errors import NoRuleSetInForceError, RoundError
from domain.rhythm import Rhythm
from domain.rounds import (
    canonical_rounds,
    parse_round,
    previous_round,
    round_assessed_on,
    round_open_on,
    rounds_of,
)
from domain.rulesets import rule_set_in_force


def test_qd06_assesses_in_november_of_years_2_and_4_of_each_plan() -> None:
    rounds = rounds_of("qd06-2019", 2019, 2030)
    assert [r.year for r in rounds] == [2019, 2022, 2024, 2027, 2029]
    assert all(r.assessment_start == date(r.year, 11, 1) and r.assessment_end == date(r.year, 11, 30) for r in rounds)
    assert [r.sequence for r in rounds] == [0, 1, 2, 3, 4]


def test_qd06_periods_run_from_the_day_after_the_previous_period_to_31_october() -> None:
    r2022, r2024, r2027 = (parse_round(f"qd06-2019:{y}") for y in (2022, 2024, 2027))
    assert (r2022.period_start, r2022.period_end) == (date(2019, 11, 1), date(2022, 10, 31))
    assert (r2024.period_start, r2024.period_end) == (date(2022, 11, 1), date(2024, 10, 31))
    assert (r2027.period_start, r2027.period_end) == (date(2024, 11, 1), date(2027, 10, 31))


def test_qd34_periods_run_1_november_to_31_october_and_are_assessed_in_november() -> None:
    rounds = rounds_of("qd34-2014", 2000, 2030)
    assert [r.year for r in rounds] == [2014, 2015, 2016, 2017, 2018, 2019]
    for r in rounds:
        assert (r.period_start, r.period_end) == (date(r.year - 1, 11, 1), date(r.year, 10, 31))
        assert r.assessment_start.month == r.assessment_end.month == 11
    for earlier, later in pairwise(rounds):
        assert later.period_start == earlier.period_end + timedelta(days=1)
        assert later.sequence == earlier.sequence + 1


def test_qd37_periods_are_calendar_years() -> None:
    rounds = rounds_of("qd37-2010", 2000, 2030)
    assert [r.year for r in rounds] == [2010, 2011, 2012, 2013]
    assert all((r.period_start, r.period_end) == (date(r.year, 1, 1), date(r.year, 12, 31)) for r in rounds)


@pytest.mark.parametrize(
    ("round_id", "fragment"),
    [
        ("qd06-2019:2023", "2023 is not an assessment year"),
        ("qd06-2019:2017", "outside the time qd06-2019 is in force"),
        ("qd34-2014:2020", "outside the time qd34-2014 is in force"),
        ("qd37-2010:2014", "outside the time qd37-2010 is in force"),
        ("qd99-2030:2031", "unknown rule set 'qd99-2030'"),
        ("qd06-2019", "expected '<rule set id>:<year>'"),
        ("qd06-2019:24", "expected '<rule set id>:<year>'"),
    ],
)
def test_parse_round_says_why_an_id_is_not_a_round(round_id: str, fragment: str) -> None:
    with pytest.raises(RoundError) as caught:
        parse_round(round_id)
    assert fragment in str(caught.value)
    assert caught.value.round_id == round_id


@pytest.mark.parametrize(
    ("day", "rule_set_id"),
    [
        (date(2010, 4, 22), "qd37-2010"),
        (date(2014, 7, 14), "qd37-2010"),
        (date(2014, 7, 15), "qd34-2014"),
        (date(2019, 1, 2), "qd34-2014"),
        (date(2019, 1, 3), "qd06-2019"),  # both in force until 2 Jan 2020: the newer applies
        (date(2025, 7, 1), "qd06-2019"),
        (date(2035, 1, 1), "qd06-2019"),  # no replacement known
    ],
)
def test_rule_set_in_force_on_a_day(day: date, rule_set_id: str) -> None:
    assert rule_set_in_force(day).id == rule_set_id


def test_no_rule_set_before_the_first_one() -> None:
    with pytest.raises(NoRuleSetInForceError):
        rule_set_in_force(date(2010, 4, 21))


def test_canonical_timeline_chains_rule_sets_in_date_order() -> None:
    ids = [r.id for r in canonical_rounds(2009, 2030)]
    assert ids == [
        *(f"qd37-2010:{y}" for y in range(2010, 2014)),
        *(f"qd34-2014:{y}" for y in range(2014, 2019)),
        *(f"qd06-2019:{y}" for y in (2019, 2022, 2024, 2027, 2029)),
    ]
    starts = [r.assessment_start for r in canonical_rounds(2009, 2030)]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("round_id", "previous"),
    [
        ("qd06-2019:2024", "qd06-2019:2022"),
        ("qd06-2019:2022", "qd06-2019:2019"),
        ("qd06-2019:2019", "qd34-2014:2018"),
        ("qd34-2014:2019", "qd34-2014:2018"),
        ("qd34-2014:2014", "qd37-2010:2013"),
        ("qd37-2010:2010", None),
    ],
)
def test_previous_round_follows_the_timeline_across_rule_sets(round_id: str, previous: str | None) -> None:
    found = previous_round(parse_round(round_id))
    assert (found.id if found else None) == previous


@pytest.mark.parametrize(
    ("day", "open_round", "assessed"),
    [
        (date(2018, 6, 1), "qd34-2014:2018", None),
        (date(2019, 3, 1), "qd06-2019:2019", None),
        (date(2022, 11, 15), "qd06-2019:2024", "qd06-2019:2022"),
        (date(2026, 1, 1), "qd06-2019:2027", None),
        (date(2012, 12, 10), "qd37-2010:2012", "qd37-2010:2012"),
        (date(2009, 6, 1), None, None),
    ],
)
def test_round_open_and_round_assessed_on_a_day(day: date, open_round: str | None, assessed: str | None) -> None:
    opened, under_assessment = round_open_on(day), round_assessed_on(day)
    assert (opened.id if opened else None) == open_round
    assert (under_assessment.id if under_assessment else None) == assessed


def test_rhythm_is_data_a_different_plan_rhythm_gives_different_years() -> None:
    rhythm = Rhythm.model_validate(
        {
            "kind": "plan_years",
            "plan_anchor_year": 2021,
            "plan_length_years": 5,
            "plan_assessment_years": [3, 5],
            "period_end": "10-31",
            "assessment_start": "11-01",
            "assessment_end": "11-30",
            "assumed": True,
            "note": "test",
            "period_basis": {"assumed": True, "note": "test"},
        }
    )
    assert rhythm.assessment_years(2016, 2030) == [2018, 2020, 2023, 2025, 2028, 2030]
    assert rhythm.period(2023) == (date(2020, 11, 1), date(2023, 10, 31))

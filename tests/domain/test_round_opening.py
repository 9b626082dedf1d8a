"""Which rounds open as live cases on a day: of the rule set in force, the current assessment and the next ones
(`ahead`); a repealed rule set's rounds, rounds already assessed and far-off rounds are refused with the reason. The
Schedule's opening (the round assessed today) always agrees."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import RoundError
from domain.rounds import check_opening, live_rounds, parse_round, round_assessed_on, rounds_of
from domain.rulesets import rule_set_in_force

TODAY = date(2026, 11, 30)


def test_today_the_current_and_the_next_assessment_open() -> None:
    assert [r.id for r in live_rounds(TODAY)] == ["qd06-2019:2027", "qd06-2019:2029"]
    assert [r.id for r in live_rounds(TODAY, ahead=0)] == ["qd06-2019:2027"]
    assert [r.id for r in live_rounds(TODAY, ahead=3)][-1] == "qd06-2019:2034"
    assert live_rounds(date(2009, 6, 1)) == []  # before the first rule set


@pytest.mark.parametrize(
    ("round_id", "fragment"),
    [
        ("qd06-2019:2099", "assessed in 2099, after the current assessment and the next 1"),
        ("qd37-2010:2012", "qd37-2010 is no longer in force (it was until 2014-07-14)"),
        ("qd34-2014:2019", "qd34-2014 is no longer in force"),
        ("qd06-2019:2022", "its assessment ended on 2022-11-30"),
        ("qd06-2019:2024", "its assessment ended on 2024-11-30"),
    ],
)
def test_a_round_that_does_not_lie_ahead_is_refused_with_why(round_id: str, fragment: str) -> None:
    with pytest.raises(RoundError) as caught:
        check_opening(parse_round(round_id), TODAY)
    assert fragment in str(caught.value) and "qd06-2019:2027, qd06-2019:2029" in str(caught.value)


def test_in_2019_the_older_rule_set_still_in_force_does_not_open_rounds() -> None:
    with pytest.raises(RoundError, match="not the rule set in force on 2019-06-01"):
        check_opening(parse_round("qd34-2014:2019"), date(2019, 6, 1))
    check_opening(parse_round("qd06-2019:2019"), date(2019, 6, 1))


def test_during_its_assessment_a_round_is_still_current() -> None:
    check_opening(parse_round("qd06-2019:2027"), date(2027, 11, 30), ahead=0)
    with pytest.raises(RoundError, match="ended on 2027-11-30"):
        check_opening(parse_round("qd06-2019:2027"), date(2027, 12, 1))


def test_ascii_digits_only_in_a_round_id() -> None:
    with pytest.raises(RoundError):
        parse_round("qd06-2019:٢٠٢٧")


@given(st.dates(min_value=date(2010, 1, 1), max_value=date(2060, 12, 31)), st.integers(min_value=0, max_value=4))
def test_the_round_the_schedule_opens_is_always_one_that_may_open(day: date, ahead: int) -> None:
    assessed = round_assessed_on(day)
    if assessed is not None:
        check_opening(assessed, day, ahead=ahead)
        assert live_rounds(day, ahead=ahead)[0] == assessed


@given(st.dates(min_value=date(2010, 6, 1), max_value=date(2060, 12, 31)), st.integers(min_value=0, max_value=4))
def test_live_rounds_are_consecutive_assessments_of_the_rule_set_in_force_none_ended(day: date, ahead: int) -> None:
    live = live_rounds(day, ahead=ahead)
    rule_set = rule_set_in_force(day)
    if not live:  # e.g. early 2014: QĐ 37/2010 assessed its last round, QĐ 34/2014 not yet in force
        assert all(r.assessment_end < day for r in rounds_of(rule_set.id, 2000, day.year + 10))
        return
    assert len(live) == ahead + 1 or rule_set.in_force.until is not None  # a repealed rule set has its last round
    assert {r.rule_set_id for r in live} == {rule_set.id}
    assert all(r.assessment_end >= day for r in live)
    assert [r.sequence for r in live] == list(range(live[0].sequence, live[0].sequence + len(live)))
    assert live[0].assessment_end - day < timedelta(days=3 * 366)  # the current one is at most one plan gap away

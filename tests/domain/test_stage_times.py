"""Where the time goes, as pure rules: nearest-rank percentiles (checked against their definition over every small
multiset), working days in a stage across a weekend and a holiday, on time against the due time, escalated shares,
returns and objections per case, groups, groups too small to show the ministry, and the slowest units."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import TZ
from domain.stage_times import (
    SMALLEST_GROUP,
    TIMED_STAGES,
    CaseStays,
    StageFigures,
    Stay,
    StayEnd,
    group_figures,
    percentile,
    share,
    slowest_units,
    stage_times,
    withheld,
)
from domain.stages import LocalityType, Stage


def at(day: int, hour: int = 9, month: int = 11) -> datetime:
    """A moment in Vietnam in November 2027 (24 November, a Wednesday, is Vietnam Cultural Day, a day off)."""
    return datetime(2027, month, day, hour, tzinfo=TZ)


def stay(stage: Stage, start: datetime, end: datetime | None, **kw: object) -> Stay:
    ended_by = kw.pop("ended_by", StayEnd.COMPLETED if end is not None else None)
    return Stay(stage=stage, started_at=start, ended_at=end, ended_by=ended_by, **kw)


def case(
    code: str, *stays: Stay, province: str = "33", returns: int = 0, objections: int = 0, **kw: object
) -> CaseStays:
    locality = kw.get("locality", LocalityType.OTHER)
    return CaseStays(
        case_id=f"r-{code}",
        unit_code=code,
        province_code=province,
        locality_type=locality,
        stays=stays,
        returns=returns,
        objections=objections,
    )


# -- percentiles ---------------------------------------------------------------------------------------------------


def _by_definition(values: list[int], p: int) -> int:
    """The smallest value v of the data with at least p % of the values at or below it."""
    n = len(values)
    return min(v for v in values if 100 * sum(1 for w in values if w <= v) >= p * n)


def test_nearest_rank_matches_its_definition_for_every_small_multiset_and_every_p() -> None:
    checked = 0
    for n in range(1, 7):
        for values in itertools.combinations_with_replacement(range(4), n):
            for order in {values, tuple(reversed(values))}:
                for p in range(1, 101):
                    assert percentile(order, p) == _by_definition(list(values), p), (values, p)
                    checked += 1
    assert checked > 20_000


def test_percentiles_of_no_value_are_none_and_of_one_value_that_value() -> None:
    for p in (1, 50, 90, 100):
        assert percentile([], p) is None
        assert percentile([7], p) == 7


def test_known_nearest_ranks() -> None:
    ten = list(range(1, 11))
    assert (percentile(ten, 50), percentile(ten, 90), percentile(ten, 91), percentile(ten, 100)) == (5, 9, 10, 10)
    assert (percentile([3, 1, 2, 4], 50), percentile([3, 1, 2, 4], 51)) == (2, 3)


@pytest.mark.parametrize("p", [0, -1, 101])
def test_a_percentile_outside_0_to_100_is_refused(p: int) -> None:
    with pytest.raises(ValueError, match="0 < p <= 100"):
        percentile([1], p)


def test_share_of_nothing_is_none() -> None:
    assert share(0, 0) is None
    assert share(1, 4) == 0.25


# -- working days of a stay ------------------------------------------------------------------------------------------


def test_a_part_day_counts_only_on_the_day_the_stay_ends() -> None:
    assert stay(Stage.APPRAISAL, at(15, 8), at(15, 16)).working_days() == 0  # Monday to Monday
    assert stay(Stage.APPRAISAL, at(15, 16), at(16, 8)).working_days() == 1  # Monday evening to Tuesday morning
    assert stay(Stage.APPRAISAL, at(19, 16), at(22, 8)).working_days() == 1  # Friday to Monday: the weekend is none


def test_a_holiday_counts_nothing() -> None:
    # Tuesday 23 to Thursday 25 November 2027: Wednesday 24 is Vietnam Cultural Day, a day off
    assert stay(Stage.DECISION, at(23), at(25)).working_days() == 1
    # Friday 19 to Friday 26: Mon 22, Tue 23, Thu 25, Fri 26
    assert stay(Stage.DECISION, at(19), at(26)).working_days() == 4


def test_the_day_in_vietnam_decides_not_the_day_in_utc() -> None:
    # 17:30 UTC on Monday 15 is already Tuesday 16 (00:30) in Vietnam; 02:00 UTC Wednesday 17 is Wednesday there
    start = datetime(2027, 11, 15, 17, 30, tzinfo=UTC)
    assert stay(Stage.DECISION, start, datetime(2027, 11, 17, 2, tzinfo=UTC)).working_days() == 1


def test_an_open_stay_has_no_working_days_yet() -> None:
    assert stay(Stage.DECISION, at(15), None).working_days() is None


# -- on time ---------------------------------------------------------------------------------------------------------


def test_on_time_is_at_or_before_the_due_time_of_a_completed_or_deadline_ended_stay() -> None:
    due = at(19, 17)
    assert stay(Stage.APPRAISAL, at(15), due, due_at=due).on_time() is True
    assert stay(Stage.APPRAISAL, at(15), due + timedelta(seconds=1), due_at=due).on_time() is False
    assert stay(Stage.APPRAISAL, at(15), at(26), due_at=due, ended_by=StayEnd.DEADLINE).on_time() is False
    assert stay(Stage.APPRAISAL, at(15), at(16), due_at=due, ended_by=StayEnd.OTHER).on_time() is None
    assert stay(Stage.APPRAISAL, at(15), at(16)).on_time() is None  # no task, no due time
    assert stay(Stage.APPRAISAL, at(15), None, due_at=due).on_time() is None


# -- figures ---------------------------------------------------------------------------------------------------------


def test_a_group_with_no_case_has_no_times_and_no_rates() -> None:
    g = group_figures("all", [])
    assert (g.cases, g.returns_per_case, g.objections_per_case) == (0, None, None)
    assert [f.stage for f in g.stages] == list(TIMED_STAGES)
    for f in g.stages:
        assert (f.cases, f.p50, f.p90, f.max, f.escalated_share, f.on_time_rate) == (0, None, None, None, None, None)


def test_stage_figures_count_visits_cases_escalations_and_on_time() -> None:
    due = at(19, 17)
    a = case(
        "00001",
        stay(Stage.DOSSIER_SUBMISSION, at(15), at(16), due_at=due),  # 1 day, on time
        stay(Stage.APPRAISAL, at(16), at(19, 10), due_at=due),  # 3 days, on time
        stay(Stage.DOSSIER_SUBMISSION, at(19, 10), at(26), due_at=due, escalated=True),  # 4 days, late
        returns=1,
    )
    b = case(
        "00002",
        stay(Stage.DOSSIER_SUBMISSION, at(15), at(15, 11), due_at=due),  # 0 days, on time
        stay(Stage.APPRAISAL, at(15, 11), None, due_at=due),  # open
        objections=3,
        province="12",
    )
    g = group_figures("all", [a, b])
    dossier = g.stage(Stage.DOSSIER_SUBMISSION)
    assert dossier is not None
    assert (dossier.cases, dossier.stays, dossier.open_stays) == (2, 3, 0)
    assert (dossier.p50, dossier.p90, dossier.max) == (1, 4, 4)
    assert (dossier.escalated_cases, dossier.escalated_share) == (1, 0.5)
    assert (dossier.on_time, dossier.counted_for_on_time) == (2, 3)
    appraisal = g.stage(Stage.APPRAISAL)
    assert appraisal is not None
    assert (appraisal.cases, appraisal.stays, appraisal.open_stays, appraisal.p50, appraisal.max) == (2, 2, 1, 3, 3)
    assert (appraisal.on_time, appraisal.counted_for_on_time, appraisal.on_time_rate) == (1, 1, 1.0)
    assert (g.returns, g.objections, g.returns_per_case, g.objections_per_case) == (1, 3, 0.5, 1.5)

    times = stage_times([a, b])
    assert [p.key for p in times.by_province] == ["12", "33"]
    assert [x.key for x in times.by_locality] == ["other"]
    assert times.overall == g.model_copy(update={"key": "all"})


def test_slowest_units_by_total_working_days_with_the_stage_they_lost_most_in() -> None:
    a = case(
        "00001",
        stay(Stage.DOSSIER_SUBMISSION, at(15), at(17)),  # 2
        stay(Stage.APPRAISAL, at(17), at(18)),  # 1
        stay(Stage.DOSSIER_SUBMISSION, at(18), at(19)),  # 1: 3 days in dossier submission in all
    )
    b = case("00002", stay(Stage.APPRAISAL, at(15), at(19)), stay(Stage.DECISION, at(19), None))  # 4
    c = case("00003", stay(Stage.DECISION, at(15), at(15, 12)))  # 0: never listed
    d = case("00004", stay(Stage.REGISTRATION, at(15), at(17)), stay(Stage.DECISION, at(17), at(19)))  # 2 and 2
    slow = slowest_units([a, b, c, d], 10)
    assert [(s.unit_code, s.working_days, s.slowest_stage, s.slowest_stage_days) for s in slow] == [
        ("00001", 4, Stage.DOSSIER_SUBMISSION, 3),
        ("00002", 4, Stage.APPRAISAL, 4),
        ("00004", 4, Stage.REGISTRATION, 2),  # a tie goes to the earlier stage
    ]
    assert [s.unit_code for s in slowest_units([a, b, c, d], 1)] == ["00001"]
    assert slowest_units([a, b], 0) == ()
    with pytest.raises(ValueError):
        slowest_units([a], -1)


def test_a_group_of_fewer_than_three_cases_is_withheld_down_to_its_numbers_of_cases() -> None:
    assert SMALLEST_GROUP == 3
    stays = (stay(Stage.REGISTRATION, at(15), at(17), due_at=at(19, 17)), stay(Stage.SELF_ASSESSMENT, at(17), None))
    two = group_figures("33", [case("00001", *stays, returns=1, objections=2), case("00002", *stays[:1])])
    hidden = withheld(two)
    assert hidden.suppressed and (hidden.key, hidden.cases) == ("33", 2)
    assert (hidden.returns, hidden.objections, hidden.returns_per_case, hidden.objections_per_case) == (None,) * 4
    assert [(f.stage, f.cases, f.suppressed) for f in hidden.stages] == [(f.stage, f.cases, True) for f in two.stages]
    numbers = set(StageFigures.model_fields) - {"stage", "cases", "suppressed"}
    for f in hidden.stages:
        assert {getattr(f, n) for n in numbers} == {None}, f
    assert not two.suppressed and two.stage(Stage.REGISTRATION) is not None
    three = group_figures("33", [case(f"0000{i}", *stays) for i in range(3)])
    assert withheld(three) is three and not three.suppressed and three.returns == 0
    assert withheld(two, smallest=2) is two

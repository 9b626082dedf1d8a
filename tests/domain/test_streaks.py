"""Commendation streaks over consecutive rounds of the national timeline."""

from __future__ import annotations

import pytest

from domain.errors import HistoryError, RoundError
from domain.procedure import load_profile
from domain.stages import Role
from domain.streaks import RoundResult, commendation_due, consecutive_recognitions, level_due

DISTRICT = load_profile("district")
# the national timeline of canonical rounds from 2010
TIMELINE = [
    *(f"qd37-2010:{y}" for y in range(2010, 2014)),
    *(f"qd34-2014:{y}" for y in range(2014, 2019)),
    *(f"qd06-2019:{y}" for y in (2019, 2022, 2024, 2027, 2029, 2032)),
]


def recognised(*round_ids: str) -> list[RoundResult]:
    return [RoundResult(round_id=r, recognised=True) for r in round_ids]


def test_three_in_a_row_is_commended_by_the_district_chairman() -> None:
    history = recognised("qd06-2019:2019", "qd06-2019:2022", "qd06-2019:2024")
    assert consecutive_recognitions(history) == 3
    level = commendation_due(history, DISTRICT)
    assert level is not None and (level.consecutive, level.authority_role) == (3, Role.DISTRICT_CHAIRMAN)


def test_five_in_a_row_is_commended_by_the_provincial_chairman() -> None:
    history = recognised(*TIMELINE[4:9])  # qd34-2014:2014 .. qd34-2014:2018
    assert consecutive_recognitions(history) == 5
    level = commendation_due(history, DISTRICT)
    assert level is not None and (level.consecutive, level.authority_role) == (5, Role.PROVINCIAL_CHAIRMAN)


def test_rounds_of_different_rule_sets_chain_in_date_order() -> None:
    assert consecutive_recognitions(recognised("qd34-2014:2017", "qd34-2014:2018", "qd06-2019:2019")) == 3
    assert consecutive_recognitions(recognised("qd37-2010:2013", "qd34-2014:2014")) == 2


def test_a_missing_round_breaks_the_streak() -> None:
    assert consecutive_recognitions(recognised("qd06-2019:2019", "qd06-2019:2024")) == 1
    assert consecutive_recognitions(recognised("qd34-2014:2015", "qd34-2014:2016", "qd34-2014:2018")) == 1


def test_a_round_not_recognised_breaks_the_streak() -> None:
    history = [*recognised("qd34-2014:2015"), RoundResult(round_id="qd34-2014:2016", recognised=False)]
    history += recognised("qd34-2014:2017", "qd34-2014:2018")
    assert consecutive_recognitions(history) == 2
    assert consecutive_recognitions([*history, RoundResult(round_id="qd06-2019:2019", recognised=False)]) == 0
    assert consecutive_recognitions([]) == 0


def test_history_order_does_not_matter_the_latest_round_is_current() -> None:
    history = recognised("qd06-2019:2024", "qd06-2019:2019", "qd06-2019:2022")
    assert consecutive_recognitions(history) == 3


def test_round_sharing_the_canonical_assessment_window_stands_in_for_it() -> None:
    history = recognised("qd34-2014:2017", "qd34-2014:2018", "qd34-2014:2019", "qd06-2019:2022")
    assert consecutive_recognitions(history) == 4


def test_two_results_for_one_assessment_are_refused() -> None:
    with pytest.raises(HistoryError):
        consecutive_recognitions(recognised("qd34-2014:2019", "qd06-2019:2019"))


def test_an_invalid_round_in_history_is_refused() -> None:
    with pytest.raises(RoundError):
        consecutive_recognitions(recognised("qd06-2019:2023"))


@pytest.mark.parametrize("length", range(1, len(TIMELINE) + 1))
def test_streak_over_the_whole_timeline_counts_every_round(length: int) -> None:
    assert consecutive_recognitions(recognised(*TIMELINE[:length])) == length


@pytest.mark.parametrize(
    ("streak", "due"),
    [(0, None), (1, None), (2, None), (3, 3), (4, None), (5, 5), (6, 3), (7, None), (9, 3), (10, 5), (12, 3), (15, 5)],
)
def test_a_level_is_due_at_every_multiple_and_the_highest_wins(streak: int, due: int | None) -> None:
    level = level_due(streak, DISTRICT)
    assert (level.consecutive if level else None) == due


def test_ten_in_a_row_across_rule_sets_is_due_the_provincial_level() -> None:
    history = recognised(*TIMELINE[5:15])  # qd34-2014:2015 .. qd06-2019:2032
    assert consecutive_recognitions(history) == 10
    level = commendation_due(history, DISTRICT)
    assert level is not None and level.consecutive == 5

"""The working-day calendar: Vietnamese public holidays as the `holidays` package publishes them, Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import (
    TZ,
    add_working_days,
    due_at,
    holiday_name,
    is_working_day,
    reminder_at,
    subtract_working_days,
    working_days_between,
)

VN = holidays.country_holidays("VN", years=range(2024, 2032))

# Tết as published by `holidays` for Vietnam: the weekdays off around the Lunar New Year.
TET_2026 = [date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19), date(2026, 2, 20)]
TET_2027 = [date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)]
NATIONAL_DAY = [date(2025, 9, 2), date(2026, 9, 2), date(2027, 9, 2)]


@pytest.mark.parametrize("day", TET_2026 + TET_2027 + NATIONAL_DAY, ids=str)
def test_tet_and_national_day_are_not_working_days(day: date) -> None:
    assert day.weekday() < 5  # a weekday, off only because of the holiday
    assert day in VN, f"{day} is not published as a holiday by the holidays package"
    assert not is_working_day(day)
    assert holiday_name(day)


def test_every_published_holiday_on_a_weekday_is_skipped() -> None:
    published = [d for d in VN if d.weekday() < 5]
    assert len(published) > 40
    assert not any(is_working_day(d) for d in published)


def test_working_saturday_published_in_exchange_for_a_day_off_counts_as_a_working_day() -> None:
    swapped = [d for d in VN.weekend_workdays if 2024 <= d.year <= 2031]
    assert date(2026, 8, 22) in swapped  # given in exchange for Monday 31 August 2026
    assert all(is_working_day(d) for d in swapped)
    assert not is_working_day(date(2026, 8, 31))


def test_add_working_days_jumps_over_tet_2026() -> None:
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)  # Friday before Tết → Monday after
    assert add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 23)


def test_add_working_days_jumps_over_tet_2027() -> None:
    assert add_working_days(date(2027, 2, 3), 1) == date(2027, 2, 11)


def test_add_working_days_skips_national_day_2026() -> None:
    # Fri 28 Aug → Mon 31 Aug (swapped day off), Tue 1 and Wed 2 Sep (National Day) → Thu 3 Sep
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


def test_zero_working_days_is_the_day_itself_or_the_next_working_day() -> None:
    assert add_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)  # a Wednesday
    assert add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)  # Saturday → Monday
    assert add_working_days(date(2026, 2, 16), 0) == date(2026, 2, 23)  # first day of Tết → after it


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 4), -1)


days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@given(days, st.integers(0, 60))
def test_add_working_days_never_lands_on_a_weekend_or_holiday(start: date, n: int) -> None:
    result = add_working_days(start, n)
    assert result not in VN
    assert result.weekday() < 5 or result in VN.weekend_workdays
    assert result > start if n >= 1 else result >= start


@given(days, st.integers(0, 40), st.integers(0, 40))
def test_add_working_days_is_monotonic_in_the_count(start: date, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert add_working_days(start, low) <= add_working_days(start, high)
    # Strictly later for more days, except that 0 on a day off already is the next working day, as 1 is.
    if low < high and (low >= 1 or is_working_day(start)):
        assert add_working_days(start, low) < add_working_days(start, high)


@given(days, days, st.integers(0, 40))
def test_add_working_days_is_monotonic_in_the_start(a: date, b: date, n: int) -> None:
    early, late = sorted((a, b))
    assert add_working_days(early, n) <= add_working_days(late, n)


@given(days, st.integers(1, 40))
def test_counting_back_and_between_agree_with_adding(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    if is_working_day(start):
        assert subtract_working_days(end, n) == start


def test_due_at_is_office_closing_of_the_nth_working_day_in_vietnam() -> None:
    start = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)  # already Friday 13 Feb, 03:00 in Hà Nội
    due = due_at(start, 1)
    assert due == datetime(2026, 2, 23, 17, 0, tzinfo=TZ)
    assert due.utcoffset() == timedelta(hours=7)


def test_due_at_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(datetime(2026, 3, 2, 9, 0), 5)


def test_due_at_zero_days_is_the_close_of_the_same_working_day() -> None:
    assert due_at(datetime(2026, 3, 4, 9, 30, tzinfo=TZ), 0) == datetime(2026, 3, 4, 17, 0, tzinfo=TZ)


def test_reminder_falls_the_given_working_days_before_the_due_time() -> None:
    due = datetime(2026, 2, 23, 17, 0, tzinfo=TZ)
    assert reminder_at(due, 1) == datetime(2026, 2, 13, 17, 0, tzinfo=TZ)  # Tết skipped backwards too
    assert reminder_at(due, 0) == due
    with pytest.raises(ValueError):
        reminder_at(datetime(2026, 2, 23, 17, 0), 1)


def test_no_working_days_on_a_day_off_is_the_next_working_day_as_one_is() -> None:
    new_year = date(2024, 1, 1)  # a public holiday, a Monday
    assert add_working_days(new_year, 0) == add_working_days(new_year, 1) == date(2024, 1, 2)
    assert add_working_days(date(2024, 1, 2), 0) < add_working_days(date(2024, 1, 2), 1)

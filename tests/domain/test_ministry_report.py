"""The report to the ministry, its pure part: the due day, a province's status, the national totals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.ministry_report import (
    ReportStatus,
    due_on,
    national_totals,
    parse_month_day,
    status_of,
)


def test_the_due_day_is_the_setting_of_the_year_after_the_assessment() -> None:
    assert due_on(2027) == date(2028, 1, 31)
    assert due_on(2024, "03-15") == date(2025, 3, 15)
    assert due_on(2027, "12-31") == date(2028, 12, 31)


@pytest.mark.parametrize("bad", ["02-29", "13-01", "00-10", "01-32", "1-31", "31/01", "01-31x", "", "ab-cd"])
def test_a_due_day_that_is_not_a_day_of_every_year_is_refused_naming_it(bad: str) -> None:
    with pytest.raises(ValueError, match=r"MM-DD|every year"):
        parse_month_day(bad)


DUE = date(2028, 1, 31)


@pytest.mark.parametrize(
    ("cases", "opened", "submitted", "today", "expected"),
    [
        (0, False, False, DUE, ReportStatus.NOT_OPENED),
        (5, False, False, DUE, ReportStatus.IN_PROGRESS),
        (5, True, False, DUE, ReportStatus.DUE),  # the due day itself is still on time
        (5, True, False, DUE + timedelta(days=1), ReportStatus.OVERDUE),
        (5, True, True, DUE + timedelta(days=30), ReportStatus.SUBMITTED),
        (0, True, False, DUE - timedelta(days=20), ReportStatus.DUE),
    ],
)
def test_a_provinces_status(cases: int, opened: bool, submitted: bool, today: date, expected: ReportStatus) -> None:
    due = DUE if opened else None
    assert status_of(cases=cases, opened=opened, submitted=submitted, due=due, today=today) is expected


def test_the_national_totals_sum_the_submitted_snapshots_only() -> None:
    snaps = [
        {"units": 104, "registered": 100, "recognised": 51, "not_recognised": 49},
        {"units": 156, "registered": 150, "recognised": 110, "not_recognised": 40},
    ]
    totals = national_totals(34, snaps)
    assert (totals.provinces, totals.submitted, totals.units, totals.recognised) == (34, 2, 260, 161)
    assert (totals.registered, totals.not_recognised, totals.recognised_share) == (250, 89, 0.6192)
    empty = national_totals(34, [])
    assert (empty.submitted, empty.units, empty.recognised_share) == (0, 0, None)

"""The working-day calendar of Vietnamese public offices, Asia/Ho_Chi_Minh.

Working days are what the `holidays` package publishes for Vietnam (`holidays.country_holidays("VN")`): Monday to
Friday, minus public holidays (Tết, Hùng Kings, 30 April, 1 May, National Day, and the days off the government swaps
in), plus the Saturdays the government makes working days in exchange (e.g. 22 Aug 2026). No hand-written list.

Deadlines fall at the office closing hour (17:00 local by default) of the n-th working day after the start.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_CLOSING = time(17, 0)


@cache
def _vn_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(d: date) -> bool:
    """True for a day the offices work: a weekday that is not a public holiday, or a swapped-in working Saturday."""
    return bool(_vn_holidays(d.year).is_working_day(d))


def holiday_name(d: date) -> str | None:
    """The name the `holidays` package gives a public holiday or day off, else None."""
    name = _vn_holidays(d.year).get(d)
    return None if name is None else str(name)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day strictly after `start` (n >= 1); for n == 0, `start` itself if it is a working day,
    else the next working day. A negative n raises ValueError."""
    if n < 0:
        raise ValueError(f"number of working days must be 0 or more, got {n}")
    day = start
    if n == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def subtract_working_days(end: date, n: int) -> date:
    """The n-th working day strictly before `end` (n >= 1); for n == 0, `end` itself if it is a working day,
    else the previous working day."""
    if n < 0:
        raise ValueError(f"number of working days must be 0 or more, got {n}")
    day = end
    if n == 0:
        while not is_working_day(day):
            day -= timedelta(days=1)
        return day
    counted = 0
    while counted < n:
        day -= timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how many `add_working_days` steps lead from start to end."""
    if end <= start:
        return 0
    return sum(1 for i in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=i)))


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")


def local_date(moment: datetime) -> date:
    """The calendar day in Vietnam of an aware moment."""
    _require_aware(moment, "moment")
    return moment.astimezone(TZ).date()


def due_at(start: datetime, working_days: int, *, closing: time = OFFICE_CLOSING) -> datetime:
    """Office closing time (local) of the n-th working day after start's local date; n == 0 means the close of
    start's day if it is a working day, else of the next working day. The result is aware, in Asia/Ho_Chi_Minh."""
    _require_aware(start, "start")
    day = add_working_days(local_date(start), working_days)
    return datetime.combine(day, closing, tzinfo=TZ)


def end_of_working_day(day: date, *, closing: time = OFFICE_CLOSING) -> datetime:
    """Office closing time of `day`, or of the next working day when `day` is not one (a deadline that falls on
    a holiday runs to the end of the next working day)."""
    return datetime.combine(add_working_days(day, 0), closing, tzinfo=TZ)


def reminder_at(due: datetime, working_days_before: int) -> datetime:
    """The same local clock time as `due`, `working_days_before` working days earlier (0 gives `due` itself)."""
    _require_aware(due, "due")
    if working_days_before < 0:
        raise ValueError(f"working days before must be 0 or more, got {working_days_before}")
    if working_days_before == 0:
        return due
    local = due.astimezone(TZ)
    day = subtract_working_days(local.date(), working_days_before)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=TZ)

"""The days a form may name: within its round's calendar and not in the future.

A council meets, a result is posted and a decision is signed during the round: not before the round's period starts
(registration opens the period, DOMAIN.md "The calendar") and not after today. Today is the day in Vietnam of the
moment given (the case workflow passes `workflow.now()`), plus a small tolerance: a clerk entering a decision dated
tomorrow morning while it is still evening in UTC, or a server clock a little behind. There is no later bound than
today: a decision may come after the assessment window closes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.calendar import local_date

# Default tolerance past today (Asia/Ho_Chi_Minh). Source: none prescribes one; one day covers the seven hours between
# UTC and Vietnam and a clock a little behind, and no dated act of the procedure is written a day ahead.
FUTURE_TOLERANCE = timedelta(days=1)

# The dated fields of the forms (domain/forms.py), in the order a refusal names them.
DATED_FIELDS = ("meeting_date", "posted_from", "posted_to", "decision_date")


class DateWindow(BaseModel):
    """The first and last day a form may name."""

    model_config = ConfigDict(frozen=True)

    earliest: date
    latest: date


def date_window(*, period_start: date, now: datetime, tolerance: timedelta = FUTURE_TOLERANCE) -> DateWindow:
    """From the round's period start to the day in Vietnam of the aware moment `now` plus the tolerance."""
    if tolerance < timedelta(0):
        raise ValueError(f"the tolerance must not be negative, got {tolerance}")
    return DateWindow(earliest=period_start, latest=local_date(now + tolerance))


def date_problem(form: BaseModel, window: DateWindow) -> tuple[str, str] | None:
    """The first dated field of the form outside the window, with the reason; None when every date is in it."""
    for name in DATED_FIELDS:
        value = getattr(form, name, None)
        if not isinstance(value, date):
            continue
        if value < window.earliest:
            return name, f"{value} is before the round's period, which starts on {window.earliest}"
        if value > window.latest:
            return name, f"{value} is in the future: the latest day accepted now is {window.latest}"
    return None

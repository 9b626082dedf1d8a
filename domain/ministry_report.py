"""The report a province sends the ministry every round (QĐ 34/2014 Art. 6; ../shared/DOMAIN.md "Reporting"), and the
national totals the ministry reads across provinces. Pure: the snapshots, the days and the settings come in.

- Due day: no source fixes it. Default 31 January of the year after the round's assessment year (the decisions close
  a round by 31 December; a month to report them), configurable as "MM-DD" (XPTT_MINISTRY_REPORT_DUE).
- The snapshot is the round's report as the administrator reviewed it; its hash (services/ministry) is the SHA-256 of
  its JSON in the audit journal's canonical form (RFC 8785, audit/canonical.py), so anyone holding the snapshot
  recomputes it with any JCS library, whatever PostgreSQL's jsonb did to its numbers.
- A province's status for a round: not opened (no case), in progress (cases, the round not closed), due (closed, not
  submitted, the due day not passed), overdue, submitted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

DEFAULT_DUE = "01-31"  # assumed: no source names the day; a month after decisions close the round on 31 December
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
SNAPSHOT_FORMAT = "xptt-ministry-report-v1"


class ReportStatus(StrEnum):
    NOT_OPENED = "not_opened"
    IN_PROGRESS = "in_progress"
    DUE = "due"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"


def parse_month_day(text: str) -> tuple[int, int]:
    """ "MM-DD" as (month, day); ValueError naming the reason for anything else (29 February included: it is not
    every year's)."""
    m = _MONTH_DAY.match(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a day of the year written MM-DD, e.g. 01-31")
    month, day = int(m.group(1)), int(m.group(2))
    try:
        date(2001, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a day of every year (month {month}, day {day})") from None
    return month, day


def due_on(assessment_year: int, month_day: str = DEFAULT_DUE) -> date:
    """The day the report of the round assessed in `assessment_year` is due: `month_day` of the next year."""
    month, day = parse_month_day(month_day)
    return date(assessment_year + 1, month, day)


def status_of(*, cases: int, opened: bool, submitted: bool, due: date | None, today: date) -> ReportStatus:
    """Where a province stands with its report: `opened` once its round closed (the report task exists), `cases`
    the round's cases in the province."""
    if submitted:
        return ReportStatus.SUBMITTED
    if opened and due is not None:
        return ReportStatus.OVERDUE if today > due else ReportStatus.DUE
    return ReportStatus.IN_PROGRESS if cases else ReportStatus.NOT_OPENED


class NationalTotals(BaseModel):
    """Sums over the submitted snapshots: what the provinces have reported, not what they are still doing."""

    model_config = ConfigDict(frozen=True)

    provinces: int
    submitted: int
    units: int
    registered: int
    recognised: int
    not_recognised: int
    recognised_share: float | None  # recognised / units of the provinces that submitted, a fraction


def national_totals(provinces: int, snapshots: Iterable[Mapping[str, Any]]) -> NationalTotals:
    reported = list(snapshots)
    units = sum(int(s["units"]) for s in reported)
    recognised = sum(int(s["recognised"]) for s in reported)
    return NationalTotals(
        provinces=provinces,
        submitted=len(reported),
        units=units,
        registered=sum(int(s["registered"]) for s in reported),
        recognised=recognised,
        not_recognised=sum(int(s["not_recognised"]) for s in reported),
        recognised_share=round(recognised / units, 4) if units else None,
    )

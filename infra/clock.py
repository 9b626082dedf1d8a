"""The clock of the front doors and the services (never of the domain, whose functions take the time as a parameter,
nor of the workflows, which use `workflow.now()`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.calendar import local_date


def today_vn() -> date:
    """Today in Vietnam (Asia/Ho_Chi_Minh): the day role assignments hold on, the day a rehearsal opens."""
    return local_date(datetime.now(UTC))

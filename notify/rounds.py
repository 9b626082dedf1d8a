"""What opening and closing an assessment round announces, to the province's officials who oversee it (the
communes hear of the round through their registration task). The builders are pure (the event time is a
parameter); `enqueue_round_opened` / `enqueue_round_closed` write them in the round activity's transaction. Both link
to the round's web page (/web/rounds/<round id>?province=<code>), never to the JSON API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ProvinceRow
from domain.calendar import TZ, local_date
from domain.round_calendar import CaseCalendar
from domain.round_report import RoundReport
from domain.stages import Role, Stage
from notify.events import NotificationKind, OutboxEvent, Recipients
from notify.outbox import enqueue

PROVINCE_ROLES = (Role.ADMIN, Role.APPRAISER, Role.CHAIRMAN, Role.PROVINCIAL_CHAIRMAN)


def round_page(round_id: str, province_code: str) -> str:
    """The round's web page in the province (its progress and, once closed, its report)."""
    return f"/web/rounds/{round_id}?province={province_code}"


def _event(kind: NotificationKind, round_id: str, province_code: str, at: datetime, **context: Any) -> OutboxEvent:
    return OutboxEvent(
        kind=kind,
        dedup_key=f"round:{round_id}:{province_code}:{kind.value}",
        recipients=Recipients(roles=PROVINCE_ROLES, province_code=province_code),
        occurred_at=at,
        province_code=province_code,
        link_path=round_page(round_id, province_code),
        context={"round_id": round_id, **context},
    )


def round_opened(
    round_id: str,
    province_code: str,
    *,
    units: int,
    province_name: str | None,
    at: datetime,
    calendar: CaseCalendar | None = None,
) -> OutboxEvent:
    """The round's announcement; with its calendar, when registration is due and when self-assessment opens for
    the cases opened at `at`."""
    dates: dict[str, str] = {}
    if calendar is not None:
        today = local_date(at)
        registration = calendar.window(Stage.REGISTRATION, today)
        assessment = calendar.window(Stage.SELF_ASSESSMENT, today)
        if registration is not None:
            dates["registration_due"] = registration.due_at().isoformat()
        if assessment is not None:
            dates["self_assessment_opens"] = datetime.combine(assessment.opens, time(0, 0), tzinfo=TZ).isoformat()
    return _event(
        NotificationKind.ROUND_OPENED, round_id, province_code, at, units=units, province_name=province_name, **dates
    )


def round_closed(
    round_id: str,
    province_code: str,
    *,
    registered: int,
    assessed: int,
    recognised: int,
    province_name: str | None,
    at: datetime,
    report_due: date | None = None,
) -> OutboxEvent:
    """The round's end with its results; with `report_due`, the day its report to the ministry is due."""
    due = {"report_due": report_due.isoformat()} if report_due is not None else {}
    return _event(
        NotificationKind.ROUND_CLOSED,
        round_id,
        province_code,
        at,
        registered=registered,
        assessed=assessed,
        recognised=recognised,
        province_name=province_name,
        **due,
    )


# -- with a session: in the round activity's transaction ---------------------------------------------------------------
async def enqueue_round_opened(
    session: AsyncSession, round_id: str, province_code: str, *, units: int, calendar: CaseCalendar | None = None
) -> list[str]:
    """Announce the round to the province's overseers; re-running the activity writes nothing new."""
    name = await session.scalar(select(ProvinceRow.name).where(ProvinceRow.code == province_code))
    event = round_opened(
        round_id, province_code, units=units, province_name=name, at=datetime.now(UTC), calendar=calendar
    )
    return await enqueue(session, event)


async def enqueue_round_closed(
    session: AsyncSession, report: RoundReport, *, report_due: date | None = None
) -> list[str]:
    name = await session.scalar(select(ProvinceRow.name).where(ProvinceRow.code == report.province_code))
    event = round_closed(
        report.round_id,
        report.province_code,
        registered=report.registered,
        assessed=report.submitted,
        recognised=report.recognised,
        province_name=name,
        at=report.closed_at,
        report_due=report_due,
    )
    return await enqueue(session, event)

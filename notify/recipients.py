"""Who an event reaches: the active officials it names, or who hold one of its roles over its unit (an assignment to
that unit or to the whole province, in force on the event's day in Vietnam); with no unit, every holder of the roles
in the province.

An official on leave that day (services/officials/absences.py) is not reached: their deputy is, in their place (the
deputy's deputy when the deputy is on leave too; no one when the chain comes back to someone already passed). This
holds for officials named (a task's assignee) and for role holders alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AbsenceRow, OfficialRow, RoleAssignmentRow
from db.models_notify import NotificationPreferenceRow
from domain.calendar import local_date
from notify.events import Channel, OutboxEvent
from notify.preferences import DEFAULT, Preferences


@dataclass(frozen=True)
class Recipient:
    official_id: str
    full_name: str
    email: str | None
    preferences: Preferences


def preferences_of(row: NotificationPreferenceRow | None) -> Preferences:
    if row is None:
        return DEFAULT
    return Preferences(
        channels=frozenset(Channel(c) for c in row.channels),
        digest=row.digest,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        locale=row.locale,
        webhook_url=row.webhook_url,
    )


@dataclass(frozen=True)
class Leave:
    official_id: str
    deputy_id: str
    starts_on: date
    ends_on: date


def stand_in(official_id: str, day: date, leaves: Sequence[Leave]) -> str | None:
    """Who acts for the official on `day`: themselves, or the deputy of their leave (followed while the deputy is
    on leave too); None when the chain loops."""
    seen = {official_id}
    current = official_id
    while True:
        leave = next((lv for lv in leaves if lv.official_id == current and lv.starts_on <= day <= lv.ends_on), None)
        if leave is None:
            return current
        current = leave.deputy_id
        if current in seen:
            return None
        seen.add(current)


async def leaves_between(session: AsyncSession, first: date, last: date) -> list[Leave]:
    """Every leave not called off that overlaps the days from `first` to `last`."""
    rows = await session.execute(
        select(AbsenceRow.official_id, AbsenceRow.deputy_id, AbsenceRow.starts_on, AbsenceRow.ends_on).where(
            AbsenceRow.cancelled_at.is_(None), AbsenceRow.starts_on <= last, AbsenceRow.ends_on >= first
        )
    )
    return [Leave(*row) for row in rows.all()]


async def _people(session: AsyncSession, ids: set[str]) -> dict[str, Recipient]:
    rows = (
        await session.execute(
            select(OfficialRow, NotificationPreferenceRow)
            .outerjoin(NotificationPreferenceRow, NotificationPreferenceRow.official_id == OfficialRow.id)
            .where(OfficialRow.active.is_(True), OfficialRow.id.in_(ids))
        )
    ).all()
    return {o.id: Recipient(o.id, o.full_name, o.email, preferences_of(p)) for o, p in rows}


async def _holds(session: AsyncSession, events: Sequence[OutboxEvent]) -> list[RoleAssignmentRow]:
    """Every assignment of an active official that may matter to the events (their roles in their provinces)."""
    provinces = {e.recipients.province_code for e in events if e.recipients.roles}
    roles = {r.value for e in events for r in e.recipients.roles}
    if not (provinces and roles):
        return []
    rows = await session.scalars(
        select(RoleAssignmentRow)
        .join(OfficialRow, RoleAssignmentRow.official_id == OfficialRow.id)
        .where(
            OfficialRow.active.is_(True),
            RoleAssignmentRow.role.in_(roles),
            RoleAssignmentRow.province_code.in_(provinces),
        )
    )
    return list(rows)


def _wanted(event: OutboxEvent, holds: Sequence[RoleAssignmentRow], leaves: Sequence[Leave]) -> set[str]:
    """The ids the event reaches on its day, before knowing who of them is active."""
    who = event.recipients
    day = local_date(event.occurred_at)
    roles = {r.value for r in who.roles}
    holders = {
        a.official_id
        for a in holds
        if a.role in roles
        and a.province_code == who.province_code
        and (who.unit_code is None or a.unit_code is None or a.unit_code == who.unit_code)
        and a.holds_on(day)
    }
    reached = {stand_in(i, day, leaves) for i in holders | set(who.official_ids)}
    return {i for i in reached if i is not None}


async def resolve_recipients_many(session: AsyncSession, events: Sequence[OutboxEvent]) -> list[list[Recipient]]:
    """The recipients of each event (see the module's doc), ordered by id; read in three queries for all events."""
    if not events:
        return []
    days = [local_date(e.occurred_at) for e in events]
    leaves = await leaves_between(session, min(days), max(days))
    holds = await _holds(session, events)
    wanted = [_wanted(e, holds, leaves) for e in events]
    people = await _people(session, set().union(*wanted))
    return [[people[i] for i in sorted(ids) if i in people] for ids in wanted]


async def resolve_recipients(session: AsyncSession, event: OutboxEvent) -> list[Recipient]:
    return (await resolve_recipients_many(session, [event]))[0]

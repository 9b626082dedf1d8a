"""Absences: an official's leave in a province, and the deputy who stands in for them meanwhile.

- An administrator of the province records a leave (first and last day, inclusive, days in Vietnam) and names a
  deputy: another active official who holds, over the whole leave, every role that takes tasks (not admin, not
  auditor) that the absent official holds over the same scope during it. Two leaves of one official do not overlap;
  a deputy is not on leave themselves when named.
- During the leave the absent official is not notified: their deputy is, of new tasks and of reminders alike
  (notify/recipients.py). The open tasks assigned to the absent official are reassigned to the deputy through each
  case's `reassign` Update, signed for the administrator who recorded the leave (the case's journal names both), when
  the leave is recorded if it has begun, and every morning while it lasts (`hand_over_leaves`, run by the
  `xptt-absence-handover` schedule): a task given to the absent official meanwhile goes to the deputy too.
- When the leave ends nothing is handed back: tasks reassigned or begun during it stay with the deputy.
- Ending a leave early moves its last day; one not yet begun is cancelled. Leaves are never deleted, and every change
  is a row of the directory journal (`absence_recorded`, `absence_ended`, `absence_cancelled`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import structlog
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from contracts import AbsenceHandoverResult
from db.models import AbsenceRow, OfficialRow, RoleAssignmentRow
from domain.calendar import local_date
from domain.stages import Role
from services.access import Principal, admin_provinces, principal_of, require_admin, require_oversight
from services.errors import Refusal
from services.fields import ID_PATTERN, PROVINCE_PATTERN
from services.officials import coverage, queries
from services.officials.coverage import HandedOver
from services.officials.rules import day_text, refuse, role_label
from services.officials.service import served_provinces, visible_official, writable, writing
from services.officials.writes import DirectoryWriter
from services.rounds.schemas import Day

log = structlog.get_logger(__name__)

# The longest leave one record covers (a year and a day: maternity leave is six months, Labour Code 2019 Art. 139;
# longer absences are a change of post, not a leave).
MAX_LEAVE_DAYS = 366
NOT_TASK_ROLES = frozenset({Role.ADMIN.value, Role.AUDITOR.value})


class AbsenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: str = Field(pattern=PROVINCE_PATTERN, description="the province whose roles the deputy covers")
    deputy_id: str = Field(pattern=ID_PATTERN, description="the official who stands in")
    starts_on: Day = Field(description="first day of the leave (YYYY-MM-DD), in Vietnam")
    ends_on: Day = Field(description="last day of the leave, inclusive")
    reason: str | None = Field(default=None, max_length=500)


class EndAbsenceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ends_on: Day | None = Field(
        default=None, description="the new last day of the leave; default yesterday (the official is back today)"
    )
    reason: str | None = Field(default=None, max_length=500)


class AbsenceOut(BaseModel):
    id: int
    official_id: str
    deputy_id: str
    deputy_name: str | None
    province_code: str
    starts_on: date
    ends_on: date
    reason: str | None
    created_at: datetime
    created_by: str | None
    cancelled: bool
    in_force: bool = Field(description="the leave holds today in Vietnam")
    reassigned: list[HandedOver] = Field(default_factory=list, description="open tasks given to the deputy now")
    left_open: list[HandedOver] = Field(default_factory=list, description="open tasks that could not be given")


async def _out(session: AsyncSession, rows: Sequence[AbsenceRow], today: date) -> list[AbsenceOut]:
    deputies = await queries.officials(session, {r.deputy_id for r in rows})
    names = {official_id: row.full_name for official_id, row in deputies.items()}
    return [
        AbsenceOut(
            id=r.id,
            official_id=r.official_id,
            deputy_id=r.deputy_id,
            deputy_name=names.get(r.deputy_id),
            province_code=r.province_code,
            starts_on=r.starts_on,
            ends_on=r.ends_on,
            reason=r.reason,
            created_at=r.created_at,
            created_by=r.created_by,
            cancelled=r.cancelled_at is not None,
            in_force=r.cancelled_at is None and r.starts_on <= today <= r.ends_on,
        )
        for r in rows
    ]


async def list_absences(
    session: AsyncSession, principal: Principal, official_id: str, *, now: datetime
) -> list[AbsenceOut]:
    """The official's leaves in the caller's provinces, latest first."""
    mine = require_oversight(principal)
    await visible_official(session, principal, official_id, await served_provinces(session, official_id))
    rows = await session.scalars(
        select(AbsenceRow)
        .where(AbsenceRow.official_id == official_id, AbsenceRow.province_code.in_(mine))
        .order_by(AbsenceRow.starts_on.desc(), AbsenceRow.id.desc())
    )
    return await _out(session, list(rows), local_date(now))


async def leaves_ahead(
    session: AsyncSession, principal: Principal, province: str, *, now: datetime
) -> dict[str, list[AbsenceOut]]:
    """The province's leaves in force today or to come, by absent official, earliest first (the officials' page)."""
    require_oversight(principal, province)
    today = local_date(now)
    rows = await session.scalars(
        select(AbsenceRow)
        .where(AbsenceRow.province_code == province, AbsenceRow.cancelled_at.is_(None), AbsenceRow.ends_on >= today)
        .order_by(AbsenceRow.starts_on, AbsenceRow.id)
    )
    found: dict[str, list[AbsenceOut]] = {}
    for a in await _out(session, list(rows), today):
        found.setdefault(a.official_id, []).append(a)
    return found


def _check_days(req: AbsenceRequest, today: date) -> None:
    if req.ends_on < req.starts_on:
        raise refuse("invalid_days", "ends_on", f"the last day {req.ends_on:%d/%m/%Y} is before the first")
    if req.ends_on < today:
        raise refuse("leave_past", "ends_on", f"the leave ended on {req.ends_on:%d/%m/%Y}: only leave to come is kept")
    if (req.ends_on - req.starts_on).days + 1 > MAX_LEAVE_DAYS:
        raise refuse(
            "leave_too_long", "ends_on", f"a leave lasts at most {MAX_LEAVE_DAYS} days; longer is a change of post"
        )


def _covers(a: RoleAssignmentRow, b: RoleAssignmentRow, first: date, last: date) -> bool:
    """`b` holds `a`'s role over `a`'s scope on every day from `first` to `last`."""
    return (
        (b.role, b.province_code, b.unit_code) == (a.role, a.province_code, a.unit_code)
        and (b.valid_from is None or b.valid_from <= first)
        and (b.valid_until is None or b.valid_until >= last)
    )


async def _check_deputy(session: AsyncSession, official_id: str, req: AbsenceRequest) -> None:
    """The deputy is another active official holding every task role of the absent one over its scope throughout."""
    if req.deputy_id == official_id:
        raise refuse("deputy_is_official", "deputy_id", "the deputy must be another official")
    deputy = await session.get(OfficialRow, req.deputy_id)
    if deputy is None or not deputy.active:
        raise refuse("deputy_unknown", "deputy_id", f"no active official {req.deputy_id}")
    rows = await session.scalars(
        select(RoleAssignmentRow).where(
            RoleAssignmentRow.official_id.in_([official_id, req.deputy_id]),
            RoleAssignmentRow.province_code == req.province,
        )
    )
    theirs: list[RoleAssignmentRow] = []
    deputys: list[RoleAssignmentRow] = []
    for a in rows:
        (theirs if a.official_id == official_id else deputys).append(a)
    needed = [
        a
        for a in theirs
        if a.role not in NOT_TASK_ROLES
        and (a.valid_from is None or a.valid_from <= req.ends_on)
        and (a.valid_until is None or a.valid_until >= req.starts_on)
    ]
    if not needed:
        raise refuse("nothing_to_cover", "official_id", "the official holds no role that takes tasks during the leave")
    for a in needed:
        first = max(req.starts_on, a.valid_from or req.starts_on)
        last = min(req.ends_on, a.valid_until or req.ends_on)
        if not any(_covers(a, b, first, last) for b in deputys):
            scope = f"unit {a.unit_code}" if a.unit_code else f"province {a.province_code}"
            raise refuse(
                "deputy_lacks_role",
                "deputy_id",
                f"{req.deputy_id} does not hold {role_label(a.role)} over {scope} from {first:%d/%m/%Y} "
                f"to {last:%d/%m/%Y}",
            )


async def _overlapping(session: AsyncSession, official_id: str, first: date, last: date) -> AbsenceRow | None:
    found: AbsenceRow | None = await session.scalar(
        select(AbsenceRow)
        .where(
            AbsenceRow.official_id == official_id,
            AbsenceRow.cancelled_at.is_(None),
            AbsenceRow.starts_on <= last,
            AbsenceRow.ends_on >= first,
        )
        .limit(1)
    )
    return found


async def _check_free(session: AsyncSession, official_id: str, req: AbsenceRequest) -> None:
    """The official has no other leave over these days, and the deputy is not on leave during them."""
    clash = await _overlapping(session, official_id, req.starts_on, req.ends_on)
    if clash is not None:
        raise refuse(
            "absence_overlaps",
            "starts_on",
            f"the official is on leave #{clash.id} from {clash.starts_on:%d/%m/%Y} to {clash.ends_on:%d/%m/%Y}",
            status=409,
        )
    away = await _overlapping(session, req.deputy_id, req.starts_on, req.ends_on)
    if away is not None:
        raise refuse(
            "deputy_absent",
            "deputy_id",
            f"{req.deputy_id} is on leave from {away.starts_on:%d/%m/%Y} to {away.ends_on:%d/%m/%Y}",
            status=409,
        )


def _days(row: AbsenceRow) -> dict[str, str | None]:
    return {"deputy_id": row.deputy_id, "starts_on": day_text(row.starts_on), "ends_on": day_text(row.ends_on)}


async def record_absence(
    session: AsyncSession,
    principal: Principal,
    official_id: str,
    req: AbsenceRequest,
    *,
    now: datetime,
    temporal: Client | None = None,
) -> AbsenceOut:
    """Record the leave (201). When it has begun, the official's open tasks go to the deputy at once."""
    require_admin(principal, req.province)
    today = local_date(now)
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    async with writing(session):
        row, _, _ = await writable(session, principal, official_id, writer=writer, also=[req.province])
        if not row.active:
            raise Refusal(409, "official_inactive", f"official {official_id} is inactive")
        _check_days(req, today)
        await _check_deputy(session, official_id, req)
        await _check_free(session, official_id, req)
        absence = AbsenceRow(
            official_id=official_id,
            deputy_id=req.deputy_id,
            province_code=req.province,
            starts_on=req.starts_on,
            ends_on=req.ends_on,
            reason=req.reason,
            created_at=now,
            created_by=principal.official_id,
        )
        session.add(absence)
        await session.flush()
        writer.journal.add(
            req.province,
            "absence_recorded",
            official_id=official_id,
            after=_days(absence),
            reason=req.reason,
            payload={"absence_id": absence.id},
        )
        await writer.finish()
    out = (await _out(session, [absence], today))[0]
    if out.in_force:
        done, left = await _hand_over(session, temporal, principal, absence, now=now)
        out = out.model_copy(update={"reassigned": done, "left_open": left})
    return out


async def _hand_over(
    session: AsyncSession, temporal: Client | None, principal: Principal, absence: AbsenceRow, *, now: datetime
) -> tuple[list[HandedOver], list[HandedOver]]:
    official, deputy, absence_id = absence.official_id, absence.deputy_id, absence.id
    tasks = await coverage.assigned_tasks(session, official)
    if not tasks:
        return [], []
    reason = f"nghỉ phép #{absence_id}: {official} → {deputy}"
    return await coverage.hand_over(
        session, temporal, principal, official, tasks, reason=reason, now=now, to=deputy, key=f"absence-{absence_id}"
    )


async def end_absence(
    session: AsyncSession,
    principal: Principal,
    official_id: str,
    absence_id: int,
    req: EndAbsenceRequest,
    *,
    now: datetime,
) -> AbsenceOut:
    """Move the leave's last day earlier (default yesterday); a leave that would end before it begins is cancelled."""
    today = local_date(now)
    writer = DirectoryWriter(session, actor_id=principal.official_id, now=now)
    async with writing(session):
        await writable(session, principal, official_id, writer=writer)
        absence = await session.get(AbsenceRow, absence_id, populate_existing=True, with_for_update=True)
        if absence is None or absence.official_id != official_id:
            raise Refusal(404, "absence_not_found", f"official {official_id} has no leave {absence_id}")
        require_admin(principal, absence.province_code)
        await writer.lock([absence.province_code])
        if absence.cancelled_at is not None:
            raise Refusal(409, "absence_cancelled", f"leave {absence_id} was cancelled")
        until = req.ends_on or today - timedelta(days=1)
        if until < today - timedelta(days=1):
            raise refuse("leave_past", "ends_on", "a leave cannot end before yesterday: the days before are past")
        if until >= absence.ends_on:
            raise refuse(
                "absence_already_ends",
                "ends_on",
                f"leave {absence_id} already ends on {absence.ends_on:%d/%m/%Y}",
                status=409,
            )
        before = _days(absence)
        if until < absence.starts_on:
            absence.cancelled_at, absence.cancelled_by = now, principal.official_id
            action = "absence_cancelled"
        else:
            absence.ends_on = until
            action = "absence_ended"
        writer.journal.add(
            absence.province_code,
            action,
            official_id=official_id,
            before=before,
            after=_days(absence) | {"cancelled": absence.cancelled_at is not None},
            reason=req.reason,
            payload={"absence_id": absence_id},
        )
        await writer.finish()
    return (await _out(session, [absence], today))[0]


async def hand_over_leaves(
    sessions: async_sessionmaker[AsyncSession], temporal: Client, *, now: datetime
) -> AbsenceHandoverResult:
    """For every leave in force today, give the absent official's open tasks to the deputy, signed for the
    administrator who recorded it (while they still administer the province; else the tasks stay, logged). The
    update ids are per leave, task and case position, so a retried run sends nothing twice."""
    today = local_date(now)
    async with sessions() as session:
        leaves = list(await session.scalars(select(AbsenceRow).where(AbsenceRow.in_force_on(today))))
    reassigned = left_open = 0
    for absence in leaves:
        async with sessions() as session:
            admin = await principal_of(session, absence.created_by or "")
            if admin is None or absence.province_code not in admin_provinces(admin):
                log.warning("absence_handover_without_admin", absence_id=absence.id, recorded_by=absence.created_by)
                continue
            done, left = await _hand_over(session, temporal, admin, absence, now=now)
        reassigned += len(done)
        left_open += len(left)
        if done or left:
            log.info("absence_handed_over", absence_id=absence.id, reassigned=len(done), left_open=len(left))
    return AbsenceHandoverResult(leaves=len(leaves), reassigned=reassigned, left_open=left_open)

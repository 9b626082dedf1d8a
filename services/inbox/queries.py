"""Reading tasks: the inbox statement (filters, due-time order, keyset pages) and one task with its case and unit.
Read-only; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, and_, cast, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.models import CaseRow, TaskRow, UnitRow
from domain.stages import Stage
from services.access import Principal, actionable, readable
from services.inbox import cursor as cursors
from services.inbox.schemas import Sort, TaskStatus

# A missing due time sorts as the latest (NULLS LAST ascending, NULLS FIRST descending): as 'infinity'.
_LATEST = cast(literal_column("'infinity'"), DateTime(timezone=True))


def _after(c: cursors.Cursor, *, descending: bool) -> ColumnElement[bool]:
    """Rows after the cursor in (due_at, id) order, a missing due time counting as the latest.

    One row comparison rather than an OR of ranges: PostgreSQL then reads the index in due-time order and stops
    after the page, where an OR made it collect every matching row of the scope (a bitmap) and sort them."""
    due, tid = TaskRow.due_at, TaskRow.id
    key = _LATEST if c.key is None else literal(c.key, DateTime(timezone=True))
    if not descending:
        if c.key is None:
            return and_(due.is_(None), tid > c.id)
        return tuple_(func.coalesce(due, _LATEST), tid) > tuple_(key, literal(c.id))
    if c.key is None:
        return tuple_(func.coalesce(due, _LATEST), tid) < tuple_(key, literal(c.id))
    return tuple_(due, tid) < tuple_(key, literal(c.id))


def _columns(now: datetime) -> tuple[Any, ...]:  # mapped attributes and labelled expressions
    """What an inbox row shows, read as plain rows (no ORM object per task, not the completion's payload): TaskOut's
    fields in their order, `overdue` (open and past its due time) included, so that a row is an item as it stands."""
    overdue = and_(TaskRow.status == "open", TaskRow.due_at.is_not(None), TaskRow.due_at < now)
    return (
        TaskRow.id,
        TaskRow.case_id,
        CaseRow.round_id,
        TaskRow.stage,
        TaskRow.role,
        TaskRow.unit_code,
        UnitRow.name.label("unit_name"),
        TaskRow.province_code,
        TaskRow.status,
        TaskRow.assignee_id,
        TaskRow.escalation_level,
        TaskRow.escalated_to,
        overdue.label("overdue"),
        TaskRow.created_at,
        TaskRow.due_at,
        TaskRow.completed_at,
        TaskRow.completed_by,
    )


def inbox_statement(
    principal: Principal,
    *,
    now: datetime,
    mine: bool = True,
    status: TaskStatus = "open",
    stage: list[Stage] | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
    escalated_to_me: bool = False,
    due_before: datetime | None = None,
    due_after: datetime | None = None,
    unit: str | None = None,
    round: str | None = None,
    sort: Sort = "due",
    after: cursors.Cursor | None = None,
) -> Select[*tuple[Any, ...]]:
    """The inbox query (without its LIMIT): the official's tasks under the filters, in (due time, id) order, after
    the cursor's row when given."""
    descending = sort == "-due"
    stmt = (
        select(*_columns(now))
        .join(UnitRow, UnitRow.code == TaskRow.unit_code)
        .join(CaseRow, CaseRow.id == TaskRow.case_id)
        .where(readable(principal, TaskRow.unit_code, TaskRow.province_code))
    )
    if escalated_to_me:
        stmt = stmt.where(actionable(principal, TaskRow.unit_code, TaskRow.province_code, TaskRow.escalated_to))
    elif mine:
        stmt = stmt.where(
            actionable(principal, TaskRow.unit_code, TaskRow.province_code, TaskRow.role),
            or_(TaskRow.assignee_id.is_(None), TaskRow.assignee_id == principal.official_id),
        )
    if status != "any":
        stmt = stmt.where(TaskRow.status == status)
    if stage:
        stmt = stmt.where(TaskRow.stage.in_([s.value for s in stage]))
    if overdue is True:
        stmt = stmt.where(TaskRow.status == "open", TaskRow.due_at < now)
    elif overdue is False:
        stmt = stmt.where(or_(TaskRow.status != "open", TaskRow.due_at.is_(None), TaskRow.due_at >= now))
    if escalated is not None:
        stmt = stmt.where(TaskRow.escalation_level > 0 if escalated else TaskRow.escalation_level == 0)
    if due_before is not None:
        stmt = stmt.where(TaskRow.due_at < due_before)
    if due_after is not None:
        stmt = stmt.where(TaskRow.due_at >= due_after)
    if unit is not None:
        stmt = stmt.where(TaskRow.unit_code == unit)
    if round is not None:
        stmt = stmt.where(CaseRow.round_id == round)
    if after is not None:
        stmt = stmt.where(_after(after, descending=descending))
    if descending:
        return stmt.order_by(TaskRow.due_at.desc().nulls_first(), TaskRow.id.desc())
    return stmt.order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.id.asc())


async def task_with_case(session: AsyncSession, task_id: str) -> tuple[TaskRow, CaseRow, str] | None:
    """The task, its case and its unit's name."""
    row = (
        await session.execute(
            select(TaskRow, CaseRow, UnitRow.name)
            .join(CaseRow, CaseRow.id == TaskRow.case_id)
            .join(UnitRow, UnitRow.code == TaskRow.unit_code)
            .where(TaskRow.id == task_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])

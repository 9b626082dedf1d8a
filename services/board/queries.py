"""What the read model and the outbox know is stuck in some provinces, and what the board page shows besides."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.models import CaseRow, OfficialRow, ProvinceRow, RoleAssignmentRow, TaskRow, UnitRow
from db.models_notify import NotificationRow
from domain.calendar import local_date
from domain.stages import Outcome
from services.cases.schemas import WAITING_STANDINGS


async def late_tasks(session: AsyncSession, provinces: list[str], now: datetime) -> list[tuple[TaskRow, str]]:
    """Open tasks past their due time, escalated or stuck, each with its unit's name."""
    rows = await session.execute(
        select(TaskRow, UnitRow.name)
        .join(UnitRow, UnitRow.code == TaskRow.unit_code)
        .where(
            TaskRow.province_code.in_(provinces),
            TaskRow.status == "open",
            (TaskRow.due_at < now) | (TaskRow.escalation_level > 0) | TaskRow.stuck,
        )
    )
    return [(task, name) for task, name in rows.all()]


def _held_over(unit_code: Any, day: date) -> ColumnElement[bool]:
    """An active official holds the open task's role on `day` over `unit_code` (a task's unit, or None: the whole
    province): `services.officials.queries.held` for one kind of scope. Asked once per kind, each an equality the
    index on (province, role, unit) answers (migration 0016), where one condition with both would scan every
    assignment of the province for each task."""
    unit = RoleAssignmentRow.unit_code.is_(None) if unit_code is None else RoleAssignmentRow.unit_code == unit_code
    return exists().where(
        RoleAssignmentRow.official_id == OfficialRow.id,
        OfficialRow.active,
        RoleAssignmentRow.province_code == TaskRow.province_code,
        RoleAssignmentRow.role == TaskRow.role,
        unit,
        RoleAssignmentRow.in_force_on(day),
    )


async def unheld_tasks(session: AsyncSession, provinces: list[str], now: datetime) -> list[tuple[TaskRow, str]]:
    """Open tasks whose role no active official holds today over the unit (or the province), that are not already
    late (`late_tasks` lists those), each with its unit's name."""
    day = local_date(now)
    rows = await session.execute(
        select(TaskRow, UnitRow.name)
        .join(UnitRow, UnitRow.code == TaskRow.unit_code)
        .where(
            TaskRow.province_code.in_(provinces),
            TaskRow.status == "open",
            TaskRow.due_at.is_(None) | (TaskRow.due_at >= now),
            TaskRow.escalation_level == 0,
            ~TaskRow.stuck,
            ~_held_over(TaskRow.unit_code, day),
            ~_held_over(None, day),
        )
    )
    return [(task, name) for task, name in rows.all()]


async def held_cases(session: AsyncSession, provinces: list[str]) -> list[tuple[CaseRow, str, datetime | None]]:
    """Open cases on hold, with their unit's name and when their open task was created (None: no open task)."""
    rows = await session.execute(
        select(CaseRow, UnitRow.name, func.max(TaskRow.created_at))
        .join(UnitRow, UnitRow.code == CaseRow.unit_code)
        .outerjoin(TaskRow, (TaskRow.case_id == CaseRow.id) & (TaskRow.status == "open"))
        .where(CaseRow.province_code.in_(provinces), CaseRow.status == "open", CaseRow.on_hold)
        .group_by(CaseRow.id, UnitRow.name)
    )
    return [(case, name, since) for case, name, since in rows.all()]


async def failed_notifications(
    session: AsyncSession, provinces: list[str]
) -> list[tuple[NotificationRow, str | None, str | None]]:
    """Notifications the outbox gave up on, newest first, with their case's stage and their unit's name (when they
    have them)."""
    rows = await session.execute(
        select(NotificationRow, CaseRow.stage, UnitRow.name)
        .outerjoin(CaseRow, CaseRow.id == NotificationRow.case_id)
        .outerjoin(UnitRow, UnitRow.code == NotificationRow.unit_code)
        .where(NotificationRow.province_code.in_(provinces), NotificationRow.status == "failed")
        .order_by(NotificationRow.failed_at.desc().nulls_last(), NotificationRow.id)
    )
    return [(note, stage, name) for note, stage, name in rows.all()]


async def unit_names(session: AsyncSession, provinces: list[str]) -> dict[str, str]:
    rows = await session.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.province_code.in_(provinces)))
    return {code: name for code, name in rows.all()}


async def open_cases_by_line(session: AsyncSession, provinces: list[str]) -> list[tuple[str, str, int]]:
    """Open cases by stage, those waiting with no task for their stage to open on lines of their own (`striving`,
    `awaiting_registration`): (line, stage, count)."""
    no_task = ~exists().where(TaskRow.case_id == CaseRow.id, TaskRow.status == "open")
    waiting = CaseRow.waiting_until.is_not(None) & no_task
    line = case(
        *((waiting & (CaseRow.stage == stage), literal(name)) for stage, name in WAITING_STANDINGS.items()),
        else_=CaseRow.stage,
    )
    lines = (
        select(line.label("line"), CaseRow.stage.label("stage"))
        .where(CaseRow.province_code.in_(provinces), CaseRow.status == "open")
        .subquery()
    )
    rows = await session.execute(
        select(lines.c.line, lines.c.stage, func.count()).group_by(lines.c.line, lines.c.stage)
    )
    return [(name, stage, n) for name, stage, n in rows.all()]


async def rounds_with_cases(session: AsyncSession, provinces: list[str]) -> list[tuple[str, str, int]]:
    """(round, province, units recognised) for the rounds that have cases, latest round first."""
    recognised = func.count().filter(CaseRow.outcome == Outcome.RECOGNISED.value)
    rows = await session.execute(
        select(CaseRow.round_id, CaseRow.province_code, recognised)
        .where(CaseRow.province_code.in_(provinces))
        .group_by(CaseRow.round_id, CaseRow.province_code)
        .order_by(CaseRow.round_id.desc(), CaseRow.province_code)
    )
    return [(round_id, province, n) for round_id, province, n in rows.all()]


async def province_names(session: AsyncSession, provinces: list[str] | None) -> dict[str, str]:
    """The name of each province of `provinces` (None: every province), by code."""
    query = select(ProvinceRow.code, ProvinceRow.name).order_by(ProvinceRow.code)
    if provinces is not None:
        query = query.where(ProvinceRow.code.in_(provinces))
    return {code: name for code, name in (await session.execute(query)).all()}

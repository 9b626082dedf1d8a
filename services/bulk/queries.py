"""The open cases a bulk filter matches, read a batch at a time in case-id order (keyset)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseRow, TaskRow, UnitRow
from services.bulk.schemas import Action, BulkFilter, BulkItem

NEEDS_TASK = {"extend_due", "reassign", "remind"}


def matches(provinces: set[str], f: BulkFilter, action: Action, now: datetime) -> Select[CaseRow, str, TaskRow]:
    """The open cases of the provinces the filter and the action select, each with its unit's name and open task."""
    stmt = (
        select(CaseRow, UnitRow.name, TaskRow)
        .join(UnitRow, UnitRow.code == CaseRow.unit_code)
        .outerjoin(TaskRow, and_(TaskRow.case_id == CaseRow.id, TaskRow.status == "open"))
        .where(CaseRow.status == "open", CaseRow.province_code.in_(sorted(provinces)))
    )
    if action in NEEDS_TASK:
        stmt = stmt.where(TaskRow.id.is_not(None))
    if action == "hold":
        stmt = stmt.where(CaseRow.on_hold.is_(False))  # a held case is not held again
    if action == "release":
        stmt = stmt.where(CaseRow.on_hold.is_(True))
    if f.units:
        stmt = stmt.where(CaseRow.unit_code.in_(f.units))
    if f.stages:
        stmt = stmt.where(CaseRow.stage.in_([s.value for s in f.stages]))
    if f.round is not None:
        stmt = stmt.where(CaseRow.round_id == f.round)
    if f.case_ids:
        stmt = stmt.where(CaseRow.id.in_(f.case_ids))
    if f.on_hold is not None:
        stmt = stmt.where(CaseRow.on_hold.is_(f.on_hold))
    if f.overdue is True:
        stmt = stmt.where(TaskRow.due_at < now)
    elif f.overdue is False:
        stmt = stmt.where(or_(TaskRow.due_at.is_(None), TaskRow.due_at >= now))
    if f.escalated is not None:
        stmt = stmt.where(TaskRow.escalation_level > 0 if f.escalated else TaskRow.escalation_level == 0)
    if f.due_before is not None:
        stmt = stmt.where(TaskRow.due_at < f.due_before)
    if f.due_after is not None:
        stmt = stmt.where(TaskRow.due_at >= f.due_after)
    return stmt


async def batch(
    session: AsyncSession, stmt: Select[CaseRow, str, TaskRow], *, after: str | None, size: int
) -> list[BulkItem]:
    """The next `size` matches after case `after` (None: from the first)."""
    page = stmt.order_by(CaseRow.id).limit(size)
    if after is not None:
        page = page.where(CaseRow.id > after)
    return [_item(c, n, t) for c, n, t in (await session.execute(page)).all()]


def _item(case: CaseRow, unit_name: str, task: TaskRow | None) -> BulkItem:
    return BulkItem(
        case_id=case.id,
        task_id=task.id if task else None,
        role=task.role if task else None,
        unit_code=case.unit_code,
        unit_name=unit_name,
        province_code=case.province_code,
        stage=case.stage,
        on_hold=bool(case.on_hold),
        due_at=task.due_at if task else None,
        escalation_level=task.escalation_level if task else None,
    )

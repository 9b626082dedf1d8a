"""Reading a case: the row, its unit's name, its scores, tasks and journal, and the notifications sent about it.
Read-only; never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow, CaseRow, CriterionScoreRow, TaskRow, UnitRow
from db.models_notify import NotificationRow


async def case_row(session: AsyncSession, case_id: str) -> CaseRow | None:
    return await session.get(CaseRow, case_id)


async def unit_name(session: AsyncSession, case: CaseRow) -> str:
    """The name of the case's unit (its code when the unit is not on the list)."""
    unit = await session.get(UnitRow, case.unit_code)
    return unit.name if unit else case.unit_code


async def scores_of(session: AsyncSession, case_id: str) -> Sequence[CriterionScoreRow]:
    stmt = (
        select(CriterionScoreRow)
        .where(CriterionScoreRow.case_id == case_id)
        .order_by(CriterionScoreRow.kind, CriterionScoreRow.criterion)
    )
    return (await session.execute(stmt)).scalars().all()


async def tasks_of(session: AsyncSession, case_id: str) -> Sequence[TaskRow]:
    stmt = select(TaskRow).where(TaskRow.case_id == case_id).order_by(TaskRow.created_at, TaskRow.id)
    return (await session.execute(stmt)).scalars().all()


async def journal_of(session: AsyncSession, case_id: str) -> Sequence[AuditEventRow]:
    """The case's journal in sequence order."""
    stmt = select(AuditEventRow).where(AuditEventRow.case_id == case_id).order_by(AuditEventRow.seq)
    return (await session.execute(stmt)).scalars().all()


async def notifications_of(session: AsyncSession, case_id: str) -> Sequence[NotificationRow]:
    """The notifications sent about the case, oldest first."""
    stmt = select(NotificationRow).where(NotificationRow.case_id == case_id).order_by(NotificationRow.created_at)
    return (await session.execute(stmt)).scalars().all()

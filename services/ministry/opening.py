"""Opening the report task when a province's round closes: in the round activity's transaction (activities/
round_store.py), so it holds only what that needs (no service that reaches the round workflow)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models_ministry import MinistryReportRow


async def open_report(session: AsyncSession, round_id: str, province: str, *, opened_at: datetime, due: date) -> None:
    """The report task of the province's round; opening it again changes nothing."""
    stmt = insert(MinistryReportRow).values(round_id=round_id, province_code=province, due_on=due, opened_at=opened_at)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["round_id", "province_code"]))

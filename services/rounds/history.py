"""A province's share recognised by year, against its target for each year: for the chart on the round's page. One
point per round the province had (closed or not), the share counted over the province's units today."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseRow, RoundRow
from domain.targets import target_for
from services.rounds import queries
from services.targets import as_target, targets_of


class YearShare(BaseModel):
    year: int
    round_id: str
    recognised: int
    units: int
    share: float = Field(description="recognised / units, a fraction")
    target: float | None = Field(description="the province's target in force that year, a fraction; null: none")


async def shares_by_year(session: AsyncSession, province: str) -> list[YearShare]:
    units = await queries.unit_count(session, province)
    recognised = func.count().filter(CaseRow.outcome == "recognised")
    rows = await session.execute(
        select(RoundRow.id, RoundRow.year, recognised)
        .join(CaseRow, CaseRow.round_id == RoundRow.id)
        .where(CaseRow.province_code == province)
        .group_by(RoundRow.id, RoundRow.year)
        .order_by(RoundRow.year)
    )
    targets = [as_target(r) for r in await targets_of(session, province)]

    def target(year: int) -> float | None:
        found = target_for(targets, province, year)
        return found.share if found else None

    return [
        YearShare(
            year=year,
            round_id=round_id,
            recognised=n,
            units=units,
            share=n / units if units else 0.0,
            target=target(year),
        )
        for round_id, year, n in rows.all()
    ]

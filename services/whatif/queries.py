"""What the what-if reads of a round: its closed cases in scope with their units' names and their council scores, the
units of each province (the shares' denominator, as the round report counts) and the provinces' names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseRow, CriterionScoreRow, ProvinceRow, RoundRow, UnitRow

COUNCIL = "council"


async def closed_cases(session: AsyncSession, round_id: str, provinces: Sequence[str] | None) -> list[dict[str, Any]]:
    """The round's closed cases (in `provinces`, or all), each with its unit's name, by province and unit."""
    query = (
        select(
            CaseRow.id,
            CaseRow.unit_code,
            CaseRow.province_code,
            CaseRow.locality_type,
            CaseRow.verdict,
            CaseRow.outcome,
            UnitRow.name,
        )
        .join(UnitRow, UnitRow.code == CaseRow.unit_code)
        .where(CaseRow.round_id == round_id, CaseRow.status == "closed")
        .order_by(CaseRow.province_code, CaseRow.unit_code)
    )
    if provinces is not None:
        query = query.where(CaseRow.province_code.in_(provinces))
    return [dict(row._mapping) for row in await session.execute(query)]


async def council_scores(session: AsyncSession, case_ids: Sequence[str]) -> dict[str, dict[int, int]]:
    """Each case's council scores, by criterion."""
    rows = await session.execute(
        select(CriterionScoreRow.case_id, CriterionScoreRow.criterion, CriterionScoreRow.points).where(
            CriterionScoreRow.case_id.in_(case_ids), CriterionScoreRow.kind == COUNCIL
        )
    )
    found: dict[str, dict[int, int]] = {}
    for case_id, criterion, points in rows:
        found.setdefault(case_id, {})[criterion] = points
    return found


async def provinces(session: AsyncSession, codes: Sequence[str]) -> list[tuple[str, str, int]]:
    """(code, name, units) of each province, by code."""
    units = (
        select(UnitRow.province_code, func.count().label("units"))
        .where(UnitRow.province_code.in_(codes))
        .group_by(UnitRow.province_code)
        .subquery()
    )
    rows = await session.execute(
        select(ProvinceRow.code, ProvinceRow.name, func.coalesce(units.c.units, 0))
        .outerjoin(units, units.c.province_code == ProvinceRow.code)
        .where(ProvinceRow.code.in_(codes))
        .order_by(ProvinceRow.code)
    )
    return [(code, name, int(n)) for code, name, n in rows]


async def round_ids(session: AsyncSession) -> list[str]:
    """Every round opened, latest first."""
    return list(await session.scalars(select(RoundRow.id).order_by(RoundRow.year.desc(), RoundRow.id)))


async def province_names(session: AsyncSession, codes: Sequence[str] | None) -> list[tuple[str, str]]:
    """(code, name) of the provinces `codes` names (None: every one), by code."""
    query = select(ProvinceRow.code, ProvinceRow.name).order_by(ProvinceRow.code)
    if codes is not None:
        query = query.where(ProvinceRow.code.in_(codes))
    return [(code, name) for code, name in await session.execute(query)]

"""What the what-if reads of a round: its decided cases in scope (an outcome, open or closed) with their units' names
and their council scores, and how many cases there have no outcome yet. The provinces' names and units come from
services/board/queries.province_names and services/rounds/queries.unit_count (the round report's denominator)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseRow, CriterionScoreRow, RoundRow, UnitRow

COUNCIL = "council"


async def decided_cases(session: AsyncSession, round_id: str, provinces: Sequence[str] | None) -> list[dict[str, Any]]:
    """The round's cases with an outcome (in `provinces`, or all), each with its unit's name, by province and unit."""
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
        .where(CaseRow.round_id == round_id, CaseRow.outcome.is_not(None))
        .order_by(CaseRow.province_code, CaseRow.unit_code)
    )
    if provinces is not None:
        query = query.where(CaseRow.province_code.in_(provinces))
    return [dict(row._mapping) for row in await session.execute(query)]


async def undecided(session: AsyncSession, round_id: str, provinces: Sequence[str] | None) -> dict[str, int]:
    """The round's cases with no outcome yet, per province (in `provinces`, or all)."""
    query = (
        select(CaseRow.province_code, func.count())
        .where(CaseRow.round_id == round_id, CaseRow.outcome.is_(None))
        .group_by(CaseRow.province_code)
    )
    if provinces is not None:
        query = query.where(CaseRow.province_code.in_(provinces))
    return {code: int(n) for code, n in await session.execute(query)}


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


async def round_ids(session: AsyncSession) -> list[str]:
    """Every round opened, latest first."""
    return list(await session.scalars(select(RoundRow.id).order_by(RoundRow.year.desc(), RoundRow.id)))

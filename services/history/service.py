"""Past rounds of a province: the import (services/history/importer.py), the recognitions it holds, a unit's
predecessors (services/history/lineage.py). Administrators import; administrators and auditors read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models_history import PastRecognitionRow
from services.access import Principal, require_oversight
from services.history.importer import import_past_rounds
from services.history.lineage import LineageOut, unit_lineage
from services.history.schemas import ImportReport, PastRecognitionOut

__all__ = ["ImportReport", "LineageOut", "import_past_rounds", "list_past_recognitions", "unit_lineage"]


async def list_past_recognitions(
    session: AsyncSession, principal: Principal, province: str, *, year: int | None = None
) -> list[PastRecognitionOut]:
    """The province's imported recognitions, by year and unit code."""
    require_oversight(principal, province)
    query = select(PastRecognitionRow).where(PastRecognitionRow.province_code == province)
    if year is not None:
        query = query.where(PastRecognitionRow.year == year)
    rows = await session.scalars(query.order_by(PastRecognitionRow.year, PastRecognitionRow.unit_code))
    return [PastRecognitionOut.model_validate(r, from_attributes=True) for r in rows]

"""Each current unit's predecessors in the database (`unit_lineage`), loaded from the `vietnamadminunits` data files
(services/history/lineage_source.py) when the units of a province are seeded; read by the import of past rounds
(which former units a province's file may name), by the commendation check and by `xptt units lineage`."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import UnitRow
from db.models_history import UnitLineageRow
from domain.merger import Predecessor, counted_predecessors, merger_settings
from domain.past_rounds import KnownUnit
from services.access import Principal, require_read
from services.errors import Refusal
from services.history.lineage_source import lineage_entries, source_label


async def load_lineage(session: AsyncSession, province_codes: set[str] | None) -> int:
    """Upsert the predecessors of the current units of these provinces (all when None); the caller commits. The
    number of links written."""
    entries = [e for e in lineage_entries() if province_codes is None or e.province_code in province_codes]
    source = source_label()
    for start in range(0, len(entries), 2000):
        stmt = insert(UnitLineageRow).values(
            [
                {
                    "unit_code": e.unit_code,
                    "former_code": e.former_code,
                    "province_code": e.province_code,
                    "former_name": e.former_name,
                    "former_district_name": e.former_district_name,
                    "former_province_name": e.former_province_name,
                    "divided": e.divided,
                    "is_default": e.is_default,
                    "source": source,
                }
                for e in entries[start : start + 2000]
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[UnitLineageRow.unit_code, UnitLineageRow.former_code],
                set_={
                    c: stmt.excluded[c]
                    for c in (
                        "province_code",
                        "former_name",
                        "former_district_name",
                        "former_province_name",
                        "divided",
                        "is_default",
                        "source",
                    )
                },
            )
        )
    return len(entries)


def as_predecessor(row: UnitLineageRow) -> Predecessor:
    return Predecessor(
        code=row.former_code,
        name=row.former_name,
        district_name=row.former_district_name,
        divided=row.divided,
        is_default=row.is_default,
    )


async def predecessors_of(session: AsyncSession, unit_code: str) -> list[Predecessor]:
    rows = await session.scalars(
        select(UnitLineageRow).where(UnitLineageRow.unit_code == unit_code).order_by(UnitLineageRow.former_code)
    )
    return [as_predecessor(r) for r in rows]


async def former_units(session: AsyncSession, province: str) -> list[KnownUnit]:
    """The units before 1 July 2025 merged into the province's current units: what its file of past rounds names."""
    rows = await session.execute(
        select(UnitLineageRow.former_code, UnitLineageRow.former_name, UnitLineageRow.former_district_name)
        .where(UnitLineageRow.province_code == province)
        .distinct()
        .order_by(UnitLineageRow.former_code)
    )
    return [KnownUnit(code=c, name=n, district_name=d) for c, n, d in rows]


async def current_units(session: AsyncSession, province: str) -> list[KnownUnit]:
    rows = await session.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.province_code == province))
    return [KnownUnit(code=c, name=n) for c, n in rows]


class PredecessorOut(BaseModel):
    code: str
    name: str
    district_name: str | None
    province_name: str | None
    divided: bool
    is_default: bool
    counted: bool  # its rounds count for the unit under the divided-commune rule in force


class LineageOut(BaseModel):
    unit_code: str
    unit_name: str
    province_code: str
    policy: str
    divided_rule: str
    source: str | None
    predecessors: list[PredecessorOut]


async def unit_lineage(session: AsyncSession, principal: Principal, unit_code: str) -> LineageOut:
    """A current unit's predecessors, for whoever may read the unit."""
    unit = await session.get(UnitRow, unit_code)
    if unit is None:
        raise Refusal(404, "unit_not_found", f"no unit {unit_code}")
    require_read(principal, unit.code, unit.province_code, what="unit", code="unit_not_found")
    rows = list(
        await session.scalars(
            select(UnitLineageRow).where(UnitLineageRow.unit_code == unit_code).order_by(UnitLineageRow.former_code)
        )
    )
    settings = merger_settings()
    counted = {p.code for p in counted_predecessors([as_predecessor(r) for r in rows], settings.divided)}
    return LineageOut(
        unit_code=unit.code,
        unit_name=unit.name,
        province_code=unit.province_code,
        policy=settings.policy.value,
        divided_rule=settings.divided.value,
        source=rows[0].source if rows else None,
        predecessors=[
            PredecessorOut(
                code=r.former_code,
                name=r.former_name,
                district_name=r.former_district_name,
                province_name=r.former_province_name,
                divided=r.divided,
                is_default=r.is_default,
                counted=r.former_code in counted,
            )
            for r in rows
        ],
    )

"""Seed the reference data: provinces and units from `vietnam-provinces`, and the demo officials of a province."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OfficialRow, ProvinceRow, RoleAssignmentRow, UnitRow
from domain.stages import Role
from domain.units import load_provinces, load_units


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class DemoOfficial:
    id: str
    full_name: str
    role: Role
    unit_code: str | None  # None: the whole province


async def seed_units(session: AsyncSession, province_code: str | None) -> int:
    """Upsert every province and the units of `province_code` (all units when None). Returns the units written."""
    provinces = load_provinces()
    if province_code is not None and province_code not in {p.code for p in provinces}:
        raise SeedError(f"province {province_code!r} does not exist; codes are two digits, e.g. 33 for Hưng Yên")
    stmt = insert(ProvinceRow).values(
        [{"code": p.code, "name": p.name, "is_central_city": p.is_central_city} for p in provinces]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ProvinceRow.code],
            set_={"name": stmt.excluded.name, "is_central_city": stmt.excluded.is_central_city},
        )
    )
    units = load_units(province_code)
    for start in range(0, len(units), 1000):
        chunk = units[start : start + 1000]
        ustmt = insert(UnitRow).values(
            [
                {
                    "code": u.code,
                    "name": u.name,
                    "division_type": u.division_type,
                    "province_code": u.province_code,
                    "locality_type": u.locality_type.value,
                }
                for u in chunk
            ]
        )
        await session.execute(
            ustmt.on_conflict_do_update(
                index_elements=[UnitRow.code],
                set_={
                    "name": ustmt.excluded.name,
                    "division_type": ustmt.excluded.division_type,
                    "province_code": ustmt.excluded.province_code,
                    "locality_type": ustmt.excluded.locality_type,
                },
            )
        )
    return len(units)


def demo_officials(province_code: str, unit_code: str) -> list[DemoOfficial]:
    """One official per role: commune roles on one demo unit, the others over the province."""
    p = province_code
    return [
        DemoOfficial(f"demo-officer-{unit_code}", "Nguyễn Thị Lan (cán bộ VH-XH)", Role.COMMUNE_OFFICER, unit_code),
        DemoOfficial(f"demo-council-chair-{unit_code}", "Trần Văn Minh (Chủ tịch HĐ)", Role.COUNCIL_CHAIR, unit_code),
        DemoOfficial(
            f"demo-commune-chairman-{unit_code}", "Lê Văn Hùng (Chủ tịch UBND xã)", Role.COMMUNE_CHAIRMAN, unit_code
        ),
        DemoOfficial(f"demo-appraiser-{p}", "Phạm Thị Hoa (thẩm định)", Role.APPRAISER, None),
        DemoOfficial(f"demo-chairman-{p}", "Hoàng Văn Nam (Chủ tịch UBND)", Role.CHAIRMAN, None),
        DemoOfficial(f"demo-admin-{p}", "Vũ Thị Mai (quản trị)", Role.ADMIN, None),
        DemoOfficial(f"demo-auditor-{p}", "Đặng Văn Long (kiểm toán)", Role.AUDITOR, None),
    ]


async def first_unit(session: AsyncSession, province_code: str) -> str:
    code = await session.scalar(
        select(UnitRow.code).where(UnitRow.province_code == province_code).order_by(UnitRow.code).limit(1)
    )
    if code is None:
        raise SeedError(f"province {province_code} has no units seeded")
    return code


async def seed_demo_province(session: AsyncSession, province_code: str) -> tuple[str, list[DemoOfficial]]:
    """The province's units and its demo officials, the commune roles on its first unit: (that unit, the officials).
    Idempotent."""
    await seed_units(session, province_code)
    unit = await first_unit(session, province_code)
    officials = demo_officials(province_code, unit)
    await seed_officials(session, officials, province_code)
    return unit, officials


async def seed_officials(session: AsyncSession, officials: list[DemoOfficial], province_code: str) -> None:
    """Idempotent: officials and their assignments are keyed by id and (official, role, scope)."""
    await session.execute(
        insert(OfficialRow)
        .values([{"id": o.id, "full_name": o.full_name, "email": f"{o.id}@example.invalid"} for o in officials])
        .on_conflict_do_nothing(index_elements=[OfficialRow.id])
    )
    await session.execute(
        insert(RoleAssignmentRow)
        .values(
            [
                {"official_id": o.id, "role": o.role.value, "province_code": province_code, "unit_code": o.unit_code}
                for o in officials
            ]
        )
        .on_conflict_do_nothing()
    )

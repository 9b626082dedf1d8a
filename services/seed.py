"""Seed the reference data: provinces and units from `vietnam-provinces`, and the demo officials of a province.

The dev stack (`xptt dev up`) brings its demo officials in as a province brings its own: the import of the officials'
directory (services/officials/importer.py), applied by the system (`SYSTEM_IMPORTER` in the directory journal), from
`deploy/demo/officials-<province>.csv`; a province without such a file gets `demo_officials` on its first unit,
written as such a file. The file is imported once: a later run finds its import in the province's directory journal
and leaves what the administrators changed since. `seed_officials` writes officials straight into the tables, for the
tests only.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DirectoryEventRow, OfficialRow, ProvinceRow, RoleAssignmentRow, UnitRow
from domain.access import RoleScope
from domain.stages import Role
from domain.units import load_provinces, load_units
from services.access import Principal
from services.errors import Refusal
from services.history.lineage import load_lineage
from services.officials.importer import import_officials
from services.officials.rules import check_role
from services.officials.sheets import read_sheet
from services.targets import seed_province_targets

DEMO_DIR = Path(__file__).resolve().parents[1] / "deploy" / "demo"  # the checkout's: `make run` installs it editable
SYSTEM_IMPORTER = "system:seed"  # who the directory journal says applied the demo import
DEMO_HEADER = ("Mã cán bộ", "Họ tên", "Email", "Vai trò", "Mã đơn vị")


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class DemoOfficial:
    id: str
    full_name: str
    role: Role
    unit_code: str | None  # None: the whole province


async def seed_units(session: AsyncSession, province_code: str | None, *, lineage: bool = True) -> int:
    """Upsert every province and the units of `province_code` (all units when None) with, unless `lineage` is
    false, their predecessors (the merger lineage, migration 0014). Returns the units written."""
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
    if lineage:
        await load_lineage(session, None if province_code is None else {province_code})  # their predecessors
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
        DemoOfficial(f"demo-auditor-{p}", "Đặng Văn Long (giám sát)", Role.AUDITOR, None),
    ]


async def first_unit(session: AsyncSession, province_code: str) -> str:
    code = await session.scalar(
        select(UnitRow.code).where(UnitRow.province_code == province_code).order_by(UnitRow.code).limit(1)
    )
    if code is None:
        raise SeedError(f"province {province_code} has no units seeded")
    return code


async def seed_demo_province(
    sessions: async_sessionmaker[AsyncSession], province_code: str
) -> tuple[str, list[DemoOfficial]]:
    """The province's units and the sources' example targets, then its demo officials imported
    (`import_demo_officials`): (the unit of the commune officials, the officials). Idempotent."""
    async with sessions() as session:
        async with session.begin():
            await seed_units(session, province_code)
            await seed_province_targets(session, actor=SYSTEM_IMPORTER, now=datetime.now(UTC))
        return await import_demo_officials(session, province_code)


def demo_file(province_code: str) -> Path:
    return DEMO_DIR / f"officials-{province_code}.csv"


def demo_sheet(province_code: str, unit_code: str) -> bytes:
    """`demo_officials` as the CSV a province would import (docs/officials.md), for a province with no demo file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(DEMO_HEADER)
    for o in demo_officials(province_code, unit_code):
        writer.writerow([o.id, o.full_name, f"{o.id}@example.invalid", o.role.value, o.unit_code or ""])
    return out.getvalue().encode()


def listed(data: bytes, source: str) -> list[DemoOfficial]:
    """The officials a demo file lists, one per row, in its order."""
    try:
        return [
            DemoOfficial(v["ma_can_bo"] or "", v["ho_ten"] or "", check_role(v["vai_tro"], "vai_tro"), v["ma_don_vi"])
            for v in (row.values for row in read_sheet(data).rows)
        ]
    except Refusal as exc:
        raise SeedError(f"{source}: {exc.detail}") from None


def system_importer(province_code: str) -> Principal:
    """The system, administering the province for the demo import alone."""
    scope = RoleScope(role=Role.ADMIN, province_code=province_code, unit_code=None)
    return Principal(official_id=SYSTEM_IMPORTER, full_name="hệ thống", scopes=(scope,))


async def imported_before(session: AsyncSession, province_code: str, digest: str) -> bool:
    """Whether the province's directory journal holds an import of the file whose SHA-256 is `digest`."""
    found = await session.scalar(
        select(DirectoryEventRow.id)
        .where(
            DirectoryEventRow.province_code == province_code,
            DirectoryEventRow.payload.contains({"source": "import", "file_sha256": digest}),
        )
        .limit(1)
    )
    return found is not None


async def import_demo_officials(session: AsyncSession, province_code: str) -> tuple[str, list[DemoOfficial]]:
    """Import the province's demo file (else `demo_sheet` on its first unit) as the system, unless its directory
    journal holds that import already: (the unit of the commune officials, the officials the file lists). Commits.
    A refused row is a SeedError naming it, and nothing is written; rows of officials deactivated since an earlier
    import are refused and left so (nothing is written then either)."""
    path = demo_file(province_code)
    if path.is_file():
        source, data = str(path), path.read_bytes()
    else:
        source, data = "demo_officials", demo_sheet(province_code, await first_unit(session, province_code))
    officials = listed(data, source)
    unit = next((o.unit_code for o in officials if o.role == Role.COMMUNE_OFFICER and o.unit_code), None)
    if unit is None:
        raise SeedError(f"{source}: no commune officer (Công chức văn hóa - xã hội) over a unit")
    if not await imported_before(session, province_code, hashlib.sha256(data).hexdigest()):
        now = datetime.now(UTC)
        report = await import_officials(
            session, system_importer(province_code), province_code, data, apply=True, now=now
        )
        refused = [
            f"row {o.row}: {o.code} {o.field}={o.value!r}"
            for o in report.outcomes
            if o.outcome == "refuse" and o.code != "official_inactive"  # deactivated since: they stay so
        ]
        if refused:
            raise SeedError(f"{source}: the demo officials cannot be imported ({'; '.join(refused)})")
    return unit, officials


async def seed_officials(session: AsyncSession, officials: list[DemoOfficial], province_code: str) -> None:
    """Straight into the tables, without the directory journal (the tests' fixtures). Idempotent: officials and their
    assignments are keyed by id and (official, role, scope)."""
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

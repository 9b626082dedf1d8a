"""The directory's reads: officials and their assignments, the provinces an official serves, who holds an email or
an OIDC subject, which province a unit is in. Each reads many keys in one round trip."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DirectoryEventRow, OfficialRow, RoleAssignmentRow, UnitRow


async def officials(session: AsyncSession, ids: Collection[str]) -> dict[str, OfficialRow]:
    if not ids:
        return {}
    rows = await session.scalars(select(OfficialRow).where(OfficialRow.id.in_(list(ids))))
    return {row.id: row for row in rows}


async def assignments(session: AsyncSession, ids: Collection[str]) -> dict[str, list[RoleAssignmentRow]]:
    """Every assignment of these officials, ended ones too, in the order they were granted."""
    found: dict[str, list[RoleAssignmentRow]] = defaultdict(list)
    if ids:
        rows = await session.scalars(
            select(RoleAssignmentRow).where(RoleAssignmentRow.official_id.in_(list(ids))).order_by(RoleAssignmentRow.id)
        )
        for row in rows:
            found[row.official_id].append(row)
    return found


def provinces_served(rows: list[RoleAssignmentRow]) -> set[str]:
    """The provinces whose directory holds an official: where they hold or held a role."""
    return {row.province_code for row in rows}


async def province_officials(session: AsyncSession, province_code: str) -> list[str]:
    """The ids of the officials who hold or held a role in the province, in id order."""
    ids = await session.scalars(
        select(RoleAssignmentRow.official_id)
        .where(RoleAssignmentRow.province_code == province_code)
        .distinct()
        .order_by(RoleAssignmentRow.official_id)
    )
    return list(ids)


async def unit_provinces(session: AsyncSession, codes: Collection[str]) -> dict[str, str]:
    """unit code → its province, for the codes that are units."""
    if not codes:
        return {}
    rows = await session.execute(select(UnitRow.code, UnitRow.province_code).where(UnitRow.code.in_(list(codes))))
    return {row.code: row.province_code for row in rows}


async def unit_names(session: AsyncSession, codes: Collection[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await session.execute(select(UnitRow.code, UnitRow.name).where(UnitRow.code.in_(list(codes))))
    return {row.code: row.name for row in rows}


async def email_owners(session: AsyncSession, emails: Collection[str]) -> dict[str, str]:
    """lower-case email → the official who has it."""
    wanted = sorted({e.lower() for e in emails})
    if not wanted:
        return {}
    rows = await session.execute(
        select(func.lower(OfficialRow.email).label("email"), OfficialRow.id).where(
            func.lower(OfficialRow.email).in_(wanted)
        )
    )
    return {row.email: row.id for row in rows}


async def oidc_owners(session: AsyncSession, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(issuer, subject) → the official who signs in as it."""
    if not pairs:
        return {}
    rows = await session.execute(
        select(OfficialRow.oidc_issuer, OfficialRow.oidc_subject, OfficialRow.id).where(
            tuple_(OfficialRow.oidc_issuer, OfficialRow.oidc_subject).in_(list(pairs))
        )
    )
    return {(row.oidc_issuer, row.oidc_subject): row.id for row in rows}


async def journal_entries(
    session: AsyncSession, province_code: str, *, after_seq: int, limit: int
) -> list[DirectoryEventRow]:
    rows = await session.scalars(
        select(DirectoryEventRow)
        .where(DirectoryEventRow.province_code == province_code, DirectoryEventRow.seq > after_seq)
        .order_by(DirectoryEventRow.seq)
        .limit(limit)
    )
    return list(rows)


def holds(role: Any, province_code: Any, unit_code: Any, day: date) -> ColumnElement[bool]:
    """An assignment of an active official holds `role` on `day` over the unit or its whole province (the arguments
    are values or the columns of an outer query)."""
    return and_(
        RoleAssignmentRow.official_id == OfficialRow.id,
        OfficialRow.active,
        RoleAssignmentRow.role == role,
        RoleAssignmentRow.province_code == province_code,
        or_(RoleAssignmentRow.unit_code.is_(None), RoleAssignmentRow.unit_code == unit_code),
        RoleAssignmentRow.in_force_on(day),
    )


def held(role: Any, province_code: Any, unit_code: Any, day: date) -> ColumnElement[bool]:
    """Someone holds the role over the unit on `day` (`holds`), as a condition of an outer query."""
    return exists().where(holds(role, province_code, unit_code, day))


async def holders(session: AsyncSession, province_code: str, day: date) -> list[tuple[str, str | None, str, str]]:
    """(role, unit code or None: the whole province, official id, full name) of every assignment of an active
    official in the province holding on `day`, in official id order."""
    rows = await session.execute(
        select(RoleAssignmentRow.role, RoleAssignmentRow.unit_code, OfficialRow.id, OfficialRow.full_name)
        .join(OfficialRow, OfficialRow.id == RoleAssignmentRow.official_id)
        .where(
            RoleAssignmentRow.province_code == province_code,
            OfficialRow.active,
            RoleAssignmentRow.in_force_on(day),
        )
        .order_by(OfficialRow.id)
    )
    return [(role, unit, oid, name) for role, unit, oid, name in rows.all()]

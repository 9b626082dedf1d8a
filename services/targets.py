"""Targets per province and plan period (domain/targets.py): read by the province's administrators and auditors,
set by its administrators (each change a `target_set` row of the province's directory journal, before and after), and
seeded with the examples the sources give. The round report reads the target in force for its province and year."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ProvinceRow, ProvinceTargetRow
from domain.targets import Target, overlap, seed_targets
from services.access import Principal, require_admin, require_oversight
from services.errors import Refusal
from services.fields import PROVINCE_PATTERN
from services.officials.journal import DirectoryJournal


class TargetIn(BaseModel):
    """A province's target for a plan period; setting the same first year again changes it."""

    model_config = ConfigDict(extra="forbid")

    province: str = Field(pattern=PROVINCE_PATTERN)
    first_year: int
    last_year: int
    share_percent: float = Field(description="the share of the province's units to recognise, in percent (0–100]")
    plan: str = Field(min_length=1, max_length=300, description="the plan that set it, e.g. KH 226/KH-UBND")
    source: str | None = Field(default=None, max_length=1000)
    reason: str | None = Field(default=None, max_length=500)


class TargetOut(BaseModel):
    province_code: str
    first_year: int
    last_year: int
    share: float = Field(description="a fraction: 0.95 is 95 %")
    plan: str
    source: str | None
    updated_at: datetime | None = None
    updated_by: str | None = None


def _out(row: ProvinceTargetRow) -> TargetOut:
    return TargetOut.model_validate(row, from_attributes=True)


def as_target(row: ProvinceTargetRow) -> Target:
    return Target(
        province_code=row.province_code,
        first_year=row.first_year,
        last_year=row.last_year,
        share=row.share,
        plan=row.plan,
        source=row.source,
    )


async def targets_of(session: AsyncSession, province: str) -> list[ProvinceTargetRow]:
    rows = await session.scalars(
        select(ProvinceTargetRow)
        .where(ProvinceTargetRow.province_code == province)
        .order_by(ProvinceTargetRow.first_year)
    )
    return list(rows)


async def list_targets(session: AsyncSession, principal: Principal, province: str) -> list[TargetOut]:
    require_oversight(principal, province)
    return [_out(r) for r in await targets_of(session, province)]


async def target_in_force(session: AsyncSession, province: str, year: int) -> TargetOut | None:
    """The province's target for `year`, or None when no plan covers it."""
    row = await session.scalar(
        select(ProvinceTargetRow).where(
            ProvinceTargetRow.province_code == province,
            ProvinceTargetRow.first_year <= year,
            ProvinceTargetRow.last_year >= year,
        )
    )
    return _out(row) if row is not None else None


def _checked(req: TargetIn) -> Target:
    """The request as a target; a bad field is refused naming it (a share over 100 %, years out of order)."""
    try:
        return Target(
            province_code=req.province,
            first_year=req.first_year,
            last_year=req.last_year,
            share=round(req.share_percent / 100, 6),
            plan=req.plan,
            source=req.source,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        ctx = first.get("ctx") or {}
        named = str(first["loc"][0]) if first["loc"] else str(ctx.get("field", "target"))  # a cross-field check
        field = {"share": "share_percent", "province_code": "province"}.get(named, named)
        reason = str(ctx.get("reason") or first["msg"])
        raise Refusal(422, "invalid_target", f"{field}: {reason}", field=field) from None


async def set_target(session: AsyncSession, principal: Principal, req: TargetIn, *, now: datetime) -> TargetOut:
    """Set the province's target for the plan period starting `first_year` (created, or changed in place)."""
    require_admin(principal, req.province)
    wanted = _checked(req)
    journal = DirectoryJournal(session, actor_id=principal.official_id, now=now)
    try:
        await journal.lock([req.province])
        rows = await targets_of(session, req.province)
        same = next((r for r in rows if r.first_year == wanted.first_year), None)
        clash = next((r for r in rows if r is not same and overlap(as_target(r), wanted)), None)
        if clash is not None:
            raise Refusal(
                409,
                "target_overlaps",
                f"first_year: the plan period overlaps {clash.first_year}–{clash.last_year} ({clash.plan})",
                field="first_year",
            )
        before = _out(same).model_dump(mode="json", exclude={"updated_at", "updated_by"}) if same else {}
        row = same or ProvinceTargetRow(province_code=req.province, first_year=wanted.first_year)
        row.last_year, row.share, row.plan, row.source = wanted.last_year, wanted.share, wanted.plan, wanted.source
        row.updated_at, row.updated_by = now, principal.official_id
        session.add(row)
        await session.flush()
        after = _out(row).model_dump(mode="json", exclude={"updated_at", "updated_by"})
        journal.add(req.province, "target_set", official_id=None, before=before, after=after, reason=req.reason)
        await journal.flush()
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return _out(row)


async def seed_province_targets(session: AsyncSession, *, actor: str, now: datetime) -> int:
    """The sources' examples, for the provinces present that have none yet, journalled as set by `actor` (the caller
    commits); the number written."""
    by_province: dict[str, list[Target]] = {}
    for target in seed_targets():
        by_province.setdefault(target.province_code, []).append(target)
    written = 0
    for province, wanted in by_province.items():
        if await session.get(ProvinceRow, province) is None or await targets_of(session, province):
            continue
        journal = DirectoryJournal(session, actor_id=actor, now=now)
        await journal.lock([province])
        for t in wanted:
            fields = t.model_dump(exclude={"province_code"})
            session.add(ProvinceTargetRow(province_code=province, **fields, updated_at=now, updated_by=actor))
            journal.add(province, "target_set", official_id=None, after=t.model_dump(mode="json"))
        written += len(wanted)
        await session.flush()
        await journal.flush()
    return written

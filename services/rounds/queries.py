"""What the read model knows of a round in a province: the round, its cases with their units and open tasks, the
milestones each case reached (from its journal: a case that registered and later closed still registered), and the
report the round workflow recorded when it closed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow, CaseRow, ProvinceRow, RoundReportRow, RoundRow, TaskRow, UnitRow
from db.models_history import UnitLineageRow
from domain.round_report import RoundReport
from domain.stages import Stage

CaseRows = list[tuple[CaseRow, str, TaskRow | None]]
"""Each case of a round in a province, with its unit's name and its open task (if any), by unit code."""

REGISTERED, DOSSIER_FILED = "registration_completed", "dossier_submission_completed"
MILESTONES = (REGISTERED, DOSSIER_FILED)


async def round_row(session: AsyncSession, round_id: str) -> RoundRow | None:
    return await session.get(RoundRow, round_id)


async def province_exists(session: AsyncSession, code: str) -> bool:
    return await session.get(ProvinceRow, code) is not None


async def unit_count(session: AsyncSession, province: str) -> int:
    return await session.scalar(select(func.count()).select_from(UnitRow).where(UnitRow.province_code == province)) or 0


async def round_cases(session: AsyncSession, round_id: str, province: str) -> CaseRows:
    rows = await session.execute(
        select(CaseRow, UnitRow.name, TaskRow)
        .join(UnitRow, UnitRow.code == CaseRow.unit_code)
        .outerjoin(TaskRow, (TaskRow.case_id == CaseRow.id) & (TaskRow.status == "open"))
        .where(CaseRow.round_id == round_id, CaseRow.province_code == province)
        .order_by(CaseRow.unit_code)
    )
    return [(c, n, t) for c, n, t in rows.all()]


async def milestones(session: AsyncSession, round_id: str, province: str) -> dict[str, set[str]]:
    """Cases that registered and cases that filed their dossier, from the journal (a case may close later)."""
    rows = await session.execute(
        select(AuditEventRow.action, AuditEventRow.case_id)
        .join(CaseRow, CaseRow.id == AuditEventRow.case_id)
        .where(
            CaseRow.round_id == round_id,
            CaseRow.province_code == province,
            AuditEventRow.action.in_(MILESTONES),
            AuditEventRow.to_stage != Stage.CLOSED.value,
        )
    )
    found: dict[str, set[str]] = {action: set() for action in MILESTONES}
    for action, case_id in rows.all():
        found[action].add(case_id)
    return found


async def recorded_report(session: AsyncSession, round_id: str, province: str) -> RoundReport | None:
    recorded = await session.get(RoundReportRow, (round_id, province))
    return RoundReport.model_validate(recorded.report) if recorded is not None else None


async def division_types(session: AsyncSession, unit_codes: list[str]) -> dict[str, str]:
    """Each unit's kind ("xã", "phường", "đặc khu"), by code."""
    rows = await session.execute(select(UnitRow.code, UnitRow.division_type).where(UnitRow.code.in_(unit_codes)))
    return {code: kind for code, kind in rows.all()}


async def former_districts(session: AsyncSession, province: str) -> dict[str, str]:
    """Each unit of the province whose predecessors (the 2025 merger lineage) all lay in one former district: that
    district's name."""
    rows = await session.execute(
        select(UnitLineageRow.unit_code, UnitLineageRow.former_district_name).where(
            UnitLineageRow.province_code == province
        )
    )
    seen: dict[str, set[str | None]] = {}
    for unit, district in rows:
        seen.setdefault(unit, set()).add(district)
    return {unit: name for unit, names in seen.items() if len(names) == 1 for name in names if name is not None}

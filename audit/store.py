"""Reading the journal, the case and its archived histories from PostgreSQL (a session in, nothing committed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from audit.chain import JournalRecord
from audit.verify import OfficialOnRecord
from db.models import AuditEventRow, CaseRow, OfficialRow, RoleAssignmentRow
from db.models_audit import WorkflowHistoryRow
from domain.access import RoleScope
from domain.stages import Role

JOURNAL_COLUMNS = [c for c in AuditEventRow.__table__.columns if c.key != "id"]


def _record(row: Any) -> JournalRecord:
    return JournalRecord.from_values(row._mapping)


async def load_journal(session: AsyncSession, case_id: str) -> list[JournalRecord]:
    rows = await session.execute(
        select(*JOURNAL_COLUMNS).where(AuditEventRow.case_id == case_id).order_by(AuditEventRow.seq)
    )
    return [_record(r) for r in rows]


async def stream_journals(session: AsyncSession) -> AsyncIterator[tuple[str, list[JournalRecord]]]:
    """Every case's journal, case by case, read in one ordered pass (for `verify --all`)."""
    result = await session.stream(
        select(*JOURNAL_COLUMNS).order_by(AuditEventRow.case_id, AuditEventRow.seq).execution_options(yield_per=2000)
    )
    case_id: str | None = None
    batch: list[JournalRecord] = []
    async for row in result:
        rec = _record(row)
        if rec.case_id != case_id:
            if case_id is not None:
                yield case_id, batch
            case_id, batch = rec.case_id, []
        batch.append(rec)
    if case_id is not None:
        yield case_id, batch


async def load_case(session: AsyncSession, case_id: str) -> CaseRow | None:
    return await session.get(CaseRow, case_id)


async def load_histories(session: AsyncSession, case_id: str, *, with_history: bool = True) -> list[WorkflowHistoryRow]:
    """The case's archived histories, oldest archive first."""
    stmt = select(WorkflowHistoryRow).where(WorkflowHistoryRow.case_id == case_id)
    if not with_history:
        stmt = stmt.options(defer(WorkflowHistoryRow.history, raiseload=True))
    rows = await session.execute(stmt.order_by(WorkflowHistoryRow.archived_at, WorkflowHistoryRow.id))
    return list(rows.scalars())


async def case_anchors(session: AsyncSession) -> dict[str, tuple[int, list[tuple[str, int | None, str | None]]]]:
    """For every case: its projected last seq and its archives' journal heads (run id, seq, hash)."""
    out: dict[str, tuple[int, list[tuple[str, int | None, str | None]]]] = {}
    for case_id, last_seq in await session.execute(select(CaseRow.id, CaseRow.last_seq)):
        out[case_id] = (last_seq, [])
    heads = await session.execute(
        select(
            WorkflowHistoryRow.case_id,
            WorkflowHistoryRow.run_id,
            WorkflowHistoryRow.journal_head_seq,
            WorkflowHistoryRow.journal_head_hash,
        )
    )
    for case_id, run_id, seq, digest in heads:
        if case_id in out:
            out[case_id][1].append((run_id, seq, digest))
    return out


async def case_provinces(session: AsyncSession) -> dict[str, str]:
    """Every case's province (a journal row names the unit only)."""
    return {case_id: province for case_id, province in await session.execute(select(CaseRow.id, CaseRow.province_code))}


async def officials_on_record(session: AsyncSession, ids: set[str] | None = None) -> dict[str, OfficialOnRecord]:
    """The officials named by `ids` (every official when None), with their role assignments as they stand."""
    stmt = select(
        OfficialRow.id,
        OfficialRow.created_at,
        RoleAssignmentRow.role,
        RoleAssignmentRow.province_code,
        RoleAssignmentRow.unit_code,
    ).outerjoin(RoleAssignmentRow, RoleAssignmentRow.official_id == OfficialRow.id)
    if ids is not None:
        stmt = stmt.where(OfficialRow.id.in_(sorted(ids)))
    created: dict[str, Any] = {}
    scopes: dict[str, list[RoleScope]] = {}
    for official_id, created_at, role, province, unit in await session.execute(stmt.order_by(RoleAssignmentRow.id)):
        created[official_id] = created_at
        held = scopes.setdefault(official_id, [])
        if role in {r.value for r in Role} and province is not None:
            held.append(RoleScope(role=Role(role), province_code=province, unit_code=unit))
    return {
        oid: OfficialOnRecord(official_id=oid, created_at=at, scopes=tuple(scopes[oid])) for oid, at in created.items()
    }

"""What the event log reads from PostgreSQL: a round's cases, units, tasks, officials and journal rows, streamed
through server-side cursors (a session in, nothing written). `provinces` None: every province of the round."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from audit.eventlog.mapping import JournalRow
from db.models import AuditEventRow, CaseRow, OfficialRow, TaskRow, UnitRow

YIELD_PER = 2000
# Actions that open a task (the new task was created at the row's time, at its `to_stage`).
OPENING = ("case_opened", "stage_opened", "commendation_due")


def _of_round(round_id: str, provinces: Collection[str] | None) -> ColumnElement[bool]:
    where = CaseRow.round_id == round_id
    return where if provinces is None else and_(where, CaseRow.province_code.in_(sorted(provinces)))


async def _stream(session: AsyncSession, stmt: Select[*tuple[Any, ...]]) -> AsyncIterator[dict[str, Any]]:
    result = await session.stream(stmt.execution_options(yield_per=YIELD_PER))
    async for row in result.mappings():
        yield dict(row)


async def journal_size(session: AsyncSession, round_id: str, provinces: Collection[str] | None) -> int:
    stmt = select(func.count()).select_from(AuditEventRow).join(CaseRow, CaseRow.id == AuditEventRow.case_id)
    return int(await session.scalar(stmt.where(_of_round(round_id, provinces))) or 0)


async def activity_keys(
    session: AsyncSession, round_id: str, provinces: Collection[str] | None
) -> list[tuple[str, str | None, str]]:
    """Every (action, from stage, to stage) the round's journal holds."""
    stmt = (
        select(AuditEventRow.action, AuditEventRow.from_stage, AuditEventRow.to_stage)
        .join(CaseRow, CaseRow.id == AuditEventRow.case_id)
        .where(_of_round(round_id, provinces))
        .distinct()
    )
    return [(a, f, t) for a, f, t in await session.execute(stmt)]


def cases(session: AsyncSession, round_id: str, provinces: Collection[str] | None) -> AsyncIterator[dict[str, Any]]:
    cols = [c for c in CaseRow.__table__.columns if c.key != "verdict"]
    return _stream(session, select(*cols).where(_of_round(round_id, provinces)).order_by(CaseRow.id))


def units(session: AsyncSession, round_id: str, provinces: Collection[str] | None) -> AsyncIterator[dict[str, Any]]:
    in_round = select(CaseRow.unit_code).where(_of_round(round_id, provinces))
    stmt = select(*UnitRow.__table__.columns).where(UnitRow.code.in_(in_round))
    return _stream(session, stmt.order_by(UnitRow.code))


def tasks(session: AsyncSession, round_id: str, provinces: Collection[str] | None) -> AsyncIterator[dict[str, Any]]:
    cols = [c for c in TaskRow.__table__.columns if c.key != "completion"]
    stmt = select(*cols).join(CaseRow, CaseRow.id == TaskRow.case_id).where(_of_round(round_id, provinces))
    return _stream(session, stmt.order_by(TaskRow.id))


async def officials(
    session: AsyncSession, round_id: str, provinces: Collection[str] | None, *, with_names: bool
) -> list[tuple[str, str | None]]:
    """The officials the round's journal and tasks name (actors, who completed a task), with their full names when
    asked for; an id the directory does not hold is kept with no name."""
    actors = (
        select(AuditEventRow.actor_id.label("id"))
        .join(CaseRow, CaseRow.id == AuditEventRow.case_id)
        .where(_of_round(round_id, provinces), AuditEventRow.actor_id.is_not(None))
    )
    completers = (
        select(TaskRow.completed_by.label("id"))
        .join(CaseRow, CaseRow.id == TaskRow.case_id)
        .where(_of_round(round_id, provinces), TaskRow.completed_by.is_not(None))
    )
    ids = union(actors, completers).subquery()
    name = OfficialRow.full_name if with_names else literal_column("NULL")
    stmt = select(ids.c.id, name).outerjoin(OfficialRow, OfficialRow.id == ids.c.id).order_by(ids.c.id)
    return [(i, n) for i, n in await session.execute(stmt)]


def _journal_stmt(round_id: str, provinces: Collection[str] | None, *, by_case: bool) -> Select[*tuple[Any, ...]]:
    touched = select(TaskRow.id).where(
        TaskRow.id == func.coalesce(AuditEventRow.task_id, AuditEventRow.payload["task_id"].astext)
    )
    opened = (
        select(TaskRow.id)
        .where(
            AuditEventRow.action.in_(OPENING) | AuditEventRow.action.endswith("_completed"),
            TaskRow.case_id == AuditEventRow.case_id,
            TaskRow.created_at == AuditEventRow.occurred_at,
            TaskRow.stage == AuditEventRow.to_stage,
        )
        .order_by(TaskRow.id)
        .limit(1)
    )
    stmt = (
        select(
            AuditEventRow.case_id,
            AuditEventRow.seq,
            AuditEventRow.action,
            AuditEventRow.actor_id,
            AuditEventRow.actor_role,
            AuditEventRow.unit_code,
            AuditEventRow.from_stage,
            AuditEventRow.to_stage,
            AuditEventRow.rule_set_id,
            CaseRow.round_id,
            AuditEventRow.occurred_at,
            touched.scalar_subquery().label("task_id"),
            opened.scalar_subquery().label("opened_task_id"),
            CaseRow.province_code,
            CaseRow.locality_type,
            CaseRow.outcome,
        )
        .join(CaseRow, CaseRow.id == AuditEventRow.case_id)
        .where(_of_round(round_id, provinces))
    )
    order = (
        (AuditEventRow.case_id, AuditEventRow.seq)
        if by_case
        else (AuditEventRow.occurred_at, AuditEventRow.case_id, AuditEventRow.seq)
    )
    return stmt.order_by(*order)


JOURNAL_FIELDS = frozenset(JournalRow.__dataclass_fields__)


async def journal(
    session: AsyncSession, round_id: str, provinces: Collection[str] | None, *, by_case: bool
) -> AsyncIterator[tuple[JournalRow, dict[str, Any]]]:
    """The round's journal rows in time order (or case by case, in seq order), each with its case's columns."""
    async for row in _stream(session, _journal_stmt(round_id, provinces, by_case=by_case)):
        yield JournalRow(**{k: v for k, v in row.items() if k in JOURNAL_FIELDS}), row

"""Archive a case's Temporal event history into PostgreSQL (workflow_histories), so it outlives the retention.

The case workflow calls `archive_history` as its last step: the history it fetches then ends with that activity's
scheduling (a history cannot hold its own completion). `xptt audit archive CASE` and
`POST /v1/audit/cases/{id}/archive` fetch again once the case is closed and store the complete history. One row per
(workflow_id, run_id): the longer history wins, a shorter or equal one changes nothing, so a retried activity is safe.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client

from audit.witness import history_facts
from contracts import ArchiveHistoryInput, ArchiveHistoryResult
from db.models import AuditEventRow
from db.models_audit import WorkflowHistoryRow

log = structlog.get_logger(__name__)


async def archive_case_history(
    client: Client, sessions: async_sessionmaker[AsyncSession], inp: ArchiveHistoryInput, *, now: datetime
) -> ArchiveHistoryResult:
    """Fetch the run's history from Temporal and keep the longest version of it (one transaction)."""
    history = await client.get_workflow_handle(inp.workflow_id, run_id=inp.run_id).fetch_history()
    data = history.to_json_dict()
    run_id = history.run_id
    async with sessions() as session, session.begin():
        replaced = await _keep_longest(session, inp.case_id, inp.workflow_id, run_id, data, now=now)
        stored = (
            await session.execute(
                select(WorkflowHistoryRow.sha256, WorkflowHistoryRow.event_count, WorkflowHistoryRow.complete).where(
                    WorkflowHistoryRow.workflow_id == inp.workflow_id, WorkflowHistoryRow.run_id == run_id
                )
            )
        ).one()
    log.info(
        "history_archived" if replaced else "history_archive_kept",
        case_id=inp.case_id,
        workflow_id=inp.workflow_id,
        run_id=run_id,
        events=stored.event_count,
        complete=stored.complete,
    )
    return ArchiveHistoryResult(
        case_id=inp.case_id,
        workflow_id=inp.workflow_id,
        run_id=run_id,
        sha256=stored.sha256,
        event_count=stored.event_count,
        complete=stored.complete,
        replaced=replaced,
    )


async def _keep_longest(
    session: AsyncSession, case_id: str, workflow_id: str, run_id: str, history: dict[str, Any], *, now: datetime
) -> bool:
    """Store the history of (workflow, run) with the journal head it saw, unless a version as long is stored;
    True when this one was stored."""
    facts = history_facts(history)
    head = (
        await session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash)
            .where(AuditEventRow.case_id == case_id)
            .order_by(AuditEventRow.seq.desc())
            .limit(1)
        )
    ).one_or_none()
    values = {
        "case_id": case_id,
        "workflow_id": workflow_id,
        "run_id": run_id,
        "archived_at": now,
        "history": history,
        "sha256": facts.sha256,
        "event_count": facts.event_count,
        "complete": facts.complete,
        "journal_head_seq": head.seq if head else None,
        "journal_head_hash": head.hash if head else None,
    }
    stmt = insert(WorkflowHistoryRow).values(**values)
    written = (
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[WorkflowHistoryRow.workflow_id, WorkflowHistoryRow.run_id],
                set_={k: stmt.excluded[k] for k in values if k not in ("workflow_id", "run_id", "case_id")},
                where=WorkflowHistoryRow.event_count < stmt.excluded.event_count,
            ).returning(WorkflowHistoryRow.id)
        )
    ).scalar_one_or_none()
    return written is not None


class HistoryArchive:
    """The archive activity; takes the Temporal client (to fetch histories) and the session factory."""

    def __init__(self, client: Client, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._client = client
        self._sessions = session_factory

    @activity.defn(name="archive_history")
    async def archive_history(self, inp: ArchiveHistoryInput) -> ArchiveHistoryResult:
        return await archive_case_history(self._client, self._sessions, inp, now=datetime.now(UTC))

"""The audit journal: every activity that records a decision, transition or action appends through here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow


class AuditEntry(BaseModel):
    """One journal row. (case_id, seq) is its business key: appending it twice stores it once."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    seq: int
    action: str
    actor_id: str | None
    actor_role: str | None
    unit_code: str
    from_stage: str | None
    to_stage: str
    task_id: str | None
    payload: dict[str, Any]
    reason: str | None
    rule_set_id: str
    workflow_id: str
    run_id: str | None
    update_id: str | None
    occurred_at: datetime


async def append_audit_event(session: AsyncSession, entry: AuditEntry) -> None:
    """Append inside the caller's transaction; a retried append of the same (case, seq) changes nothing."""
    await session.execute(
        insert(AuditEventRow)
        .values(**entry.model_dump())
        .on_conflict_do_nothing(index_elements=[AuditEventRow.case_id, AuditEventRow.seq])
    )

"""A case's timeline: its journal (transitions, officials' decisions with their payloads, escalations, reminders,
administrators' actions) and its notifications, in time order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow, CaseRow
from db.models_notify import NotificationRow

EventKind = Literal["transition", "decision", "escalation", "reminder", "admin_action", "notification"]
ADMIN_ACTIONS = {"due_extended", "task_reassigned", "case_held", "case_released", "case_withdrawn", "case_nudged"}


def kind_of(action: str) -> EventKind:
    if action.endswith("_completed"):
        return "decision"  # an official's form, with its payload
    if "escalat" in action or action == "task_stuck":
        return "escalation"
    if "remind" in action or "nudge" in action:
        return "reminder"
    if action in ADMIN_ACTIONS:
        return "admin_action"
    return "transition"


class TimelineEvent(BaseModel):
    at: datetime
    kind: EventKind
    action: str = Field(description="the journal's action, or the notification's kind")
    seq: int | None = Field(description="the journal row's sequence in the case; null for notifications")
    actor_id: str | None
    actor_role: str | None
    from_stage: str | None
    to_stage: str | None
    task_id: str | None
    reason: str | None
    payload: dict[str, Any]


async def timeline_of(session: AsyncSession, case: CaseRow) -> list[TimelineEvent]:
    journal = (
        await session.execute(select(AuditEventRow).where(AuditEventRow.case_id == case.id).order_by(AuditEventRow.seq))
    ).scalars()
    events = [
        TimelineEvent(
            at=a.occurred_at,
            kind=kind_of(a.action),
            action=a.action,
            seq=a.seq,
            actor_id=a.actor_id,
            actor_role=a.actor_role,
            from_stage=a.from_stage,
            to_stage=a.to_stage,
            task_id=a.task_id,
            reason=a.reason,
            payload=a.payload,
        )
        for a in journal
    ]
    notes = (
        await session.execute(
            select(NotificationRow).where(NotificationRow.case_id == case.id).order_by(NotificationRow.created_at)
        )
    ).scalars()
    events += [
        TimelineEvent(
            at=n.created_at,
            kind="notification",
            action=n.kind,
            seq=None,
            actor_id=None,
            actor_role=None,
            from_stage=None,
            to_stage=None,
            task_id=n.task_id,
            reason=n.last_error,
            payload={
                "notification_id": n.id,
                "recipient_id": n.official_id,
                "channel": n.channel,
                "status": n.status,
                "subject": n.subject,
                "attempts": n.attempts,
                "delivered_at": n.delivered_at.isoformat() if n.delivered_at else None,
                "failed_at": n.failed_at.isoformat() if n.failed_at else None,
            },
        )
        for n in notes
    ]
    events.sort(key=lambda e: (e.at, e.seq if e.seq is not None else 1 << 30))
    return events

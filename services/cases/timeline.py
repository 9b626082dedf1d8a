"""A case's timeline: its journal (transitions, officials' decisions with their payloads, escalations, reminders,
administrators' actions) and its notifications, in time order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEventRow, CaseRow
from db.models_notify import NotificationRow
from domain.attributes import from_row
from services.cases.queries import journal_of, notifications_of
from services.cases.schemas import EventKind, TimelineEvent

ADMIN_ACTIONS = {"due_extended", "task_reassigned", "case_held", "case_released", "case_withdrawn"}  # a nudge: reminder


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


def journal_event(a: AuditEventRow) -> TimelineEvent:
    return from_row(TimelineEvent, a, at=a.occurred_at, kind=kind_of(a.action))


def notification_event(n: NotificationRow) -> TimelineEvent:
    return TimelineEvent(
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


async def timeline_of(session: AsyncSession, case: CaseRow) -> list[TimelineEvent]:
    events = [journal_event(a) for a in await journal_of(session, case.id)]
    events += [notification_event(n) for n in await notifications_of(session, case.id)]
    events.sort(key=lambda e: (e.at, e.seq if e.seq is not None else 1 << 30))
    return events

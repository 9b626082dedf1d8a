"""Three grouped counts in one read-only transaction: the open tasks, the cases, the outbox's undelivered messages.
Each is answered from an index on its status (or a scan of `cases`, one row per unit and round) in milliseconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CaseRow, TaskRow
from db.models_notify import NotificationRow

# Outbox states still to be settled (`delivered` and `digested` only grow, and are not counted).
UNSETTLED = ("pending", "sending", "held", "failed")


@dataclass(frozen=True)
class TaskCounts:
    """Open tasks of one stage in one province: all of them, past their due time, escalated, stuck (the ladder
    passed with no one acting: `tasks.stuck`)."""

    stage: str
    province: str
    open: int
    overdue: int
    escalated: int
    stuck: int


@dataclass(frozen=True)
class CaseCounts:
    """Cases of one round in one province with one status and outcome ("none" while undecided); of the open ones,
    those stuck (`cases.problem`) and on hold."""

    round_id: str
    province: str
    status: str
    outcome: str
    cases: int
    stuck: int
    on_hold: int


@dataclass(frozen=True)
class OutboxCounts:
    status: str
    channel: str
    messages: int


@dataclass(frozen=True)
class Snapshot:
    tasks: list[TaskCounts] = field(default_factory=list)
    cases: list[CaseCounts] = field(default_factory=list)
    outbox: list[OutboxCounts] = field(default_factory=list)
    oldest_due_message: datetime | None = None  # the earliest `deliver_after` of a pending message now due


async def read_snapshot(session: AsyncSession, now: datetime) -> Snapshot:
    outbox, oldest = await _outbox(session, now)
    return Snapshot(
        tasks=await _tasks(session, now), cases=await _cases(session), outbox=outbox, oldest_due_message=oldest
    )


async def _tasks(session: AsyncSession, now: datetime) -> list[TaskCounts]:
    rows = await session.execute(
        select(
            TaskRow.stage,
            TaskRow.province_code,
            func.count(),
            func.count().filter(TaskRow.due_at < now),
            func.count().filter(TaskRow.escalation_level > 0),
            func.count().filter(TaskRow.stuck),
        )
        .where(TaskRow.status == "open")
        .group_by(TaskRow.stage, TaskRow.province_code)
    )
    return [TaskCounts(*row) for row in rows]


async def _cases(session: AsyncSession) -> list[CaseCounts]:
    opened = CaseRow.status == "open"
    rows = await session.execute(
        select(
            CaseRow.round_id,
            CaseRow.province_code,
            CaseRow.status,
            func.coalesce(CaseRow.outcome, "none"),
            func.count(),
            func.count().filter(opened, CaseRow.problem == "stuck"),
            func.count().filter(opened, CaseRow.on_hold),
        ).group_by(CaseRow.round_id, CaseRow.province_code, CaseRow.status, CaseRow.outcome)
    )
    return [CaseCounts(*row) for row in rows]


async def _outbox(session: AsyncSession, now: datetime) -> tuple[list[OutboxCounts], datetime | None]:
    """By status and channel; and the earliest `deliver_after` of the pending messages now due (a message waiting
    for its official's quiet hours to end is not late; one due and still pending is)."""
    due = func.min(NotificationRow.deliver_after).filter(
        NotificationRow.status == "pending", NotificationRow.deliver_after <= now
    )
    rows = await session.execute(
        select(NotificationRow.status, NotificationRow.channel, func.count(), due)
        .where(NotificationRow.status.in_(UNSETTLED))
        .group_by(NotificationRow.status, NotificationRow.channel)
    )
    counts, oldest = [], None
    for status, channel, n, first in rows:
        counts.append(OutboxCounts(status, channel, n))
        if first is not None and (oldest is None or first < oldest):
            oldest = first
    return counts, oldest

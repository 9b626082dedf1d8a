"""The administrators' stuck-approvals board: what is overdue, escalated, on hold, undelivered or failing, grouped and
counted by unit and stage, with the time each has spent in its stage.

Everything comes from PostgreSQL but one list call, so the board answers as fast for the nation as for a province.
Overdue, escalated and held come from the read model (one query each), and so do the open tasks whose role no active
official holds today over the unit (`no_holder`: "no one holds this role"; a task already overdue, escalated or stuck
is listed under that reason only); failed notifications from the outbox. Cases whose activities keep failing come
from `activity_failures`, kept by the worker's interceptor (activities/attempts.py): the read model cannot know what
never reached it. Cases whose workflow tasks keep failing come from Temporal, in one list call on its own
`TemporalReportedProblems` search attribute (services/board/failures.py); no workflow is described (the former scan,
which described every running case, is kept in services/board/describe.py to test against). A case with no task,
waiting for its stage to open (a registered unit striving until self-assessment opens), is not stuck: it is only
counted, on a line of its own among the open cases by stage.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from db.models import CaseRow, TaskRow
from db.models_notify import NotificationRow
from domain.rounds import parse_round
from domain.stages import Stage
from notify.inbox import FailedNotification
from services.access import Principal, require_oversight
from services.board import failures, queries
from services.board.schemas import (
    BoardGroup,
    BoardOut,
    BoardView,
    FailedNotice,
    Reason,
    RoundLine,
    StageLine,
    StuckItem,
)
from services.officials.coverage import province_coverage
from services.officials.rules import role_label
from services.rounds.queries import unit_count
from services.targets import target_in_force

FAILED_NOTICES_SHOWN = 50

COLUMN: dict[Reason, str] = {
    "overdue": "overdue",
    "escalated": "escalated",
    "stuck": "stuck",
    "on_hold": "on_hold",
    "failed_notification": "failed_notifications",
    "failing_activity": "failing_activities",
    "no_holder": "no_holder",
}
ROLE_GAPS_SHOWN = 20


async def board(
    session: AsyncSession,
    temporal: Client,
    principal: Principal,
    *,
    province: str | None = None,
    min_attempts: int = 3,
    failing: bool = True,
    limit: int = 200,
    now: datetime,
) -> BoardOut:
    """What is stuck in one of the official's provinces (None: all of them); `failing`: the cases whose activities or
    workflow tasks keep failing too."""
    provinces = sorted(require_oversight(principal, province))
    problems = await failures.reported_problems(temporal, provinces) if failing else []  # before any connection
    late = await queries.late_tasks(session, provinces, now)
    held = await queries.held_cases(session, provinces)
    undelivered = await queries.failed_notifications(session, provinces)
    unheld = await queries.unheld_tasks(session, provinces, now)
    items = [
        *(_task_item(task, unit_name, now) for task, unit_name in late),
        *(_task_item(task, unit_name, now, reason="no_holder") for task, unit_name in unheld),
        *(_held_item(case, unit_name, since, now) for case, unit_name, since in held),
        *(_notification_item(note, stage, unit_name) for note, stage, unit_name in undelivered),
    ]
    by_stage = _stage_lines(await queries.open_cases_by_line(session, provinces))
    if failing:
        items += await failures.failing_activities(session, provinces, min_attempts=min_attempts, now=now)
        items += await failures.problem_items(session, problems, now)
    return _assemble(now, provinces, items, limit, by_stage)


async def board_view(
    session: AsyncSession, temporal: Client, principal: Principal, *, province: str | None, now: datetime
) -> BoardView:
    """The board page: the board (with the open cases by stage), the rounds of the provinces and the provinces' names,
    and the notifications that failed (listed apart: they have no time in stage to rank them among the stuck
    cases)."""
    stuck = await board(session, temporal, principal, province=province, now=now)
    undelivered = await queries.failed_notifications(session, stuck.provinces)
    gaps = [g for p in stuck.provinces for g in (await province_coverage(session, p, now=now)).gaps]
    return BoardView(
        board=stuck,
        failed_notifications=[_notice(note, name) for note, _, name in undelivered[:FAILED_NOTICES_SHOWN]],
        rounds=await _round_lines(session, stuck.provinces),
        province_names=await queries.province_names(session, stuck.provinces),
        role_gaps=len(gaps),
        first_role_gaps=gaps[:ROLE_GAPS_SHOWN],
    )


async def _round_lines(session: AsyncSession, provinces: list[str]) -> list[RoundLine]:
    """Each round of the provinces, latest assessment first, with the share of the province's units recognised so
    far and the target in force for its year."""
    units = {p: await unit_count(session, p) for p in provinces}
    lines = []
    for round_id, province, recognised in await queries.rounds_with_cases(session, provinces):
        target = await target_in_force(session, province, parse_round(round_id).year)
        n = units.get(province, 0)
        lines.append(
            RoundLine(
                round_id=round_id,
                province=province,
                recognised=recognised,
                units=n,
                share=recognised / n if n else None,
                target=target.share if target else None,
            )
        )
    return sorted(lines, key=lambda x: (-parse_round(x.round_id).assessment_start.toordinal(), x.province))


def _stage_lines(counts: list[tuple[str, str, int]]) -> list[StageLine]:
    """In the order of the procedure; a stage's waiting line (its task not open yet) before its working one."""
    order = [s.value for s in Stage]
    lines = [StageLine(line=line, stage=stage, cases=n) for line, stage, n in counts]
    return sorted(lines, key=lambda x: (order.index(x.stage) if x.stage in order else 99, x.line == x.stage))


def _seconds(since: datetime | None, now: datetime) -> int | None:
    return int((now - since).total_seconds()) if since else None


def _item(
    reason: Reason,
    case_id: str,
    unit_code: str,
    unit_name: str,
    stage: str,
    since: datetime | None,
    seconds_in_stage: int | None,
    *,
    task_id: str | None = None,
    due_at: datetime | None = None,
    escalation_level: int | None = None,
    detail: str | None = None,
) -> StuckItem:
    return StuckItem(
        reason=reason,
        case_id=case_id,
        task_id=task_id,
        unit_code=unit_code,
        unit_name=unit_name,
        stage=stage,
        since=since,
        seconds_in_stage=seconds_in_stage,
        due_at=due_at,
        escalation_level=escalation_level,
        detail=detail,
    )


def _task_item(task: TaskRow, unit_name: str, now: datetime, *, reason: Reason | None = None) -> StuckItem:
    """A late task (overdue, escalated, stuck), or an open task whose role no one holds (`no_holder`, naming the
    role)."""
    if reason is None:
        reason = "stuck" if task.stuck else "escalated" if task.escalation_level else "overdue"
    detail = f"escalated to {task.escalated_to}" if task.escalated_to else None
    return _item(
        reason,
        task.case_id,
        task.unit_code,
        unit_name,
        task.stage,
        task.created_at,
        _seconds(task.created_at, now),
        task_id=task.id,
        due_at=task.due_at,
        escalation_level=task.escalation_level,
        detail=role_label(task.role) if reason == "no_holder" else detail,
    )


def _held_item(case: CaseRow, unit_name: str, task_since: datetime | None, now: datetime) -> StuckItem:
    since = task_since or case.updated_at
    return _item(
        "on_hold", case.id, case.unit_code, unit_name, case.stage, since, _seconds(since, now), detail=case.problem
    )


def _notification_item(note: NotificationRow, stage: str | None, unit_name: str | None) -> StuckItem:
    unit = note.unit_code or ""
    return _item(
        "failed_notification",
        note.case_id or "",
        unit,
        unit_name or unit,
        stage or "",
        note.failed_at or note.created_at,
        None,
        task_id=note.task_id,
        detail=_notification_detail(note),
    )


def _notification_detail(note: NotificationRow) -> str:
    """E.g. `task_assigned by email to demo-officer-33001 <a@@b.vn>, 1 attempt: invalid_address: …`."""
    to = f"{note.official_id} <{note.address}>" if note.address else note.official_id
    attempts = f"{note.attempts} attempt{'' if note.attempts == 1 else 's'}"
    return f"{note.kind} by {note.channel} to {to}, {attempts}: {note.last_error or 'failed'}"


def failure_code(error: str | None) -> str:
    """The stable code an outbox error starts with (`invalid_address: …`, `retries exhausted: …`), else `failed`."""
    head = (error or "").split(":", 1)[0].strip()
    return head.replace(" ", "_") if re.fullmatch(r"[a-z][a-z_ ]*", head) else "failed"


def _notice(note: NotificationRow, unit_name: str | None) -> FailedNotice:
    failed = FailedNotification.model_validate(note)
    return FailedNotice(**failed.model_dump(), unit_name=unit_name, code=failure_code(note.last_error))


def _assemble(
    now: datetime, provinces: list[str], items: list[StuckItem], limit: int, by_stage: list[StageLine]
) -> BoardOut:
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMN.values(), 0))
    names: dict[str, str] = {}
    oldest: dict[tuple[str, str], int] = {}
    totals: dict[Reason, int] = dict.fromkeys(COLUMN, 0)
    for item in items:
        key = (item.unit_code, item.stage)
        counts[key][COLUMN[item.reason]] += 1
        totals[item.reason] += 1
        names[item.unit_code] = item.unit_name
        if item.seconds_in_stage is not None:
            oldest[key] = max(oldest.get(key, 0), item.seconds_in_stage)
    groups = [
        BoardGroup(
            unit_code=unit, unit_name=names[unit], stage=stage, max_seconds_in_stage=oldest.get((unit, stage)), **c
        )
        for (unit, stage), c in counts.items()
    ]
    groups.sort(key=lambda g: (-sum(counts[(g.unit_code, g.stage)].values()), g.unit_code, g.stage))
    items.sort(key=lambda i: (-(i.seconds_in_stage or 0), i.case_id, i.reason))
    return BoardOut(
        generated_at=now, provinces=provinces, totals=totals, open_by_stage=by_stage, groups=groups, items=items[:limit]
    )

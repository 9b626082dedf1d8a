"""The stays of a round's cases, read from the journal in one statement (window functions), with each stay's task
from `tasks`.

How the journal tells a stay (domain/case.py, domain/deadlines.py, domain/admin.py): every row names the stage the
case stands at after it (`to_stage`); a row whose `to_stage` differs from the previous row's enters a stage (the
first is `case_opened`), so the running count of such rows numbers the case's visits. A visit's clock starts at its
`stage_opened` row when the case waited there with no task (registered and striving until self-assessment opens),
else at its first row; it ends at the next visit's first row, whose action says how it ended (`<stage>_completed`,
`commendation_checked`, `deadline_closed`, `case_withdrawn`...). Escalations are `task_escalated` rows (or the
task's `escalation_level`); returns are `appraisal_completed` rows back to `dossier_submission`; objections are the
`objections` listed by a `public_posting_completed` row. The stay's task is the one of its case and stage created
within the visit: its `due_at` is the due time the stay is judged against.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.stage_times import CaseStays, Stay, StayEnd
from domain.stages import LocalityType, Stage

STAYS = text(
    """
WITH ev AS (
    SELECT e.case_id, e.seq, e.action, e.to_stage, e.occurred_at,
           c.unit_code, c.province_code, c.locality_type,
           CASE WHEN lag(e.to_stage) OVER w IS DISTINCT FROM e.to_stage THEN 1 ELSE 0 END AS enters,
           CASE WHEN e.action = 'appraisal_completed' AND e.to_stage = 'dossier_submission'
                THEN 1 ELSE 0 END AS returned,
           CASE WHEN e.action = 'public_posting_completed' AND jsonb_typeof(e.payload -> 'objections') = 'array'
                THEN jsonb_array_length(e.payload -> 'objections') ELSE 0 END AS objections
    FROM audit_events e
    JOIN cases c ON c.id = e.case_id
    WHERE c.round_id = :round_id
      AND (CAST(:every_province AS boolean) OR c.province_code = ANY(CAST(:provinces AS text[])))
      AND (CAST(:locality_type AS text) IS NULL OR c.locality_type = CAST(:locality_type AS text))
    WINDOW w AS (PARTITION BY e.case_id ORDER BY e.seq)
), visits AS (
    SELECT ev.*, sum(enters) OVER (PARTITION BY case_id ORDER BY seq) AS visit FROM ev
), stays AS (
    SELECT case_id, visit,
           min(unit_code) AS unit_code, min(province_code) AS province_code, min(locality_type) AS locality_type,
           min(to_stage) AS stage,
           min(occurred_at) AS entered_at,
           min(occurred_at) FILTER (WHERE action = 'stage_opened') AS opened_at,
           (array_agg(action ORDER BY seq))[1] AS entered_by,
           bool_or(action = 'task_escalated') AS escalated,
           sum(returned) AS returns, sum(objections) AS objections
    FROM visits
    GROUP BY case_id, visit
), bounded AS (
    SELECT stays.*,
           lead(entered_at) OVER v AS left_at,
           lead(entered_by) OVER v AS left_by
    FROM stays
    WINDOW v AS (PARTITION BY case_id ORDER BY visit)
)
SELECT b.case_id, b.visit, b.unit_code, b.province_code, b.locality_type, b.stage,
       coalesce(b.opened_at, b.entered_at) AS started_at, b.left_at, b.left_by,
       t.due_at, b.escalated OR coalesce(t.escalation_level, 0) > 0 AS escalated,
       b.returns, b.objections
FROM bounded b
LEFT JOIN LATERAL (
    SELECT tasks.due_at, tasks.escalation_level
    FROM tasks
    WHERE tasks.case_id = b.case_id AND tasks.stage = b.stage AND tasks.created_at >= b.entered_at
      AND (b.left_at IS NULL OR tasks.created_at < b.left_at)
    ORDER BY tasks.created_at
    LIMIT 1
) t ON true
ORDER BY b.case_id, b.visit
"""
)


def _ended_by(action: str | None) -> StayEnd | None:
    """How the row that left the stage says it ended: None while the case is still there."""
    if action is None:
        return None
    if action.endswith("_completed") or action == "commendation_checked":
        return StayEnd.COMPLETED
    if action == "deadline_closed":
        return StayEnd.DEADLINE
    return StayEnd.OTHER


def _cases(rows: Sequence[Mapping[Any, Any]]) -> list[CaseStays]:
    """The rows (one per visit, in case and visit order) as cases with their stays; a visit to `closed` is none."""
    by_case: dict[str, dict[str, Any]] = {}
    for r in rows:
        case = by_case.setdefault(
            r["case_id"],
            {
                "case_id": r["case_id"],
                "unit_code": r["unit_code"],
                "province_code": r["province_code"],
                "locality_type": LocalityType(r["locality_type"]),
                "stays": [],
                "returns": 0,
                "objections": 0,
            },
        )
        case["returns"] += int(r["returns"])
        case["objections"] += int(r["objections"])
        if r["stage"] == Stage.CLOSED.value:
            continue
        case["stays"].append(
            Stay(
                stage=Stage(r["stage"]),
                started_at=r["started_at"],
                ended_at=r["left_at"],
                ended_by=_ended_by(r["left_by"]),
                due_at=r["due_at"],
                escalated=bool(r["escalated"]),
            )
        )
    return [CaseStays(**c) for c in by_case.values()]


async def case_stays(
    session: AsyncSession, round_id: str, *, provinces: set[str] | None, locality_type: LocalityType | None
) -> list[CaseStays]:
    """The cases of the round in `provinces` (None: every province), of one locality type or all, with their stays."""
    params = {
        "round_id": round_id,
        "every_province": provinces is None,
        "provinces": sorted(provinces or ()),
        "locality_type": locality_type.value if locality_type else None,
    }
    rows = (await session.execute(STAYS, params)).mappings().all()
    return _cases(rows)

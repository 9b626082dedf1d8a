"""What an event log of a round must hold, counted straight from the database (not through the exporter's queries),
and what pm4py reads back from a file, in the same shape."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

ROUND_CASES = "SELECT id FROM cases WHERE round_id = :r AND (CAST(:p AS text[]) IS NULL OR province_code = ANY(:p))"


@dataclass
class Expected:
    actions: Counter[str]  # events per journal action
    objects: Counter[str]  # objects per type
    qualifiers: Counter[str]  # event-to-object links per qualifier (those every row has, or not)
    traces: dict[str, list[str]]  # case id -> its actions in seq order


async def expected(session: AsyncSession, round_id: str, provinces: list[str] | None = None) -> Expected:
    params: dict[str, Any] = {"r": round_id, "p": provinces}
    rows = (
        await session.execute(
            text(
                "SELECT case_id, seq, action, actor_id, task_id, payload ? 'task_id' AS changes_task "
                f"FROM audit_events WHERE case_id IN ({ROUND_CASES}) ORDER BY case_id, seq"
            ),
            params,
        )
    ).all()
    traces: dict[str, list[str]] = {}
    for r in rows:
        traces.setdefault(r.case_id, []).append(r.action)
    one = await session.execute(
        text(
            f"SELECT (SELECT count(*) FROM cases WHERE id IN ({ROUND_CASES})), "
            f"(SELECT count(DISTINCT unit_code) FROM cases WHERE id IN ({ROUND_CASES})), "
            f"(SELECT count(*) FROM tasks WHERE case_id IN ({ROUND_CASES})), "
            f"(SELECT count(*) FROM (SELECT actor_id FROM audit_events WHERE case_id IN ({ROUND_CASES}) "
            f"  AND actor_id IS NOT NULL UNION SELECT completed_by FROM tasks WHERE case_id IN ({ROUND_CASES}) "
            f"  AND completed_by IS NOT NULL) o)"
        ),
        params,
    )
    cases, units, tasks, officials = one.one()
    return Expected(
        actions=Counter(r.action for r in rows),
        objects=Counter(
            {"case": cases, "unit": units, "task": tasks, "official": officials, "round": 1, "rule_set": 1}
        ),
        qualifiers=Counter(
            {
                "subject": len(rows),
                "unit": len(rows),
                "round": len(rows),
                "rule set": len(rows),
                "actor": sum(1 for r in rows if r.actor_id),
                "task": sum(1 for r in rows if r.task_id or r.changes_task),
            }
        ),
        traces=traces,
    )


@dataclass
class ReadBack:
    actions: Counter[str]
    objects: Counter[str]
    qualifiers: Counter[str]
    activities: Counter[str]
    ocel: Any


def read_ocel(path: Path, *, sqlite: bool) -> ReadBack:
    """The OCEL file as pm4py reads it (imported here: pm4py is slow to import, and a test-only dependency)."""
    import pm4py

    ocel = pm4py.read_ocel2_sqlite(str(path)) if sqlite else pm4py.read_ocel2_json(str(path))
    activities = Counter(ocel.events["ocel:activity"])
    actions: Counter[str] = Counter()
    for name, n in activities.items():
        actions[name.split(":")[0]] += n
    return ReadBack(
        actions=actions,
        objects=Counter(ocel.objects["ocel:type"]),
        qualifiers=Counter(q for q in ocel.relations["ocel:qualifier"] if q != "opened task"),
        activities=activities,
        ocel=ocel,
    )


def read_traces(path: Path) -> dict[str, list[str]]:
    """The XES file's traces as pm4py reads them: case id -> activities in file order."""
    import pm4py

    frame = pm4py.read_xes(str(path))
    traces: dict[str, list[str]] = {}
    for case_id, name in zip(frame["case:concept:name"], frame["concept:name"], strict=True):
        traces.setdefault(str(case_id), []).append(str(name))
    return traces

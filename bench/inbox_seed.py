"""The inbox benchmark's data, seeded in SQL (no workflow runs; seconds, not an hour): the 34 real provinces and 10,035
synthetic units over them, as many rounds as it takes to give `--tasks` open cases (one per unit and round, each with
one open task), each case at a stage of its own with the earlier stages' tasks completed, open tasks due over about
seven weeks around now, and the officials of every unit and province with their role assignments (bench/README.md).
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bench.round_open import insert_places, synthetic_units
from bench.stack import Stack

UNITS = 10035
FIRST_YEAR = 2027

# (stage, role, share of the open cases in percent): where a round's cases stand on a day of the window.
STAGES = [
    ("registration", "commune_officer", 10),
    ("self_assessment", "commune_officer", 20),
    ("council_assessment", "council_chair", 12),
    ("public_posting", "commune_officer", 10),
    ("dossier_submission", "commune_officer", 20),
    ("appraisal", "appraiser", 13),
    ("decision", "chairman", 10),
    ("commendation", "chairman", 5),  # one in five of these goes to the provincial chairman
]
ESCALATES_TO = {"commune_officer": "commune_chairman", "council_chair": "commune_chairman", "appraiser": "chairman"}


def _stage_case() -> str:
    """SQL: the stage number (1-8) of a case from the hash h of its id, by the shares above."""
    arms, upper = [], 0
    for n, (_, _, share) in enumerate(STAGES, start=1):
        upper += share
        arms.append(f"WHEN h % 100 < {upper} THEN {n}")
    return "CASE " + " ".join(arms) + " END"


SEED_SQL = [
    # rounds: as many as it takes for the open cases (one per unit and round)
    """
    INSERT INTO rounds (id, rule_set_id, profile_id, year, period_start, period_end)
    SELECT 'qd06-2019:' || (:first_year + r), 'qd06-2019', 'two-tier', :first_year + r,
           make_date(:first_year + r, 1, 1), make_date(:first_year + r, 12, 31)
    FROM generate_series(0, :rounds - 1) AS r
    """,
    # cases: the first :tasks (unit, round) pairs, each at a stage drawn from its id
    f"""
    INSERT INTO cases (id, unit_code, province_code, round_id, rule_set_id, profile_id, locality_type, stage, status,
                       last_seq, opened_at, updated_at)
    SELECT id, code, province_code, round_id, 'qd06-2019', 'two-tier', locality_type,
           (ARRAY[:stages])[{_stage_case()}], 'open', 1, CAST(:now AS timestamptz) - interval '60 days', :now
    FROM (
        SELECT 'qd06-2019:' || (:first_year + r) || '-' || u.code AS id, u.code, u.province_code, u.locality_type,
               'qd06-2019:' || (:first_year + r) AS round_id,
               abs(hashtext(u.code || ':' || r)) AS h
        FROM generate_series(0, :rounds - 1) AS r CROSS JOIN units u
        ORDER BY r, u.code
        LIMIT :tasks
    ) c
    """,
    # the open task of each case, at its stage
    """
    INSERT INTO tasks (id, case_id, stage, role, unit_code, province_code, status, assignee_id, escalation_level,
                       escalated_to, created_at, due_at)
    SELECT c.id || '-t' || lpad(n::text, 2, '0'), c.id, c.stage, t.role, c.unit_code, c.province_code, 'open',
           CASE WHEN t.role = 'commune_officer' AND d % 33 = 0 THEN 'bench-officer-' || c.unit_code END,
           CASE WHEN t.overdue AND d % 3 = 0 AND t.role IN ('commune_officer', 'council_chair', 'appraiser')
                THEN 1 ELSE 0 END,
           CASE WHEN t.overdue AND d % 3 = 0 THEN (CAST(:escalates AS jsonb) ->> t.role) END,
           CAST(:now AS timestamptz) - make_interval(days => 1 + d % 20),
           t.due_at
    FROM cases c
    CROSS JOIN LATERAL (SELECT array_position(ARRAY[:stages], c.stage) AS n,
                               abs(hashtext(c.id || '|due')) AS d) k
    CROSS JOIN LATERAL (
        SELECT CASE WHEN c.stage = 'commendation' AND d % 5 = 0 THEN 'provincial_chairman'
                    ELSE (ARRAY[:roles])[n] END AS role,
               CASE WHEN d % 50 = 0 THEN NULL
                    ELSE CAST(:now AS timestamptz) + make_interval(mins => d % 72000 - 10800) END AS due_at,
               d % 50 <> 0 AND d % 72000 < 10800 AS overdue
    ) t
    """,
    # the completed tasks of the stages each case has passed
    """
    INSERT INTO tasks (id, case_id, stage, role, unit_code, province_code, status, escalation_level, created_at,
                       due_at, completed_at, completed_by)
    SELECT c.id || '-t' || lpad(n::text, 2, '0'), c.id, (ARRAY[:stages])[n], (ARRAY[:roles])[n], c.unit_code,
           c.province_code, 'completed', 0,
           CAST(:now AS timestamptz) - make_interval(days => 60 - 6 * n),
           CAST(:now AS timestamptz) - make_interval(days => 50 - 6 * n),
           CAST(:now AS timestamptz) - make_interval(days => 52 - 6 * n),
           'bench-officer-' || c.unit_code
    FROM cases c
    CROSS JOIN LATERAL generate_series(1, array_position(ARRAY[:stages], c.stage) - 1) AS n
    """,
    # officials: each unit's three commune roles, each province's five province roles
    """
    INSERT INTO officials (id, full_name, active)
    SELECT 'bench-' || k || '-' || u.code, 'Cán bộ ' || k || ' ' || u.code, true
    FROM units u CROSS JOIN unnest(ARRAY['officer', 'council', 'cchair']) AS k
    UNION ALL
    SELECT 'bench-' || k || '-' || p.code, 'Cán bộ ' || k || ' tỉnh ' || p.code, true
    FROM provinces p CROSS JOIN unnest(ARRAY['appraiser', 'chairman', 'pchairman', 'admin', 'auditor']) AS k
    """,
    """
    INSERT INTO role_assignments (official_id, role, province_code, unit_code)
    SELECT 'bench-' || k.short || '-' || u.code, k.role, u.province_code, u.code
    FROM units u CROSS JOIN (VALUES ('officer', 'commune_officer'), ('council', 'council_chair'),
                                    ('cchair', 'commune_chairman')) AS k(short, role)
    UNION ALL
    SELECT 'bench-' || k.short || '-' || p.code, k.role, p.code, NULL
    FROM provinces p CROSS JOIN (VALUES ('appraiser', 'appraiser'), ('chairman', 'chairman'),
                                        ('pchairman', 'provincial_chairman'), ('admin', 'admin'),
                                        ('auditor', 'auditor')) AS k(short, role)
    """,
]


async def seed(stack: Stack, tasks: int) -> dict[str, Any]:
    units = synthetic_units(UNITS)
    rounds = math.ceil(tasks / len(units))
    stages = [s for s, _, _ in STAGES]
    roles = [r for _, r, _ in STAGES]
    started = time.monotonic()
    async with stack.sessions() as session, session.begin():
        await insert_places(session, units)
        params = {
            "first_year": FIRST_YEAR,
            "rounds": rounds,
            "tasks": tasks,
            "now": datetime.now(UTC),
            "escalates": json.dumps(ESCALATES_TO),
        }
        for sql in SEED_SQL:
            sql = sql.replace(":stages", ", ".join(f"'{s}'" for s in stages))
            sql = sql.replace(":roles", ", ".join(f"'{r}'" for r in roles))
            await session.execute(text(sql), params)
    async with stack.sessions() as session, session.begin():  # committed: ANALYZE's statistics are transactional
        await session.execute(text("ANALYZE"))
    async with stack.sessions() as session:
        found = await session.execute(text("SELECT status, count(*) FROM tasks GROUP BY status"))
        counts: dict[str, int] = {status: n for status, n in found}
        overdue = await session.scalar(text("SELECT count(*) FROM tasks WHERE status = 'open' AND due_at < now()"))
        officials = await session.scalar(text("SELECT count(*) FROM officials"))
    return {
        "units": len(units),
        "rounds": rounds,
        "open_tasks": counts.get("open", 0),
        "completed_tasks": counts.get("completed", 0),
        "overdue_open_tasks": overdue,
        "officials": officials,
        "seed_seconds": round(time.monotonic() - started, 1),
    }

"""Benchmark: the administrators' board — `GET /v1/board` over real HTTP for the largest province and the nation.

    .venv/bin/python -m bench.board [--units 10035] [--requests 200] [--out board]

Seeded in SQL (no workflow runs): the 34 real provinces and `--units` synthetic units over them (codes from 40000 up,
in proportion to each province's units today, as the other benchmarks), one case per unit in round qd06-2019:2027 at
a stage drawn from its id with its open task, the officials of every unit and province (so no task lacks a holder),
and 5% of the cases stuck: 2% overdue, 1% escalated, 1% on hold, 1% with an activity that keeps failing (an
`activity_failures` row as the worker's interceptor writes it, half of them naming only the case, so the board's
query falls back on the case's and the unit's rows). An administrator of the whole nation holds the admin role in
each of the 34 provinces (`require_oversight`: the board without `province` covers every province of the official).

Two phases, one after the other, each `--requests` requests from one client on one keep-alive connection after a
short warm-up: the province with the most units (`province=` its code, its own administrator), then the national view
(no `province`, the national administrator). Each asks the whole board (`failing=true`: the failing activities from
PostgreSQL and one list call to Temporal for the workflow tasks Temporal flags). Figures: p50, p95, p99, max, mean in
ms against the target (p95 ≤ 200 ms), the totals the board answered (checked against what was seeded), CPU
milliseconds per request of the API and PostgreSQL, and the load average. Writes bench/results/<out>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from bench.inbox import cpu_now, load_average, quantiles_ms
from bench.round_open import insert_places, synthetic_units
from bench.stack import JWT_SECRET, Stack, bench_stack, write_result
from infra.tokens import issue_token

TARGET_P95_MS = 200
ROUND = "qd06-2019:2027"
# (stage, role of its task), a case's stage drawn from its id
STAGES = [
    ("registration", "commune_officer"),
    ("self_assessment", "commune_officer"),
    ("council_assessment", "council_chair"),
    ("public_posting", "commune_officer"),
    ("dossier_submission", "commune_officer"),
    ("appraisal", "appraiser"),
    ("decision", "chairman"),
]
# A case's lot from the hash s (0-99) of its id: 0-1 overdue, 2 escalated, 3 on hold, 4 failing activity.
SEED_SQL = [
    """
    INSERT INTO rounds (id, rule_set_id, profile_id, year, period_start, period_end)
    VALUES (:round, 'qd06-2019', 'two-tier', 2027, DATE '2027-01-01', DATE '2027-12-31')
    """,
    """
    INSERT INTO cases (id, unit_code, province_code, round_id, rule_set_id, profile_id, locality_type, stage, status,
                       last_seq, on_hold, problem, opened_at, updated_at)
    SELECT :round || '-' || u.code, u.code, u.province_code, :round, 'qd06-2019', 'two-tier', u.locality_type,
           (ARRAY[:stages])[1 + abs(hashtext(u.code)) % 7], 'open', 1,
           abs(hashtext(u.code || '|stuck')) % 100 = 3,
           CASE WHEN abs(hashtext(u.code || '|stuck')) % 100 = 3 THEN 'on_hold' END,
           CAST(:now AS timestamptz) - interval '60 days', CAST(:now AS timestamptz) - interval '2 days'
    FROM units u
    """,
    """
    INSERT INTO tasks (id, case_id, stage, role, unit_code, province_code, status, escalation_level, escalated_to,
                       created_at, due_at)
    SELECT c.id || '-t01', c.id, c.stage, (ARRAY[:roles])[array_position(ARRAY[:stages], c.stage)], c.unit_code,
           c.province_code, 'open',
           CASE WHEN s = 2 THEN 1 ELSE 0 END, CASE WHEN s = 2 THEN 'commune_chairman' END,
           CAST(:now AS timestamptz) - make_interval(days => 3 + s % 20),
           CAST(:now AS timestamptz) + CASE WHEN s < 3 THEN -make_interval(days => 1 + s) ELSE interval '10 days' END
    FROM cases c CROSS JOIN LATERAL (SELECT abs(hashtext(c.unit_code || '|stuck')) % 100 AS s) k
    """,
    """
    INSERT INTO activity_failures (workflow_id, activity_type, workflow_type, run_id, case_id, unit_code,
                                   province_code, stage, failed_attempt, last_error, first_failed_at, last_failed_at)
    SELECT c.id, 'record_transition', 'RecognitionCaseWorkflow', NULL, c.id,
           CASE WHEN h % 2 = 0 THEN c.unit_code END, CASE WHEN h % 2 = 0 THEN c.province_code END,
           CASE WHEN h % 2 = 0 THEN c.stage END,
           2 + h % 8, 'connection to the read model refused',
           CAST(:now AS timestamptz) - interval '40 minutes', CAST(:now AS timestamptz) - interval '20 seconds'
    FROM cases c CROSS JOIN LATERAL (SELECT abs(hashtext(c.id)) AS h) k
    WHERE abs(hashtext(c.unit_code || '|stuck')) % 100 = 4
    """,
    """
    INSERT INTO officials (id, full_name, active)
    SELECT 'bench-' || k || '-' || u.code, 'Cán bộ ' || k || ' ' || u.code, true
    FROM units u CROSS JOIN unnest(ARRAY['officer', 'council', 'cchair']) AS k
    UNION ALL
    SELECT 'bench-' || k || '-' || p.code, 'Cán bộ ' || k || ' tỉnh ' || p.code, true
    FROM provinces p CROSS JOIN unnest(ARRAY['appraiser', 'chairman', 'admin']) AS k
    UNION ALL
    SELECT 'bench-admin-all', 'Quản trị toàn quốc', true
    """,
    """
    INSERT INTO role_assignments (official_id, role, province_code, unit_code)
    SELECT 'bench-' || k.short || '-' || u.code, k.role, u.province_code, u.code
    FROM units u CROSS JOIN (VALUES ('officer', 'commune_officer'), ('council', 'council_chair'),
                                    ('cchair', 'commune_chairman')) AS k(short, role)
    UNION ALL
    SELECT 'bench-' || k.short || '-' || p.code, k.role, p.code, NULL
    FROM provinces p CROSS JOIN (VALUES ('appraiser', 'appraiser'), ('chairman', 'chairman'),
                                        ('admin', 'admin')) AS k(short, role)
    UNION ALL
    SELECT 'bench-admin-all', 'admin', p.code, NULL FROM provinces p
    """,
]
COUNTS_SQL = """
    SELECT count(*) FILTER (WHERE t.due_at < now() AND t.escalation_level = 0) AS overdue,
           count(*) FILTER (WHERE t.escalation_level > 0) AS escalated,
           (SELECT count(*) FROM cases WHERE on_hold AND (:province = '' OR province_code = :province)) AS on_hold,
           (SELECT count(*) FROM activity_failures f JOIN cases c ON c.id = f.case_id
            WHERE :province = '' OR c.province_code = :province) AS failing_activity
    FROM tasks t WHERE t.status = 'open' AND (:province = '' OR t.province_code = :province)
"""


async def seed(stack: Stack, n: int) -> dict[str, Any]:
    units = synthetic_units(n)
    started = time.monotonic()
    async with stack.sessions() as session, session.begin():
        await insert_places(session, units)
        for sql in SEED_SQL:
            sql = sql.replace(":stages", ", ".join(f"'{s}'" for s, _ in STAGES))
            sql = sql.replace(":roles", ", ".join(f"'{r}'" for _, r in STAGES))
            await session.execute(text(sql), {"round": ROUND, "now": datetime.now(UTC)})
    async with stack.sessions() as session, session.begin():
        await session.execute(text("ANALYZE"))  # committed: statistics written in a rolled-back transaction are lost
    by_province = Counter(u["province_code"] for u in units)
    largest, largest_units = by_province.most_common(1)[0]
    return {
        "units": len(units),
        "provinces": len(by_province),
        "largest_province": largest,
        "largest_province_units": largest_units,
        "national": await _expected(stack, ""),
        "largest": await _expected(stack, largest),
        "seed_seconds": round(time.monotonic() - started, 1),
    }


async def _expected(stack: Stack, province: str) -> dict[str, int]:
    """What the board should count as stuck ('' : the nation)."""
    async with stack.sessions() as session:
        row = (await session.execute(text(COUNTS_SQL), {"province": province})).mappings().one()
    return {k: int(v) for k, v in row.items()}


async def phase(base_url: str, official: str, params: dict[str, str], requests: int, stack: Stack) -> dict[str, Any]:
    """`requests` boards one after the other on one connection, after a warm-up; latencies, totals, CPU."""
    token = issue_token(official, secret=JWT_SECRET, issuer="xptt", now=datetime.now(UTC), ttl=timedelta(hours=2))
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        for _ in range(5):
            (await http.get("/v1/board", params=params)).raise_for_status()
        load_before = load_average()
        cpu0 = await cpu_now(stack)
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        body: dict[str, Any] = {}
        started = time.perf_counter()
        for _ in range(requests):
            t0 = time.perf_counter()
            resp = await http.get("/v1/board", params=params)
            body = resp.json()
            latencies.append(time.perf_counter() - t0)
            if resp.status_code != 200:
                errors[f"{resp.status_code} {resp.text[:120]}"] += 1
        wall = time.perf_counter() - started
        cpu = (await cpu_now(stack)).since(cpu0)
    return {
        "params": params,
        "official": official,
        "requests": requests,
        "errors": sum(errors.values()),
        "error_examples": dict(errors),
        "requests_per_second": round(requests / wall, 1),
        "latency": quantiles_ms(latencies),
        "cpu_ms_per_request": {k: round(1000 * v / requests, 2) for k, v in cpu.items()},
        "totals": body.get("totals", {}),
        "items_returned": len(body.get("items", [])),
        "provinces": len(body.get("provinces", [])),
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with bench_stack() as stack:
        seeded = await seed(stack, args.units)
        print(f"seeded: {seeded}", flush=True)
        base_url = stack.start_api()
        largest = seeded["largest_province"]
        province = await phase(base_url, f"bench-admin-{largest}", {"province": largest}, args.requests, stack)
        national = await phase(base_url, "bench-admin-all", {}, args.requests, stack)
    figures = {
        "benchmark": "board",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target_p95_ms": TARGET_P95_MS,
        "seeded": seeded,
        "province": province,
        "national": national,
    }
    figures["checks"] = {
        "province_totals_as_seeded": _as_seeded(province["totals"], seeded["largest"]),
        "national_totals_as_seeded": _as_seeded(national["totals"], seeded["national"]),
        "national_covers_every_province": national["provinces"] == seeded["provinces"],
    }
    return figures


def _as_seeded(totals: dict[str, int], expected: dict[str, int]) -> bool:
    return all(totals.get(k) == v for k, v in expected.items()) and totals.get("no_holder") == 0


def print_table(f: dict[str, Any]) -> None:
    s = f["seeded"]
    print(
        f"\nboard latency: {s['units']} cases in {s['provinces']} provinces, "
        f"{s['national']} stuck nationally; target p95 ≤ {f['target_p95_ms']} ms"
    )
    print(f"{'view':34} {'req':>5} {'err':>4} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  api/pg cpu ms  met")
    views = (
        ("province", f"province {s['largest_province']} ({s['largest_province_units']} units)"),
        ("national", f"national ({s['provinces']} provinces)"),
    )
    for key, label in views:
        p = f[key]
        lat = p["latency"]
        cpu = p["cpu_ms_per_request"]
        met = "yes" if lat["p95_ms"] <= f["target_p95_ms"] and not p["errors"] else "NO"
        print(
            f"{label:34} {p['requests']:5d} {p['errors']:4d} {lat['p50_ms']:7.1f} {lat['p95_ms']:7.1f} "
            f"{lat['p99_ms']:7.1f} {lat['max_ms']:7.1f}  {cpu.get('api', 0):5.1f}/{cpu.get('postgres', 0):5.1f}"
            f"    {met}"
        )
    print(f"checks: {f['checks']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10035, help="synthetic units, one case each")
    parser.add_argument("--requests", type=int, default=200, help="requests per view")
    parser.add_argument("--out", default="board", help="result name under bench/results/")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    out = write_result(args.out, figures)
    print_table(figures)
    print(f"written to {out}")
    return 0 if all(figures["checks"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
